// Readers for multi-dimensional localization data and the F1 scorer used by
// `vigil eval multidim`: leaf CSVs (`attr...,real,predict`, optionally .gz),
// the Squeeze/RiskLoc synthetic layout (<timestamp>.csv[.gz] +
// injection_info.csv) and RiskLoc's RS layout (per-minute `value,cnt` rows +
// anomaly.yaml, a derived ratio measure).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "rca/multidim.h"

namespace vigil::rca {

// Parses a leaf CSV: a header naming the attributes then `real` and `predict`
// (any column order); errors name the line and field.
Result<LeafTable> ParseLeafCsv(const std::string& text);

// Reads a file, gunzipping when its name ends in .gz.
Result<std::string> ReadMaybeGzip(const std::string& path);

// "b=2&a=1" -> "a=1&b=2": the order of attributes inside an element does not matter.
std::string CanonicalElement(const std::string& element);

struct MultidimCase {
  std::string name;
  LeafTable table;
  std::set<std::string> truth;  // canonical elements
};

// Loads every case of one set directory (RS or Squeeze layout); max_cases = 0
// means all (files taken in name order).
Result<std::vector<MultidimCase>> LoadMultidimSet(const std::string& dir, size_t max_cases = 0);

struct MultidimScore {
  size_t cases = 0, tp = 0, fp = 0, fn = 0;
  double precision() const { return tp + fp ? double(tp) / double(tp + fp) : 0.0; }
  double recall() const { return tp + fn ? double(tp) / double(tp + fn) : 0.0; }
  double f1() const { return 2 * tp + fp + fn ? 2.0 * double(tp) / double(2 * tp + fp + fn) : 0.0; }
  void Add(const MultidimScore& o) { cases += o.cases, tp += o.tp, fp += o.fp, fn += o.fn; }
};

// TP/FP/FN of the localizer on one case, exact element matching.
MultidimScore ScoreMultidimCase(const MultidimCase& c, const MultidimConfig& cfg);

// Scores the localizer on a set directory, or on every set directory inside
// `dir` (keyed by sub-directory name), with exact element matching.
Result<std::map<std::string, MultidimScore>> EvaluateMultidim(const std::string& dir, const MultidimConfig& cfg,
                                                              size_t max_cases_per_set = 0);

}  // namespace vigil::rca
