// Log records as the log decoders produce them (Loki push, OTLP logs, syslog,
// vigil's own /api/v1/logs). A decoder either refuses a whole body (its
// Status says why) or returns a LogBatch: the accepted records plus one
// reason per refused line, naming the line by its path in the payload
// ("streams[0].values[3]: invalid UTF-8 at byte 17"). Accepted records are
// complete and valid: UTF-8, no NUL byte, at most kMaxLogLineBytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "core/sample.h"

namespace vigil {

// Longer lines are refused (and counted), not truncated: a truncated line
// would mine into a template of its own and mislead a search.
inline constexpr size_t kMaxLogLineBytes = 256 * 1024;

struct LogRecord {
  TimestampMs ts_ms = 0;
  Labels labels;     // the stream: sorted, valid names, non-empty values
  std::string line;  // the message as sent
  int severity = -1; // 0 trace/debug, 2 info, 3 warning, 4 error, 5 fatal; -1 unknown
};

struct LogBatch {
  std::vector<LogRecord> records;
  std::vector<std::string> rejected;
  void clear() {
    records.clear();
    rejected.clear();
  }
};

namespace ingest_internal {
// "" when `line` may be accepted, otherwise why not (no path prefix).
std::string CheckLogLine(std::string_view line);
// Appends a record, or a rejection "path: reason".
void AddLogLine(LogBatch* out, const std::string& path, TimestampMs ts_ms, const Labels& labels, std::string_view line,
                int severity);
}  // namespace ingest_internal

}  // namespace vigil
