// Diff itemsets: attribute-value sets over-represented in failing records
// (requests, error logs) compared with successful ones -- "which host,
// version, endpoint or user segment goes with the failures". Pure library.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace vigil::rca {

struct LabeledRecord {
  std::vector<std::pair<std::string, std::string>> attrs;  // attribute -> value
  bool failed = false;
};

struct DiffItemsetConfig {
  double min_support = 0.1;     // share of failing records that must hold the itemset
  double min_risk_ratio = 2.0;  // P(fail | itemset) / P(fail | not itemset)
  size_t max_length = 3;        // attribute-value pairs per itemset
  size_t max_results = 20;
};

struct DiffItemset {
  std::vector<std::pair<std::string, std::string>> items;  // sorted
  size_t failing = 0;      // failing records holding the itemset
  size_t succeeding = 0;   // successful records holding it
  double support = 0;      // failing / all failing records
  double risk_ratio = 0;   // relative risk of failure with vs without the itemset
  double lift = 0;         // P(fail | itemset) / P(fail)
  std::string ToString() const;  // "host=h3&version=2.1"
};

// Itemsets ranked by risk ratio (then support). An itemset is kept only when
// it is more specific evidence than its subsets: a superset must raise the
// risk ratio of every reported subset by at least 10%, else the subset
// already explains the failures.
std::vector<DiffItemset> FindDiffItemsets(const std::vector<LabeledRecord>& records,
                                          const DiffItemsetConfig& cfg = {});

// A failure flag as written in a record: 1/true/yes/fail/failed/failure/error
// are failing, 0/false/no/ok/success/succeeded/"" are not (case-insensitive);
// false when the text is neither.
bool ParseFailureFlag(std::string_view text, bool* failed);

// Records from CSV: a header, one column (`failure_column`) holding the
// failure flag, every other column an attribute (empty values are left out).
// Errors name the line, the column and the value.
Result<std::vector<LabeledRecord>> ParseItemsetCsv(std::string_view csv, const std::string& failure_column);

}  // namespace vigil::rca
