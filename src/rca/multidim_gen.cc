// Synthetic cases after RiskLoc's design (Kalander 2022, section 5.1); see
// multidim_gen.h for the model. Written from the paper's description.
#include "rca/multidim_gen.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <set>

namespace vigil::rca {

namespace {

struct Anomaly {
  std::vector<uint32_t> attrs;                // sorted attribute indexes
  std::vector<std::vector<uint32_t>> elements;  // per element, one value per attr
  double severity = 0, deviation = 0;
};

uint32_t Between(std::mt19937_64& rng, uint32_t lo, uint32_t hi) {
  return std::uniform_int_distribution<uint32_t>(lo, std::max(lo, hi))(rng);
}

double Between(std::mt19937_64& rng, double lo, double hi) {
  return hi > lo ? std::uniform_real_distribution<double>(lo, hi)(rng) : lo;
}

// Leaf index of a full combination (first attribute slowest).
size_t LeafIndex(const std::vector<uint32_t>& dims, const std::vector<uint32_t>& combo) {
  size_t i = 0;
  for (size_t a = 0; a < dims.size(); ++a) i = i * dims[a] + combo[a];
  return i;
}

// Places one anomaly of `level` attributes and `count` elements that shares
// no value with the anomalies already placed (on a shared attribute) and, below
// the last layer, not their attribute set either. False after many tries
// (the request cannot be met).
bool PlaceAnomaly(std::mt19937_64& rng, const std::vector<uint32_t>& dims, const std::vector<double>& real,
                  uint32_t level, uint32_t count, const std::vector<Anomaly>& placed, Anomaly* out) {
  const size_t m = dims.size();
  for (int attempt = 0; attempt < 200; ++attempt) {
    std::vector<uint32_t> all(m);
    std::iota(all.begin(), all.end(), 0u);
    std::shuffle(all.begin(), all.end(), rng);
    std::vector<uint32_t> attrs(all.begin(), all.begin() + level);
    std::sort(attrs.begin(), attrs.end());
    const bool last_layer = level == m;
    bool reused = false;
    for (const auto& p : placed) reused = reused || (p.attrs == attrs && !last_layer);
    if (reused) continue;
    std::vector<std::vector<uint32_t>> per_attr;  // chosen values per attr
    bool exhausted = false;
    for (uint32_t a : attrs) {
      std::vector<uint32_t> free;
      for (uint32_t v = 0; v < dims[a]; ++v) {
        bool used = false;
        for (const auto& p : placed) {
          for (size_t k = 0; k < p.attrs.size(); ++k) {
            if (p.attrs[k] != a) continue;
            for (const auto& e : p.elements) used = used || e[k] == v;
          }
        }
        if (!used) free.push_back(v);
      }
      if (free.empty()) {
        exhausted = true;
        break;
      }
      std::vector<uint32_t> pick(count);
      for (auto& v : pick) v = free[Between(rng, 0u, static_cast<uint32_t>(free.size() - 1))];
      per_attr.push_back(pick);
    }
    if (exhausted) continue;
    Anomaly an;
    an.attrs = attrs;
    for (uint32_t e = 0; e < count; ++e) {
      std::vector<uint32_t> el;
      for (const auto& vals : per_attr) el.push_back(vals[e]);
      an.elements.push_back(el);
    }
    std::set<std::vector<uint32_t>> unique(an.elements.begin(), an.elements.end());
    if (unique.size() < count) continue;
    // A full-depth element on a zero leaf could not be seen at all.
    bool zero_leaf = false;
    if (last_layer) {
      for (const auto& el : an.elements) zero_leaf = zero_leaf || real[LeafIndex(dims, el)] == 0;
    }
    if (zero_leaf) continue;
    *out = std::move(an);
    return true;
  }
  return false;
}

}  // namespace

bool SyntheticPreset(const std::string& name, SyntheticMultidimConfig* cfg) {
  *cfg = SyntheticMultidimConfig{};
  if (name == "S") return true;
  if (name == "L") {
    cfg->dims = {10, 24, 10, 15};
    cfg->noise_max = 0.1;
    cfg->severity_min = 0.5;
    cfg->deviation_max = 0.0;
    cfg->anomalies_max = 5;
    cfg->elements_max = 1;
    cfg->only_last_layer = true;
    return true;
  }
  return false;
}

SyntheticMultidimCase GenerateMultidimCase(const SyntheticMultidimConfig& cfg, uint64_t seed, uint64_t index) {
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(index),
                    static_cast<uint32_t>(index >> 32), 0x5eedu};
  std::mt19937_64 rng(seq);
  SyntheticMultidimCase out;
  out.name = "s" + std::to_string(seed) + "-" + std::to_string(index);
  const std::vector<uint32_t>& dims = cfg.dims;
  const size_t m = dims.size();
  size_t n = 1;
  for (uint32_t d : dims) n *= std::max<uint32_t>(1, d);
  if (m == 0 || m > 20) return out;

  out.zero_rate = Between(rng, cfg.zero_rate_min, cfg.zero_rate_max);
  out.noise_level = Between(rng, cfg.noise_min, cfg.noise_max);
  const uint32_t n_anomalies = Between(rng, cfg.anomalies_min, cfg.anomalies_max);
  std::vector<Anomaly> anomalies(n_anomalies);
  std::vector<uint32_t> levels(n_anomalies), counts(n_anomalies);
  for (uint32_t k = 0; k < n_anomalies; ++k) {
    levels[k] = cfg.only_last_layer ? static_cast<uint32_t>(m) : Between(rng, 1u, static_cast<uint32_t>(m));
    counts[k] = Between(rng, cfg.elements_min, cfg.elements_max);
    anomalies[k].severity = Between(rng, cfg.severity_min, cfg.severity_max) + out.noise_level;
    anomalies[k].deviation = Between(rng, cfg.deviation_min, cfg.deviation_max);
  }

  // Normal leaves.
  const double alpha = Between(rng, cfg.weibull_alpha_min, cfg.weibull_alpha_max);
  std::weibull_distribution<double> size(alpha, 1.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> err(0.0, out.noise_level > 0 ? out.noise_level : 1e-12);
  std::vector<double> real(n), predict(n);
  for (size_t i = 0; i < n; ++i) {
    double v = size(rng) * 100.0;
    if (unit(rng) < out.zero_rate) v = 0;
    double f = v * (1.0 + err(rng));
    // Swap half of the pairs so the forecast error has no preferred sign.
    if (unit(rng) < 0.5) std::swap(v, f);
    real[i] = v;
    predict[i] = std::max(0.0, f);
  }

  // Anomalies.
  std::vector<Anomaly> placed;
  for (uint32_t k = 0; k < n_anomalies; ++k) {
    Anomaly an;
    if (!PlaceAnomaly(rng, dims, real, levels[k], counts[k], placed, &an)) continue;
    an.severity = anomalies[k].severity;
    an.deviation = anomalies[k].deviation;
    placed.push_back(std::move(an));
  }
  double sum_r = std::accumulate(real.begin(), real.end(), 0.0);
  double sum_p = std::accumulate(predict.begin(), predict.end(), 0.0);
  out.rise = sum_r > sum_p;
  std::vector<uint32_t> combo(m);
  for (const auto& an : placed) {
    std::normal_distribution<double> factor(an.severity, an.deviation > 0 ? an.deviation : 1e-12);
    for (size_t i = 0; i < n; ++i) {
      size_t rest = i;
      for (size_t a = m; a-- > 0;) {
        combo[a] = static_cast<uint32_t>(rest % dims[a]);
        rest /= dims[a];
      }
      bool hit = false;
      for (const auto& el : an.elements) {
        bool match = true;
        for (size_t k = 0; k < an.attrs.size() && match; ++k) match = combo[an.attrs[k]] == el[k];
        hit = hit || match;
      }
      if (!hit) continue;
      // The anomaly replaces the noisy value: the moved side starts from the other one.
      double r = factor(rng);
      if (out.rise) {
        predict[i] = std::max(0.0, real[i] * (1.0 - r));
      } else {
        real[i] = std::max(0.0, predict[i] * (1.0 - r));
      }
    }
    for (const auto& el : an.elements) {
      std::string s;
      for (size_t k = 0; k < an.attrs.size(); ++k) {
        char attr = static_cast<char>('a' + an.attrs[k]);
        s += (s.empty() ? "" : "&") + std::string(1, attr) + "=" + attr + std::to_string(el[k] + 1);
      }
      out.truth.push_back(s);
    }
  }

  // The table: values a1..aN, leaves in combination order.
  LeafTable& t = out.table;
  for (size_t a = 0; a < m; ++a) {
    char attr = static_cast<char>('a' + a);
    t.attrs.push_back(std::string(1, attr));
    std::vector<std::string> vals;
    for (uint32_t v = 0; v < dims[a]; ++v) vals.push_back(attr + std::to_string(v + 1));
    t.values.push_back(vals);
  }
  t.codes.resize(n * m);
  for (size_t i = 0; i < n; ++i) {
    size_t rest = i;
    for (size_t a = m; a-- > 0;) {
      t.codes[i * m + a] = static_cast<uint32_t>(rest % dims[a]);
      rest /= dims[a];
    }
  }
  t.real = std::move(real);
  t.predict = std::move(predict);
  return out;
}

}  // namespace vigil::rca
