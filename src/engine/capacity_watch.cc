#include "engine/capacity_watch.h"

#include <algorithm>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "detect/capacity.h"
#include "engine/engine.h"

namespace vigil {

CapacityWatch::CapacityWatch(const Engine* engine, const DetectSettings& cfg)
    : engine_(engine), interval_ms_(cfg.capacity_interval_ms) {
  for (const auto& r : cfg.capacity) {
    auto sel = SeriesSelector::Parse(r.match);
    if (!sel.ok()) {
      spdlog::error("capacity rule \"{}\" skipped: {}", r.match, sel.status().ToString());
      continue;
    }
    Rule rule{r, std::move(*sel), std::nullopt};
    if (r.direction == "up") rule.direction = Direction::kUp;
    if (r.direction == "down") rule.direction = Direction::kDown;
    rules_.push_back(std::move(rule));
  }
}

std::vector<Anomaly> CapacityWatch::Tick(TimestampMs now) {
  if (rules_.empty() || now < next_ms_) return {};
  next_ms_ = now + interval_ms_;
  return Check(now);
}

std::vector<Anomaly> CapacityWatch::Check(TimestampMs now) {
  std::vector<Anomaly> out;
  std::unordered_set<uint64_t> at_risk;
  for (size_t ri = 0; ri < rules_.size(); ++ri) {
    const Rule& rule = rules_[ri];
    for (const SeriesInfo& s : engine_->FindSeries(rule.selector, kMaxSeriesPerRule)) {
      SeriesInfo info;
      std::vector<Sample> pts;
      if (!engine_->Points(s.id, INT64_MIN, INT64_MAX, &info, &pts) || pts.size() < 8) continue;
      SeriesForecastOptions opts;
      opts.max_history_points = 5'000;  // bounds one check's CPU, as the forecast API does
      opts.max_horizon_steps = 10'000;
      auto risk = AssessCapacityRisk(pts, rule.cfg.threshold, rule.cfg.horizon_ms, opts, rule.direction);
      if (!risk.ok() || !risk->at_risk) continue;
      const uint64_t key = s.id * 31 + ri;
      at_risk.insert(key);
      auto it = raised_.find(key);
      if (it != raised_.end() && now - it->second < rule.cfg.repeat_ms) continue;
      raised_[key] = now;
      const ThresholdCrossing& c = risk->crossing;
      const ForecastPoint& end = risk->forecast.points.back();
      Anomaly a;
      a.series = s.id;
      a.labels = s.labels;
      a.ts_ms = now;
      a.value = risk->forecast.last_value;
      a.expected = end.mean;
      a.lower = end.lower;
      a.upper = end.upper;
      // Sooner is worse: 6 for a crossing at the end of the horizon, up to
      // 12 (an incident on its own) when it is imminent or already there.
      double left = c.likely ? static_cast<double>(*c.likely - risk->forecast.last_ts) : 0.0;
      double frac = std::clamp(left / static_cast<double>(rule.cfg.horizon_ms), 0.0, 1.0);
      a.score = 12 - 6 * frac;
      a.direction = c.direction;
      a.detector = kDetector;
      a.pattern = "capacity_risk";
      a.is_rate = info.is_counter;
      spdlog::warn("capacity risk {}: {}", s.labels.ToString(), risk->explanation);
      out.push_back(std::move(a));
    }
  }
  std::erase_if(raised_, [&](const auto& kv) { return !at_risk.count(kv.first); });
  return out;
}

}  // namespace vigil
