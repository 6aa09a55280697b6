#include "detect/change_risk.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace vigil {

namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  double m = v[mid];
  if (v.size() % 2 == 0) m = (m + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid))) / 2;
  return m;
}

std::vector<double> Finite(std::span<const Sample> s) {
  std::vector<double> v;
  v.reserve(s.size());
  for (const auto& x : s) {
    if (std::isfinite(x.value)) v.push_back(x.value);
  }
  return v;
}

bool Contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

// +1: up is bad, -1: down is bad, 0: unknown (either way is a risk).
int BadDirection(std::string_view metric) {
  std::string m(metric);
  std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* w : {"error", "fail", "5xx", "latency", "duration", "timeout", "reject", "drop", "retr",
                        "saturation", "_seconds", "_ms"}) {
    if (Contains(m, w)) return +1;
  }
  for (const char* w : {"success", "availab", "apdex", "hit_ratio", "uptime"}) {
    if (Contains(m, w)) return -1;
  }
  return 0;
}

std::string Fmt(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// Median of the samples of several series in time buckets of `bucket` ms.
std::vector<Sample> BucketMean(const std::vector<const std::vector<Sample>*>& series, TimestampMs bucket) {
  std::map<TimestampMs, std::pair<double, int>> acc;
  for (const auto* s : series) {
    for (const auto& x : *s) {
      if (!std::isfinite(x.value)) continue;
      auto& a = acc[x.ts_ms / bucket];
      a.first += x.value;
      ++a.second;
    }
  }
  std::vector<Sample> out;
  out.reserve(acc.size());
  for (const auto& [b, a] : acc) out.push_back({b * bucket, a.first / a.second});
  return out;
}

TimestampMs MedianStep(const std::vector<Sample>& s) {
  std::vector<double> d;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i].ts_ms > s[i - 1].ts_ms) d.push_back(static_cast<double>(s[i].ts_ms - s[i - 1].ts_ms));
  }
  return d.empty() ? 1000 : std::max<TimestampMs>(1, static_cast<TimestampMs>(Median(d)));
}

}  // namespace

const char* RiskSeverityName(RiskSeverity s) {
  switch (s) {
    case RiskSeverity::kNone: return "none";
    case RiskSeverity::kLow: return "low";
    case RiskSeverity::kMedium: return "medium";
    case RiskSeverity::kHigh: return "high";
  }
  return "?";
}

WindowComparison CompareWindows(std::span<const double> before, std::span<const double> after) {
  WindowComparison c;
  c.before_n = before.size();
  c.after_n = after.size();
  if (before.empty() || after.empty()) return c;
  std::vector<double> b(before.begin(), before.end());
  c.before_median = Median(b);
  std::vector<double> dev(b.size());
  for (size_t i = 0; i < b.size(); ++i) dev[i] = std::fabs(b[i] - c.before_median);
  c.before_mad = Median(dev);
  c.after_median = Median(std::vector<double>(after.begin(), after.end()));
  c.shift = c.after_median - c.before_median;
  double scale = std::max({1.4826 * c.before_mad, 0.01 * std::fabs(c.before_median), 1e-9});
  c.shift_sigmas = std::clamp(c.shift / scale, -1e6, 1e6);
  c.relative_change = c.before_median != 0 ? c.shift / std::fabs(c.before_median) : 0;

  // Mann-Whitney U by ranks (average ranks for ties).
  const size_t n1 = after.size(), n2 = before.size(), n = n1 + n2;
  std::vector<std::pair<double, bool>> all;  // value, is_after
  all.reserve(n);
  for (double v : after) all.emplace_back(v, true);
  for (double v : before) all.emplace_back(v, false);
  std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  double rank_sum_after = 0, tie_term = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && all[j].first == all[i].first) ++j;
    double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    double t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    for (size_t k = i; k < j; ++k) {
      if (all[k].second) rank_sum_after += avg_rank;
    }
    i = j;
  }
  const double dn1 = static_cast<double>(n1), dn2 = static_cast<double>(n2), dn = static_cast<double>(n);
  c.u_statistic = rank_sum_after - dn1 * (dn1 + 1) / 2;
  double mean_u = dn1 * dn2 / 2;
  double var_u = dn1 * dn2 / 12 * ((dn + 1) - tie_term / (dn * (dn - 1)));
  if (var_u > 0) {
    double z = (c.u_statistic - mean_u) / std::sqrt(var_u);
    // Continuity correction towards the mean.
    z = z > 0 ? std::max(0.0, z - 0.5 / std::sqrt(var_u)) : std::min(0.0, z + 0.5 / std::sqrt(var_u));
    c.p_value = std::erfc(std::fabs(z) / std::sqrt(2.0));
  } else {
    c.p_value = 1;  // every value equal
  }
  return c;
}

ChangeRiskReport AssessChangeRisk(std::span<const KpiWindows> kpis, const ChangeRiskConfig& cfg) {
  ChangeRiskReport r;
  auto label_of = [](const Labels& l, const std::vector<std::string>& names) -> std::string {
    for (const auto& n : names) {
      std::string_view v = l.Get(n);
      if (!v.empty()) return n + "=" + std::string(v);
    }
    return "";
  };
  auto judge = [&](RiskItem& item, std::string_view metric) {
    const WindowComparison& e = item.evidence;
    double az = std::fabs(e.shift_sigmas);
    RiskSeverity s = RiskSeverity::kNone;
    if (az >= cfg.z_high && e.p_value < cfg.p_high) s = RiskSeverity::kHigh;
    else if (az >= cfg.z_medium && e.p_value < cfg.p_medium) s = RiskSeverity::kMedium;
    else if (az >= cfg.z_low && e.p_value < cfg.p_low) s = RiskSeverity::kLow;
    if (s > RiskSeverity::kLow && e.before_median != 0 && std::fabs(e.relative_change) < cfg.min_relative_change) {
      s = RiskSeverity::kLow;
    }
    item.direction = e.shift > 0 ? "up" : (e.shift < 0 ? "down" : "");
    int bad = BadDirection(metric);
    if (s != RiskSeverity::kNone && bad != 0 && (bad > 0) != (e.shift > 0)) {
      item.improved = true;
      s = RiskSeverity::kNone;
    }
    item.severity = s;
    item.explanation = item.kpi + (e.shift == 0 ? " did not move" : " moved " + item.direction) + " from median " +
                       Fmt(e.before_median) + " (MAD " + Fmt(e.before_mad) + ", " + std::to_string(e.before_n) +
                       " points) to " + Fmt(e.after_median) + " (" + std::to_string(e.after_n) + " points): " +
                       Fmt(e.shift_sigmas) + " robust sd, " +
                       (e.before_median != 0 ? Fmt(100 * e.relative_change) + "%, " : std::string()) +
                       "Mann-Whitney p=" + Fmt(e.p_value) + (item.improved ? " (an improvement)" : "");
  };

  // Per series.
  std::map<std::string, std::vector<size_t>> by_metric;
  std::string service;
  for (size_t i = 0; i < kpis.size(); ++i) {
    const KpiWindows& k = kpis[i];
    auto b = Finite(k.before), a = Finite(k.after);
    if (b.size() < cfg.min_points || a.size() < cfg.min_points) {
      ++r.kpis_skipped;
      continue;
    }
    ++r.kpis_compared;
    RiskItem item;
    std::string endpoint = label_of(k.labels, cfg.endpoint_labels);
    std::string host = label_of(k.labels, cfg.host_labels);
    if (!endpoint.empty()) {
      item.level = "endpoint";
      item.entity = host.empty() ? endpoint : endpoint + "," + host;
    } else if (!host.empty()) {
      item.level = "host";
      item.entity = host;
    } else {
      item.level = "system";
      item.entity = k.labels.Has("service") ? "service=" + std::string(k.labels.Get("service")) : "";
    }
    if (service.empty() && k.labels.Has("service")) service = "service=" + std::string(k.labels.Get("service"));
    item.kpi = k.labels.ToString();
    item.labels = k.labels;
    item.evidence = CompareWindows(b, a);
    judge(item, k.labels.MetricName());
    r.items.push_back(std::move(item));
    by_metric[std::string(k.labels.MetricName())].push_back(i);
  }

  // Per metric across the service's series.
  for (const auto& [metric, idx] : by_metric) {
    if (idx.size() < 2) continue;
    std::vector<const std::vector<Sample>*> before, after;
    std::vector<Label> shared = kpis[idx[0]].labels.items();
    for (size_t i : idx) {
      before.push_back(&kpis[i].before);
      after.push_back(&kpis[i].after);
      std::erase_if(shared, [&](const Label& l) { return kpis[i].labels.Get(l.name) != l.value; });
    }
    TimestampMs bucket = MedianStep(kpis[idx[0]].before);
    auto b = Finite(BucketMean(before, bucket)), a = Finite(BucketMean(after, bucket));
    if (b.size() < cfg.min_points || a.size() < cfg.min_points) continue;
    RiskItem item;
    item.level = "system";
    item.entity = service;
    item.kpi = "mean of " + std::to_string(idx.size()) + " series of " + (metric.empty() ? "(unnamed)" : metric);
    item.labels = Labels::FromSorted(std::move(shared));
    item.evidence = CompareWindows(b, a);
    judge(item, metric);
    r.items.push_back(std::move(item));
  }

  std::stable_sort(r.items.begin(), r.items.end(), [](const RiskItem& x, const RiskItem& y) {
    if (x.severity != y.severity) return x.severity > y.severity;
    return std::fabs(x.evidence.shift_sigmas) > std::fabs(y.evidence.shift_sigmas);
  });
  size_t moved = 0;
  for (const auto& it : r.items) {
    r.risk = std::max(r.risk, it.severity);
    moved += it.severity >= RiskSeverity::kMedium;
  }
  if (r.kpis_compared == 0) {
    r.summary = "no KPI of the changed service had enough points before and after the change (" +
                std::to_string(r.kpis_skipped) + " skipped)";
  } else if (r.risk == RiskSeverity::kNone) {
    r.summary = "no KPI moved significantly (" + std::to_string(r.kpis_compared) + " compared)";
  } else {
    r.summary = std::string(RiskSeverityName(r.risk)) + " risk: " + std::to_string(moved) + " of " +
                std::to_string(r.items.size()) + " items moved significantly; worst: " + r.items.front().explanation;
  }
  return r;
}

}  // namespace vigil
