#include "detect/knn_novelty.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/byte_codec.h"
#include "detect/snapshot_fields.h"
#include "core/prefetch.h"

namespace vigil {

namespace {
constexpr uint32_t kMaxWarm = 4096;  // values seen while the series is constant before any unit will do
constexpr int kMaxK = 16;
}  // namespace

KnnNoveltyConfig KnnNovelty::Adjusted(KnnNoveltyConfig cfg) {
  cfg.k = std::clamp(cfg.k, 1, kMaxK);
  cfg.exclude = std::max(kDim - 1, cfg.exclude);
  cfg.capacity = std::max(cfg.capacity, cfg.exclude + kCoarse * kBlock + cfg.k + kDim);
  cfg.warmup = std::clamp(cfg.warmup, 2, kMaxWarmup);
  cfg.min_history = std::max(cfg.min_history, cfg.exclude + kCoarse * kBlock + cfg.k + 1);
  cfg.sample_every = std::max(1, cfg.sample_every);
  return cfg;
}

KnnNovelty::KnnNovelty(const KnnNoveltyConfig& cfg, int8_t* ring)
    : cfg_(Adjusted(cfg)), spot_(1e-4, 200, cfg.tail_floor) {
  w_last_ = static_cast<int32_t>(std::lround(cfg_.last_weight * cfg_.last_weight));
  w_coarse_ = static_cast<int32_t>(std::lround(cfg_.coarse_weight * cfg_.coarse_weight));
  if (ring == nullptr) {
    ring_ = new int8_t[RingBytes()]();  // zeroed
    owns_ring_ = true;
  } else {
    ring_ = ring;
    std::fill_n(ring_, RingBytes(), int8_t{0});
  }
}

KnnNovelty::KnnNovelty(const KnnNoveltyConfig& cfg) : KnnNovelty(cfg, nullptr) {}

KnnNovelty::~KnnNovelty() { FreeRing(); }

void KnnNovelty::FreeRing() {
  if (owns_ring_) delete[] ring_;
  ring_ = nullptr;
  owns_ring_ = false;
}

// (Default members first: no ring to free, a cheap SpotThreshold.)
KnnNovelty::KnnNovelty(KnnNovelty&& o) noexcept { *this = std::move(o); }

KnnNovelty& KnnNovelty::operator=(KnnNovelty&& o) noexcept {
  if (this == &o) return *this;
  FreeRing();
  cfg_ = o.cfg_;
  warm_seen_ = o.warm_seen_;
  centre_ = o.centre_;
  inv_scale_ = o.inv_scale_;
  ready_ = o.ready_;
  owns_ring_ = o.owns_ring_;
  ring_ = o.ring_;
  seen_ = o.seen_;
  blocks_seen_ = o.blocks_seen_;
  block_acc_ = o.block_acc_;
  block_n_ = o.block_n_;
  to_sample_ = o.to_sample_;
  last_ = o.last_;
  w_last_ = o.w_last_;
  w_coarse_ = o.w_coarse_;
  spot_ = std::move(o.spot_);
  o.ring_ = nullptr;
  o.owns_ring_ = false;
  return *this;
}

void KnnNovelty::MoveRingTo(int8_t* ring) {
  if (ring_ != nullptr) std::memcpy(ring, ring_, RingBytes());
  FreeRing();
  ring_ = ring;
}

size_t KnnNovelty::RingBytes(const KnnNoveltyConfig& cfg) {
  const KnnNoveltyConfig c = Adjusted(cfg);
  return static_cast<size_t>(c.capacity) + kDim - 1 + static_cast<size_t>(c.capacity / kBlock + 2 + kCoarse) +
         kCoarse - 1;
}

size_t KnnNovelty::StateBytes() const { return sizeof(*this) + RingBytes(); }

size_t KnnNovelty::RingBytes() const { return ValueRing() + kDim - 1 + BlockRing() + kCoarse - 1; }

float KnnNovelty::Warm(size_t i) const {
  float x;
  std::memcpy(&x, ring_ + i * sizeof(float), sizeof x);
  return x;
}

void KnnNovelty::SetWarm(size_t i, float x) { std::memcpy(ring_ + i * sizeof(float), &x, sizeof x); }

size_t KnnNovelty::ValueRing() const { return static_cast<size_t>(cfg_.capacity); }
size_t KnnNovelty::BlockRing() const { return static_cast<size_t>(cfg_.capacity / kBlock + 2 + kCoarse); }

int8_t KnnNovelty::Quantise(double y) const {
#if defined(__SSE2__)
  // nearbyint in the default rounding mode (nearest, ties to even) by the
  // conversion instruction, which rounds the same way: no libm call per
  // value. (Clamped first, so that the integer holds it; the same steps.)
  const double v = y * cfg_.levels;
  if (std::isnan(v)) return 0;
  const int q = _mm_cvtsd_si32(_mm_set_sd(std::clamp(v, -256.0, 256.0)));
  return static_cast<int8_t>(std::clamp(q, -127, 127));
#else
  const double q = std::nearbyint(y * cfg_.levels);
  if (std::isnan(q)) return 0;
  return static_cast<int8_t>(std::clamp(q, -127.0, 127.0));
#endif
}

int32_t KnnNovelty::CoarseDistance(const int8_t* cur, const int8_t* b) const {
  const int8_t* cb = cur + kDim;
  int32_t s = 0;
  for (int i = 0; i < kCoarse; ++i) {
    const int32_t d = static_cast<int32_t>(cb[i]) - b[i];
    s += d * d;
  }
  return s * w_coarse_;
}

#if defined(__SSE2__)
namespace {
// kDim (8) int8 values widened to 8 int16 lanes.
inline __m128i Widen(const int8_t* p) {
  const __m128i x = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  return _mm_srai_epi16(_mm_unpacklo_epi8(x, x), 8);
}
// The low 8 bytes of x as 8 int16 lanes.
inline __m128i WidenLow(__m128i x) { return _mm_srai_epi16(_mm_unpacklo_epi8(x, x), 8); }
// The weighted squared differences of one window's 8 values (in the low 8
// bytes of bytes) to the current window's, summed in pairs (4 int32 lanes).
inline __m128i PairSums(__m128i bytes, __m128i cur, __m128i weights) {
  const __m128i d = _mm_sub_epi16(cur, WidenLow(bytes));
  return _mm_madd_epi16(d, _mm_mullo_epi16(d, weights));
}
// The lane sums of four vectors of 4 int32, as one vector (a, b, c, d).
inline __m128i Sum4(__m128i a, __m128i b, __m128i c, __m128i d) {
  const __m128i ab = _mm_add_epi32(_mm_unpacklo_epi32(a, b), _mm_unpackhi_epi32(a, b));
  const __m128i cd = _mm_add_epi32(_mm_unpacklo_epi32(c, d), _mm_unpackhi_epi32(c, d));
  return _mm_add_epi32(_mm_unpacklo_epi64(ab, cd), _mm_unpackhi_epi64(ab, cd));
}
}  // namespace
#endif

int32_t KnnNovelty::FineDistance(const int8_t* cur, const int8_t* v) const {
#if defined(__SSE2__)
  // The same sum in one multiply-add of 8 int16 lanes (differences of int8
  // values fit, and so do the pairs of their squares): the distance loop is
  // most of the view's cost.
  const __m128i d = _mm_sub_epi16(Widen(cur), Widen(v));
  __m128i m = _mm_madd_epi16(d, d);
  m = _mm_add_epi32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
  m = _mm_add_epi32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
  const int32_t dl = static_cast<int16_t>(_mm_extract_epi16(d, kDim - 1));
  return _mm_cvtsi128_si32(m) + (w_last_ - 1) * dl * dl;
#else
  int32_t s = 0;
  for (int i = 0; i < kDim; ++i) {
    const int32_t d = static_cast<int32_t>(cur[i]) - v[i];
    s += d * d;
  }
  const int32_t dl = static_cast<int32_t>(cur[kDim - 1]) - v[kDim - 1];
  return s + (w_last_ - 1) * dl * dl;
#endif
}

double KnnNovelty::Judge() {
  // The current window: the last kDim values and the last kCoarse block means.
  const uint64_t now = seen_ - 1;
  int8_t cur[kDim + kCoarse];
  const int8_t* vals = values();
  const int8_t* means = blocks();
  std::copy_n(&vals[(now + 1 - kDim) % ValueRing()], kDim, cur);
  std::copy_n(&means[(blocks_seen_ - kCoarse) % BlockRing()], kCoarse, cur + kDim);
  // Reference windows: those ending in the ring, whose first value is still
  // there and whose block means are all stored, but the exclude most recent.
  const uint64_t cap = ValueRing();
  const uint64_t first_end = std::max<uint64_t>(seen_ > cap ? seen_ - cap + kDim - 1 : kDim - 1, kCoarse * kBlock - 1);
  const uint64_t last_end = now - static_cast<uint64_t>(cfg_.exclude) - 1;  // now > exclude: checked by the caller
  if (last_end < first_end) return -1;
  int32_t best[kMaxK];
  const int k = cfg_.k;
  std::fill_n(best, k, std::numeric_limits<int32_t>::max());
  int found = 0;
  // Windows whose ends fall in one block share their block means: a group's
  // coarse distance is computed once, and a group already farther than the
  // k-th neighbour by it is skipped whole (the coarse prefilter). The fine
  // distances of a group's (at most kBlock) windows are computed together,
  // then taken in the same order as one at a time (integers: exact in any
  // order). Ring positions step down with the groups (no division per
  // group).
  const size_t vring = ValueRing(), bring = BlockRing();
  uint64_t end = last_end;
  uint64_t blocks = (end + 1) / kBlock;
  size_t bpos = static_cast<size_t>((blocks - kCoarse) % bring);  // the group's block means
  size_t start = static_cast<size_t>((end + 1 - kDim) % vring);    // the first value of the window ending at end
#if defined(__SSE2__)
  static_assert(kDim == 8 && kCoarse == 8 && kBlock == 8, "the SSE2 path reads 8-value windows, 8 per group");
  __m128i wts = _mm_set1_epi16(1);
  wts = _mm_insert_epi16(wts, w_last_, kDim - 1);
  const __m128i cur_fine = Widen(cur), cur_coarse = Widen(cur + kDim);
#endif
  int32_t fine[kBlock];
  for (;;) {
    const uint64_t group_first = std::max<uint64_t>(blocks * kBlock - 1, first_end);
    const int n = static_cast<int>(end - group_first) + 1;  // windows in the group, at most kBlock
#if defined(__SSE2__)
    const __m128i dc = _mm_sub_epi16(cur_coarse, Widen(&means[bpos]));
    const __m128i mc = _mm_madd_epi16(dc, dc);
    const int32_t coarse = _mm_cvtsi128_si32(Sum4(mc, mc, mc, mc)) * w_coarse_;
#else
    const int32_t coarse = CoarseDistance(cur, &means[bpos]);
#endif
    if (coarse < best[k - 1]) {
#if defined(__SSE2__)
      if (start >= kBlock - 1 && w_last_ <= 128) {  // (the weighted difference fits an int16 lane)
        // The group's windows start at start, start - 1, ..., start - 7:
        // one load of 16 values covers all of them.
        const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&vals[start - (kBlock - 1)]));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(fine),
                         Sum4(PairSums(_mm_srli_si128(raw, 7), cur_fine, wts), PairSums(_mm_srli_si128(raw, 6), cur_fine, wts),
                              PairSums(_mm_srli_si128(raw, 5), cur_fine, wts), PairSums(_mm_srli_si128(raw, 4), cur_fine, wts)));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(fine + 4),
                         Sum4(PairSums(_mm_srli_si128(raw, 3), cur_fine, wts), PairSums(_mm_srli_si128(raw, 2), cur_fine, wts),
                              PairSums(_mm_srli_si128(raw, 1), cur_fine, wts), PairSums(raw, cur_fine, wts)));
      } else
#endif
      {
        for (int j = 0, p = static_cast<int>(start); j < n; ++j, p = p == 0 ? static_cast<int>(vring) - 1 : p - 1) {
          fine[j] = FineDistance(cur, &vals[p]);
        }
      }
      for (int j = 0; j < n && coarse < best[k - 1]; ++j) {
        const int32_t d = coarse + fine[j];
        if (d < best[k - 1]) {
          int p = k - 1;
          while (p > 0 && best[p - 1] > d) {
            best[p] = best[p - 1];
            --p;
          }
          best[p] = d;
          ++found;
        }
      }
    }
    if (group_first == first_end) break;
    const size_t back = static_cast<size_t>(end - (group_first - 1));
    start = start >= back ? start - back : start + vring - back;
    bpos = bpos == 0 ? bring - 1 : bpos - 1;
    end = group_first - 1;
    --blocks;
  }
  if (found < k) return -1;
  double a = 0;
  for (int i = 0; i < k; ++i) a += std::sqrt(static_cast<double>(best[i]));
  return a / (k * cfg_.levels);  // in scale units
}

void KnnNovelty::Start(const float* ordered, size_t w) {
  // Scale: the median absolute deviation of the last warmup values, else
  // their mean absolute first difference (a series flat but for rare steps
  // or bursts).
  float v[kMaxWarmup] = {};
  std::copy_n(ordered, w, v);
  std::nth_element(v, v + w / 2, v + w);
  const double centre = v[w / 2];
  for (size_t i = 0; i < w; ++i) v[i] = static_cast<float>(std::fabs(v[i] - centre));
  std::nth_element(v, v + w / 2, v + w);
  double s = v[w / 2];
  if (!(s > 0)) {
    double d = 0;
    for (size_t i = 1; i < w; ++i) d += std::fabs(ordered[i] - ordered[i - 1]);
    s = d / static_cast<double>(w - 1);
  }
  if (!(s > 1e-9 * std::fabs(centre)) || !std::isfinite(1.0 / s)) {
    if (warm_seen_ < kMaxWarm) return;
    s = std::max(1.0, std::fabs(centre));  // constant for kMaxWarm points: any unit will do
  }
  centre_ = centre;
  inv_scale_ = 1.0 / s;
  ready_ = true;
  std::fill_n(ring_, RingBytes(), int8_t{0});  // the warm-up slots become ring entries
  for (size_t i = 0; i < w; ++i) Update(ordered[i], true);  // the warm-up points become the first references
}

double KnnNovelty::Update(double x, bool judge) {
  if (!std::isfinite(x)) return 0;
  if (!ready_) {
    // While the values are constant there is no scale yet: warming up goes
    // on (a scale of ~0 would make the first blip infinitely far from
    // everything), for at most kMaxWarm values.
    const size_t w = static_cast<size_t>(cfg_.warmup);
    SetWarm(warm_seen_ % w, static_cast<float>(x));
    ++warm_seen_;
    if (warm_seen_ < w) return 0;
    float ordered[kMaxWarmup] = {};
    for (size_t i = 0; i < w; ++i) ordered[i] = Warm((warm_seen_ + i) % w);  // oldest first
    Start(ordered, w);
    return 0;
  }
  const double y = (x - centre_) * inv_scale_;
  const int8_t q = Quantise(y);
  int8_t* vals = values();
  int8_t* means = blocks();
  const size_t pos = seen_ % ValueRing();
  vals[pos] = q;
  if (pos < kDim - 1) vals[pos + ValueRing()] = q;
  ++seen_;
  block_acc_ += static_cast<float>(y);
  if (++block_n_ == kBlock) {
    const size_t bpos = blocks_seen_ % BlockRing();
    const int8_t b = Quantise(block_acc_ / static_cast<float>(kBlock));
    means[bpos] = b;
    if (bpos < kCoarse - 1) means[bpos + BlockRing()] = b;
    ++blocks_seen_;
    block_acc_ = 0;
    block_n_ = 0;
  }
  // The tail is calibrated only once the reference set holds min_history
  // values: against a handful of references every window is far, and
  // SPOT's initial threshold, fixed by its first 200 distances, would stay
  // inflated (a new level 25 noise sds away then scored 0.65).
  if (seen_ < static_cast<uint64_t>(cfg_.min_history)) return 0;
  const bool sample = --to_sample_ <= 0;
  if (sample) to_sample_ = cfg_.sample_every;
  if (!judge && !ComparesAnyway(sample)) return 0;
  const double dist = Judge();
  if (dist < 0) return 0;
  last_ = static_cast<float>(dist);
  // Only the tail counts: SPOT's surprise below its initial threshold t is
  // a linear ramp up to the surprise at t (~1.7), and distances are never
  // near 0, so the ramp would give every ordinary window ~1.3 (an offset that
  // only the series with this view carry, which breaks the one threshold
  // across series that NAB picks). The surprise beyond t's is the tail's
  // alone: -log10 P(D > d | D > t).
  const double surprise = spot_.calibrated() ? std::max(0.0, spot_.Surprise(dist) - spot_.base_surprise()) : 0.0;
  // The tail learns from the sample points only (the judged candidates are
  // not a sample of ordinary windows), and from every window until the
  // first calibration.
  if (sample || !spot_.calibrated()) spot_.Update(dist);
  return surprise;
}

void KnnNovelty::AppendTo(std::string* out) const {
  using snapshot_fields::PutPod;
  PutPod(out, warm_seen_);
  PutPod(out, centre_);
  PutPod(out, inv_scale_);
  PutPod(out, ready_);
  // The rings (or, while warming up, the warm-up values in their bytes).
  bytes::PutLengthPrefixed(out, std::string_view(reinterpret_cast<const char*>(ring_), RingBytes()));
  PutPod(out, seen_);
  PutPod(out, blocks_seen_);
  PutPod(out, block_acc_);
  PutPod(out, block_n_);
  PutPod(out, to_sample_);
  PutPod(out, last_);
  spot_.AppendTo(out);
}

Status KnnNovelty::ParseFrom(std::string_view* in) {
  using snapshot_fields::GetPod;
  KnnNovelty d(cfg_);
  Status s = GetPod(in, &d.warm_seen_, "novelty warm-up count");
  if (s.ok()) s = GetPod(in, &d.centre_, "novelty centre");
  if (s.ok()) s = GetPod(in, &d.inv_scale_, "novelty scale");
  if (s.ok()) s = GetPod(in, &d.ready_, "novelty ready");
  std::string_view ring;
  if (s.ok() && !bytes::GetLengthPrefixed(in, &ring)) s = Status::Corruption("snapshot truncated while reading novelty rings");
  if (s.ok() && ring.size() != RingBytes()) s = Status::Corruption("novelty rings do not match the configuration");
  if (s.ok()) std::memcpy(d.ring_, ring.data(), ring.size());
  if (s.ok()) s = GetPod(in, &d.seen_, "novelty values seen");
  if (s.ok()) s = GetPod(in, &d.blocks_seen_, "novelty block means seen");
  if (s.ok()) s = GetPod(in, &d.block_acc_, "novelty block sum");
  if (s.ok()) s = GetPod(in, &d.block_n_, "novelty block count");
  if (s.ok()) s = GetPod(in, &d.to_sample_, "novelty sample countdown");
  if (s.ok() && (d.block_n_ < 0 || d.block_n_ >= kBlock)) s = Status::Corruption("novelty block count out of range");
  if (s.ok()) s = GetPod(in, &d.last_, "novelty last distance");
  if (s.ok()) s = d.spot_.ParseFrom(in);
  if (!s.ok()) return s;
  // The rings stay where they are (the caller's memory, for a placed object).
  std::memcpy(ring_, d.ring_, RingBytes());
  int8_t* const rings = ring_;
  const bool owns = owns_ring_;
  ring_ = nullptr;
  owns_ring_ = false;
  *this = std::move(d);
  FreeRing();
  ring_ = rings;
  owns_ring_ = owns;
  return Status::Ok();
}

bool KnnNovelty::NextWrites(int32_t* value_at, int32_t* block_at) const {
  *value_at = *block_at = -1;
  if (!ready_ || ring_ == nullptr) return false;
  // (As Update: the value is stored at seen_, and from min_history values
  // on the point may compare its window.)
  if (seen_ + 1 >= static_cast<uint64_t>(cfg_.min_history) && ComparesAnyway(to_sample_ - 1 <= 0)) return false;
  const size_t pos = seen_ % ValueRing();
  if (pos < kDim - 1) return false;
  *value_at = static_cast<int32_t>(pos);
  if (block_n_ + 1 == kBlock) {
    const size_t bpos = blocks_seen_ % BlockRing();
    if (bpos < kCoarse - 1) return false;
    *block_at = static_cast<int32_t>(blocks() - ring_ + static_cast<ptrdiff_t>(bpos));
  }
  return true;
}

void KnnNovelty::Prefetch() const {
  PrefetchBytes(this, sizeof(*this));
  // The judged window is compared against the whole ring.
  if (ring_) PrefetchBytes(ring_, RingBytes());
}

}  // namespace vigil
