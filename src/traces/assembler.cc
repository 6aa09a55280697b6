#include "traces/assembler.h"

#include <algorithm>

namespace vigil::traces {

AssembledTrace AssembleSpans(TraceId id, std::vector<Span> spans, uint64_t* duplicates) {
  AssembledTrace t;
  t.id = id;
  // Sort by start so that parents usually come first (stable output for
  // callers and for the JSON of /api/v1/traces/{id}).
  std::stable_sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    if (a.start_us != b.start_us) return a.start_us < b.start_us;
    return a.span_id < b.span_id;
  });
  // Drop exact resends: same id, service and kind.
  std::vector<uint32_t> order(spans.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (spans[a].span_id != spans[b].span_id) return spans[a].span_id < spans[b].span_id;
    return a < b;
  });
  std::vector<bool> drop(spans.size(), false);
  uint64_t dups = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    while (j < order.size() && spans[order[j]].span_id == spans[order[i]].span_id) ++j;
    for (size_t a = i; a < j; ++a) {
      for (size_t b = i; b < a; ++b) {
        const Span& x = spans[order[a]];
        const Span& y = spans[order[b]];
        if (!drop[order[b]] && x.service == y.service && x.kind == y.kind) {
          drop[order[a]] = true;
          ++dups;
          break;
        }
      }
    }
    i = j;
  }
  if (duplicates) *duplicates += dups;
  t.spans.reserve(spans.size() - dups);
  for (size_t i = 0; i < spans.size(); ++i) {
    if (!drop[i]) t.spans.push_back(std::move(spans[i]));
  }
  // Index by span id for parent lookup.
  std::vector<std::pair<uint64_t, int32_t>> index(t.spans.size());
  for (size_t i = 0; i < t.spans.size(); ++i) index[i] = {t.spans[i].span_id, static_cast<int32_t>(i)};
  std::sort(index.begin(), index.end());
  t.parent.assign(t.spans.size(), -1);
  for (size_t i = 0; i < t.spans.size(); ++i) {
    const Span& s = t.spans[i];
    if (i == 0 || s.start_us < t.start_us) t.start_us = s.start_us;
    t.end_us = std::max(t.end_us, s.end_us());
    if (s.parent_span_id == 0) continue;
    auto lo = std::lower_bound(index.begin(), index.end(), std::make_pair(s.parent_span_id, INT32_MIN));
    int32_t best = -1;
    int best_rank = -1;
    const bool shared_server = s.parent_span_id == s.span_id;
    for (auto it = lo; it != index.end() && it->first == s.parent_span_id; ++it) {
      if (it->second == static_cast<int32_t>(i)) continue;
      const Span& p = t.spans[static_cast<size_t>(it->second)];
      int rank;
      if (shared_server) {
        rank = p.kind == SpanKind::kClient ? 2 : (p.kind == SpanKind::kServer ? -1 : 1);
      } else {
        rank = p.service == s.service ? 2 : 1;
      }
      if (rank > best_rank) {
        best_rank = rank;
        best = it->second;
      }
    }
    if (best_rank >= 0) t.parent[i] = best;
  }
  return t;
}

TraceAssembler::TraceAssembler(AssemblerConfig cfg) : cfg_(cfg) {}

void TraceAssembler::Add(Span span, std::vector<AssembledTrace>* closed) {
  ++stats_.spans_added;
  watermark_us_ = std::max(watermark_us_, span.end_us());
  // A trace is as fresh as the span clock when it last got a span: a late
  // or clock-skewed span (older than the watermark) does not make its trace
  // look idle at once.
  const int64_t now = watermark_us_;
  auto it = open_.find(span.trace_id);
  if (it == open_.end()) {
    while (!open_.empty() && (open_.size() >= cfg_.max_open_traces || open_spans_ >= cfg_.max_open_spans)) {
      CloseOldest(closed);
    }
    it = open_.emplace(span.trace_id, OpenTrace{}).first;
    it->second.activity_us = now;
    due_.push({now, span.trace_id});
  } else if (open_spans_ >= cfg_.max_open_spans) {
    CloseOldest(closed);
    it = open_.find(span.trace_id);
    if (it == open_.end()) {  // this very trace was the oldest: start it afresh
      it = open_.emplace(span.trace_id, OpenTrace{}).first;
      it->second.activity_us = now;
      due_.push({now, span.trace_id});
    }
  }
  OpenTrace& t = it->second;
  if (t.spans.size() >= cfg_.max_spans_per_trace) {
    ++stats_.spans_dropped_trace_full;
    t.truncated = true;
    return;
  }
  if (now > t.activity_us) {
    t.activity_us = now;
    due_.push({now, span.trace_id});
    if (due_.size() > 4 * open_.size() + 1024) CompactQueue();
  }
  t.spans.push_back(std::move(span));
  ++open_spans_;
}

void TraceAssembler::Close(std::unordered_map<TraceId, OpenTrace, TraceIdHash>::iterator it, bool early,
                           std::vector<AssembledTrace>* closed) {
  open_spans_ -= it->second.spans.size();
  AssembledTrace t = AssembleSpans(it->first, std::move(it->second.spans), &stats_.duplicate_spans);
  t.truncated = it->second.truncated;
  t.closed_early = early;
  open_.erase(it);
  ++stats_.traces_closed;
  if (early) ++stats_.traces_closed_early;
  if (!t.spans.empty()) closed->push_back(std::move(t));
}

void TraceAssembler::CloseOldest(std::vector<AssembledTrace>* closed) {
  while (!due_.empty()) {
    Due d = due_.top();
    due_.pop();
    auto it = open_.find(d.id);
    if (it == open_.end() || it->second.activity_us != d.activity_us) continue;  // stale
    Close(it, true, closed);
    return;
  }
  // The queue lost track (cannot happen while every open trace has an
  // entry); close an arbitrary trace rather than loop.
  if (!open_.empty()) Close(open_.begin(), true, closed);
}

void TraceAssembler::Advance(int64_t now_us, std::vector<AssembledTrace>* closed) {
  while (!due_.empty()) {
    const Due d = due_.top();
    auto it = open_.find(d.id);
    if (it == open_.end() || it->second.activity_us != d.activity_us) {
      due_.pop();
      continue;
    }
    if (now_us - d.activity_us < cfg_.idle_timeout_us) break;
    due_.pop();
    Close(it, false, closed);
  }
}

void TraceAssembler::CloseAll(std::vector<AssembledTrace>* closed) {
  // Oldest first, as Advance would.
  while (!due_.empty()) {
    Due d = due_.top();
    due_.pop();
    auto it = open_.find(d.id);
    if (it == open_.end() || it->second.activity_us != d.activity_us) continue;
    Close(it, false, closed);
  }
  while (!open_.empty()) Close(open_.begin(), false, closed);
}

void TraceAssembler::CompactQueue() {
  std::vector<Due> live;
  live.reserve(open_.size());
  for (const auto& [id, t] : open_) live.push_back({t.activity_us, id});
  due_ = std::priority_queue<Due, std::vector<Due>, std::greater<Due>>(std::greater<Due>(), std::move(live));
}

AssemblerStats TraceAssembler::stats() const {
  AssemblerStats s = stats_;
  s.open_traces = open_.size();
  s.open_spans = open_spans_;
  return s;
}

}  // namespace vigil::traces
