// Multi-dimensional root-cause localization: a KPI broken down by categorical
// attributes (province, ISP, version, ...) has a real and a predicted value per
// leaf (one full attribute combination); find the few elements (attribute
// combinations such as `province=X&isp=Y`, any subset of the attributes) whose
// change explains the anomaly. Pure library: no I/O, no clock.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::rca {

// Leaf rows of one KPI at the anomalous instant. codes[i * attrs.size() + a]
// indexes values[a] for leaf i.
struct LeafTable {
  std::vector<std::string> attrs;
  std::vector<std::vector<std::string>> values;  // per attribute, the distinct values
  std::vector<uint32_t> codes;
  std::vector<double> real, predict;

  size_t leaves() const { return real.size(); }
  // Appends one leaf; attribute values are interned.
  void Add(const std::vector<std::string>& attr_values, double real_value, double predict_value);
};

// One element: (attribute index, value code) pairs, sorted by attribute.
struct Element {
  std::vector<std::pair<uint32_t, uint32_t>> items;
  double explanatory_power = 0;  // share of the anomaly's total deviation inside the element
  double purity = 0;             // share of the element's live leaves that are abnormal
  bool operator==(const Element& o) const { return items == o.items; }
};

struct MultidimConfig {
  // One configuration for every data set, chosen on `vigil eval multidim` (RS,
  // Squeeze sample, 3 RiskLoc S cases) and synthetic seed 1; docs/rca.md has
  // the held-out figures.
  double min_purity = 0.5;             // an element is a cause only if most of its leaves (by weight) moved
  double min_explanatory_power = 0.4;  // and it carries a noticeable share of the anomaly
  double min_explanatory_power_drastic = 0.02;  // ... or a small share if the element's total moved drastically:
  double drastic_deviation = 1.5;              // |2(R - P)/(R + P)| of the element's sums
  // ... or its total change is beyond its leaves' noise at this family-wise
  // level: z >= sqrt(2 ln(elements in its cuboid / z_alpha)); 0 disables.
  double z_alpha = 1e-6;
  // When every real value is a whole number (counts), each leaf's noise
  // variance is at least count_noise * max(1, predict): Poisson with
  // over-dispersion, so a leaf going from 0 to 3 failures is not "far beyond".
  double count_noise = 8;
  double refine_keep_share = 0.95;  // a child replaces its parent if it keeps this share of the anomaly
  double refine_purity_gain = 0.1;  // and is this much purer
  double second_direction_share = 0.5;  // search the opposite direction too if it carries this share
  double size_exponent = 0.5;          // leaf weight in purity = (|real| + |predict|)^size_exponent
  size_t max_elements = 10;             // causes reported at most
  double noise_floor = 0.05;            // |deviation| below this is never abnormal
  double cutoff_sigmas = 3.0;           // abnormal: |d - center| > cutoff_sigmas * sigma (robust, see side_noise)
  // sigma = 1.4826 * MAD(d) around the median, unless the quieter side of
  // zero (half-normal spread of the leaves whose d has the other sign) is
  // below side_noise times that: many anomalous leaves inflate the MAD and
  // move the median, so then center = 0 and sigma = the quiet side's spread.
  double side_noise = 0.5;
};

// Sets one MultidimConfig field by its name (e.g. "min_purity"), for
// sensitivity studies (`vigil eval multidim --param name=value`); false when
// the name is unknown.
bool SetMultidimParam(MultidimConfig& cfg, const std::string& name, double value);

// "a=x&b=y" (attributes in table order).
std::string FormatElement(const LeafTable& t, const Element& e);

// The root-cause elements, most general first; empty when no leaf moved.
std::vector<Element> LocalizeMultidim(const LeafTable& t, const MultidimConfig& cfg = {});

}  // namespace vigil::rca
