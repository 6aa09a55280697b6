// JSON plumbing shared by the JSON decoders (internal to src/ingest):
// parsing with simdjson, precise syntax-error locations, type names for
// messages, and the time and value forms of vigil's JSON API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "core/sample.h"
#include "core/status.h"

namespace vigil::ingest_internal {

// A parsed JSON document. Owns the padded copy of the body simdjson needs and
// the parser whose tape `root` points into; do not copy or move it once
// parsed.
class JsonDocument {
 public:
  // Parses `body`. Malformed JSON gives InvalidArgument with the byte offset,
  // line and column of the first error, e.g.
  // `JSON syntax error at byte 17 (line 2, column 5): expected ':' after an object key`.
  Status Parse(std::string_view body);
  simdjson::dom::element root() const { return root_; }

 private:
  simdjson::dom::parser parser_;
  simdjson::padded_string padded_;
  simdjson::dom::element root_;
};

// Accessors for an element whose type() the caller has checked. They return
// plain values: simdjson_result<T>::value_unsafe() hands out a reference
// into a temporary, which dangles when used as a range-for range.
inline simdjson::dom::object ObjectOf(simdjson::dom::element e) {
  simdjson::dom::object v{};
  if (e.get(v) != simdjson::SUCCESS) return {};
  return v;
}
inline simdjson::dom::array ArrayOf(simdjson::dom::element e) {
  simdjson::dom::array v{};
  if (e.get(v) != simdjson::SUCCESS) return {};
  return v;
}
inline std::string_view StringOf(simdjson::dom::element e) {
  std::string_view v{};
  if (e.get(v) != simdjson::SUCCESS) return {};
  return v;
}
inline int64_t Int64Of(simdjson::dom::element e) {
  int64_t v = 0;
  if (e.get(v) != simdjson::SUCCESS) return {};
  return v;
}
inline uint64_t Uint64Of(simdjson::dom::element e) {
  uint64_t v = 0;
  if (e.get(v) != simdjson::SUCCESS) return {};
  return v;
}
inline double DoubleOf(simdjson::dom::element e) {
  double v = 0;
  if (e.get(v) != simdjson::SUCCESS) return {};
  return v;
}

// "object", "array", "string", "number", "boolean" or "null".
const char* JsonTypeName(simdjson::dom::element e);

// Finds the first syntax error in `text`: returns false when the text is
// well-formed JSON (as far as this checker knows), otherwise sets `offset` to
// the byte where it went wrong and `what` to a description.
bool FindJsonSyntaxError(std::string_view text, size_t* offset, std::string* what);

// Latest accepted time: 9999-12-31T23:59:59.999Z.
inline constexpr TimestampMs kMaxTimeMs = 253402300799999;

// A time in vigil's JSON API: a number is Unix milliseconds, or Unix seconds
// (fraction allowed) when below 1e11; a string is RFC 3339 or such a number
// as text. Accepts 1970-01-01 up to kMaxTimeMs. On failure returns false and
// sets `why` (e.g. `expected a time (Unix ms, Unix s or RFC 3339), got boolean`).
bool JsonToTime(simdjson::dom::element e, TimestampMs* out, std::string* why);

// A sample value: a JSON number, or a string as Prometheus writes values:
// "NaN", "+Inf", "-Inf", "1.5", "1e3". On failure returns false and sets `why`.
bool JsonToValue(simdjson::dom::element e, double* out, std::string* why);

// OTLP's JSON Unix nanoseconds: a decimal string (the proto3 JSON mapping
// of fixed64) or a non-negative number. False for anything else, including
// a string of more than 20 digits or one that overflows 64 bits.
bool JsonUnixNanos(simdjson::dom::element e, uint64_t* out);

// A path component for an object key: `.name` when the key is a plain
// identifier, otherwise `["quoted key"]`.
std::string KeyPath(std::string_view key);

}  // namespace vigil::ingest_internal
