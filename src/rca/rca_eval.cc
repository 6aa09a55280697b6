#include "rca/rca_eval.h"

#include <set>

namespace vigil::rca {

int RankOfService(const std::vector<RankedCause>& causes, const std::string& service) {
  std::set<std::string> seen;
  for (const auto& c : causes) {
    if (!seen.insert(c.service).second) continue;
    if (c.service == service) return static_cast<int>(seen.size());
  }
  return 0;
}

int RankOfInstance(const std::vector<RankedCause>& causes, const std::string& instance) {
  int rank = 0;
  for (const auto& c : causes) {
    if (c.instance.empty()) continue;
    ++rank;
    if (c.instance == instance) return rank;
  }
  return 0;
}

void TopKScore::Add(int rank) {
  ++cases;
  for (int k = 1; k <= 5; ++k) {
    if (rank >= 1 && rank <= k) ++hits[static_cast<size_t>(k - 1)];
  }
}

double TopKScore::Ac(int k) const { return cases ? static_cast<double>(hits[static_cast<size_t>(k - 1)]) / cases : 0; }

double TopKScore::Avg5() const {
  double s = 0;
  for (int k = 1; k <= 5; ++k) s += Ac(k);
  return s / 5;
}

}  // namespace vigil::rca
