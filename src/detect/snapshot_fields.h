// Reading detector snapshot fields with an error that says which field was
// cut short. Thin wrappers over core/byte_codec.h (the one byte encoding of
// vigil's persisted formats); internal to detect/.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

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

// Raw copies of small trivially copyable detector parts (RobustLevel, Cusum,
// Bocpd, ...), for the KPI suite's snapshot. Their layout is not a stable
// format: the suite's snapshot starts with a fingerprint of these layouts and
// a build with another layout discards the blob (the series relearns)
// instead of misreading it.
template <class T>
void PutPod(std::string* out, const T& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  out->append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <class T>
Status GetPod(std::string_view* in, T* v, const char* what) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (in->size() < sizeof(T)) return Truncated(what);
  std::memcpy(static_cast<void*>(v), in->data(), sizeof(T));
  in->remove_prefix(sizeof(T));
  return Status::Ok();
}
template <class T>
void PutPodVector(std::string* out, const std::vector<T>& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  bytes::PutVarint64(out, v.size());
  out->append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}
template <class T>
Status GetPodVector(std::string_view* in, std::vector<T>* v, const char* what, size_t max_elements) {
  static_assert(std::is_trivially_copyable_v<T>);
  uint64_t n = 0;
  if (!bytes::GetVarint64(in, &n)) return Truncated(what);
  if (n > max_elements) return Status::Corruption(std::string("snapshot field ") + what + " too long");
  if (in->size() < n * sizeof(T)) return Truncated(what);
  v->resize(static_cast<size_t>(n));
  if (n > 0) std::memcpy(static_cast<void*>(v->data()), in->data(), static_cast<size_t>(n) * sizeof(T));
  in->remove_prefix(static_cast<size_t>(n) * sizeof(T));
  return Status::Ok();
}

}  // namespace vigil::snapshot_fields
