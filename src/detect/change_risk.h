// Change risk: did a deploy or configuration change move the KPIs of the
// service it touched?
//
// Input: for each KPI series of the changed service (its hosts, its
// endpoints), the samples of a window before the change and of a window
// after it; the caller leaves a gap around the change itself (a restart's
// blip is not a regression). Output: a report with one item per KPI and per
// aggregated system KPI, each with its evidence, and an overall risk.
//
// The test for one KPI compares the two windows twice:
//  - the shift of the median, in robust standard deviations of the window
//    before: z = (median_after - median_before) / (1.4826 MAD_before), the
//    scale floored at 1% of |median_before| so that a flat series does not
//    turn a rounding wobble into an alarm (Hampel 1974; Rousseeuw and Croux,
//    JASA 88, 1993);
//  - the Mann-Whitney U test (H. B. Mann and D. R. Whitney, "On a test of
//    whether one of two random variables is stochastically larger than the
//    other", Annals of Mathematical Statistics 18, 1947), two-sided, normal
//    approximation with the tie correction: is the after window
//    systematically above or below the before window, whatever the
//    distribution?
// Severity needs both (a large shift that is not consistent across the
// window is a couple of spikes, a consistent but tiny shift is not worth a
// person's attention):
//   high   |z| >= 5 and p < 0.001,  medium |z| >= 3 and p < 0.01,
//   low    |z| >= 2 and p < 0.05;   below 1% relative change at most low.
// A KPI whose name says which way is bad (errors, failures, latency,
// durations up; success, availability down) is not a risk when it moved the
// good way: the item is kept, marked "improved".
//
// Levels. A series with an endpoint label (endpoint, route, path, handler,
// operation) is an endpoint-level item; one with a host label (host,
// instance, pod, node) a host-level item; others are system-level. In
// addition, each metric seen on two or more series is averaged across them
// (time-aligned buckets) into one system-level item for the service.
//
// Pure library: no I/O, no clock.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/labels.h"
#include "core/sample.h"

namespace vigil {

struct ChangeRiskConfig {
  double z_high = 5, z_medium = 3, z_low = 2;
  double p_high = 0.001, p_medium = 0.01, p_low = 0.05;
  double min_relative_change = 0.01;  // below it, at most "low"
  size_t min_points = 5;              // per window, else the KPI is skipped
  std::vector<std::string> endpoint_labels = {"endpoint", "route", "path", "handler", "operation"};
  std::vector<std::string> host_labels = {"host", "instance", "pod", "node"};
};

// The two windows of one KPI series.
struct KpiWindows {
  Labels labels;
  std::vector<Sample> before;
  std::vector<Sample> after;
};

enum class RiskSeverity { kNone = 0, kLow = 1, kMedium = 2, kHigh = 3 };
const char* RiskSeverityName(RiskSeverity s);

// The outcome of comparing one pair of windows.
struct WindowComparison {
  size_t before_n = 0, after_n = 0;
  double before_median = 0, before_mad = 0;  // MAD unscaled
  double after_median = 0;
  double shift = 0;           // after_median - before_median
  double shift_sigmas = 0;    // z above
  double relative_change = 0; // shift / |before_median| (0 when that is 0)
  double u_statistic = 0;     // U of the after window
  double p_value = 1;         // two-sided Mann-Whitney
};

// Compares two windows of values. Requires both non-empty.
WindowComparison CompareWindows(std::span<const double> before, std::span<const double> after);

struct RiskItem {
  std::string level;   // "system", "endpoint" or "host"
  std::string entity;  // e.g. "service=checkout", "host=web-1", "endpoint=/pay"
  std::string kpi;     // the series (labels text) or, for aggregates, "mean of N series of <metric>"
  Labels labels;       // the series' labels; for aggregates the labels they share
  WindowComparison evidence;
  RiskSeverity severity = RiskSeverity::kNone;
  bool improved = false;   // moved, but the good way
  std::string direction;   // "up", "down" or "" when no shift
  std::string explanation; // one sentence
};

struct ChangeRiskReport {
  RiskSeverity risk = RiskSeverity::kNone;  // the worst item
  size_t kpis_compared = 0;
  size_t kpis_skipped = 0;  // too few points in a window
  std::vector<RiskItem> items;  // worst first, then by |shift_sigmas|
  std::string summary;
};

ChangeRiskReport AssessChangeRisk(std::span<const KpiWindows> kpis, const ChangeRiskConfig& cfg);

}  // namespace vigil
