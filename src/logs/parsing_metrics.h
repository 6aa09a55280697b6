// Log parsing accuracy as the field defines it (see
// ../shared/data/loghub-2k/METRICS.md): GA (Zhu et al., ICSE 2019), FGA and
// the PA variant of the Loghub-2.0 code (Jiang et al., ISSTA 2024), FTA
// (Khan et al., ICSE 2022). Groups are keyed by template string; strings are
// compared exactly. Also the line-level scoring of new-template detection.
// Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil::logs {

struct ParsingAccuracy {
  double ga = 0, fga = 0, pa = 0, fta = 0;
  size_t lines = 0;
  size_t truth_templates = 0;
  size_t predicted_templates = 0;
};

// truth[i] and predicted[i] are the templates of line i; lines whose truth is
// empty are skipped.
ParsingAccuracy ScoreParsing(const std::vector<std::string>& truth, const std::vector<std::string>& predicted);

struct DetectionCounts {
  uint64_t tp = 0, fp = 0, fn = 0, tn = 0;
  double precision() const { return tp + fp == 0 ? 1.0 : static_cast<double>(tp) / static_cast<double>(tp + fp); }
  double recall() const { return tp + fn == 0 ? 1.0 : static_cast<double>(tp) / static_cast<double>(tp + fn); }
  double f1() const {
    double p = precision(), r = recall();
    return p + r == 0 ? 0 : 2 * p * r / (p + r);
  }
  void Add(bool predicted, bool actual) {
    if (predicted && actual) ++tp;
    else if (predicted) ++fp;
    else if (actual) ++fn;
    else ++tn;
  }
  DetectionCounts& operator+=(const DetectionCounts& o) {
    tp += o.tp; fp += o.fp; fn += o.fn; tn += o.tn;
    return *this;
  }
};

// A CSV document (RFC 4180: quoted fields, "" escapes, CRLF or LF) as rows
// of fields. InvalidArgument names the line of an unterminated quote.
Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text);

}  // namespace vigil::logs
