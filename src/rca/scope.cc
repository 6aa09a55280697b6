#include "rca/scope.h"

#include <algorithm>
#include <numeric>
#include <unordered_set>

namespace vigil::rca {

namespace {

int Find(std::vector<int>* parent, int x) {
  while ((*parent)[static_cast<size_t>(x)] != x) {
    int& p = (*parent)[static_cast<size_t>(x)];
    p = (*parent)[static_cast<size_t>(p)];
    x = p;
  }
  return x;
}

template <typename T, typename F>
void EraseIf(std::vector<T>* v, F pred) {
  v->erase(std::remove_if(v->begin(), v->end(), pred), v->end());
}

}  // namespace

Scope ScopeToIncident(CaseData* data, const std::vector<std::string>& services,
                      const std::vector<std::string>& instances) {
  Scope scope;
  const CallGraph g = BuildCallGraph(*data);
  const size_t n = g.services.size();
  std::vector<int> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  std::vector<bool> has_edge(n, false);
  for (size_t a = 0; a < n; ++a) {
    for (int b : g.callees[a]) {
      has_edge[a] = has_edge[static_cast<size_t>(b)] = true;
      parent[static_cast<size_t>(Find(&parent, static_cast<int>(a)))] = Find(&parent, b);
    }
  }
  std::vector<bool> keep(n, services.empty());
  if (!services.empty()) {
    std::unordered_set<int> roots;
    for (const std::string& s : services) {
      int i = g.Index(s);
      if (i >= 0 && has_edge[static_cast<size_t>(i)]) roots.insert(Find(&parent, i));
    }
    // None of the incident's services is seen calling or being called (a
    // host's own incident, say): nothing tells which application it belongs to.
    if (roots.empty()) std::fill(keep.begin(), keep.end(), true);
    // The incident's hosts: those of its pods (named or any pod of its services).
    std::unordered_set<std::string> hosts;
    std::unordered_set<std::string> own(services.begin(), services.end());
    for (const std::string& inst : instances) {
      auto h = g.instance_host.find(inst);
      if (h != g.instance_host.end() && !h->second.empty()) hosts.insert(h->second);
    }
    for (const auto& [inst, svc] : g.instance_service) {
      if (!own.count(svc)) continue;
      auto h = g.instance_host.find(inst);
      if (h != g.instance_host.end() && !h->second.empty()) hosts.insert(h->second);
    }
    for (size_t i = 0; i < n && !roots.empty(); ++i) {
      keep[i] = !has_edge[i] || roots.count(Find(&parent, static_cast<int>(i))) > 0;
    }
    for (const auto& [inst, svc] : g.instance_service) {
      auto h = g.instance_host.find(inst);
      if (h == g.instance_host.end() || !hosts.count(h->second)) continue;
      int i = g.Index(svc);
      if (i >= 0) keep[static_cast<size_t>(i)] = true;
    }
  }
  std::unordered_set<std::string> drop;
  for (size_t i = 0; i < n; ++i) {
    (keep[i] ? scope.kept : scope.dropped).push_back(g.services[i]);
    if (!keep[i]) drop.insert(g.services[i]);
  }
  std::sort(scope.kept.begin(), scope.kept.end());
  std::sort(scope.dropped.begin(), scope.dropped.end());
  if (drop.empty()) return scope;
  EraseIf(&data->metrics, [&](const MetricSeries& m) { return drop.count(m.service) > 0; });
  EraseIf(&data->logs, [&](const LogRecord& l) { return drop.count(l.service) > 0; });
  EraseIf(&data->spans, [&](const Span& s) { return drop.count(s.service) > 0; });
  EraseIf(&data->normal_spans, [&](const Span& s) { return drop.count(s.service) > 0; });
  EraseIf(&data->events, [&](const Event& e) { return drop.count(std::string(e.labels.Get("service"))) > 0; });
  EraseIf(&data->dependencies, [&](const std::pair<std::string, std::string>& d) {
    return drop.count(d.first) > 0 || drop.count(d.second) > 0;
  });
  return scope;
}

}  // namespace vigil::rca
