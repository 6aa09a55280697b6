// TypicalityView: a typicality test on a series' distribution of values,
// ranking only (KpiDetector's KpiVerdict::atypical). 36 bytes, no heap.
//
// By the asymptotic equipartition property (T. Cover, J. Thomas, "Elements
// of Information Theory", 2nd ed. 2006, ch. 3) the mean of -ln p(x_i) over a
// stretch drawn from p is close to p's entropy H; a stretch whose mean
// rarity is well above H is atypical. p is the series' own distribution of
// values, binned in robust scales around the median of its first values, by
// the KT estimator (counts + 1/2) over the last few hundred values. It sees
// a stretch that keeps visiting values the series had only touched, each
// visit no larger than the spikes the tails already know (NAB grok: a
// quantised series with rare spikes that starts to cycle through them).
//
// Round nab10 measured the test with 33 uint16 counts (88 B, ~50
// instructions a point, -8.5 % of kpi_bench's speed); this is a cheaper
// form (round nab11, docs/detection.md): 16 uint8 counts (bins one robust
// scale wide up to 5 scales a side, then 5-10, 10-20 and the rest), halved
// when they total 1024 or one is full; H recomputed only when a count
// crosses a multiple of 64 (about every 64 points: H does not move as the
// counts grow in proportion) while the point's own -ln p = ln(N + 8) -
// ln(c + 1/2) is read per point from one constant table; the bin width in
// bfloat16; the rare work (upkeep, the tail) in one call at the end.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace vigil {

extern const float kTypicalityLn[1040];  // ln(i + 1/2)

struct TypicalityView {
  static constexpr int kLinear = 5, kSide = kLinear + 3, kBins = 2 * kSide;  // bins a side: 0-1, ..., 4-5, 5-10, 10-20, 20+ scales
  static constexpr size_t kWarmup = 100;    // values whose median and MAD fix the bins
  static constexpr int kCapacity = 1024;    // the counts are halved when they total this
  static constexpr int kMinHistory = 512;   // values counted before it judges

  // Fixes the bins from the first n values (median and MAD); no-op if fixed
  // or n == 0.
  void FixBins(const float* values, size_t n);
  bool fixed() const { return inv_width != 0; }

  // Counts x; returns the view's surprise, -log10 of the tail probability
  // of the recent excess rarity (0 on most points and while it learns).
  double Update(double x) {
    if (inv_width == 0) return 0.0;
    const int bin = Bin(x);
    const int total = ++total_;
    const uint8_t c = count[bin];
    count[bin] = static_cast<uint8_t>(c + 1);
    if (warm < kWarmPoints) [[unlikely]] return Warm(c, total);
    // The point's excess rarity -ln p(bin) - H, p = (c + 1/2) / (N + bins / 2).
    const float d = kTypicalityLn[total - 1 + kSide] - kTypicalityLn[c] - entropy * (1.0f / kEntropyUnit);
    const float e = ewma + kAlpha * (d - ewma);
    ewma = e;
    const float m = msq;
    // Judged only while the point itself is rarer than typical, the EWMA's
    // excess counted up to the point's own (an ended stretch is not news):
    // dj > 0 needs both; beyond 2 sds (below, surprise 1.7 is under any
    // report). (One test of the conditions, without a jump each: the sign
    // of d is a coin flip.)
    const float dj = std::min(e, d);
    const bool judge = (dj > 0) & (dj * dj > 4.0f * m);
    msq = m + kMsqWeight * (std::min(e * e, 9.0f * m) - m);
    // (The rare work in one call at the end, so that nothing lives across
    // it: one count in 64 crosses a multiple of 64 and H is recomputed; the
    // counts are halved when one is full or they total kCapacity.)
    const bool upkeep = ((c & 63) == 63) | (c == 254) | (total >= kCapacity);
    if (judge | upkeep) [[unlikely]] return Slow(judge, dj, m, upkeep);
    return 0.0;
  }
  // Whether the fields are in range (a restored snapshot).
  bool Valid() const;

  uint8_t count[kBins] = {};
  uint8_t entropy = 0;  // H of the counts, in 1/kEntropyUnit nats (recomputed every 64 counts)
  uint8_t warm = 0;     // 0: counting (until kMinHistory values); then points judged, up to kWarmPoints
  float centre = 0;     // median of the first values
  float msq = 0;        // slow mean square of the EWMA
  uint16_t inv_width = 0;  // 1 / (1.4826 MAD), bfloat16 (0: bins not fixed yet)
  uint16_t total_ = 0;     // the counts' total
  float ewma = 0;          // EWMA of the points' excess rarity

 private:
  static constexpr float kAlpha = 1.0f / 16;        // weight of a point in the EWMA
  static constexpr float kMsqWeight = 1.0f / 320;   // of a point in the mean square (20 EWMA time constants)
  static constexpr int kWarmPoints = 255;           // the mean square is a plain mean over its first points
  static constexpr int kJudgeAfter = 128;           // ... and judges from here on
  static constexpr float kEntropyUnit = 64;

  int Bin(double x) const {
    const float pos = (static_cast<float>(x) - centre) * InvWidth();
    const float u = std::min(std::fabs(pos), 1e6f);  // (NaN-free: x is finite; clipped)
    int k;
    if (u < kLinear) {
      k = static_cast<int>(u);
    } else {
      uint32_t bits;
      const float r = u * (1.0f / kLinear);  // [1, 2) -> exponent 0, [2, 4) -> 1, ...
      std::memcpy(&bits, &r, sizeof bits);
      k = kLinear + std::min(static_cast<int>(bits >> 23) - 127, kSide - kLinear - 1);
    }
    return pos < 0 ? kSide - 1 - k : kSide + k;
  }
  float InvWidth() const {
    const uint32_t bits = static_cast<uint32_t>(inv_width) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
  void Halve();
  void Recompute();
  double Warm(uint8_t c, int total);
  double Slow(bool judge, float dj, float m, bool upkeep);
  void Upkeep();
  static double Tail(float dj, float m);
};

}  // namespace vigil
