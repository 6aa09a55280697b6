#include "ingest/series_key_cache.h"

#include <cstring>

#include "core/hash.h"

namespace vigil::ingest_internal {

namespace {
constexpr uint64_t kKeySeed = 0x5e41e5ca;  // any: these hashes are never stored
constexpr size_t kFirstSlots = 1024;

template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
}  // namespace

SeriesKeyCache::SeriesKeyCache(size_t max_entries, size_t max_bytes)
    : max_entries_(max_entries), max_bytes_(max_bytes != 0 ? max_bytes : max_entries * 256), slots_(kFirstSlots) {
  // Record offsets are 32-bit.
  if (max_bytes_ > UINT32_MAX - kRecordHeader - kMaxKeyBytes) max_bytes_ = UINT32_MAX - kRecordHeader - kMaxKeyBytes;
}

// 16 bytes per step folded through a 64x64->128 multiply: a fraction of
// StableHash64's cost per byte. These hashes are never stored or compared
// across runs, and a collision only costs a memcmp, so the frozen hash is not
// needed here.
uint64_t SeriesKeyCache::HashKey(std::string_view key) {
  constexpr uint64_t kA = 0xa0761d6478bd642fULL, kB = 0xe7037ed1a0b428dbULL;
  const auto mum = [](uint64_t a, uint64_t b) {
    const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
    return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
  };
  const char* p = key.data();
  size_t n = key.size();
  uint64_t h = kKeySeed ^ mum(n ^ kA, kB);
  while (n >= 16) {
    h = mum(Load<uint64_t>(p) ^ kA, Load<uint64_t>(p + 8) ^ h);
    p += 16;
    n -= 16;
  }
  uint64_t a = 0, b = 0;
  if (n > 8) {
    a = Load<uint64_t>(p);
    std::memcpy(&b, p + 8, n - 8);
  } else {
    std::memcpy(&a, p, n);
  }
  h = mum(a ^ kA, b ^ h);
  return Mix64(h ^ key.size());
}

bool SeriesKeyCache::Find(std::string_view key, uint64_t hash, SeriesId* id) const {
  if (size_ == 0) return false;
  const uint32_t tag = Tag(hash);
  for (size_t i = Home(hash);; i = (i + 1) & mask()) {
    const Slot s = slots_[i];
    if (s.record == 0) return false;
    if (s.tag != tag) continue;
    const char* r = arena_.data() + (s.record - 1);
    if (Load<uint64_t>(r) != hash) continue;
    const uint32_t len = Load<uint32_t>(r + 16);
    if (len == key.size() && std::memcmp(r + kRecordHeader, key.data(), len) == 0) {
      *id = Load<SeriesId>(r + 8);
      return true;
    }
  }
}

void SeriesKeyCache::Insert(std::string_view key, uint64_t hash, SeriesId id) {
  if (max_entries_ == 0 || key.size() > kMaxKeyBytes) return;
  const size_t record_bytes = kRecordHeader + key.size();
  if (size_ + 1 > max_entries_ || arena_.size() + record_bytes > max_bytes_) {
    Clear();
    ++resets_;
  }
  if ((size_ + 1) * 2 > slots_.size()) Grow();
  const size_t at = arena_.size();
  arena_.resize(at + record_bytes);
  char* r = arena_.data() + at;
  const uint32_t len = static_cast<uint32_t>(key.size());
  std::memcpy(r, &hash, 8);
  std::memcpy(r + 8, &id, 8);
  std::memcpy(r + 16, &len, 4);
  std::memcpy(r + kRecordHeader, key.data(), key.size());
  Place(hash, static_cast<uint32_t>(at + 1));
  ++size_;
}

void SeriesKeyCache::Clear() {
  std::fill(slots_.begin(), slots_.end(), Slot{});
  arena_.clear();
  size_ = 0;
}

void SeriesKeyCache::Place(uint64_t hash, uint32_t record) {
  size_t i = Home(hash);
  while (slots_[i].record != 0) i = (i + 1) & mask();
  slots_[i] = Slot{Tag(hash), record};
}

void SeriesKeyCache::Grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  for (const Slot& s : old) {
    if (s.record != 0) Place(Load<uint64_t>(arena_.data() + (s.record - 1)), s.record);
  }
}

}  // namespace vigil::ingest_internal
