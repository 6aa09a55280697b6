#include "ingest/log_batch.h"


namespace vigil::ingest_internal {

namespace {
// Offset of the first byte that is not part of valid UTF-8 (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or npos.
size_t FirstInvalidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c == 0xe0) { len = 3; lo = 0xa0; }
    else if (c >= 0xe1 && c <= 0xec) len = 3;
    else if (c == 0xed) { len = 3; hi = 0x9f; }
    else if (c >= 0xee && c <= 0xef) len = 3;
    else if (c == 0xf0) { len = 4; lo = 0x90; }
    else if (c >= 0xf1 && c <= 0xf3) len = 4;
    else if (c == 0xf4) { len = 4; hi = 0x8f; }
    else return i;
    if (i + len > n) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xbf) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}
}  // namespace

std::string CheckLogLine(std::string_view line) {
  if (line.size() > kMaxLogLineBytes) {
    return "line of " + std::to_string(line.size()) + " bytes exceeds the limit of " + std::to_string(kMaxLogLineBytes);
  }
  size_t nul = line.find('\0');
  if (nul != std::string_view::npos) return "NUL byte at offset " + std::to_string(nul);
  size_t bad = FirstInvalidUtf8(line);
  if (bad != std::string_view::npos) return "invalid UTF-8 at byte " + std::to_string(bad);
  return {};
}

void AddLogLine(LogBatch* out, const std::string& path, TimestampMs ts_ms, const Labels& labels, std::string_view line,
                int severity) {
  std::string why = CheckLogLine(line);
  if (!why.empty()) {
    out->rejected.push_back(path + ": " + why);
    return;
  }
  LogRecord r;
  r.ts_ms = ts_ms;
  r.labels = labels;
  r.line.assign(line);
  r.severity = severity;
  out->records.push_back(std::move(r));
}

}  // namespace vigil::ingest_internal
