#include "rca/case_data.h"

#include <algorithm>
#include <unordered_map>

#include "core/span.h"

namespace vigil::rca {

namespace {

int AddService(CallGraph* g, const std::string& name) {
  auto [it, fresh] = g->service_index.try_emplace(name, static_cast<int>(g->services.size()));
  if (fresh) {
    g->services.push_back(name);
    g->callees.emplace_back();
    g->callers.emplace_back();
  }
  return it->second;
}

void AddEdge(CallGraph* g, const std::string& from, const std::string& to) {
  if (from.empty() || to.empty() || from == to) return;
  int a = AddService(g, from), b = AddService(g, to);
  g->callees[static_cast<size_t>(a)].push_back(b);
  g->callers[static_cast<size_t>(b)].push_back(a);
}

void AddInstance(CallGraph* g, const std::string& service, const std::string& instance, const std::string& host) {
  if (service.empty()) return;
  AddService(g, service);
  if (instance.empty()) return;
  auto& s = g->instance_service[instance];
  if (s.empty()) s = service;
  auto& h = g->instance_host[instance];
  if (h.empty()) h = host;
}

}  // namespace

CallGraph BuildCallGraph(const CaseData& data) {
  CallGraph g;
  for (const auto* spans : {&data.spans, &data.normal_spans}) {
    // span id -> service of the span, per trace (ids are unique enough
    // across traces to key on the id alone)
    std::unordered_map<uint64_t, const Span*> by_id;
    by_id.reserve(spans->size());
    for (const Span& s : *spans) by_id.emplace(s.span_id, &s);
    for (const Span& s : *spans) {
      AddInstance(&g, s.service, s.instance, "");
      if (s.parent_span_id == 0) continue;
      auto it = by_id.find(s.parent_span_id);
      if (it == by_id.end() || !(it->second->trace_id == s.trace_id)) continue;
      AddEdge(&g, it->second->service, s.service);
    }
  }
  for (const auto& [from, to] : data.dependencies) AddEdge(&g, from, to);
  for (const auto& m : data.metrics) AddInstance(&g, m.service, m.instance, m.host);
  for (const auto& l : data.logs) AddInstance(&g, l.service, l.instance, l.host);
  for (const auto& e : data.events) {
    AddInstance(&g, std::string(e.labels.Get("service")), std::string(e.labels.Get("instance")), "");
  }
  for (auto* lists : {&g.callees, &g.callers}) {
    for (auto& l : *lists) {
      std::sort(l.begin(), l.end());
      l.erase(std::unique(l.begin(), l.end()), l.end());
    }
  }
  return g;
}

}  // namespace vigil::rca
