#include "detect/multivariate_smd.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace vigil {

namespace {

template <typename F>
Status ForEachLine(std::string_view text, F&& f) {
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) continue;
    Status s = f(line_no, line);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

bool ParseDouble(std::string_view f, double* v) {
  while (!f.empty() && f.front() == ' ') f.remove_prefix(1);
  while (!f.empty() && f.back() == ' ') f.remove_suffix(1);
  auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), *v);
  return ec == std::errc() && p == f.data() + f.size();
}

// Labelled segments as [begin, end) index ranges.
std::vector<std::pair<size_t, size_t>> Segments(std::span<const int> labels) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t i = 0; i < labels.size();) {
    if (!labels[i]) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < labels.size() && labels[j]) ++j;
    out.emplace_back(i, j);
    i = j;
  }
  return out;
}

}  // namespace

Result<std::vector<std::vector<double>>> ParseSmdMatrix(std::string_view text) {
  std::vector<std::vector<double>> rows;
  Status s = ForEachLine(text, [&](size_t line_no, std::string_view line) -> Status {
    std::vector<double> row;
    size_t col = 0;
    while (true) {
      size_t comma = line.find(',');
      std::string_view f = line.substr(0, comma);
      ++col;
      double v;
      if (!ParseDouble(f, &v)) {
        return Status::InvalidArgument("line " + std::to_string(line_no) + ", column " + std::to_string(col) +
                                       ": expected a number, got \"" + std::string(f.substr(0, 40)) + "\"");
      }
      row.push_back(v);
      if (comma == std::string_view::npos) break;
      line.remove_prefix(comma + 1);
    }
    if (!rows.empty() && row.size() != rows.front().size()) {
      return Status::InvalidArgument("line " + std::to_string(line_no) + ": " + std::to_string(row.size()) +
                                     " columns, the first row has " + std::to_string(rows.front().size()));
    }
    rows.push_back(std::move(row));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (rows.empty()) return Status::InvalidArgument("no rows");
  return rows;
}

Result<std::vector<int>> ParseSmdLabels(std::string_view text) {
  std::vector<int> labels;
  Status s = ForEachLine(text, [&](size_t line_no, std::string_view line) -> Status {
    std::string_view f = line.substr(0, line.find(','));
    double v;
    if (!ParseDouble(f, &v) || (v != 0 && v != 1)) {
      return Status::InvalidArgument("line " + std::to_string(line_no) + ": expected a label 0 or 1, got \"" +
                                     std::string(f.substr(0, 40)) + "\"");
    }
    labels.push_back(v != 0);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return labels;
}

double SmdCounts::F1() const {
  double denom = 2.0 * static_cast<double>(tp) + static_cast<double>(fp) + static_cast<double>(fn);
  return denom > 0 ? 2.0 * static_cast<double>(tp) / denom : 0.0;
}

SmdCounts CountAdjusted(std::span<const double> scores, std::span<const int> labels, double threshold,
                     double k_percent) {
  const size_t n = std::min(scores.size(), labels.size());
  std::vector<char> pred(n);
  for (size_t i = 0; i < n; ++i) pred[i] = scores[i] > threshold;
  if (k_percent >= 0) {
    for (auto [b, e] : Segments(labels.first(n))) {
      size_t hit = 0;
      for (size_t i = b; i < e; ++i) hit += pred[i];
      // K = 0 means "any point"; otherwise at least K% of the segment.
      bool adjust = k_percent <= 0 ? hit > 0 : 100.0 * static_cast<double>(hit) >= k_percent * static_cast<double>(e - b);
      if (adjust) std::fill(pred.begin() + static_cast<std::ptrdiff_t>(b), pred.begin() + static_cast<std::ptrdiff_t>(e), 1);
    }
  }
  SmdCounts c;
  for (size_t i = 0; i < n; ++i) {
    if (pred[i] && labels[i]) ++c.tp;
    else if (pred[i]) ++c.fp;
    else if (labels[i]) ++c.fn;
  }
  return c;
}

SmdCounts CountEvents(std::span<const double> scores, std::span<const int> labels, double threshold) {
  const size_t n = std::min(scores.size(), labels.size());
  SmdCounts c;
  for (auto [b, e] : Segments(labels.first(n))) {
    bool hit = false;
    for (size_t i = b; i < e && !hit; ++i) hit = scores[i] > threshold;
    if (hit) ++c.tp;
    else ++c.fn;
  }
  for (size_t i = 0; i < n;) {
    if (!(scores[i] > threshold)) {
      ++i;
      continue;
    }
    size_t j = i;
    bool overlaps = false;
    for (; j < n && scores[j] > threshold; ++j) {
      if (labels[j]) overlaps = true;
    }
    if (!overlaps) ++c.fp;
    i = j;
  }
  return c;
}

SmdBestF1 BestThreshold(std::span<const double> scores, std::span<const int> labels, double k_percent, bool event,
                     size_t max_thresholds) {
  std::vector<double> sorted(scores.begin(), scores.end());
  std::erase_if(sorted, [](double v) { return !std::isfinite(v); });
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<double> candidates;
  if (sorted.size() <= max_thresholds) {
    candidates = sorted;
  } else {
    for (size_t k = 0; k < max_thresholds; ++k) {
      candidates.push_back(sorted[k * (sorted.size() - 1) / (max_thresholds - 1)]);
    }
  }
  SmdBestF1 best;
  for (double t : candidates) {
    // Flags are score > t: the threshold just below each candidate flags it too.
    double thr = std::nextafter(t, -INFINITY);
    SmdCounts c = event ? CountEvents(scores, labels, thr) : CountAdjusted(scores, labels, thr, k_percent);
    double f = c.F1();
    if (f > best.f1) {
      best.f1 = f;
      best.threshold = thr;
      best.counts = c;
    }
  }
  return best;
}

SmdScores ScoreSmd(std::span<const double> scores, std::span<const int> labels) {
  SmdScores s;
  s.f1 = BestThreshold(scores, labels, -1, false);
  s.f1_pa = BestThreshold(scores, labels, 0, false);
  s.event_f1 = BestThreshold(scores, labels, 0, true);
  double sum = 0;
  for (int k = 0; k <= 100; k += 10) {
    s.pa_k[k] = k == 0 ? s.f1_pa : BestThreshold(scores, labels, k, false);
    sum += s.pa_k[k].f1;
  }
  s.pa_k_auc = sum / 11;
  return s;
}

}  // namespace vigil
