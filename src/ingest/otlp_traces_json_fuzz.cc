// libFuzzer target: DecodeOtlpTracesJson. Accepted spans must be valid, messages printable.
#include <cstdint>
#include <string_view>

#include "ingest/otlp_traces.h"
#include "ingest/span_fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  vigil::SpanBatch batch;
  const vigil::Status st = vigil::DecodeOtlpTracesJson(input, &batch);
  vigil::ingest_internal::CheckSpanBatch(batch, st);
  return 0;
}
