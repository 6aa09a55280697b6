#include "detect/forecast_csv.h"

#include <charconv>
#include <cmath>
#include <string>

#include "core/time_format.h"

namespace vigil {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '"')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '"')) s.remove_suffix(1);
  return s;
}

Result<TimestampMs> ParseTimestamp(std::string_view s) {
  // "YYYY-MM-DD HH:MM:SS[.ffffff]" without a zone: NAB's form, UTC.
  if (s.size() >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == ' ' || s[10] == 'T')) {
    std::string t(s);
    t[10] = 'T';
    bool zoned = t.back() == 'Z' || t.find('+', 19) != std::string::npos || t.find('-', 19) != std::string::npos;
    if (!zoned) t += 'Z';
    return ParseRfc3339(t);
  }
  return ParseTimeParam(s);
}

}  // namespace

Result<std::vector<Sample>> ParseSeriesCsv(std::string_view text) {
  std::vector<Sample> out;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (Trim(line).empty()) continue;
    size_t comma = line.find(',');
    if (comma == std::string_view::npos) {
      return Status::InvalidArgument("line " + std::to_string(line_no) + ": expected \"timestamp,value\", got \"" +
                                     std::string(line.substr(0, 80)) + "\"");
    }
    std::string_view ts_field = Trim(line.substr(0, comma));
    std::string_view rest = line.substr(comma + 1);
    std::string_view value_field = Trim(rest.substr(0, rest.find(',')));
    double v = 0;
    auto [p, ec] = std::from_chars(value_field.data(), value_field.data() + value_field.size(), v);
    bool value_ok = ec == std::errc() && p == value_field.data() + value_field.size();
    if (!value_ok && (value_field == "NaN" || value_field == "nan" || value_field.empty())) {
      v = std::nan("");
      value_ok = true;
    }
    auto ts = ParseTimestamp(ts_field);
    if (out.empty() && line_no == 1 && (!ts.ok() || !value_ok)) continue;  // a header
    if (!ts.ok()) {
      return Status::InvalidArgument("line " + std::to_string(line_no) + ": field \"timestamp\": " +
                                     ts.status().message());
    }
    if (!value_ok) {
      return Status::InvalidArgument("line " + std::to_string(line_no) + ": field \"value\": expected a number, got \"" +
                                     std::string(value_field) + "\"");
    }
    out.push_back({*ts, v});
  }
  if (out.empty()) return Status::InvalidArgument("no samples in the file");
  return out;
}

}  // namespace vigil
