#include "eval/point_adjust.h"

#include <algorithm>
#include <cmath>

namespace vigil {

double Counts::Precision() const { return tp + fp > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 0; }
double Counts::Recall() const { return tp + fn > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0; }
double Counts::F1() const {
  const double denom = static_cast<double>(2 * tp + fp + fn);
  return denom > 0 ? 2.0 * static_cast<double>(tp) / denom : 0;
}

namespace {

struct Segment {
  size_t begin, end;  // [begin, end)
};

std::vector<Segment> Segments(const std::vector<bool>& labels) {
  std::vector<Segment> out;
  for (size_t i = 0; i < labels.size();) {
    if (!labels[i]) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < labels.size() && labels[j]) ++j;
    out.push_back({i, j});
    i = j;
  }
  return out;
}

bool Alarm(const std::vector<bool>& alarms, size_t i) { return i < alarms.size() && alarms[i]; }

// Counts where every segment is either fully detected or fully missed.
Counts AdjustedCounts(const std::vector<bool>& labels, const std::vector<bool>& alarms,
                      const std::vector<Segment>& segs, const std::vector<bool>& detected) {
  Counts c;
  for (size_t s = 0; s < segs.size(); ++s) {
    const int64_t len = static_cast<int64_t>(segs[s].end - segs[s].begin);
    if (detected[s]) c.tp += len; else c.fn += len;
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!labels[i] && Alarm(alarms, i)) ++c.fp;
  }
  return c;
}

}  // namespace

Counts PointAdjustCounts(const std::vector<bool>& labels, const std::vector<bool>& alarms, int delay) {
  auto segs = Segments(labels);
  std::vector<bool> detected(segs.size(), false);
  for (size_t s = 0; s < segs.size(); ++s) {
    const size_t stop = delay < 0 ? segs[s].end : std::min(segs[s].end, segs[s].begin + static_cast<size_t>(delay) + 1);
    for (size_t i = segs[s].begin; i < stop && !detected[s]; ++i) detected[s] = Alarm(alarms, i);
  }
  return AdjustedCounts(labels, alarms, segs, detected);
}

Counts PaKCounts(const std::vector<bool>& labels, const std::vector<bool>& alarms, double k) {
  auto segs = Segments(labels);
  std::vector<bool> detected(segs.size(), false);
  Counts c;
  for (size_t s = 0; s < segs.size(); ++s) {
    int64_t hits = 0;
    for (size_t i = segs[s].begin; i < segs[s].end; ++i) hits += Alarm(alarms, i);
    const int64_t len = static_cast<int64_t>(segs[s].end - segs[s].begin);
    // K = 0 means "any alarm"; otherwise at least K % of the points.
    detected[s] = k <= 0 ? hits > 0 : static_cast<double>(hits) * 100.0 >= k * static_cast<double>(len) - 1e-9;
    if (!detected[s]) {  // an undetected segment keeps its own point-wise hits
      c.tp += hits;
      c.fn += len - hits;
    } else {
      c.tp += len;
    }
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!labels[i] && Alarm(alarms, i)) ++c.fp;
  }
  return c;
}

Counts PointCounts(const std::vector<bool>& labels, const std::vector<bool>& alarms) {
  Counts c;
  for (size_t i = 0; i < labels.size(); ++i) {
    const bool a = Alarm(alarms, i);
    if (labels[i] && a) ++c.tp;
    else if (labels[i]) ++c.fn;
    else if (a) ++c.fp;
  }
  return c;
}

Counts EventCounts(const std::vector<bool>& labels, const std::vector<bool>& alarms) {
  Counts c;
  for (const Segment& s : Segments(labels)) {
    bool hit = false;
    for (size_t i = s.begin; i < s.end && !hit; ++i) hit = Alarm(alarms, i);
    if (hit) ++c.tp; else ++c.fn;
  }
  for (size_t i = 0; i < labels.size();) {
    if (!Alarm(alarms, i)) {
      ++i;
      continue;
    }
    bool touches = false;
    size_t j = i;
    for (; j < labels.size() && Alarm(alarms, j); ++j) touches = touches || labels[j];
    if (!touches) ++c.fp;
    i = j;
  }
  return c;
}

BestF1 BestPointAdjustF1(const std::vector<const KpiSeriesResult*>& series, int delay) {
  // Each normal point adds one false positive at thresholds <= its score;
  // each segment adds its length of true positives at thresholds <= the
  // best score within its first delay+1 points. Sweep thresholds downwards.
  struct Event {
    double score;
    int64_t tp, fp;
  };
  std::vector<Event> events;
  int64_t positives = 0;
  for (const KpiSeriesResult* s : series) {
    for (const Segment& seg : Segments(s->labels)) {
      const int64_t len = static_cast<int64_t>(seg.end - seg.begin);
      positives += len;
      const size_t stop = delay < 0 ? seg.end : std::min(seg.end, seg.begin + static_cast<size_t>(delay) + 1);
      double best = -INFINITY;
      for (size_t i = seg.begin; i < stop && i < s->scores.size(); ++i) best = std::max(best, s->scores[i]);
      if (std::isfinite(best)) events.push_back({best, len, 0});
    }
    for (size_t i = 0; i < s->labels.size() && i < s->scores.size(); ++i) {
      if (!s->labels[i] && std::isfinite(s->scores[i])) events.push_back({s->scores[i], 0, 1});
    }
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.score > b.score; });
  BestF1 best;
  best.threshold = events.empty() ? 0 : events.front().score + 1;
  best.counts.fn = positives;
  Counts c;
  c.fn = positives;
  for (size_t i = 0; i < events.size();) {
    const double t = events[i].score;
    for (; i < events.size() && events[i].score == t; ++i) {
      c.tp += events[i].tp;
      c.fn -= events[i].tp;
      c.fp += events[i].fp;
    }
    if (c.F1() > best.f1) {
      best.f1 = c.F1();
      best.threshold = t;
      best.counts = c;
    }
  }
  return best;
}

KpiScore ScoreKpi(const std::vector<const KpiSeriesResult*>& series, int delay) {
  KpiScore out;
  Counts pa, pw, ev;
  const int ks[] = {0, 20, 50, 80, 100};
  std::map<int, Counts> pak;
  for (const KpiSeriesResult* s : series) {
    pa.Add(PointAdjustCounts(s->labels, s->alarms, delay));
    pw.Add(PointCounts(s->labels, s->alarms));
    ev.Add(EventCounts(s->labels, s->alarms));
    for (int k : ks) pak[k].Add(PaKCounts(s->labels, s->alarms, k));
    out.points += static_cast<int64_t>(s->labels.size());
    out.anomalous_points += std::count(s->labels.begin(), s->labels.end(), true);
    out.segments += static_cast<int64_t>(Segments(s->labels).size());
  }
  BestF1 best = BestPointAdjustF1(series, delay);
  out.best_f1_pa = best.f1;
  out.best_threshold = best.threshold;
  out.f1_pa = pa.F1();
  out.f1 = pw.F1();
  out.event_f1 = ev.F1();
  for (auto& [k, c] : pak) out.pa_k[k] = c.F1();
  return out;
}

}  // namespace vigil
