#include "alerts/topology.h"

#include <deque>

namespace vigil {

namespace {
const std::set<std::string> kNone;
}

void ServiceTopology::AddCall(const std::string& caller, const std::string& callee) {
  if (caller == callee) return;
  callees_[caller].insert(callee);
  callees_[callee];
  callers_[callee].insert(caller);
  callers_[caller];
}

bool ServiceTopology::Knows(const std::string& s) const { return callees_.count(s) > 0; }

bool ServiceTopology::Adjacent(const std::string& a, const std::string& b) const {
  auto it = callees_.find(a);
  if (it != callees_.end() && it->second.count(b)) return true;
  it = callees_.find(b);
  return it != callees_.end() && it->second.count(a);
}

int ServiceTopology::Hops(const std::string& a, const std::string& b) const {
  if (a == b) return 0;
  std::map<std::string, int> dist{{a, 0}};
  std::deque<std::string> q{a};
  while (!q.empty()) {
    std::string cur = q.front();
    q.pop_front();
    for (const auto& n : Callees(cur)) {
      if (dist.count(n)) continue;
      dist[n] = dist[cur] + 1;
      if (n == b) return dist[n];
      q.push_back(n);
    }
  }
  return -1;
}

bool ServiceTopology::DependsOn(const std::string& service, const std::string& dependency) const {
  return service != dependency && Hops(service, dependency) > 0;
}

const std::set<std::string>& ServiceTopology::Callees(const std::string& s) const {
  auto it = callees_.find(s);
  return it == callees_.end() ? kNone : it->second;
}

const std::set<std::string>& ServiceTopology::Callers(const std::string& s) const {
  auto it = callers_.find(s);
  return it == callers_.end() ? kNone : it->second;
}

std::vector<std::string> ServiceTopology::Services() const {
  std::vector<std::string> out;
  for (const auto& [s, c] : callees_) out.push_back(s);
  return out;
}

}  // namespace vigil
