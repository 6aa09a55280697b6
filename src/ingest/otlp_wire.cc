#include "ingest/otlp_wire.h"

namespace vigil::ingest_internal {

bool ReadOtlpKeyValue(std::string_view kv, const char* base, WireError* err, std::string_view* key,
                      std::string_view* value) {
  WireReader r(kv, base, "opentelemetry.proto.common.v1.KeyValue", err);
  *key = {};
  *value = {};
  return ForEachLenField(r, [&](uint32_t field, std::string_view bytes) {
    if (field == 1) *key = bytes;
    else if (field == 2) *value = bytes;
    return true;
  });
}

}  // namespace vigil::ingest_internal
