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
  // Starts loading the block's lines the next point touches, as noted by
  // NoteNextPoint (the whole block until the first note): the novelty
  // view's object and the ring bytes it writes (its whole rings when it
  // will compare a window), BOCPD when its next block of residuals closes,
  // the spectral residual. What the next point reads beyond them (a
  // novelty candidate's window, BOCPD's reset after a re-baseline: a few %
  // of the points) comes from memory when it is read.
  void Prefetch() const;
  // Notes the lines the next point touches (after each point), bocpd_next:
  // BOCPD updates at the next point. Round hot2: a stable series' block is
  // 1296 B (21 lines) of which a point touches ~5; prefetching all of them
  // for every point kept the line fill buffers busy.
  void NoteNextPoint(bool bocpd_next);
  // Bit k: the block's k-th 64-byte line (from the line holding its first
  // byte) is loaded by Prefetch. For tests.
  uint32_t next_lines() const { return next_lines_; }
  // The bit of the line holding p (inside the block).
  uint32_t LineBit(const void* p) const {
    return 1u << ((reinterpret_cast<uintptr_t>(p) - (reinterpret_cast<uintptr_t>(block_) & ~uintptr_t{63})) / 64);
  }

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
  uint8_t mask_ = 0;
  // The lines Prefetch loads (see next_lines(); a prefetch hint only: all
  // of them after Reshape).
  uint32_t next_lines_ = ~0u;
};

}  // namespace vigil
