// libFuzzer target: the alert decoders never crash and either accept or
// name a field.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/alerts_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  std::vector<vigil::Alert> out;
  (void)vigil::DecodeAlertsV2(body, 0, &out);
  (void)vigil::DecodeWebhookV4(body, 0, &out);
  (void)vigil::DecodeGenericAlerts(body, 0, &out);
  return 0;
}
