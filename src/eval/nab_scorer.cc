#include "eval/nab_scorer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace vigil {

std::vector<NabProfile> NabStandardProfiles() {
  return {{"standard", 1.0, 0.11, 1.0}, {"reward_low_FP_rate", 1.0, 0.22, 1.0}, {"reward_low_FN_rate", 1.0, 0.11, 2.0}};
}

double NabScaledSigmoid(double y) {
  if (y > 3.0) return -1.0;
  return 2.0 / (1.0 + std::exp(5.0 * y)) - 1.0;
}

size_t NabProbationaryLength(size_t n) {
  return std::min<size_t>(static_cast<size_t>(std::floor(0.15 * static_cast<double>(n))), 750);
}

namespace {

// One scorable (non-probationary) record.
struct Record {
  double score;
  uint32_t file;
  int32_t window;     // corpus-wide window index, -1 outside windows
  double unweighted;  // sigmoid part: multiplied by A_TP/sigma(-1) inside, A_FP outside
};

// The per-record weights of one file (NAB's sweep over the rows in order).
void AppendRecords(const NabFileScores& f, uint32_t file_index, int32_t first_window, std::vector<Record>* out,
                   std::vector<bool>* window_scorable) {
  const size_t n = f.scores.size();
  const size_t probation = NabProbationaryLength(n);
  size_t w = 0;  // next window
  bool have_prev = false;
  double prev_right = 0, prev_width = 0;
  for (size_t i = 0; i < n; ++i) {
    while (w < f.windows.size() && f.windows[w].last < i) {
      have_prev = true;
      prev_right = static_cast<double>(f.windows[w].last);
      prev_width = static_cast<double>(f.windows[w].last - f.windows[w].first + 1);
      ++w;
    }
    int32_t window = -1;
    double unweighted;
    if (w < f.windows.size() && f.windows[w].first <= i) {
      const double right = static_cast<double>(f.windows[w].last);
      const double width = static_cast<double>(f.windows[w].last - f.windows[w].first + 1);
      unweighted = NabScaledSigmoid(-(right - static_cast<double>(i) + 1.0) / width);
      window = first_window + static_cast<int32_t>(w);
    } else if (!have_prev) {
      unweighted = -1.0;
    } else {
      // NAB divides by (width - 1); a one-row window would divide by zero,
      // which NAB never meets. Treat it as "far away".
      unweighted = prev_width > 1 ? NabScaledSigmoid(std::fabs(prev_right - static_cast<double>(i)) / (prev_width - 1))
                                  : -1.0;
    }
    if (i < probation) continue;
    if (window >= 0) (*window_scorable)[static_cast<size_t>(window)] = true;
    out->push_back({f.scores[i], file_index, window, unweighted});
  }
}

double Weight(const Record& r, const NabProfile& p) {
  static const double kSigmaMinusOne = NabScaledSigmoid(-1.0);
  return r.window >= 0 ? r.unweighted * p.tp_weight / kSigmaMinusOne : r.unweighted * p.fp_weight;
}

}  // namespace

std::vector<NabProfileResult> ScoreNabCorpus(const std::vector<NabFileScores>& files,
                                             const std::vector<NabProfile>& profiles) {
  std::vector<Record> records;
  std::vector<int32_t> first_window(files.size());
  size_t total_windows = 0;
  for (size_t f = 0; f < files.size(); ++f) {
    first_window[f] = static_cast<int32_t>(total_windows);
    total_windows += files[f].windows.size();
  }
  std::vector<bool> window_scorable(total_windows, false);
  for (size_t f = 0; f < files.size(); ++f) {
    AppendRecords(files[f], static_cast<uint32_t>(f), first_window[f], &records, &window_scorable);
  }
  std::stable_sort(records.begin(), records.end(), [](const Record& a, const Record& b) { return a.score > b.score; });

  std::vector<NabProfileResult> results;
  for (const NabProfile& p : profiles) {
    // Sweep the thresholds from above every score down: NAB's first
    // candidate is 1.1 (no detections); a candidate's score counts every
    // record whose score is >= it.
    std::vector<double> best_in_window(total_windows);
    double total = 0;
    for (size_t w = 0; w < total_windows; ++w) {
      best_in_window[w] = -p.fn_weight;
      if (window_scorable[w]) total -= p.fn_weight;
    }
    double best_total = total, best_threshold = 1.1;
    for (size_t i = 0; i < records.size();) {
      const double t = records[i].score;
      for (; i < records.size() && records[i].score == t; ++i) {
        const Record& r = records[i];
        const double wgt = Weight(r, p);
        if (r.window < 0) {
          total += wgt;
        } else if (wgt > best_in_window[static_cast<size_t>(r.window)]) {
          total += wgt - best_in_window[static_cast<size_t>(r.window)];
          best_in_window[static_cast<size_t>(r.window)] = wgt;
        }
      }
      if (total > best_total) {
        best_total = total;
        best_threshold = t;
      }
    }

    NabProfileResult res;
    res.profile = p.name;
    res.threshold = best_threshold;
    res.raw = best_total;
    const double perfect = p.tp_weight * static_cast<double>(total_windows);
    const double null_score = -p.fn_weight * static_cast<double>(total_windows);
    res.normalized = perfect > null_score ? 100.0 * (best_total - null_score) / (perfect - null_score) : 0.0;

    // Per-file scores at the chosen threshold.
    res.file_raw.assign(files.size(), 0.0);
    std::fill(best_in_window.begin(), best_in_window.end(), -p.fn_weight);
    for (const Record& r : records) {
      if (r.score < best_threshold) break;
      const double wgt = Weight(r, p);
      if (r.window < 0) {
        res.file_raw[r.file] += wgt;
      } else {
        best_in_window[static_cast<size_t>(r.window)] = std::max(best_in_window[static_cast<size_t>(r.window)], wgt);
      }
    }
    for (size_t f = 0; f < files.size(); ++f) {
      for (size_t w = 0; w < files[f].windows.size(); ++w) {
        const size_t gw = static_cast<size_t>(first_window[f]) + w;
        if (window_scorable[gw]) res.file_raw[f] += best_in_window[gw];
      }
    }
    results.push_back(std::move(res));
  }
  return results;
}

}  // namespace vigil
