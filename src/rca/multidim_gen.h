// Synthetic multi-dimensional localization cases, following the design of
// RiskLoc's synthetic data sets (Kalander, "RiskLoc: Localization of Multi-
// dimensional Root Causes by Weighted Risk", 2022, section 5.1), itself an
// extension of Squeeze's generator (Li et al., ISSRE 2019):
//  * every combination of the attribute values is a leaf; normal leaf values
//    follow a Weibull distribution (heavy-tailed sizes), a share of leaves is
//    zero, and the forecast carries a relative Gaussian error (noise level);
//    real and forecast are swapped at random so the error has no direction;
//  * 1-3 anomalies, each at a random cuboid layer (number of attributes),
//    each made of 1-3 elements of that cuboid that do not overlap other
//    anomalies; inside an anomaly every leaf moves by a factor around
//    (1 - severity), the severity raised by the case's noise level so an
//    anomaly is never indistinguishable from noise;
//  * the anomaly direction follows the sign of the normal forecast error, so
//    the noise never outweighs the injected change.
// Pure library: deterministic for a given seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rca/multidim.h"

namespace vigil::rca {

// Ranges are [min, max], drawn once per case. Defaults: RiskLoc's "S" set.
struct SyntheticMultidimConfig {
  std::vector<uint32_t> dims = {10, 12, 10, 8, 5};  // values per attribute (attributes a, b, c, ...)
  double weibull_alpha_min = 0.5, weibull_alpha_max = 1.0;  // shape of the normal leaf sizes
  double zero_rate_min = 0.0, zero_rate_max = 0.25;         // share of leaves that are zero
  double noise_min = 0.0, noise_max = 0.25;                 // relative forecast error of normal leaves
  double severity_min = 0.2, severity_max = 1.0;            // relative change of anomalous leaves
  double deviation_min = 0.0, deviation_max = 0.1;          // spread of that change among the leaves
  uint32_t anomalies_min = 1, anomalies_max = 3;
  uint32_t elements_min = 1, elements_max = 3;  // elements per anomaly
  bool only_last_layer = false;                 // all anomalies at full attribute depth (RiskLoc's "L")
};

struct SyntheticMultidimCase {
  std::string name;
  LeafTable table;
  std::vector<std::string> truth;  // elements "a=a3&c=c7" (attributes sorted)
  double noise_level = 0, zero_rate = 0;
  bool rise = false;  // anomaly direction (real above forecast)
};

// Case `index` of the set `seed`: the same (seed, index) always gives the same
// case, so sets are prefix-stable and seeds make disjoint tuning / test sets.
SyntheticMultidimCase GenerateMultidimCase(const SyntheticMultidimConfig& cfg, uint64_t seed, uint64_t index);

// The "S" design for `name` in {"S", "L", "H"} (RiskLoc's three sets); false if unknown.
bool SyntheticPreset(const std::string& name, SyntheticMultidimConfig* cfg);

}  // namespace vigil::rca
