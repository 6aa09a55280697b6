// libFuzzer target: JSON events. Checks the documented limits and label
// rules on everything accepted, and the form of every error.
#include <cstdint>
#include <string_view>

#include "ingest/fuzz_checks.h"
#include "ingest/json_events.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using vigil::ingest_internal::FuzzCheck;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr vigil::TimestampMs kNow = 1795334178810;
  const auto result = vigil::DecodeEvents(input, kNow);
  if (!result.ok()) {
    vigil::ingest_internal::CheckMessage(result.status().message());
    return 0;
  }
  FuzzCheck(result->size() <= vigil::kMaxEventsPerRequest, "too many events accepted");
  for (const vigil::Event& e : *result) {
    FuzzCheck(!e.kind.empty() && e.kind.size() <= 64, "bad kind accepted");
    FuzzCheck(e.text.size() <= vigil::kMaxEventTextBytes, "oversized text accepted");
    FuzzCheck(e.ts_ms >= 0, "negative event time accepted");
    FuzzCheck(e.id == 0, "decoder assigned an id");
    vigil::ingest_internal::CheckLabels(e.labels, /*require_metric_name=*/false);
  }
  return 0;
}
