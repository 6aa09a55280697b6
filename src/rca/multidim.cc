// Multi-dimensional localization: "purity-first layered search".
//
// The method combines ideas from four papers, each re-derived here:
//  * Squeeze (Li et al., ISSRE 2019): a leaf's deviation score
//    d = 2(r - p)/(|r| + |p|) makes leaves of one root cause look alike
//    whatever their size (the generalized ripple effect), so abnormal leaves
//    can be told apart by a threshold on d instead of by absolute size.
//  * RiskLoc (Kalander, 2022): leaves are split into abnormal / normal by a
//    cutoff on d in the anomaly's direction, and an element is judged by how
//    much denser abnormal leaves are inside it than the rest ("risk").
//  * HotSpot (Sun et al., IEEE Access 2018): the search goes through the
//    cuboid lattice layer by layer (coarse attribute sets first), so the most
//    general element that explains its leaves wins over its descendants.
//  * Adtributor (Bhagwan et al., NSDI 2014): an element must carry a
//    noticeable share of the total change (explanatory power) to be reported,
//    which keeps isolated noisy leaves out.
// Differences from each: the cutoff is a robust noise estimate (median/MAD of
// d) instead of a clustering or opposite-side maximum, an element is accepted
// on purity (share of its still-unexplained live leaves that are abnormal)
// rather than on a generated forecast, and leaves explained by an accepted
// element are removed before the next layer is searched, so a cause is
// reported once, at its most general level.
#include "rca/multidim.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

namespace vigil::rca {

void LeafTable::Add(const std::vector<std::string>& attr_values, double real_value, double predict_value) {
  if (values.size() < attrs.size()) values.resize(attrs.size());
  for (size_t a = 0; a < attrs.size(); ++a) {
    const std::string& v = a < attr_values.size() ? attr_values[a] : std::string();
    auto& dict = values[a];
    auto it = std::find(dict.begin(), dict.end(), v);
    uint32_t code = static_cast<uint32_t>(it - dict.begin());
    if (it == dict.end()) dict.push_back(v);
    codes.push_back(code);
  }
  real.push_back(real_value);
  predict.push_back(predict_value);
}

bool SetMultidimParam(MultidimConfig& cfg, const std::string& name, double value) {
  struct Field {
    const char* name;
    double MultidimConfig::*field;
  };
  static const Field kFields[] = {
      {"min_purity", &MultidimConfig::min_purity},
      {"min_explanatory_power", &MultidimConfig::min_explanatory_power},
      {"min_explanatory_power_drastic", &MultidimConfig::min_explanatory_power_drastic},
      {"drastic_deviation", &MultidimConfig::drastic_deviation},
      {"refine_keep_share", &MultidimConfig::refine_keep_share},
      {"refine_purity_gain", &MultidimConfig::refine_purity_gain},
      {"second_direction_share", &MultidimConfig::second_direction_share},
      {"size_exponent", &MultidimConfig::size_exponent},
      {"noise_floor", &MultidimConfig::noise_floor},
      {"cutoff_sigmas", &MultidimConfig::cutoff_sigmas},
      {"z_alpha", &MultidimConfig::z_alpha},
      {"side_noise", &MultidimConfig::side_noise},
      {"count_noise", &MultidimConfig::count_noise},
  };
  for (const auto& f : kFields) {
    if (name == f.name) {
      cfg.*f.field = value;
      return true;
    }
  }
  if (name == "max_elements" && value >= 1) {
    cfg.max_elements = static_cast<size_t>(value);
    return true;
  }
  return false;
}

std::string FormatElement(const LeafTable& t, const Element& e) {
  std::string out;
  for (const auto& [a, v] : e.items) {
    if (!out.empty()) out += '&';
    out += t.attrs[a] + "=" + t.values[a][v];
  }
  return out;
}

namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

// Adtributor's explanatory power, with two exceptions: a small element whose
// own total moved drastically (Squeeze's deviation score of the aggregate,
// e.g. a leaf that went from 5 to 100) is a cause even with a small share;
// and so is one whose change is far beyond what the leaves' noise can make,
// a z-score of the element's total change against the relative noise sigma
// (sum of r - p over the root of its leaves' noise variances), with a Bonferroni-style
// critical value for the number of elements of its cuboid. In a big table the
// anomaly mass is diluted by thousands of noisy leaves beyond the cutoff, so
// explanatory power alone misses a small but clear cause beside a big one.
struct GroupChange {
  double ep = 0;            // explanatory power
  double sum_r = 0, sum_p = 0;
  double noise_var = 0;     // sum of the leaves' noise variances
};

bool Significant(const GroupChange& g, double z_crit, const MultidimConfig& cfg) {
  if (g.ep >= cfg.min_explanatory_power) return true;
  double denom = std::fabs(g.sum_r) + std::fabs(g.sum_p);
  double d = denom > 0 ? 2 * std::fabs(g.sum_r - g.sum_p) / denom : 0;
  if (g.ep >= cfg.min_explanatory_power_drastic && d >= cfg.drastic_deviation) return true;
  if (z_crit > 0 && g.noise_var > 0) {
    double z = std::fabs(g.sum_r - g.sum_p) / std::sqrt(g.noise_var);
    if (z >= z_crit) return true;
  }
  return false;
}

// Noise variance of each live leaf's r - p, measured rather than assumed:
// leaves are binned by size (|r| + |p|, quantile bins of >= 50 leaves) and a
// bin's robust spread (1.4826 * MAD of r - p) is the noise of its leaves.
// Relative forecast errors (spread grows with size) and count noise (spread
// grows with its square root, as in RS's failure counts) both come out right
// without choosing a model; the median ignores up to half anomalous leaves.
// Floor: noise_floor of the leaf's size, so an exact bin never gives z = inf.
std::vector<double> LeafNoiseVariance(const LeafTable& t, const std::vector<char>& live, const MultidimConfig& cfg) {
  const size_t n = t.leaves();
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < n; ++i) {
    if (live[i]) ids.push_back(static_cast<uint32_t>(i));
  }
  auto size = [&](uint32_t i) { return std::fabs(t.real[i]) + std::fabs(t.predict[i]); };
  std::sort(ids.begin(), ids.end(), [&](uint32_t a, uint32_t b) { return size(a) < size(b); });
  const size_t bins = std::clamp<size_t>(ids.size() / 50, 1, 20);
  std::vector<double> var(n, 0.0), diffs;
  for (size_t b = 0; b < bins; ++b) {
    size_t lo = ids.size() * b / bins, hi = ids.size() * (b + 1) / bins;
    diffs.clear();
    for (size_t k = lo; k < hi; ++k) diffs.push_back(t.real[ids[k]] - t.predict[ids[k]]);
    double med = Median(diffs);
    for (auto& d : diffs) d = std::fabs(d - med);
    double spread = 1.4826 * Median(diffs);
    for (size_t k = lo; k < hi; ++k) {
      double floor = cfg.noise_floor * 0.5 * size(ids[k]);
      double s = std::max(spread, floor);
      var[ids[k]] = s * s;
    }
  }
  return var;
}

// sqrt(2 ln(groups / alpha)): about the normal quantile of alpha / groups.
double CriticalZ(double groups, double alpha) {
  return alpha > 0 ? std::sqrt(2 * std::log(std::max(groups, 1.0) / alpha)) : 0;
}

struct Group {
  uint64_t key;
  uint32_t begin, end;  // range in the cuboid's sorted leaf order
};

}  // namespace

std::vector<Element> LocalizeMultidim(const LeafTable& t, const MultidimConfig& cfg) {
  const size_t n = t.leaves();
  const size_t m = t.attrs.size();
  std::vector<Element> out;
  if (n == 0 || m == 0 || m > 20) return out;

  // Deviation score per live leaf (a leaf with r = p = 0 carries no evidence).
  std::vector<double> dev(n, 0.0);
  std::vector<char> live(n, 0);
  std::vector<double> live_dev;
  double total_change = 0;
  for (size_t i = 0; i < n; ++i) {
    double r = t.real[i], p = t.predict[i];
    double denom = std::fabs(r) + std::fabs(p);
    if (!(denom > 0) || !std::isfinite(denom)) continue;
    live[i] = 1;
    dev[i] = 2 * (r - p) / denom;
    live_dev.push_back(dev[i]);
    total_change += r - p;
  }
  if (live_dev.empty()) return out;
  double center = Median(live_dev);
  std::vector<double> absdev;
  absdev.reserve(live_dev.size());
  for (double d : live_dev) absdev.push_back(std::fabs(d - center));
  double sigma = 1.4826 * Median(absdev);
  if (cfg.side_noise > 0) {
    // Anomalies push their leaves to one side; when they cover many leaves
    // (several layer-1 causes can hold over half of them) the median and MAD
    // move with them and hide every cause. The quieter side of the forecast
    // error is noise alone: its half-normal spread (1.4826 * median |d|) is
    // the noise, and the forecast of a normal leaf is unbiased (center 0).
    std::vector<double> below, above;
    for (double d : live_dev) (d <= 0 ? below : above).push_back(std::fabs(d));
    if (below.size() >= 8 && above.size() >= 8) {
      double s = 1.4826 * std::min(Median(below), Median(above));
      if (s < cfg.side_noise * sigma) {
        center = 0;
        sigma = s;
      }
    }
  }
  const double cutoff = std::max(cfg.noise_floor, cfg.cutoff_sigmas * sigma);
  std::vector<double> noise_var = LeafNoiseVariance(t, live, cfg);
  // ... and at least the relative noise of its size (the deviation scores'
  // spread): size bins of heavy-tailed leaves are wide, and the bin's median
  // would understate the noise of its biggest leaves.
  for (size_t i = 0; i < n; ++i) {
    double half = 0.5 * (std::fabs(t.real[i]) + std::fabs(t.predict[i]));
    double s = std::max(sigma, cfg.noise_floor) * half;
    noise_var[i] = std::max(noise_var[i], s * s);
  }
  // Counts (every real value a whole number, e.g. failures per minute) are at
  // least Poisson-noisy: variance >= the expected count (and >= 1).
  bool counts = true;
  for (size_t i = 0; i < n && counts; ++i) counts = t.real[i] == std::floor(t.real[i]);
  if (counts && cfg.count_noise > 0) {
    for (size_t i = 0; i < n; ++i) noise_var[i] = std::max(noise_var[i], cfg.count_noise * std::max(1.0, std::fabs(t.predict[i])));
  }

  // Direction: the side whose beyond-cutoff leaves carry more change.
  double up = 0, down = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!live[i]) continue;
    double x = dev[i] - center;
    if (x > cutoff) up += t.real[i] - t.predict[i];
    if (x < -cutoff) down += t.predict[i] - t.real[i];
  }
  // Direction: the side whose beyond-cutoff leaves carry more change; the
  // other side is searched too when it carries a comparable change (a
  // simultaneous rise and drop, e.g. traffic moving between two data centres).
  std::vector<double> directions = {up >= down ? 1.0 : -1.0};
  if (std::min(up, down) >= cfg.second_direction_share * std::max(up, down)) directions.push_back(-directions[0]);
  for (double sign : directions) {
    (void)total_change;
    std::vector<char> abnormal(n, 0);
    double anomaly_mass = 0;
    for (size_t i = 0; i < n; ++i) {
      if (live[i] && sign * (dev[i] - center) > cutoff) {
        abnormal[i] = 1;
        anomaly_mass += std::max(0.0, sign * (t.real[i] - t.predict[i]));
      }
    }
    if (!(anomaly_mass > 0)) continue;
    // Purity counts leaves by sqrt(size) (size_exponent), so a few tiny noisy
    // leaves neither make nor break an element, yet one huge leaf does not
    // decide alone either.
    std::vector<double> weight(n, 0.0);
    for (size_t i = 0; i < n; ++i) weight[i] = std::pow(std::fabs(t.real[i]) + std::fabs(t.predict[i]), cfg.size_exponent);

    // Mixed-radix key of a leaf within a cuboid (attribute subset `mask`).
    std::vector<uint64_t> radix(m);
    for (size_t a = 0; a < m; ++a) radix[a] = std::max<uint64_t>(1, t.values[a].size());
    std::vector<char> covered(n, 0);
    std::vector<uint32_t> order(n);
    std::vector<uint64_t> keys(n);

    for (size_t depth = 1; depth <= m && out.size() < cfg.max_elements; ++depth) {
      struct Candidate {
        Element element;
        std::vector<uint32_t> leaves;
        double score;
        double z_crit;
      };
      std::vector<Candidate> candidates;
      for (uint32_t mask = 1; mask < (1u << m); ++mask) {
        if (static_cast<size_t>(__builtin_popcount(mask)) != depth) continue;
        double groups = 1;
        for (size_t a = 0; a < m; ++a) {
          if (mask & (1u << a)) groups *= static_cast<double>(radix[a]);
        }
        const double z_crit = CriticalZ(groups, cfg.z_alpha);
        for (size_t i = 0; i < n; ++i) {
          uint64_t k = 0;
          for (size_t a = 0; a < m; ++a) {
            if (mask & (1u << a)) k = k * radix[a] + t.codes[i * m + a];
          }
          keys[i] = k;
        }
        std::iota(order.begin(), order.end(), 0u);
        std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
          return keys[x] != keys[y] ? keys[x] < keys[y] : x < y;
        });
        for (size_t b = 0; b < n;) {
          size_t e = b;
          double live_n = 0, abn_n = 0;
          double mass = 0, sum_r = 0, sum_p = 0, sum_sq = 0;
          while (e < n && keys[order[e]] == keys[order[b]]) {
            uint32_t i = order[e];
            if (!covered[i] && live[i]) {
              live_n += weight[i];
              sum_r += t.real[i], sum_p += t.predict[i];
              sum_sq += noise_var[i];
              if (abnormal[i]) {
                abn_n += weight[i];
                mass += std::max(0.0, sign * (t.real[i] - t.predict[i]));
              }
            }
            ++e;
          }
          if (abn_n > 0) {
            double purity = abn_n / live_n;
            double ep = mass / anomaly_mass;
            if (purity >= cfg.min_purity && Significant({ep, sum_r, sum_p, sum_sq}, z_crit, cfg)) {
              Candidate c;
              uint32_t first = order[b];
              for (size_t a = 0; a < m; ++a) {
                if (mask & (1u << a)) c.element.items.emplace_back(a, t.codes[first * m + a]);
              }
              c.element.purity = purity;
              c.element.explanatory_power = ep;
              c.leaves.assign(order.begin() + static_cast<std::ptrdiff_t>(b),
                              order.begin() + static_cast<std::ptrdiff_t>(e));
              c.score = purity * ep;
              c.z_crit = z_crit;
              candidates.push_back(std::move(c));
            }
          }
          b = e;
        }
      }
      std::sort(candidates.begin(), candidates.end(),
                [](const Candidate& x, const Candidate& y) { return x.score > y.score; });
      // Accept greedily; a candidate overlapping an accepted one is re-judged on
      // the leaves still unexplained.
      for (auto& c : candidates) {
        if (out.size() >= cfg.max_elements) break;
        double live_n = 0, abn_n = 0;
        double mass = 0, sum_r = 0, sum_p = 0, sum_sq = 0;
        for (uint32_t i : c.leaves) {
          if (covered[i] || !live[i]) continue;
          live_n += weight[i];
          sum_r += t.real[i], sum_p += t.predict[i];
          sum_sq += noise_var[i];
          if (abnormal[i]) {
            abn_n += weight[i];
            mass += std::max(0.0, sign * (t.real[i] - t.predict[i]));
          }
        }
        if (abn_n == 0) continue;
        if (abn_n / live_n < cfg.min_purity) continue;
        if (!Significant({mass / anomaly_mass, sum_r, sum_p, sum_sq}, c.z_crit, cfg)) continue;
        c.element.purity = abn_n / live_n;
        c.element.explanatory_power = mass / anomaly_mass;
        // Descend while a child (one more attribute) keeps nearly all of the
        // element's anomaly and is clearly purer: the layered search stops at the
        // first element that is pure enough, which can be one level too general
        // (HotSpot's ripple effect makes a parent look abnormal through its child).
        for (bool refined = true; refined && c.element.items.size() < m;) {
          refined = false;
          double best_purity = c.element.purity + cfg.refine_purity_gain;
          Element best;
          std::vector<uint32_t> best_leaves;
          for (uint32_t a = 0; a < m; ++a) {
            bool used = false;
            for (const auto& it : c.element.items) used = used || it.first == a;
            if (used) continue;
            std::unordered_map<uint32_t, std::pair<double, double>> by_value;  // weight live, abnormal
            std::unordered_map<uint32_t, double> mass_by_value;
            for (uint32_t i : c.leaves) {
              if (covered[i] || !live[i]) continue;
              auto& wv = by_value[t.codes[i * m + a]];
              wv.first += weight[i];
              if (abnormal[i]) {
                wv.second += weight[i];
                mass_by_value[t.codes[i * m + a]] += std::max(0.0, sign * (t.real[i] - t.predict[i]));
              }
            }
            for (const auto& [v, wv] : by_value) {
              double pur = wv.second / wv.first;
              double ep = mass_by_value[v] / anomaly_mass;
              if (pur > best_purity && ep >= cfg.refine_keep_share * c.element.explanatory_power) {
                best_purity = pur;
                best = c.element;
                best.items.emplace_back(a, v);
                std::sort(best.items.begin(), best.items.end());
                best.purity = pur;
                best.explanatory_power = ep;
                refined = true;
              }
            }
          }
          if (refined) {
            std::vector<uint32_t> kept_leaves;
            for (uint32_t i : c.leaves) {
              bool match = true;
              for (const auto& [a, v] : best.items) match = match && t.codes[i * m + a] == v;
              if (match) kept_leaves.push_back(i);
            }
            c.leaves = std::move(kept_leaves);
            c.element = std::move(best);
          }
        }
        for (uint32_t i : c.leaves) covered[i] = 1;
        out.push_back(std::move(c.element));
      }
    }
  }
  return out;
}

}  // namespace vigil::rca
