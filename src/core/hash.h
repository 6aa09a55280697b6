// A stable 64-bit hash. Series ids and alert fingerprints are persisted and
// exchanged, so this function is frozen: changing it changes every id.
#pragma once

#include <cstdint>
#include <string_view>

namespace vigil {

// Hashes `data` with `seed`. Deterministic across runs, builds and platforms
// (little- or big-endian make no difference: bytes are read one by one into
// words). Quality is that of a multiply-xorshift mixer; it is not
// cryptographic.
uint64_t StableHash64(std::string_view data, uint64_t seed = 0);

// Final avalanche of a 64-bit word (a bijection).
inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  return x;
}

}  // namespace vigil
