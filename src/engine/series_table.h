// SeriesTable: one shard's live series by id, for the ingest path.
//
// Ingest looks up every series of every request (Prometheus sends each
// series once per scrape), so the lookup is the engine's hottest memory
// access. The table is open addressing with linear probing over a
// power-of-two array of 32-byte slots, at most half full. A slot holds what
// the ingest check needs (the newest accepted timestamp and value), so
// deciding whether a sample is new touches one cache line, not a hash node
// plus the series' detector state. Series are never erased while vigil runs,
// so there are no tombstones and the owned states never move.
//
// Not thread-safe: the shard's ingest mutex guards it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/labels.h"
#include "core/prefetch.h"
#include "core/sample.h"

namespace vigil {

template <typename State>
class SeriesTable {
 public:
  struct Slot {
    SeriesId id = 0;
    State* state = nullptr;  // nullptr: empty slot
    TimestampMs last_ms = INT64_MIN;  // newest accepted sample
    double last_value = 0;
  };

  SeriesTable() : slots_(16) {}

  // The slot of `id`, or nullptr.
  Slot* Find(SeriesId id) {
    for (size_t i = Home(id);; i = (i + 1) & mask()) {
      Slot& s = slots_[i];
      if (s.state == nullptr) return nullptr;
      if (s.id == id) return &s;
    }
  }
  const Slot* Find(SeriesId id) const { return const_cast<SeriesTable*>(this)->Find(id); }
  // Asks the CPU to start loading the slot where Find(id) starts looking: a
  // caller about to look up many series issues it a few series ahead (the
  // table of a shard with thousands of series does not stay in cache).
  void Prefetch(SeriesId id) const { PrefetchLine(&slots_[Home(id)]); }

  // Adds `state` under `id` (which must not be present) and returns its slot.
  Slot* Insert(SeriesId id, std::unique_ptr<State> state) {
    if ((owned_.size() + 1) * 2 > slots_.size()) Grow();
    owned_.push_back(std::move(state));
    return Place(id, owned_.back().get(), INT64_MIN, 0);
  }

  size_t size() const { return owned_.size(); }

  // Calls fn(const Slot&) for every series, in no particular order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const Slot& s : slots_) {
      if (s.state != nullptr) fn(s);
    }
  }

 private:
  size_t mask() const { return slots_.size() - 1; }
  // Series ids are already well-mixed 64-bit hashes; the shard was chosen by
  // id % shards, so take the bits from the top.
  size_t Home(SeriesId id) const { return static_cast<size_t>((id * 0x9e3779b97f4a7c15ULL) >> 20) & mask(); }

  Slot* Place(SeriesId id, State* state, TimestampMs last_ms, double last_value) {
    size_t i = Home(id);
    while (slots_[i].state != nullptr) i = (i + 1) & mask();
    slots_[i] = Slot{id, state, last_ms, last_value};
    return &slots_[i];
  }

  void Grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old) {
      if (s.state != nullptr) Place(s.id, s.state, s.last_ms, s.last_value);
    }
  }

  std::vector<Slot> slots_;
  std::vector<std::unique_ptr<State>> owned_;
};

}  // namespace vigil
