// ServiceTopology: which service calls which. Declared in YAML today
// (`topology: {frontend: [checkout, search], checkout: [payments]}` means
// frontend calls checkout and search, checkout calls payments); later fed
// from the trace dependency graph.
//
// Faults propagate against the call direction: when payments fails, its
// callers (checkout, then frontend) fail too. So for a suspected root R,
// the services "downstream of the fault" are those that depend on R,
// directly or through others: their alerts are symptoms.
//
// Immutable once built; any thread may read it.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace vigil {

class ServiceTopology {
 public:
  void AddCall(const std::string& caller, const std::string& callee);

  bool empty() const { return callees_.empty(); }
  bool Knows(const std::string& service) const;
  // True when a calls b or b calls a.
  bool Adjacent(const std::string& a, const std::string& b) const;
  // True when `service` reaches `dependency` by following calls (not itself).
  bool DependsOn(const std::string& service, const std::string& dependency) const;
  // Calls from `a` to `b` needed along the call direction, or -1.
  int Hops(const std::string& a, const std::string& b) const;
  const std::set<std::string>& Callees(const std::string& s) const;
  const std::set<std::string>& Callers(const std::string& s) const;
  std::vector<std::string> Services() const;

 private:
  std::map<std::string, std::set<std::string>> callees_;
  std::map<std::string, std::set<std::string>> callers_;
};

}  // namespace vigil
