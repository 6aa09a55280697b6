#include "detect/kpi_parts.h"

#include <algorithm>
#include <new>
#include <type_traits>
#include <utility>

#include "core/prefetch.h"

namespace vigil {

static_assert(std::is_trivially_destructible_v<Bocpd> && std::is_trivially_copyable_v<Bocpd>);
static_assert(std::is_trivially_destructible_v<SpectralResidual> && std::is_trivially_copyable_v<SpectralResidual>);

namespace {
size_t AlignUp(size_t n, size_t a) { return (n + a - 1) / a * a; }
}  // namespace

KpiParts::Layout KpiParts::LayoutFor(uint8_t mask) {
  Layout l;
  size_t at = 0;
  if (mask & kNovelty) {
    at = AlignUp(at, alignof(KnnNovelty));
    l.novelty = static_cast<uint16_t>(at);
    at += sizeof(KnnNovelty);
  }
  if (mask & kBocpd) {
    at = AlignUp(at, alignof(Bocpd));
    l.bocpd = static_cast<uint16_t>(at);
    at += sizeof(Bocpd);
  }
  if (mask & kSpectral) {
    at = AlignUp(at, alignof(SpectralResidual));
    l.sr = static_cast<uint16_t>(at);
    at += sizeof(SpectralResidual);
  }
  if (mask & kNovelty) {
    l.ring = static_cast<uint16_t>(at);
    at += KnnNovelty::RingBytes(KnnNoveltyConfig{});
  }
  l.bytes = static_cast<uint16_t>(at);
  return l;
}

size_t KpiParts::BytesFor(uint8_t mask) { return LayoutFor(mask).bytes; }

// (An empty object takes the other's block: Release on it frees nothing.)
KpiParts::KpiParts(KpiParts&& o) noexcept { *this = std::move(o); }

KpiParts& KpiParts::operator=(KpiParts&& o) noexcept {
  if (this == &o) return *this;
  Release();
  block_ = o.block_;
  bytes_ = o.bytes_;
  novelty_off_ = o.novelty_off_;
  bocpd_off_ = o.bocpd_off_;
  sr_off_ = o.sr_off_;
  ring_off_ = o.ring_off_;
  touch_value_ = o.touch_value_;
  touch_block_ = o.touch_block_;
  rings_whole_ = o.rings_whole_;
  mask_ = o.mask_;
  o.block_ = nullptr;
  o.bytes_ = 0;
  o.mask_ = 0;
  return *this;
}

void KpiParts::Release() {
  if (KnnNovelty* n = novelty()) n->~KnnNovelty();
  // (Bocpd and SpectralResidual are trivially destructible.)
  ::operator delete(block_);
  block_ = nullptr;
  bytes_ = 0;
  mask_ = 0;
}

namespace {

// A copy of `old` at `at` (its state kept), or a fresh T when there is none.
template <typename T>
void CopyOrFresh(std::byte* at, const T* old) {
  if (old != nullptr) {
    new (at) T(*old);
  } else {
    new (at) T();
  }
}

}  // namespace

uint8_t KpiParts::Reshape(uint8_t want) {
  want &= kSpectral | kBocpd | kNovelty;
  if (want == mask_) return 0;
  const uint8_t fresh = static_cast<uint8_t>(want & ~mask_);
  KpiParts next;
  if (want != 0) {
    const Layout l = LayoutFor(want);
    next.block_ = static_cast<std::byte*>(::operator new(l.bytes));
    next.bytes_ = l.bytes;
    next.novelty_off_ = l.novelty;
    next.bocpd_off_ = l.bocpd;
    next.sr_off_ = l.sr;
    next.ring_off_ = l.ring;
    int8_t* const ring = reinterpret_cast<int8_t*>(next.block_ + l.ring);
    if (want & kNovelty) {
      if (KnnNovelty* old = novelty()) {
        KnnNovelty* n = new (next.block_ + l.novelty) KnnNovelty(std::move(*old));
        n->MoveRingTo(ring);
      } else {
        new (next.block_ + l.novelty) KnnNovelty(KnnNoveltyConfig{}, ring);
      }
      next.mask_ |= kNovelty;  // (set as each part exists, so that a throw destroys only those)
    }
    if (want & kBocpd) {
      CopyOrFresh(next.block_ + l.bocpd, bocpd());
      next.mask_ |= kBocpd;
    }
    if (want & kSpectral) {
      CopyOrFresh(next.block_ + l.sr, sr());
      next.mask_ |= kSpectral;
    }
  }
  *this = std::move(next);
  return fresh;
}

void KpiParts::Prefetch() const {
  if (block_ == nullptr) return;
  if (rings_whole_ || !(mask_ & kNovelty)) {
    PrefetchBytes(block_, bytes_);
    return;
  }
  // The parts' objects, then the ring lines the next point writes.
  PrefetchBytes(block_, ring_off_);
  PrefetchLine(block_ + touch_value_);
  if (touch_block_ != 0) PrefetchLine(block_ + touch_block_);
}

void KpiParts::NoteNextPoint() {
  const KnnNovelty* n = novelty();
  int32_t value_at = -1, block_at = -1;
  rings_whole_ = n == nullptr || !n->NextWrites(&value_at, &block_at);
  touch_value_ = static_cast<uint16_t>(ring_off_ + std::max(value_at, 0));
  touch_block_ = block_at >= 0 ? static_cast<uint16_t>(ring_off_ + block_at) : uint16_t{0};
}

}  // namespace vigil
