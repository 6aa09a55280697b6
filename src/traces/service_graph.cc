#include "traces/service_graph.h"

#include <algorithm>
#include <tuple>

namespace vigil::traces {

namespace {

std::string_view AttrOf(const Span& s, std::string_view key) {
  for (const auto& [k, v] : s.attributes) {
    if (k == key) return v;
  }
  return {};
}

}  // namespace

ServiceGraph::ServiceGraph(ServiceGraphConfig cfg) : cfg_(cfg) {
  cfg_.slots = std::max(cfg_.slots, 2);
  cfg_.slot_us = std::max<int64_t>(cfg_.slot_us, 1000);
}

ServiceGraph::NodeEntry* ServiceGraph::Node(Level& lv, const std::string& service, const std::string& instance,
                                            bool peer) {
  key_.assign(service);
  key_.push_back('\x1f');
  key_.append(instance);
  auto it = lv.nodes.find(key_);
  if (it == lv.nodes.end()) {
    if (lv.nodes.size() >= cfg_.max_nodes) {
      ++stats_.nodes_refused;
      return nullptr;
    }
    it = lv.nodes.emplace(key_, NodeEntry{service, instance, WindowedCallStats(cfg_.slot_us, cfg_.slots), peer}).first;
  }
  return &it->second;
}

void ServiceGraph::AddEntry(const Span& s) {
  static const std::string kNone;
  for (Level* lv : {&service_, &instance_}) {
    NodeEntry* n = Node(*lv, s.service, lv == &service_ ? kNone : s.instance, false);
    if (n == nullptr) continue;
    n->peer = false;
    n->stats.Add(s.start_us, s.duration_us, s.error, newest_us_);
  }
}

void ServiceGraph::AddCall(const Span& caller, const std::string& callee_service, const std::string& callee_instance,
                           int64_t t_us, int64_t duration_us, bool error) {
  static const std::string kNone;
  ++stats_.calls;
  bool kept = true;
  for (Level* lv : {&service_, &instance_}) {
    const bool inst = lv == &instance_;
    const std::string& fi = inst ? caller.instance : kNone;
    const std::string& ti = inst ? callee_instance : kNone;
    key_.assign(caller.service);
    key_.push_back('\x1f');
    key_.append(fi);
    key_.push_back('\x1f');
    key_.append(callee_service);
    key_.push_back('\x1f');
    key_.append(ti);
    auto it = lv->edges.find(key_);
    if (it == lv->edges.end()) {
      if (lv->edges.size() >= cfg_.max_edges) {
        ++stats_.edges_refused;
        continue;
      }
      it = lv->edges
               .emplace(key_, EdgeEntry{caller.service, fi, callee_service, ti, WindowedCallStats(cfg_.slot_us, cfg_.slots)})
               .first;
    }
    bool ok = it->second.stats.Add(t_us, duration_us, error, newest_us_);
    if (!inst) kept = ok;
  }
  if (!kept) ++stats_.late_calls;
}

void ServiceGraph::AddTrace(const AssembledTrace& t) {
  newest_us_ = std::max(newest_us_, t.end_us);
  const size_t n = t.spans.size();
  // Which spans have a child in another service (their call is seen from
  // the callee side).
  std::vector<bool> calls_out(n, false);
  for (size_t i = 0; i < n; ++i) {
    const int32_t p = t.parent[i];
    const Span& s = t.spans[i];
    if (p < 0) {
      AddEntry(s);
      continue;
    }
    const Span& caller = t.spans[static_cast<size_t>(p)];
    if (caller.service == s.service) continue;
    calls_out[static_cast<size_t>(p)] = true;
    AddEntry(s);
    const bool error = s.error || (caller.kind == SpanKind::kClient && caller.error);
    AddCall(caller, s.service, s.instance, s.start_us, s.duration_us, error);
  }
  // Client spans to uninstrumented peers.
  for (size_t i = 0; i < n; ++i) {
    const Span& s = t.spans[i];
    if (calls_out[i] || s.kind != SpanKind::kClient) continue;
    std::string_view peer = AttrOf(s, "peer.service");
    if (peer.empty()) peer = AttrOf(s, "db.system");
    if (peer.empty() || peer == s.service) continue;
    std::string peer_name(peer);
    AddCall(s, peer_name, peer_name, s.start_us, s.duration_us, s.error);
    for (Level* lv : {&service_, &instance_}) {
      NodeEntry* node = Node(*lv, peer_name, lv == &service_ ? std::string() : peer_name, true);
      // A peer's own figures are what its callers saw.
      if (node != nullptr && node->peer) node->stats.Add(s.start_us, s.duration_us, s.error, newest_us_);
    }
  }
  const int64_t slot = newest_us_ / cfg_.slot_us;
  if (slot - last_prune_slot_ >= cfg_.slots) {
    last_prune_slot_ = slot;
    Prune();
  }
}

void ServiceGraph::Prune() {
  const int64_t oldest = newest_us_ / cfg_.slot_us - cfg_.slots;
  for (Level* lv : {&service_, &instance_}) {
    std::erase_if(lv->nodes, [&](const auto& kv) { return kv.second.stats.newest_slot() <= oldest; });
    std::erase_if(lv->edges, [&](const auto& kv) { return kv.second.stats.newest_slot() <= oldest; });
  }
}

CallFigures ServiceGraph::Figures(const WindowedCallStats& w, int64_t window_us) const {
  CallFigures f;
  LatencySketch lat;
  w.Sum(newest_us_, window_us, &f.calls, &f.errors, &lat);
  // A rate over the time the entry has existed when that is shorter than
  // the window (a 30 s old edge is not 10x quieter than it is).
  int64_t span_us = window_us;
  if (w.first_us() > 0) span_us = std::min(span_us, newest_us_ - w.first_us());
  span_us = std::max<int64_t>(span_us, 1'000'000);
  f.rate_per_s = static_cast<double>(f.calls) / (static_cast<double>(span_us) / 1e6);
  f.error_rate = f.calls ? static_cast<double>(f.errors) / static_cast<double>(f.calls) : 0;
  f.p50_ms = lat.Quantile(0.50) / 1000;
  f.p95_ms = lat.Quantile(0.95) / 1000;
  f.p99_ms = lat.Quantile(0.99) / 1000;
  return f;
}

GraphSnapshot ServiceGraph::Snapshot(GraphLevel level, int64_t window_us) const {
  GraphSnapshot out;
  out.level = level;
  out.now_us = newest_us_;
  out.window_us = std::clamp<int64_t>(window_us, cfg_.slot_us, max_window_us());
  const Level& lv = level == GraphLevel::kService ? service_ : instance_;
  for (const auto& [key, e] : lv.edges) {
    CallFigures f = Figures(e.stats, out.window_us);
    if (f.calls == 0) continue;
    out.edges.push_back({e.from_service, e.from_instance, e.to_service, e.to_instance, f});
  }
  for (const auto& [key, n] : lv.nodes) {
    CallFigures f = Figures(n.stats, out.window_us);
    if (f.calls == 0) continue;
    out.nodes.push_back({n.service, n.instance, n.peer, f});
  }
  std::sort(out.edges.begin(), out.edges.end(), [](const GraphEdge& a, const GraphEdge& b) {
    return std::tie(a.from_service, a.from_instance, a.to_service, a.to_instance) <
           std::tie(b.from_service, b.from_instance, b.to_service, b.to_instance);
  });
  std::sort(out.nodes.begin(), out.nodes.end(), [](const GraphNode& a, const GraphNode& b) {
    return std::tie(a.service, a.instance) < std::tie(b.service, b.instance);
  });
  return out;
}

std::vector<std::pair<std::string, std::string>> ServiceGraph::ServiceEdges(int64_t window_us) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, e] : service_.edges) {
    uint64_t calls = 0, errors = 0;
    e.stats.Sum(newest_us_, std::min(window_us, max_window_us()), &calls, &errors, nullptr);
    if (calls > 0) out.emplace_back(e.from_service, e.to_service);
  }
  std::sort(out.begin(), out.end());
  return out;
}

ServiceGraphStats ServiceGraph::stats() const {
  ServiceGraphStats s = stats_;
  s.service_edges = service_.edges.size();
  s.instance_edges = instance_.edges.size();
  s.service_nodes = service_.nodes.size();
  s.instance_nodes = instance_.nodes.size();
  size_t b = 0;
  for (const Level* lv : {&service_, &instance_}) {
    for (const auto& [k, n] : lv->nodes) b += n.stats.bytes() + 2 * k.size() + 96;
    for (const auto& [k, e] : lv->edges) b += e.stats.bytes() + 2 * k.size() + 160;
  }
  s.bytes = b;
  return s;
}

}  // namespace vigil::traces
