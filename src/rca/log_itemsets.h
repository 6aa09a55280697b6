// Diff itemsets on error logs: which host, version, pod ... goes with the
// errors of an incident window. Log lines (their stream labels, the template
// id the miner gave them, their severity) are split into failing records
// (error/fatal, or a template the caller names as the symptom) and normal
// ones, and FindDiffItemsets (diff_itemsets.h) ranks the label sets
// over-represented among the failures. Pure library; the ensemble calls it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/labels.h"
#include "core/sample.h"
#include "rca/diff_itemsets.h"

namespace vigil::rca {

// One mined log line as the log pipeline stores it (ingest's LogRecord labels
// and severity, the logs module's TemplateId).
struct MinedLogLine {
  TimestampMs ts_ms = 0;
  Labels labels;             // the stream's labels: host, pod, version, ...
  uint32_t template_id = 0;  // logs::TemplateId; 0 = unknown
  int severity = -1;         // 0 trace/debug .. 2 info, 3 warning, 4 error, 5 fatal; -1 unknown
};

struct LogItemsetQuery {
  TimestampMs from_ms = 0, to_ms = INT64_MAX;  // window [from, to)
  int min_failing_severity = 4;                // error and fatal lines fail
  std::vector<uint32_t> failing_templates;     // these templates fail whatever their level
  std::vector<std::string> ignore_labels;      // labels never used as items (e.g. "filename")
  // Also offer the template as an item ("template=17"), so that "errors of
  // template 17 on host h3" can come out as one itemset.
  bool template_as_item = false;
};

// The window's lines as labeled records (failed = error/fatal or a failing
// template); labels become attribute=value items. Lines outside the window
// are skipped.
std::vector<LabeledRecord> LabelLogLines(const std::vector<MinedLogLine>& lines, const LogItemsetQuery& q);

// LabelLogLines then FindDiffItemsets: empty when the window has no failing
// line or no normal one (nothing to compare).
std::vector<DiffItemset> LogDiffItemsets(const std::vector<MinedLogLine>& lines, const LogItemsetQuery& q,
                                         const DiffItemsetConfig& cfg = {});

}  // namespace vigil::rca
