// Log and failing-request evidence.
//
// Error-log templates: per pod, how much more often each error template
// appears in the abnormal window than in the normal one (a template never
// seen before counts most). Templates written by many services at once are
// usually the echo of a failure elsewhere ("upstream returned 503"), so a
// template's weight falls with the number of services writing it, as an
// inverse document frequency (Sparck Jones, 1972) would. The template
// comes from the reader (LogRecord::template_text); MaskLogLine is a small
// masker for readers without a template miner.
//
// Diff itemsets: attribute-value sets (service, instance, host, operation,
// template) over-represented in failing spans and error logs compared with
// successful ones, by rca::FindDiffItemsets (Apriori + MacroBase risk ratio,
// see diff_itemsets.h), turned into evidence for the entities they name.
#pragma once

#include <string>
#include <vector>

#include "rca/case_data.h"
#include "rca/diff_itemsets.h"
#include "rca/metric_evidence.h"

namespace vigil::rca {

// Masks the variable parts of a log line (numbers, hex ids, quoted values,
// key=value values) with <*> and keeps its first line and 160 characters.
std::string MaskLogLine(const std::string& line);

struct LogSuspect {
  std::string service, instance, host;
  std::string template_text;  // the pod's strongest template
  double score = 0;
  double normal_per_min = 0, abnormal_per_min = 0;
  int services_with_template = 0;
};

// Pods by their strongest rise of an error template, best first.
std::vector<LogSuspect> ScoreErrorLogs(const CaseData& data, const MetricWindows& w);

struct ItemsetEvidence {
  DiffItemset itemset;
  std::string source;  // "spans" or "logs"
};

// Itemsets of the abnormal window's spans (failed = error) and logs
// (failed = error level), best first.
std::vector<ItemsetEvidence> FailureItemsets(const CaseData& data, const MetricWindows& w);

}  // namespace vigil::rca
