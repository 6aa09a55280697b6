// KnnNovelty: how new the recent stretch of a series is, next to every
// stretch it has shown before (distance-based novelty with a calibrated tail).
//
// After E. Burnaev and V. Ishimtsev, "Conformalized density- and
// distance-based anomaly detection in time-series data" (arXiv:1608.04585,
// 2016): each point is represented by a window of its recent values (a lag
// embedding); its non-conformity is the mean distance to its `k` nearest
// neighbours among the windows of a reference set. Here the window is the
// last kDim (8) values plus the last kCoarse (8) means of kBlock (8) values
// (a longer context at low cost), the reference set is the windows of the
// last `capacity` values but the `exclude` most recent (so that a new level
// or shape stays novel for that long, instead of finding itself as
// neighbour after kDim points). The newest value's feature is scaled by
// `last_weight` (2), so that the window moves away from its neighbours at
// the onset, not a few points later, and the block means by `coarse_weight`
// (2): the longer context decides more of the distance. The paper turns the
// non-conformity into a conformal p-value over a calibration set; here it
// gets vigil's calibration instead: an EVT tail (SPOT) of the
// non-conformities, of which only the part beyond SPOT's initial threshold
// counts (-log10 P(D > d | D > t)), on the same scale as KpiDetector's
// surprise.
//
// What it sees that the residual views do not: a burst the size and shape
// of bursts seen before is familiar (a small distance), a new level or
// shape is not.
//
// Compact (KpiDetector keeps one per series without a period, in the memory
// a seasonal profile would use; docs/detection.md, round nab4): the
// windows overlap, so only the values are kept, once, as int8 steps of
// 1/`levels` of a robust scale fixed after `warmup` points (clipped at +-127
// steps; a fixed scale changes neither the neighbour ranking nor the EVT
// tail), in a ring of `capacity` values and one of their block means, both
// in one heap block of their exact size (or, in KpiDetector, in the
// caller's block: KpiParts places them after this object, BOCPD and the
// spectral residual), which also holds the warm-up values before the scale
// is fixed; a window is read from the rings (~1.1 KiB in all by default).
//
// Work per point (amortised O(1)): a window is compared with the reference
// windows only when the caller asks (`judge`: a point the suite already
// finds surprising) and every `sample_every`-th point (those alone feed the
// tail: an unbiased sample of ordinary windows). The windows whose ends
// fall in one block share their block means, so a group of kBlock windows
// is skipped whole when its coarse distance alone passes the k-th
// neighbour (a coarse prefilter). Streaming: no look-ahead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "detect/spot.h"

namespace vigil {

struct KnnNoveltyConfig {
  int k = 3;               // neighbours averaged
  int capacity = 768;      // values kept (the reference windows end in them; 1024 scored the same, round nab5)
  int exclude = 100;       // the most recent windows are not neighbours (at least kDim - 1: overlap)
  int warmup = 100;        // points before the scale is fixed (at most kMaxWarmup)
  int min_history = 512;   // values kept before windows are judged and the tail calibrates
  int sample_every = 64;   // every n-th point is judged and feeds the tail
  double levels = 8;       // int8 steps per scale unit (+-127 steps: +-16 scale units)
  double last_weight = 2.0;   // the newest value's feature is scaled by this (an onset weighs more)
  double coarse_weight = 2.0; // the block means are scaled by this (the longer context counts more)
  double tail_floor = 1.0; // SPOT's alarm threshold floor, in scale units (0 can freeze the tail)
};

class KnnNovelty {
 public:
  // The window: kDim values and kCoarse means of kBlock values (compile-time
  // sizes, so that the distance loops unroll).
  static constexpr int kDim = 8, kCoarse = 8, kBlock = 8;
  static constexpr int kMaxWarmup = 256;  // warm-up values fit in the value ring's bytes
  explicit KnnNovelty(const KnnNoveltyConfig& cfg = {});
  // The rings in the caller's memory: RingBytes(cfg) bytes at `ring` (any
  // alignment), which must outlive this object and are not freed by it
  // (KpiParts places them in its per-series block, right after the object,
  // so that their address is known without reading the object).
  KnnNovelty(const KnnNoveltyConfig& cfg, int8_t* ring);
  ~KnnNovelty();
  // A move takes the rings along (owned or not).
  KnnNovelty(KnnNovelty&& o) noexcept;
  KnnNovelty& operator=(KnnNovelty&& o) noexcept;
  KnnNovelty(const KnnNovelty&) = delete;
  KnnNovelty& operator=(const KnnNovelty&) = delete;
  // Bytes of the rings for a configuration (as the constructor adjusts it).
  static size_t RingBytes(const KnnNoveltyConfig& cfg);
  // Copies the rings to `ring` (RingBytes bytes, the caller's as in the
  // placing constructor) and uses them there from now on.
  void MoveRingTo(int8_t* ring);
  const int8_t* ring() const { return ring_; }
  // Feeds one value; returns the surprise of its window, or 0 while warming
  // up or when the window was not compared (judge false and not a sample
  // point).
  double Update(double x, bool judge = true);
  double last_distance() const { return last_; }
  bool ready() const { return ready_; }
  // Bytes held (object and buffers).
  size_t StateBytes() const;
  // Start loading the object and its rings (KpiDetector::PrefetchParts).
  void Prefetch() const;
  // The ring bytes the next Update writes when it does not compare a window
  // (its value, and its block's mean when that block closes), as offsets
  // from ring() (-1: none); false when it may touch more of the rings (while
  // warming up, at a sample point, while the tail calibrates, or where a
  // write also lands in a ring's repeated head). A judged candidate reads
  // the whole rings anyway (the caller cannot know it in advance). For a
  // caller that loads only those lines ahead of the next point (KpiParts:
  // round hot2); Update's results do not depend on it.
  bool NextWrites(int32_t* value_at, int32_t* block_at) const;
  // Snapshot of the learned state (the configuration is not in it).
  void AppendTo(std::string* out) const;
  Status ParseFrom(std::string_view* in);

 private:
  // Whether a point past min_history compares its window although nobody
  // asked (no candidate): a sample point, or while the tail calibrates.
  // Update and NextWrites decide by it alike.
  bool ComparesAnyway(bool sample) const { return sample || !spot_.calibrated(); }
  int8_t Quantise(double y) const;
  size_t ValueRing() const;  // values kept (capacity)
  size_t BlockRing() const;  // block means kept (enough for every reference window)
  size_t RingBytes() const;  // both rings, each with its repeated head
  int8_t* values() const { return ring_; }
  int8_t* blocks() const { return ring_ + ValueRing() + kDim - 1; }
  static KnnNoveltyConfig Adjusted(KnnNoveltyConfig cfg);
  void FreeRing();
  // The i-th warm-up slot (floats kept in the value ring's bytes until the
  // scale is fixed).
  float Warm(size_t i) const;
  void SetWarm(size_t i, float x);
  // Fixes the scale from the warm-up values (oldest first, w of them) and
  // replays them, unless they are constant (then warming goes on).
  void Start(const float* ordered, size_t w);
  // Squared distances of the window cur's values to kDim values (the newest
  // weighted), and of its block means to kCoarse block means.
  int32_t FineDistance(const int8_t* cur, const int8_t* values) const;
  int32_t CoarseDistance(const int8_t* cur, const int8_t* block_means) const;
  double Judge();

  KnnNoveltyConfig cfg_;
  uint32_t warm_seen_ = 0;      // values seen while warming (more than warmup while they are constant)
  double centre_ = 0, inv_scale_ = 1;  // doubles: a spread of 1e-300 has an inverse no float holds
  bool ready_ = false;
  bool owns_ring_ = false;  // ring_ was allocated here (else it is the caller's)
  // Rings of quantised values and block means, one block (values first);
  // the first kDim - 1 (kCoarse - 1) entries of each are repeated past its
  // end, so a window is contiguous.
  int8_t* ring_ = nullptr;
  uint64_t seen_ = 0, blocks_seen_ = 0;  // values / block means stored so far
  float block_acc_ = 0;
  int block_n_ = 0;
  int to_sample_ = 0;           // points until the next sample point
  float last_ = 0;
  int32_t w_last_ = 4, w_coarse_ = 4;  // squared weights (integers: the weights are small integers)
  SpotThreshold spot_;
};

}  // namespace vigil
