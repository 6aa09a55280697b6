#include "core/hash.h"

#include <bit>
#include <cstring>

namespace vigil {

namespace {
constexpr uint64_t kMulA = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t kMulB = 0xbf58476d1ce4e5b9ULL;

// The n <= 8 bytes at p as a little-endian word. On a little-endian CPU
// that is a plain load (the byte loop compiled to eight loads and shifts per
// word, a visible share of ingest: every series id is a hash of its labels).
inline uint64_t LoadLE(const unsigned char* p, size_t n) {
  uint64_t w = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&w, p, n);
  } else {
    for (size_t i = 0; i < n; ++i) w |= static_cast<uint64_t>(p[i]) << (8 * i);
  }
  return w;
}
}  // namespace

uint64_t StableHash64(std::string_view data, uint64_t seed) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  uint64_t h = seed ^ (n * kMulA);
  while (n >= 8) {
    uint64_t w = LoadLE(p, 8);
    h = (h ^ Mix64(w + kMulB)) * kMulA;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = LoadLE(p, n) | (static_cast<uint64_t>(n) << 56);
    h = (h ^ Mix64(w + kMulB)) * kMulA;
    h ^= h >> 29;
  }
  return Mix64(h);
}

}  // namespace vigil
