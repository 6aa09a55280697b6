// libFuzzer target: JSON sample pushes. Checks the output invariants, and
// that the syntax checker that locates errors agrees with simdjson about
// which documents are JSON: a syntax error must be located inside the input.
#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/fuzz_checks.h"
#include "ingest/json_samples.h"
#include "ingest/json_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using vigil::ingest_internal::CheckBatch;
  using vigil::ingest_internal::CheckMessage;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  vigil::WriteBatch batch;
  const vigil::Status st = vigil::DecodeJsonSamples(input, 1795334178810, &batch);
  if (!st.ok()) {
    CheckMessage(st.message());
    const std::string prefix = "JSON syntax error at byte ";
    if (st.message().rfind(prefix, 0) == 0) {
      const size_t offset = std::stoull(st.message().substr(prefix.size()));
      vigil::ingest_internal::FuzzCheck(offset <= size, "syntax error offset beyond the input");
    }
  }
  CheckBatch(batch, st.ok());
  size_t offset = 0;
  std::string what;
  const bool checker_refuses = vigil::ingest_internal::FindJsonSyntaxError(input, &offset, &what);
  const bool simdjson_refuses = !st.ok() && (st.message().rfind("JSON syntax error", 0) == 0 ||
                                             st.message().rfind("invalid JSON", 0) == 0);
  vigil::ingest_internal::FuzzCheck(checker_refuses == simdjson_refuses,
                                    "syntax checker and simdjson disagree on a document");
  for (const vigil::TimeSeries& s : batch.series) {
    for (const vigil::Sample& p : s.samples) {
      vigil::ingest_internal::FuzzCheck(p.ts_ms >= 0, "negative sample time accepted");
    }
  }
  return 0;
}
