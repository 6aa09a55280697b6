// HeaderSplitter: separates a raw log line's header (timestamp, level,
// component, pid, host, ...) from its message, the part a template miner must
// see. Feeding whole lines to a miner loses most of its accuracy (the Loghub
// README: Drain3's grouping accuracy drops from 0.74 to 0.27).
//
// Two ways to know the layout:
//  * a format string such as "<Date> <Time> <Level> <Component>: <Content>"
//    (the notation of the Loghub benchmarks: each <Name> is a field, a space
//    matches one or more blanks, the whole line must match), or
//  * automatic: Learn() looks at the first lines of a stream and finds how many
//    leading fields are header. A field is header-like when it is a time stamp
//    or number, a severity word, a "-", a [bracketed] group or a `component:`;
//    the header runs to the last column that is header-like in at least 90% of
//    the sample (host names and other words in between are taken along), or
//    to the last column followed by aligned padding (two or more blanks) in 90%
//    of lines. Lines whose header is a "|"-separated record use the "|" count.
//    No rule names a product; the layout is a property of the stream.
//
// Split() is pure and cheap (a scan over the first fields, no allocation).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil::logs {

struct LogHeader {
  std::string_view timestamp;  // as written, empty when unknown
  std::string_view level;      // as written ("INFO", "E", "notice")
  std::string_view component;  // without a trailing ':' or "[pid]"
  std::string_view pid;
  std::string_view message;    // what the miner sees
};

// The severity a level word names, or -1. 0 trace/debug .. 2 info/notice,
// 3 warning, 4 error, 5 fatal/critical.
int SeverityOf(std::string_view level);

class HeaderSplitter {
 public:
  // Auto-detection (call Learn first; until then Split returns the whole line).
  HeaderSplitter() = default;

  // A fixed layout from a format string; InvalidArgument names the problem.
  static Result<HeaderSplitter> FromFormat(std::string_view format);

  // Learns the layout from a sample of a stream's first lines (64-256 is
  // plenty). Has no effect for a format-string splitter.
  void Learn(const std::vector<std::string_view>& sample);
  bool learned() const { return learned_; }

  LogHeader Split(std::string_view line) const;

  // The learned layout as text, and back (persisted with a stream's miner so
  // a restart splits lines as before and template ids stay stable).
  std::string Serialize() const;
  static Result<HeaderSplitter> Restore(std::string_view text);

  // A human-readable description of the learned layout ("5 fields, component
  // last"), for `vigil logs parse --verbose` and the docs.
  std::string Describe() const;

 private:
  enum class Mode { kAuto, kFormat };
  struct FormatElement {
    enum Kind { kLiteral, kBlank, kField } kind;
    std::string text;  // literal text or field name
  };
  LogHeader SplitAuto(std::string_view line) const;
  LogHeader SplitFormat(std::string_view line) const;
  bool MatchFormat(size_t element, std::string_view line, size_t pos, LogHeader* out) const;

  Mode mode_ = Mode::kAuto;
  bool learned_ = false;
  // Auto layout.
  int header_fields_ = 0;      // leading fields that are header
  bool component_last_ = false;  // the last header field is `component:`
  char record_separator_ = 0;  // '|' for "a|b|c|message" records
  int separated_fields_ = 0;
  std::vector<uint8_t> roles_;  // per header field, a FieldRole
  // Format layout.
  std::vector<FormatElement> format_;
};

}  // namespace vigil::logs
