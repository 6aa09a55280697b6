#include "detect/snapshot_codec.h"

#include <cstring>

namespace vigil {

namespace {

void PutLE(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

Status GetLE(std::string_view* in, int bytes, uint64_t* v, const char* what) {
  if (in->size() < static_cast<size_t>(bytes)) {
    return Status::Corruption(std::string("snapshot truncated while reading ") + what + " (need " +
                              std::to_string(bytes) + " bytes, have " + std::to_string(in->size()) + ")");
  }
  uint64_t r = 0;
  for (int i = 0; i < bytes; ++i) r |= static_cast<uint64_t>(static_cast<unsigned char>((*in)[i])) << (8 * i);
  in->remove_prefix(static_cast<size_t>(bytes));
  *v = r;
  return Status::Ok();
}

}  // namespace

void PutU8(std::string* out, uint8_t v) { PutLE(out, v, 1); }
void PutU32(std::string* out, uint32_t v) { PutLE(out, v, 4); }
void PutU64(std::string* out, uint64_t v) { PutLE(out, v, 8); }
void PutI64(std::string* out, int64_t v) { PutLE(out, static_cast<uint64_t>(v), 8); }
void PutDouble(std::string* out, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  PutLE(out, bits, 8);
}

Status GetU8(std::string_view* in, uint8_t* v, const char* what) {
  uint64_t r;
  Status s = GetLE(in, 1, &r, what);
  if (s.ok()) *v = static_cast<uint8_t>(r);
  return s;
}
Status GetU32(std::string_view* in, uint32_t* v, const char* what) {
  uint64_t r;
  Status s = GetLE(in, 4, &r, what);
  if (s.ok()) *v = static_cast<uint32_t>(r);
  return s;
}
Status GetU64(std::string_view* in, uint64_t* v, const char* what) { return GetLE(in, 8, v, what); }
Status GetI64(std::string_view* in, int64_t* v, const char* what) {
  uint64_t r;
  Status s = GetLE(in, 8, &r, what);
  if (s.ok()) *v = static_cast<int64_t>(r);
  return s;
}
Status GetDouble(std::string_view* in, double* v, const char* what) {
  uint64_t r;
  Status s = GetLE(in, 8, &r, what);
  if (s.ok()) std::memcpy(v, &r, sizeof r);
  return s;
}

}  // namespace vigil
