// Invariants the trace decoder fuzz targets check (internal to src/ingest).
#pragma once

#include "ingest/fuzz_checks.h"
#include "ingest/span_batch.h"

namespace vigil::ingest_internal {

// Every accepted span satisfies span_batch.h's promises; every rejection and
// error message is printable; a refused body leaves nothing behind.
inline void CheckSpanBatch(const SpanBatch& b, const Status& st) {
  if (!st.ok()) {
    CheckMessage(st.message());
    FuzzCheck(b.spans.empty() && b.rejected.empty(), "a refused body left spans behind");
    return;
  }
  for (const Span& s : b.spans) {
    FuzzCheck(!s.trace_id.empty() && s.span_id != 0, "span with a zero id accepted");
    FuzzCheck(!s.service.empty() && IsValidUtf8(s.service), "span without a valid service accepted");
    FuzzCheck(IsValidUtf8(s.operation) && IsValidUtf8(s.instance), "invalid UTF-8 name accepted");
    FuzzCheck(s.service.size() <= kMaxSpanNameBytes && s.operation.size() <= kMaxSpanNameBytes, "over-long name");
    FuzzCheck(s.start_us > 0 && s.duration_us >= 0, "span with a bad start or duration accepted");
    for (const auto& [k, v] : s.attributes) {
      FuzzCheck(IsValidUtf8(v) && v.size() <= kMaxSpanAttributeBytes, "bad attribute value kept");
    }
  }
  for (const std::string& why : b.rejected) CheckMessage(why);
}

}  // namespace vigil::ingest_internal
