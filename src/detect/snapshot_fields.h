// Reading detector snapshot fields with an error that says which field was
// cut short. Thin wrappers over core/byte_codec.h (the one byte encoding of
// vigil's persisted formats); internal to detect/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/byte_codec.h"
#include "core/status.h"

namespace vigil::snapshot_fields {

inline Status Truncated(const char* what) {
  return Status::Corruption(std::string("snapshot truncated while reading ") + what);
}

inline Status GetU8(std::string_view* in, uint8_t* v, const char* what) {
  return bytes::GetU8(in, v) ? Status::Ok() : Truncated(what);
}
inline Status GetU32(std::string_view* in, uint32_t* v, const char* what) {
  return bytes::GetFixed32(in, v) ? Status::Ok() : Truncated(what);
}
inline Status GetU64(std::string_view* in, uint64_t* v, const char* what) {
  return bytes::GetFixed64(in, v) ? Status::Ok() : Truncated(what);
}
inline Status GetI64(std::string_view* in, int64_t* v, const char* what) {
  uint64_t u = 0;
  if (!bytes::GetFixed64(in, &u)) return Truncated(what);
  *v = static_cast<int64_t>(u);
  return Status::Ok();
}
inline Status GetDouble(std::string_view* in, double* v, const char* what) {
  return bytes::GetDouble(in, v) ? Status::Ok() : Truncated(what);
}

}  // namespace vigil::snapshot_fields
