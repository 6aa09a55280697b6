// The parts of the OTLP protobuf encoding that logs and traces share
// (internal to src/ingest): the export-request envelope and KeyValue.
//
//   Export<Signal>ServiceRequest { repeated Resource<Signal> groups = 1; }
//   Resource<Signal> { Resource resource = 1; repeated Scope<Signal> scopes = 2; }
//   Resource         { repeated KeyValue attributes = 1; }
//   Scope<Signal>    { InstrumentationScope scope = 1; repeated <Record> records = 2; }
//   KeyValue         { string key = 1; AnyValue value = 2; }
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "ingest/proto_wire.h"

namespace vigil::ingest_internal {

// Message names for error messages, per signal.
struct OtlpEnvelope {
  const char* request;         // "ExportLogsServiceRequest"
  const char* resource_group;  // "ResourceLogs"
  const char* scope_group;     // "ScopeLogs"
};

// Splits a KeyValue into its key and its AnyValue bytes.
bool ReadOtlpKeyValue(std::string_view kv, const char* base, WireError* err, std::string_view* key,
                      std::string_view* value);

// Walks an export request: for resource group i, `on_attribute(kv_bytes)` for
// each resource attribute, then `on_resource(i)`, then
// `on_record(i, scope_index, record_index, record_bytes)` for each record.
// The resource may follow the scopes on the wire, so records are handed out
// only once their resource is complete. Each callback returns false to stop
// (with err set for a wire error, or with its own reason kept by the caller).
template <class OnAttribute, class OnResource, class OnRecord>
bool WalkOtlpExport(std::string_view pb, const OtlpEnvelope& names, WireError* err, OnAttribute&& on_attribute,
                    OnResource&& on_resource, OnRecord&& on_record) {
  WireReader request(pb, pb.data(), names.request, err);
  size_t group_index = 0;
  std::vector<std::string_view> scopes;
  return ForEachLenField(request, [&](uint32_t field, std::string_view group_bytes) {
    if (field != 1) return true;
    const size_t gi = group_index++;
    scopes.clear();
    WireReader group(group_bytes, pb.data(), names.resource_group, err);
    const bool read = ForEachLenField(group, [&](uint32_t f, std::string_view bytes) {
      if (f == 2) scopes.push_back(bytes);
      if (f != 1) return true;
      WireReader resource(bytes, pb.data(), "opentelemetry.proto.resource.v1.Resource", err);
      return ForEachLenField(resource, [&](uint32_t af, std::string_view kv) { return af != 1 || on_attribute(kv); });
    });
    if (!read || !on_resource(gi)) return false;
    for (size_t si = 0; si < scopes.size(); ++si) {
      WireReader scope(scopes[si], pb.data(), names.scope_group, err);
      size_t k = 0;
      const bool ok = ForEachLenField(scope, [&](uint32_t f, std::string_view record) {
        return f != 2 || on_record(gi, si, k++, record);
      });
      if (!ok) return false;
    }
    return true;
  });
}

}  // namespace vigil::ingest_internal
