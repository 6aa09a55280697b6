// libFuzzer target: DecodeOtlpLogsJson. Accepted records must be valid, messages printable.
#include <cstdint>
#include <string_view>

#include "ingest/otlp_logs.h"
#include "ingest/log_fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  vigil::LogBatch batch;
  const vigil::Status st = vigil::DecodeOtlpLogsJson(input, &batch);
  vigil::ingest_internal::CheckLogBatch(batch, st);
  return 0;
}
