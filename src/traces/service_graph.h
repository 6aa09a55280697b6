// ServiceGraph: the service dependency graph, discovered continuously from
// assembled traces, at service and at instance level.
//
// An edge caller -> callee is a parent/child span pair whose services
// differ (a client span and the callee's server span, or a server span and
// an uninstrumented child service's span): one call, whose latency is the
// callee span's duration and which failed when the callee span or the
// caller's client span is an error. A client span with no child in another
// service but a peer.service (or db.system) attribute is a call to that
// uninstrumented peer (a database, a cache, an external API): latency and
// error from the client span. A node's own figures count the spans that
// enter the service: roots and spans whose parent is in another service.
//
// Figures are kept per slot of slot_us in a ring of `slots` (the sliding
// window: older data ages out as span time moves on) and summed over any
// window up to that length on request. The graph's time is the newest span
// end it has seen, so the graph is a pure function of its input.
// Bounded: at most max_edges edges and max_nodes nodes per level (new ones
// beyond are counted, not kept); entries idle for a whole ring are dropped.
//
// Not thread-safe: one owner (the engine's trace thread); the engine copies
// snapshots out for readers.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "traces/assembler.h"
#include "traces/windowed_stats.h"

namespace vigil::traces {

struct ServiceGraphConfig {
  int64_t slot_us = 30'000'000;  // 30 s
  int slots = 30;                // 15 min of history
  size_t max_edges = 20'000;     // per level
  size_t max_nodes = 20'000;     // per level
};

enum class GraphLevel { kService, kInstance };

struct CallFigures {
  uint64_t calls = 0, errors = 0;
  double rate_per_s = 0;   // calls / window (or the time since the entry was first seen, if shorter)
  double error_rate = 0;   // errors / calls
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;
};

struct GraphNode {
  std::string service, instance;  // instance "" at service level
  bool peer = false;              // known only as a peer.service of client spans
  CallFigures figures;
};

struct GraphEdge {
  std::string from_service, from_instance, to_service, to_instance;
  CallFigures figures;
};

struct GraphSnapshot {
  GraphLevel level = GraphLevel::kService;
  int64_t now_us = 0, window_us = 0;
  std::vector<GraphNode> nodes;  // by name
  std::vector<GraphEdge> edges;  // by (from, to)
};

struct ServiceGraphStats {
  uint64_t calls = 0, late_calls = 0, edges_refused = 0, nodes_refused = 0;
  size_t service_edges = 0, instance_edges = 0, service_nodes = 0, instance_nodes = 0, bytes = 0;
};

class ServiceGraph {
 public:
  explicit ServiceGraph(ServiceGraphConfig cfg = {});

  void AddTrace(const AssembledTrace& trace);
  // Figures over (now - window, now], now = the newest span end seen;
  // window is capped at the ring's length.
  GraphSnapshot Snapshot(GraphLevel level, int64_t window_us) const;
  // Service-level caller -> callee pairs with calls in the window.
  std::vector<std::pair<std::string, std::string>> ServiceEdges(int64_t window_us) const;
  int64_t newest_us() const { return newest_us_; }
  int64_t max_window_us() const { return cfg_.slot_us * cfg_.slots; }
  ServiceGraphStats stats() const;

 private:
  struct NodeEntry {
    std::string service, instance;
    WindowedCallStats stats;
    bool peer = true;
  };
  struct EdgeEntry {
    std::string from_service, from_instance, to_service, to_instance;
    WindowedCallStats stats;
  };
  // Keyed by the names joined with '\x1f', built in a reused buffer: a
  // lookup allocates nothing (the per-call path is the hot one).
  struct Level {
    std::unordered_map<std::string, NodeEntry> nodes;
    std::unordered_map<std::string, EdgeEntry> edges;
  };

  NodeEntry* Node(Level& lv, const std::string& service, const std::string& instance, bool peer);
  void AddCall(const Span& caller, const std::string& callee_service, const std::string& callee_instance,
               int64_t t_us, int64_t duration_us, bool error);
  void AddEntry(const Span& s);
  void Prune();
  CallFigures Figures(const WindowedCallStats& w, int64_t window_us) const;

  ServiceGraphConfig cfg_;
  Level service_, instance_;
  int64_t newest_us_ = 0;
  int64_t last_prune_slot_ = 0;
  std::string key_;
  ServiceGraphStats stats_;
};

}  // namespace vigil::traces
