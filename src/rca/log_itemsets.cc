// Error-log itemsets: the "beer and diapers" question asked of logs (as in
// MacroBase, Bailis et al., SIGMOD 2017): label values over-represented among
// the error lines of a window compared with its other lines.
#include "rca/log_itemsets.h"

#include <algorithm>

namespace vigil::rca {

std::vector<LabeledRecord> LabelLogLines(const std::vector<MinedLogLine>& lines, const LogItemsetQuery& q) {
  std::vector<LabeledRecord> out;
  for (const auto& l : lines) {
    if (l.ts_ms < q.from_ms || l.ts_ms >= q.to_ms) continue;
    LabeledRecord r;
    r.failed = l.severity >= q.min_failing_severity ||
               std::find(q.failing_templates.begin(), q.failing_templates.end(), l.template_id) !=
                   q.failing_templates.end();
    for (const auto& lab : l.labels.items()) {
      if (std::find(q.ignore_labels.begin(), q.ignore_labels.end(), lab.name) != q.ignore_labels.end()) continue;
      r.attrs.emplace_back(lab.name, lab.value);
    }
    if (q.template_as_item && l.template_id != 0) r.attrs.emplace_back("template", std::to_string(l.template_id));
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<DiffItemset> LogDiffItemsets(const std::vector<MinedLogLine>& lines, const LogItemsetQuery& q,
                                         const DiffItemsetConfig& cfg) {
  return FindDiffItemsets(LabelLogLines(lines, q), cfg);
}

}  // namespace vigil::rca
