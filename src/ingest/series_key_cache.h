// SeriesKeyCache: series ids of remote_write series already seen, keyed on
// the raw bytes of their Label fields (internal to src/ingest).
//
// Prometheus sends every series once per scrape, with the same label bytes
// each time. For a series seen before, the decoder can then skip parsing
// each Label message, validating and sorting the labels, copying them and
// hashing them into a SeriesId: one hash of the raw bytes, one probe and one
// memcmp give the id that full path would compute. The bytes are compared on
// every hit, so a hash collision can only cost a miss, never a wrong id. The
// same label set sent in another order (or with an unknown field in between)
// has other bytes and is another entry, mapping to the same id.
//
// Bounded: at most max_entries() series and max_bytes() bytes of keys. When
// an insertion would pass either bound the whole cache is dropped and refills
// from the requests that follow (a lookup never hands out anything that
// points into the cache, so dropping it at any time is safe). A workload with
// more live series per decoder than the bound then gets few hits and pays a
// copy of each key for nothing; the server sets the bound to the engine's
// series limit (limits.max_series), since one HTTP thread may see them all.
// Memory per decoder: about 20 bytes plus the key (~100-200 bytes for
// node_exporter series) per entry, plus 8-16 bytes of table per entry.
//
// Layout: an open-addressing table of 8-byte slots (high half of the hash as
// a tag, offset of the record), never more than half full, over one arena of
// records [hash (8 bytes) | id (8) | key length (4) | key bytes]. A hit reads one slot
// and one record, usually two cache lines that are close together in time.
//
// Not thread-safe: one per decoder, one decoder per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "core/prefetch.h"

namespace vigil::ingest_internal {

class SeriesKeyCache {
 public:
  // Keys longer than this are not cached (their series take the full path).
  static constexpr size_t kMaxKeyBytes = 2048;

  // max_bytes 0: 256 bytes per entry.
  explicit SeriesKeyCache(size_t max_entries, size_t max_bytes = 0);

  // The hash Find and Insert expect for `key` (not the series id: any
  // well-mixed hash of the bytes would do).
  static uint64_t HashKey(std::string_view key);

  // True and *id when `key` (with hash `hash`) is cached.
  bool Find(std::string_view key, uint64_t hash, SeriesId* id) const;
  // Starts loading the slot Find(…, hash, …) reads first.
  void Prefetch(uint64_t hash) const { PrefetchLine(slots_.data() + Home(hash)); }
  // Starts loading the record that hash's home slot points to (the next
  // step of Find); issue it after Prefetch(hash) has had time to load the
  // slot. An empty slot prefetches the arena's start, harmlessly.
  void PrefetchRecord(uint64_t hash) const {
    const uint32_t record = slots_.data()[Home(hash)].record;
    // Integer arithmetic: the arena may be empty (null data()).
    const uintptr_t r = reinterpret_cast<uintptr_t>(arena_.data()) + (record - (record != 0));
    PrefetchLine(reinterpret_cast<const char*>(r));
    PrefetchLine(reinterpret_cast<const char*>(r + 64));
    PrefetchLine(reinterpret_cast<const char*>(r + 128));
  }
  // Caches key -> id. `key` must not be cached already. Keys longer than
  // kMaxKeyBytes and a cache of max_entries() == 0 keep nothing.
  void Insert(std::string_view key, uint64_t hash, SeriesId id);

  // Drops every entry (keeps the memory).
  void Clear();

  size_t size() const { return size_; }
  size_t bytes() const { return arena_.size(); }
  size_t max_entries() const { return max_entries_; }
  size_t max_bytes() const { return max_bytes_; }
  // How many times the bounds made the cache drop everything.
  uint64_t resets() const { return resets_; }

 private:
  struct Slot {
    uint32_t tag = 0;
    uint32_t record = 0;  // offset of the record in arena_ + 1; 0 = empty
  };
  static constexpr size_t kRecordHeader = sizeof(uint64_t) + sizeof(SeriesId) + sizeof(uint32_t);

  size_t mask() const { return slots_.size() - 1; }
  size_t Home(uint64_t hash) const { return static_cast<size_t>(hash) & mask(); }
  static uint32_t Tag(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }
  void Grow();
  void Place(uint64_t hash, uint32_t record);

  size_t max_entries_;
  size_t max_bytes_;
  size_t size_ = 0;
  uint64_t resets_ = 0;
  std::vector<Slot> slots_;
  std::vector<char> arena_;
};

}  // namespace vigil::ingest_internal
