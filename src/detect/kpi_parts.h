// KpiParts: the parts of one KpiDetector that only some profiles build (the
// spectral residual, BOCPD, the KNN novelty view and its rings), in one heap
// block per series (an arena: docs/detection.md, round arena).
//
// Why one block: a caller that drives many series prefetches the next
// series' parts while the current one runs (KpiDetector::PrefetchParts).
// With a heap object per part, the novelty view's rings were a second
// allocation whose address sat in the novelty object: the prefetch had to
// wait for that object's line before it could ask for the rings (a
// dependent miss). Here every part's address is the block's plus an offset
// fixed by which parts exist, so one prefetch of [block, block + bytes())
// covers them all, and the block has one malloc header where there were
// four.
//
// Layout (in this order, each part at its type's alignment; the block
// starts at operator new's 16-byte alignment): KnnNovelty, Bocpd,
// SpectralResidual, the novelty rings (bytes, any alignment). A part that
// is absent takes no bytes. Reshape moves the parts kept into a new block
// with their state (the rings too), so re-profiling keeps them learned.
// Not thread-safe; move-only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "detect/change_point.h"
#include "detect/knn_novelty.h"
#include "detect/spectral_residual.h"

namespace vigil {

class KpiParts {
 public:
  enum Part : uint8_t { kSpectral = 1, kBocpd = 2, kNovelty = 4 };

  KpiParts() = default;
  ~KpiParts() { Release(); }
  KpiParts(KpiParts&& o) noexcept;
  KpiParts& operator=(KpiParts&& o) noexcept;
  KpiParts(const KpiParts&) = delete;
  KpiParts& operator=(const KpiParts&) = delete;

  // Makes the set of parts `want` (a mask of Part): the parts in both keep
  // their state, new ones start fresh (default-constructed; the novelty
  // view with the default KnnNoveltyConfig), the others are destroyed.
  // Returns the mask of the new ones.
  uint8_t Reshape(uint8_t want);

  uint8_t mask() const { return mask_; }
  SpectralResidual* sr() const {
    return (mask_ & kSpectral) ? reinterpret_cast<SpectralResidual*>(block_ + sr_off_) : nullptr;
  }
  Bocpd* bocpd() const { return (mask_ & kBocpd) ? reinterpret_cast<Bocpd*>(block_ + bocpd_off_) : nullptr; }
  KnnNovelty* novelty() const {
    return (mask_ & kNovelty) ? reinterpret_cast<KnnNovelty*>(block_ + novelty_off_) : nullptr;
  }
  // The block (null when no part exists) and its size in bytes.
  const std::byte* block() const { return block_; }
  size_t bytes() const { return bytes_; }
  // Starts loading the block: the parts' objects, and of the novelty
  // view's rings only the lines its next point writes when NoteNextPoint
  // found them (else the whole rings). A candidate point the novelty view
  // judges then reads its rings from memory (~2 % of its points).
  void Prefetch() const;
  // Notes which ring lines the novelty view's next point writes (after
  // each of its updates; KnnNovelty::NextWrites). Round hot2: the rings are
  // 888 of a stable series' 1296 B, and a point writes one or two of their
  // 14 lines.
  void NoteNextPoint();

  // The block's size for a set of parts.
  static size_t BytesFor(uint8_t mask);

 private:
  struct Layout {
    uint16_t novelty = 0, bocpd = 0, sr = 0, ring = 0, bytes = 0;
  };
  static Layout LayoutFor(uint8_t mask);
  void Release();

  std::byte* block_ = nullptr;
  uint16_t bytes_ = 0;
  uint16_t novelty_off_ = 0, bocpd_off_ = 0, sr_off_ = 0;
  // The rings' offset, and the block offsets of the ring bytes the next
  // point writes (NoteNextPoint; 0: none); prefetch hints only.
  uint16_t ring_off_ = 0, touch_value_ = 0, touch_block_ = 0;
  uint8_t mask_ = 0;
  bool rings_whole_ = true;  // the next point may touch more of the rings
};

}  // namespace vigil
