// Invariants the log decoder fuzz targets check (internal to src/ingest).
#pragma once

#include "ingest/fuzz_checks.h"
#include "ingest/log_batch.h"

namespace vigil::ingest_internal {

// Every accepted record is a valid line with valid labels; every rejection
// and error message is printable.
inline void CheckLogBatch(const LogBatch& b, const Status& st) {
  if (!st.ok()) CheckMessage(st.message());
  for (const LogRecord& r : b.records) {
    FuzzCheck(CheckLogLine(r.line).empty(), "an accepted line fails the line checks");
    FuzzCheck(r.ts_ms >= 0, "negative time accepted");
    CheckLabels(r.labels, false);
  }
  for (const std::string& why : b.rejected) CheckMessage(why);
}

}  // namespace vigil::ingest_internal
