#include "rca/change_correlation.h"

#include <algorithm>
#include <cmath>

namespace vigil::rca {

std::vector<ChangeSuspect> CorrelateChanges(const CaseData& data, const ChangeOptions& o) {
  std::vector<ChangeSuspect> out;
  for (const Event& e : data.events) {
    const int64_t before = data.incident_ms - e.ts_ms;
    if (before > o.lookback_ms || before < -o.after_ms) continue;
    ChangeSuspect c;
    c.service = std::string(e.labels.Get("service"));
    c.instance = std::string(e.labels.Get("instance"));
    if (c.service.empty()) continue;
    c.kind = e.kind;
    c.text = e.text;
    c.ts_ms = e.ts_ms;
    c.minutes_before = static_cast<double>(before) / 60000.0;
    c.score = std::pow(0.5, static_cast<double>(std::max<int64_t>(0, before)) / static_cast<double>(o.half_life_ms));
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const ChangeSuspect& a, const ChangeSuspect& b) { return a.score > b.score; });
  return out;
}

}  // namespace vigil::rca
