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
  next_lines_ = o.next_lines_;
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
  if (next_lines_ == ~0u) {
    PrefetchBytes(block_, bytes_);
    return;
  }
  const uintptr_t base = reinterpret_cast<uintptr_t>(block_) & ~uintptr_t{63};
  for (uint32_t m = next_lines_; m != 0; m &= m - 1) {
    PrefetchLine(reinterpret_cast<const void*>(base + 64 * static_cast<uintptr_t>(__builtin_ctz(m))));
  }
}

void KpiParts::NoteNextPoint(bool bocpd_next) {
  if (block_ == nullptr) return;
  if (bytes_ + 63 > 32 * 64) return;  // (beyond the mask's 32 lines: the whole block, as after Reshape)
  const uintptr_t base = reinterpret_cast<uintptr_t>(block_) & ~uintptr_t{63};
  // The bits of the lines [p, p + n) touches, n >= 1 (a line 31 makes
  // 2u << 31 wrap to 0, and the difference is still the run of bits).
  const auto lines_of = [base](const void* p, size_t n) {
    const uintptr_t first = (reinterpret_cast<uintptr_t>(p) - base) / 64;
    const uintptr_t last = (reinterpret_cast<uintptr_t>(p) + n - 1 - base) / 64;
    return static_cast<uint32_t>((2u << last) - (1u << first));
  };
  uint32_t lines = 0;
  if (const KnnNovelty* n = novelty()) {
    lines |= lines_of(n, sizeof(KnnNovelty));
    int32_t value_at = -1, block_at = -1;
    if (n->NextWrites(&value_at, &block_at)) {
      lines |= lines_of(n->ring() + value_at, 1);
      if (block_at >= 0) lines |= lines_of(n->ring() + block_at, 1);
    } else {
      lines |= lines_of(n->ring(), static_cast<size_t>(block_ + bytes_ - reinterpret_cast<const std::byte*>(n->ring())));
    }
  }
  if (const Bocpd* b = bocpd(); b != nullptr && bocpd_next) lines |= lines_of(b, sizeof(Bocpd));
  // The spectral residual whole: on the spiky series that have it, its
  // transform (a candidate, |z| > 3) reads the whole ring at several % of
  // the points (only its next slot and counters: -3 % at 2000 series).
  if (const SpectralResidual* s = sr()) lines |= lines_of(s, sizeof(SpectralResidual));
  next_lines_ = lines;
}

}  // namespace vigil
