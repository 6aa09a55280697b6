// Test helper: hand-built protobuf bytes, for messages the real encoders
// cannot produce (odd label orders, repeated or unknown fields). Tests only.
#pragma once

#include <cstdint>
#include <string>

namespace vigil::test_bytes {

inline std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}

// A length-delimited field (wire type 2).
inline std::string Field(int number, const std::string& payload) {
  return Varint(static_cast<uint64_t>(number) << 3 | 2) + Varint(payload.size()) + payload;
}

}  // namespace vigil::test_bytes
