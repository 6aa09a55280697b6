#include "ingest/json_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "core/time_format.h"
#include "ingest/label_check.h"

namespace vigil::ingest_internal {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Same nesting bound as simdjson's default parser.
constexpr int kMaxDepth = 1024;

// A strict recursive-descent JSON checker (RFC 8259), used only after
// simdjson has refused a document, to tell the sender where and why.
class SyntaxChecker {
 public:
  explicit SyntaxChecker(std::string_view text) : t_(text) {}

  bool FindError(size_t* offset, std::string* what) {
    if (Value(0)) {
      SkipSpace();
      if (pos_ != t_.size()) Fail("unexpected content after the JSON value");
    }
    if (!failed_) return false;
    *offset = error_pos_;
    *what = what_;
    return true;
  }

 private:
  bool Fail(std::string what) {
    if (!failed_) {
      failed_ = true;
      error_pos_ = pos_;
      what_ = std::move(what);
    }
    return false;
  }
  bool AtEnd() const { return pos_ >= t_.size(); }
  unsigned char Peek() const { return static_cast<unsigned char>(t_[pos_]); }
  void SkipSpace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' || Peek() == '\r')) ++pos_;
  }
  bool Expect(char c, const char* what) {
    SkipSpace();
    if (AtEnd() || Peek() != static_cast<unsigned char>(c)) return Fail(AtEnd() ? std::string(what) + " (input ends)" : what);
    ++pos_;
    return true;
  }

  bool Value(int depth) {
    SkipSpace();
    if (AtEnd()) return Fail("unexpected end of input, expected a value");
    switch (Peek()) {
      case '{': return Object(depth + 1);
      case '[': return Array(depth + 1);
      case '"': return String();
      case 't': return Literal("true");
      case 'f': return Literal("false");
      case 'n': return Literal("null");
      default:
        if (Peek() == '-' || (Peek() >= '0' && Peek() <= '9')) return Number();
        return Fail("unexpected character " + Quote(t_.substr(pos_, 1)) + ", expected a value");
    }
  }

  bool Object(int depth) {
    if (depth > kMaxDepth) return Fail("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    ++pos_;  // '{'
    SkipSpace();
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      SkipSpace();
      if (AtEnd() || Peek() != '"') return Fail(AtEnd() ? "unexpected end of input in an object" : "expected a string key");
      if (!String()) return false;
      if (!Expect(':', "expected ':' after an object key")) return false;
      if (!Value(depth)) return false;
      SkipSpace();
      if (AtEnd()) return Fail("unexpected end of input in an object, expected ',' or '}'");
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == '}') {
        ++pos_;
        return true;
      }
      return Fail("expected ',' or '}' in an object");
    }
  }

  bool Array(int depth) {
    if (depth > kMaxDepth) return Fail("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    ++pos_;  // '['
    SkipSpace();
    if (!AtEnd() && Peek() == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      if (!Value(depth)) return false;
      SkipSpace();
      if (AtEnd()) return Fail("unexpected end of input in an array, expected ',' or ']'");
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == ']') {
        ++pos_;
        return true;
      }
      return Fail("expected ',' or ']' in an array");
    }
  }

  bool Literal(std::string_view word) {
    if (t_.substr(pos_, word.size()) != word) return Fail("invalid literal, expected " + std::string(word));
    pos_ += word.size();
    return true;
  }

  bool Digits() {
    const size_t start = pos_;
    while (!AtEnd() && Peek() >= '0' && Peek() <= '9') ++pos_;
    return pos_ > start;
  }

  bool Number() {
    const size_t start = pos_;
    const bool negative = Peek() == '-';
    if (negative) ++pos_;
    if (AtEnd()) return Fail("invalid number: no digits");
    if (Peek() == '0') {
      ++pos_;
    } else if (!Digits()) {
      return Fail("invalid number: no digits");
    }
    bool integer = true;
    if (!AtEnd() && Peek() == '.') {
      integer = false;
      ++pos_;
      if (!Digits()) return Fail("invalid number: no digits after '.'");
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      integer = false;
      ++pos_;
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
      if (!Digits()) return Fail("invalid number: no digits in the exponent");
    }
    return InRange(t_.substr(start, pos_ - start), integer, negative, start);
  }

  // simdjson refuses what JSON allows but a machine number cannot hold:
  // integers outside int64 (negative) or uint64, and decimals that overflow
  // a double (underflow to 0 is accepted).
  bool InRange(std::string_view number, bool integer, bool negative, size_t start) {
    bool ok;
    if (integer && negative) {
      int64_t v;
      ok = std::from_chars(number.data(), number.data() + number.size(), v).ec == std::errc();
    } else if (integer) {
      uint64_t v;
      ok = std::from_chars(number.data(), number.data() + number.size(), v).ec == std::errc();
    } else {
      ok = std::isfinite(std::strtod(std::string(number).c_str(), nullptr));
    }
    if (ok) return true;
    pos_ = start;
    return Fail(integer ? "integer outside the 64-bit range" : "number too large for a double");
  }

  // Reads 4 hex digits after "\u"; returns -1 when they are not there.
  int Hex4() {
    if (pos_ + 4 > t_.size()) return -1;
    int v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = t_[pos_ + static_cast<size_t>(i)];
      int d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else return -1;
      v = v * 16 + d;
    }
    pos_ += 4;
    return v;
  }

  bool Escape() {
    ++pos_;  // '\'
    if (AtEnd()) return Fail("unterminated string");
    const char c = static_cast<char>(Peek());
    ++pos_;
    switch (c) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        return true;
      case 'u': {
        const int u = Hex4();
        if (u < 0) return Fail("invalid \\u escape: expected 4 hex digits");
        if (u >= 0xDC00 && u <= 0xDFFF) return Fail("invalid \\u escape: lone low surrogate");
        if (u >= 0xD800 && u <= 0xDBFF) {
          if (t_.substr(pos_, 2) != "\\u") return Fail("invalid \\u escape: high surrogate without a low one");
          pos_ += 2;
          const int low = Hex4();
          if (low < 0xDC00 || low > 0xDFFF) return Fail("invalid \\u escape: high surrogate without a low one");
        }
        return true;
      }
      default:
        pos_ -= 2;
        return Fail("invalid escape sequence");
    }
  }

  // Length of the valid UTF-8 sequence starting at pos_, or 0.
  size_t Utf8Sequence() const {
    const auto at = [&](size_t i) { return static_cast<unsigned char>(t_[pos_ + i]); };
    const unsigned char c = at(0);
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (pos_ + len > t_.size()) return 0;
    for (size_t i = 1; i < len; ++i) {
      if ((at(i) & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (at(i) & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF) return 0;  // overlong, too big
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;  // surrogates are not characters
    return len;
  }

  bool String() {
    const size_t start = pos_;
    ++pos_;  // '"'
    for (;;) {
      if (AtEnd()) {
        pos_ = start;
        return Fail("unterminated string");
      }
      const unsigned char c = Peek();
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        if (!Escape()) return false;
      } else if (c < 0x20) {
        return Fail("control character in a string (must be escaped)");
      } else if (c < 0x80) {
        ++pos_;
      } else {
        const size_t len = Utf8Sequence();
        if (len == 0) return Fail("invalid UTF-8 in a string");
        pos_ += len;
      }
    }
  }

  std::string_view t_;
  size_t pos_ = 0;
  bool failed_ = false;
  size_t error_pos_ = 0;
  std::string what_;
};

}  // namespace

bool FindJsonSyntaxError(std::string_view text, size_t* offset, std::string* what) {
  return SyntaxChecker(text).FindError(offset, what);
}

Status JsonDocument::Parse(std::string_view body) {
  padded_ = simdjson::padded_string(body);
  const simdjson::error_code err = parser_.parse(padded_).get(root_);
  if (!err) return Status::Ok();
  size_t offset = 0;
  std::string what;
  if (FindJsonSyntaxError(body, &offset, &what)) {
    size_t line = 1, line_start = 0;
    for (size_t i = 0; i < offset; ++i) {
      if (body[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    return Status::InvalidArgument("JSON syntax error at byte " + std::to_string(offset) + " (line " +
                                   std::to_string(line) + ", column " + std::to_string(offset - line_start + 1) +
                                   "): " + what);
  }
  return Status::InvalidArgument(std::string("invalid JSON: ") + simdjson::error_message(err));
}

const char* JsonTypeName(element e) {
  switch (e.type()) {
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "number";
    case element_type::STRING: return "string";
    case element_type::BOOL: return "boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "unknown";
}

namespace {

bool TimeInRange(TimestampMs ms, std::string* why) {
  if (ms >= 0 && ms <= kMaxTimeMs) return true;
  *why = "time " + std::to_string(ms) + " ms is outside 1970-01-01..9999-12-31";
  return false;
}

}  // namespace

bool JsonUnixNanos(element e, uint64_t* out) {
  if (e.type() == element_type::STRING) {
    std::string_view s = StringOf(e);
    if (s.empty() || s.size() > 20) return false;
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      uint64_t next = v * 10 + static_cast<uint64_t>(c - '0');
      if (next / 10 != v) return false;  // overflow
      v = next;
    }
    *out = v;
    return true;
  }
  if (e.type() == element_type::UINT64) return !e.get(*out);
  if (e.type() == element_type::INT64) {
    int64_t v = 0;
    if (e.get(v) || v < 0) return false;
    *out = static_cast<uint64_t>(v);
    return true;
  }
  return false;
}

bool JsonToTime(element e, TimestampMs* out, std::string* why) {
  constexpr double kSecondsBelow = 1e11;
  switch (e.type()) {
    case element_type::INT64: {
      const int64_t v = Int64Of(e);
      const bool seconds = v > -static_cast<int64_t>(kSecondsBelow) && v < static_cast<int64_t>(kSecondsBelow);
      *out = seconds ? v * 1000 : v;
      return TimeInRange(*out, why);
    }
    case element_type::UINT64:
      *why = "time " + std::to_string(Uint64Of(e)) + " is outside 1970-01-01..9999-12-31";
      return false;
    case element_type::DOUBLE: {
      const double d = DoubleOf(e);
      const double ms = std::fabs(d) < kSecondsBelow ? d * 1000.0 : d;
      if (!(ms >= 0 && ms <= static_cast<double>(kMaxTimeMs))) {
        *why = "time " + std::to_string(d) + " is outside 1970-01-01..9999-12-31";
        return false;
      }
      *out = static_cast<TimestampMs>(std::llround(ms));
      return TimeInRange(*out, why);
    }
    case element_type::STRING: {
      const std::string_view text = StringOf(e);
      if (text.size() > 64) {
        *why = "expected a time (Unix ms, Unix s or RFC 3339), got a string of " + std::to_string(text.size()) +
               " bytes";
        return false;
      }
      Result<TimestampMs> t = ParseTimeParam(text);
      if (!t.ok()) {
        // core's message quotes the text raw; keep it only when that is safe
        // to show (printable ASCII), otherwise quote the text ourselves.
        const std::string quoted = Quote(text);
        const bool printable = quoted.size() == text.size() + 2;
        *why = printable ? t.status().message()
                         : "invalid time " + quoted + ": expected RFC 3339, Unix seconds or Unix milliseconds";
        return false;
      }
      *out = *t;
      return TimeInRange(*out, why);
    }
    default:
      *why = std::string("expected a time (Unix ms, Unix s or RFC 3339), got ") + JsonTypeName(e);
      return false;
  }
}

bool JsonToValue(element e, double* out, std::string* why) {
  switch (e.type()) {
    case element_type::INT64: *out = static_cast<double>(Int64Of(e)); return true;
    case element_type::UINT64: *out = static_cast<double>(Uint64Of(e)); return true;
    case element_type::DOUBLE: *out = DoubleOf(e); return true;
    case element_type::STRING: {
      std::string_view text = StringOf(e);
      std::string_view digits = text;
      // from_chars takes "-x", "inf", "nan" but not a leading '+'.
      if (digits.size() > 1 && digits[0] == '+' && digits[1] != '-' && digits[1] != '+') digits.remove_prefix(1);
      const char* end = digits.data() + digits.size();
      auto [ptr, ec] = std::from_chars(digits.data(), end, *out, std::chars_format::general);
      if (!digits.empty() && ec == std::errc() && ptr == end) return true;
      *why = "expected a number, got string " + Quote(text);
      if (ec == std::errc::result_out_of_range) *why += " (out of range)";
      return false;
    }
    default:
      *why = std::string("expected a number, got ") + JsonTypeName(e);
      return false;
  }
}

std::string KeyPath(std::string_view key) {
  if (IsValidLabelName(key)) return "." + std::string(key);
  return "[" + Quote(key) + "]";
}

}  // namespace vigil::ingest_internal
