// Top-k accuracy of a root-cause ranking (AC@k and Avg@5 as defined by Yu et
// al., MicroRank, WWW 2021): AC@k is the share of cases whose true root cause
// is among the first k entries; Avg@5 the mean of AC@1..AC@5. Services are
// ranked by their first entry (a service blamed through two pods counts once).
#pragma once

#include <array>
#include <string>
#include <vector>

#include "rca/localize.h"

namespace vigil::rca {

// 1-based rank of the service among the ranking's distinct services, 0 = absent.
int RankOfService(const std::vector<RankedCause>& causes, const std::string& service);
// 1-based rank of the instance among the entries naming an instance, 0 = absent.
int RankOfInstance(const std::vector<RankedCause>& causes, const std::string& instance);

struct TopKScore {
  int cases = 0;
  std::array<int, 5> hits{};  // hits[k-1]: cases ranked within the first k
  void Add(int rank);
  double Ac(int k) const;
  double Avg5() const;
};

}  // namespace vigil::rca
