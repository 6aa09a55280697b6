#include "core/byte_codec.h"

#include <cstring>
#include <vector>

namespace vigil::bytes {

void PutU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }

void PutFixed32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(b, 4);
}

void PutFixed64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(b, 8);
}

void PutVarint64(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutDouble(std::string* out, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  PutFixed64(out, bits);
}

void PutLengthPrefixed(std::string* out, std::string_view b) {
  PutVarint64(out, b.size());
  out->append(b);
}

void PutLabels(std::string* out, const Labels& labels) {
  PutVarint64(out, labels.size());
  for (const auto& l : labels.items()) {
    PutLengthPrefixed(out, l.name);
    PutLengthPrefixed(out, l.value);
  }
}

bool GetU8(std::string_view* in, uint8_t* v) {
  if (in->empty()) return false;
  *v = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return true;
}

bool GetFixed32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  uint32_t r = 0;
  for (int i = 0; i < 4; ++i) r |= static_cast<uint32_t>(static_cast<uint8_t>((*in)[i])) << (8 * i);
  *v = r;
  in->remove_prefix(4);
  return true;
}

bool GetFixed64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r |= static_cast<uint64_t>(static_cast<uint8_t>((*in)[i])) << (8 * i);
  *v = r;
  in->remove_prefix(8);
  return true;
}

bool GetVarint64(std::string_view* in, uint64_t* v) {
  uint64_t r = 0;
  for (size_t i = 0; i < in->size() && i < 10; ++i) {
    uint8_t b = static_cast<uint8_t>((*in)[i]);
    if (i == 9 && b > 1) return false;  // more than 64 bits
    r |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      *v = r;
      in->remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

bool GetDouble(std::string_view* in, double* v) {
  uint64_t bits;
  if (!GetFixed64(in, &bits)) return false;
  std::memcpy(v, &bits, sizeof bits);
  return true;
}

bool GetLengthPrefixed(std::string_view* in, std::string_view* b) {
  uint64_t n;
  if (!GetVarint64(in, &n) || n > in->size()) return false;
  *b = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

bool GetLabels(std::string_view* in, Labels* labels) {
  uint64_t n;
  if (!GetVarint64(in, &n) || n > in->size()) return false;
  std::vector<Label> items;
  items.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name, value;
    if (!GetLengthPrefixed(in, &name) || !GetLengthPrefixed(in, &value)) return false;
    items.push_back({std::string(name), std::string(value)});
  }
  *labels = Labels::FromSorted(std::move(items));
  return true;
}

}  // namespace vigil::bytes
