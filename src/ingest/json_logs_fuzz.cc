// libFuzzer target: /api/v1/logs bodies, as JSON lines and as raw text.
// Raw text keeps every non-blank line: accepted + rejected = such lines.
#include <cstdint>
#include <string_view>

#include "ingest/json_logs.h"
#include "ingest/log_fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  vigil::Labels base = vigil::Labels::FromSorted({{"service", "fuzz"}});
  vigil::LogBatch batch;
  vigil::Status st = vigil::DecodeLogLines(input, true, base, 1795334178810, &batch);
  vigil::ingest_internal::CheckLogBatch(batch, st);
  st = vigil::DecodeLogLines(input, false, base, 1795334178810, &batch);
  vigil::ingest_internal::CheckLogBatch(batch, st);
  size_t lines = 0, pos = 0;
  while (pos < size) {
    size_t nl = input.find('\n', pos);
    if (nl == std::string_view::npos) nl = size;
    std::string_view l = input.substr(pos, nl - pos);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.find_first_not_of(" \t") != std::string_view::npos) ++lines;
    pos = nl + 1;
  }
  vigil::ingest_internal::FuzzCheck(batch.records.size() + batch.rejected.size() == lines, "a raw line was lost");
  return 0;
}
