// NabCorpus: reads the NAB data layout (../shared/data/nab, see SOURCE.md):
// one CSV per series under <category>/, `timestamp,value` rows with
// "YYYY-MM-DD HH:MM:SS" times, and labels/combined_windows.json.
#pragma once

#include <string>
#include <vector>

#include "core/sample.h"
#include "core/status.h"
#include "eval/nab_scorer.h"

namespace vigil {

struct NabSeries {
  std::string name;  // "<category>/<file>.csv", as in the label files
  std::vector<TimestampMs> ts;
  std::vector<double> values;
  std::vector<NabWindow> windows;  // rows, both ends inclusive
};

// Parses "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC) to epoch milliseconds.
Result<TimestampMs> ParseNabTime(const std::string& text);

// Loads every series listed in <dir>/labels/combined_windows.json, in the
// order of the names. `only` (when not empty) keeps the names containing
// any of its strings.
Result<std::vector<NabSeries>> LoadNabCorpus(const std::string& dir, const std::vector<std::string>& only = {});

// Reads a `timestamp,value` NAB series file (also used by `vigil detect`).
Status ReadNabSeriesCsv(const std::string& path, std::vector<TimestampMs>* ts, std::vector<double>* values);

// Reads a reference result file (`timestamp,anomaly_score`, or NAB's wider
// result files: the column named anomaly_score is used).
Result<std::vector<double>> ReadNabScores(const std::string& path);

}  // namespace vigil
