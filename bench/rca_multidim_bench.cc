// rca_multidim_bench: time of the multi-dimensional root-cause search
// (rca/multidim.h) on a generated 50,000-leaf case (attributes of 10, 10, 10,
// 10 and 5 values; a drop on a=a3&c=c7 and a rise on b=b1&d=d2&e=e4), against
// the simple baseline measured in the same run (the rise carries about a
// quarter of the drop's change, below second_direction_share, so only the
// drop is reported): one aggregation pass of real
// and predict over all 31 cuboids, the least any lattice method must do.
// A second line times a synthetic case of RiskLoc's S design (48,000 leaves,
// rca/multidim_gen.h) against the same baseline on that case.
// Usage: rca_multidim_bench [repeats]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "rca/multidim.h"
#include "rca/multidim_gen.h"

namespace {

using vigil::rca::LeafTable;

LeafTable Generate() {
  LeafTable t;
  t.attrs = {"a", "b", "c", "d", "e"};
  const int dims[] = {10, 10, 10, 10, 5};
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> size(10, 1000);
  std::normal_distribution<double> noise(0, 0.05);
  std::vector<std::string> vals(5);
  for (int a = 0; a < dims[0]; ++a)
    for (int b = 0; b < dims[1]; ++b)
      for (int c = 0; c < dims[2]; ++c)
        for (int d = 0; d < dims[3]; ++d)
          for (int e = 0; e < dims[4]; ++e) {
            vals = {"a" + std::to_string(a), "b" + std::to_string(b), "c" + std::to_string(c),
                    "d" + std::to_string(d), "e" + std::to_string(e)};
            double p = size(rng);
            double r = p * (1 + noise(rng));
            if (a == 3 && c == 7) r *= 0.4;
            if (b == 1 && d == 2 && e == 4) r *= 1.8;
            t.Add(vals, r, p);
          }
  return t;
}

double BaselineAggregate(const LeafTable& t) {
  const size_t m = t.attrs.size();
  double checksum = 0;
  for (uint32_t mask = 1; mask < (1u << m); ++mask) {
    std::unordered_map<uint64_t, std::pair<double, double>> agg;
    for (size_t i = 0; i < t.leaves(); ++i) {
      uint64_t k = 0;
      for (size_t a = 0; a < m; ++a) {
        if (mask & (1u << a)) k = k * t.values[a].size() + t.codes[i * m + a];
      }
      auto& s = agg[k];
      s.first += t.real[i], s.second += t.predict[i];
    }
    checksum += static_cast<double>(agg.size());
  }
  return checksum;
}

template <typename F>
double MedianMs(int repeats, F&& f) {
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  LeafTable t = Generate();
  std::vector<vigil::rca::Element> found;
  double search = MedianMs(repeats, [&] { found = vigil::rca::LocalizeMultidim(t); });
  volatile double sink = 0;
  double baseline = MedianMs(repeats, [&] { sink = sink + BaselineAggregate(t); });
  std::printf("leaves=%zu search_ms=%.1f baseline_aggregate_ms=%.1f ratio=%.2f\n", t.leaves(), search, baseline,
              search / baseline);
  for (const auto& e : found) std::printf("  %s\n", vigil::rca::FormatElement(t, e).c_str());

  auto synth = vigil::rca::GenerateMultidimCase(vigil::rca::SyntheticMultidimConfig{}, 1, 0);
  double s_search = MedianMs(repeats, [&] { found = vigil::rca::LocalizeMultidim(synth.table); });
  double s_base = MedianMs(repeats, [&] { sink = sink + BaselineAggregate(synth.table); });
  std::printf("riskloc_S_case leaves=%zu search_ms=%.1f baseline_aggregate_ms=%.1f ratio=%.2f found=%zu truth=%zu\n",
              synth.table.leaves(), s_search, s_base, s_search / s_base, found.size(), synth.truth.size());
  return 0;
}
