#include "engine/entity_watch.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <spdlog/spdlog.h>

#include "detect/multivariate.h"
#include "engine/engine.h"
#include "engine/selector.h"

namespace vigil {

namespace {

constexpr size_t kMaxRows = 5000;     // newest aligned rows used per entity
constexpr size_t kMaxNewRows = 100;   // rows judged per entity and check
constexpr double kMinShare = 0.15;    // a metric reported for a joint anomaly
constexpr size_t kMaxReported = 3;

TimestampMs MedianStep(const std::vector<Sample>& s) {
  std::vector<TimestampMs> d;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i].ts_ms > s[i - 1].ts_ms) d.push_back(s[i].ts_ms - s[i - 1].ts_ms);
  }
  if (d.empty()) return 0;
  std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2), d.end());
  return d[d.size() / 2];
}

}  // namespace

EntityWatch::EntityWatch(const Engine* engine, const MultivariateSettings& cfg) : engine_(engine), cfg_(cfg) {}

std::vector<Anomaly> EntityWatch::Tick(TimestampMs now) {
  if (cfg_.entity_label.empty() || now < next_ms_) return {};
  next_ms_ = now + cfg_.interval_ms;
  return Check(now);
}

std::vector<Anomaly> EntityWatch::Check(TimestampMs now) {
  std::vector<Anomaly> out;
  auto sel = SeriesSelector::Parse("{" + cfg_.entity_label + "=~\".+\"}");
  if (!sel.ok()) return out;
  std::map<std::string, std::vector<SeriesInfo>> by_entity;
  for (auto& s : engine_->FindSeries(*sel, cfg_.max_entities * cfg_.max_metrics * 4)) {
    std::string key(s.labels.Get(cfg_.entity_label));
    if (by_entity.size() >= cfg_.max_entities && !by_entity.count(key)) continue;
    by_entity[key].push_back(std::move(s));
  }
  std::unordered_map<std::string, TimestampMs> seen;
  for (auto& [entity, series] : by_entity) {
    if (series.size() < 2) continue;
    std::sort(series.begin(), series.end(),
              [](const SeriesInfo& a, const SeriesInfo& b) { return a.labels.ToString() < b.labels.ToString(); });
    if (series.size() > cfg_.max_metrics) series.resize(cfg_.max_metrics);
    const size_t d = series.size();
    std::vector<std::vector<Sample>> pts(d);
    TimestampMs step = 0;
    bool ok = true;
    for (size_t j = 0; j < d && ok; ++j) {
      SeriesInfo info;
      ok = engine_->Points(series[j].id, INT64_MIN, INT64_MAX, &info, &pts[j]) && pts[j].size() >= 2;
      if (ok) step = std::max(step, MedianStep(pts[j]));
    }
    if (!ok || step <= 0) continue;
    // The common grid: from the bucket where every metric has started to the
    // newest bucket every metric has reached (complete rows only).
    TimestampMs first = INT64_MIN, last = INT64_MAX;
    for (const auto& p : pts) {
      first = std::max(first, p.front().ts_ms / step);
      last = std::min(last, p.back().ts_ms / step);
    }
    if (last < first) continue;
    if (static_cast<size_t>(last - first + 1) > kMaxRows) first = last - static_cast<TimestampMs>(kMaxRows) + 1;
    const size_t n = static_cast<size_t>(last - first + 1);
    std::vector<std::vector<double>> rows(n, std::vector<double>(d, std::nan("")));
    for (size_t j = 0; j < d; ++j) {
      std::vector<double> sum(n, 0.0);
      std::vector<int> cnt(n, 0);
      for (const auto& s : pts[j]) {
        TimestampMs b = s.ts_ms / step;
        if (b < first || b > last || !std::isfinite(s.value)) continue;
        sum[static_cast<size_t>(b - first)] += s.value;
        ++cnt[static_cast<size_t>(b - first)];
      }
      double carry = std::nan("");
      for (size_t i = 0; i < n; ++i) {
        if (cnt[i]) carry = sum[i] / cnt[i];
        rows[i][j] = carry;
      }
    }
    auto row_ts = [&](size_t i) { return (first + static_cast<TimestampMs>(i)) * step; };
    auto prev = last_scored_.find(entity);
    size_t new_from = n - 1;  // first check: judge the newest row only
    if (prev != last_scored_.end()) {
      new_from = n;
      while (new_from > 0 && row_ts(new_from - 1) > prev->second) --new_from;
      new_from = std::max(new_from, n > kMaxNewRows ? n - kMaxNewRows : 0);
    }
    seen[entity] = row_ts(n - 1);
    if (new_from >= n || new_from < cfg_.min_rows) continue;
    std::vector<std::vector<double>> train(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(new_from));
    MultivariateConfig mc;
    mc.refit_every = 0;  // refitted at every check from the window
    EntityDetector det(d, mc);
    if (!det.Train(train).ok()) continue;
    std::vector<double> mean(d, 0.0), sd(d, 0.0);
    for (size_t j = 0; j < d; ++j) {
      size_t c = 0;
      for (const auto& r : train) {
        if (std::isfinite(r[j])) {
          mean[j] += r[j];
          ++c;
        }
      }
      mean[j] = c ? mean[j] / static_cast<double>(c) : 0.0;
      for (const auto& r : train) {
        if (std::isfinite(r[j])) sd[j] += (r[j] - mean[j]) * (r[j] - mean[j]);
      }
      sd[j] = c > 1 ? std::sqrt(sd[j] / static_cast<double>(c - 1)) : 0.0;
    }
    for (size_t i = new_from; i < n; ++i) {
      MultivariateVerdict v = det.Update(rows[i]);
      if (!v.anomalous) continue;
      std::string why;
      size_t reported = 0;
      for (const auto& c : v.top) {
        if (c.share < kMinShare || reported >= kMaxReported) continue;
        const size_t j = c.metric;
        Anomaly a;
        a.series = series[j].id;
        a.labels = series[j].labels;
        a.ts_ms = row_ts(i);
        a.value = rows[i][j];
        a.expected = mean[j];
        a.lower = mean[j] - 3 * sd[j];
        a.upper = mean[j] + 3 * sd[j];
        // 6 at the detector's threshold, like the univariate default.
        a.score = 6 * std::sqrt(v.score / std::max(v.threshold, 1e-9)) * c.share;
        a.direction = rows[i][j] >= mean[j] ? Direction::kUp : Direction::kDown;
        a.detector = kDetector;
        a.pattern = "joint_anomaly";
        a.is_rate = series[j].is_counter;
        out.push_back(std::move(a));
        ++reported;
        why += " " + series[j].labels.ToString() + " " + std::to_string(static_cast<int>(100 * c.share)) + "%";
      }
      spdlog::info("joint anomaly on {}={} at {}: score {:.1f} over {:.1f}; contributions:{}", cfg_.entity_label,
                   entity, row_ts(i), v.score, v.threshold, why);
    }
  }
  last_scored_ = std::move(seen);
  (void)now;
  return out;
}

}  // namespace vigil
