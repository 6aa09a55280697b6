// Matcher: one condition on a label, as in Alertmanager's routes,
// inhibition rules and silences: name = value, name != value,
// name =~ regex, name !~ regex. Regexes are anchored at both ends (the
// whole value must match), as Prometheus does. An absent label has the
// value "" (so `team!="x"` matches alerts without a team label).
//
// Values are plain data; the compiled regex is shared between copies.
// Any thread.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "core/status.h"

namespace vigil {

enum class MatchOp { kEqual, kNotEqual, kRegex, kNotRegex };

// "=", "!=", "=~", "!~".
const char* MatchOpSymbol(MatchOp op);

class Matcher {
 public:
  // InvalidArgument for an empty name or a regex that does not compile.
  static Result<Matcher> Make(std::string name, MatchOp op, std::string value);
  // Parses `name="value"`, `name=~"re"`, ... (the value may be unquoted;
  // quoted values take \" and \\ escapes), e.g. from a silence's matcher
  // list or a route's `matchers:`.
  static Result<Matcher> Parse(std::string_view text);

  bool Matches(const Labels& labels) const;
  bool MatchesValue(std::string_view value) const;

  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }
  MatchOp op() const { return op_; }
  bool is_regex() const { return op_ == MatchOp::kRegex || op_ == MatchOp::kNotRegex; }
  bool is_equal() const { return op_ == MatchOp::kEqual || op_ == MatchOp::kRegex; }
  // name="value" (value quoted and escaped).
  std::string ToString() const;
  bool operator==(const Matcher& o) const { return name_ == o.name_ && op_ == o.op_ && value_ == o.value_; }

 private:
  std::string name_;
  MatchOp op_ = MatchOp::kEqual;
  std::string value_;
  std::shared_ptr<const std::regex> re_;
};

// Parses a list: `{a="b", c=~"d"}` or `a="b",c=~"d"` (braces optional).
Result<std::vector<Matcher>> ParseMatchers(std::string_view text);

// True when every matcher matches (an empty list matches everything).
bool MatchesAll(const std::vector<Matcher>& matchers, const Labels& labels);

}  // namespace vigil
