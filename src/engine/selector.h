// Prometheus series selectors: `name{label="v", other=~"re.*", x!="y"}`.
// Used by GET /api/v1/series?match[]=...
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "core/status.h"

namespace vigil {

struct LabelMatcher {
  enum class Op { kEq, kNeq, kRe, kNre };
  std::string name;
  Op op = Op::kEq;
  std::string value;
  std::shared_ptr<std::regex> re;  // anchored, for kRe/kNre

  bool Matches(std::string_view v) const;
};

class SeriesSelector {
 public:
  // Parses a selector. Errors name the position and what was expected.
  static Result<SeriesSelector> Parse(std::string_view text);
  bool Matches(const Labels& labels) const;
  const std::vector<LabelMatcher>& matchers() const { return matchers_; }

 private:
  std::vector<LabelMatcher> matchers_;
};

}  // namespace vigil
