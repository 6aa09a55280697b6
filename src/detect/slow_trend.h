// TrendTest: sustained slow rises and falls (memory leaks, filling disks) by
// a robust slope test over block averages.
//
// Points are averaged in blocks of `block` points; the last kBlocks block
// averages are tested with the Mann-Kendall statistic (H. B. Mann,
// "Nonparametric tests against trend", Econometrica 13, 1945; M. G. Kendall,
// "Rank Correlation Methods", 1975) and their slope estimated by Theil-Sen
// (H. Theil 1950; P. K. Sen, "Estimates of the regression coefficient based
// on Kendall's tau", JASA 63, 1968). A trend is reported when the MK z-score
// is beyond `z_min` and the Theil-Sen rise over the window exceeds
// `min_rise_scales` point scales. The test runs once per block (S is
// updated in O(kBlocks)); the slope, O(kBlocks^2), only when asked for.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace vigil {

class TrendTest {
 public:
  static constexpr int kBlocks = 24;
  explicit TrendTest(int block = 16) : block_(block < 1 ? 1 : block) {}

  struct Result {
    bool evaluated = false;  // a block closed with a full window
    double mk_z = 0;         // Mann-Kendall z (normal approximation)
  };
  Result Update(double x);
  // The block-closing half of Update for a caller that sums a block's
  // points itself (KpiDetector keeps that per-point part in its hot object
  // and this test in a cold block, docs/detection.md round hot): `sum` is
  // the block's block() points summed in order from 0, as Update sums them.
  // This object's own partial block must be empty.
  Result Close(double sum);
  // The partial block Update is summing (points, sum), and setting it (a
  // caller that sums outside, for the snapshot's bytes).
  int in_block() const { return in_block_; }
  double partial_sum() const { return sum_; }
  void SetPartial(int in_block, double sum) {
    in_block_ = in_block;
    sum_ = sum;
  }
  // The Theil-Sen slope per point of the current window (after an Update
  // that evaluated). Computed on demand: its 276 pairwise slopes and their
  // median are only needed when MK already points at a trend the caller
  // would report.
  double Slope() const;
  void Reset() { filled_ = 0; in_block_ = 0; sum_ = 0; s_ = 0; }
  int block() const { return block_; }
  int span_points() const { return block_ * kBlocks; }

 private:
  int block_;
  int in_block_ = 0, filled_ = 0, head_ = 0;
  int s_ = 0;  // Mann-Kendall S of the window, updated as blocks enter and leave
  double sum_ = 0;
  std::array<float, kBlocks> means_{};
};

}  // namespace vigil
