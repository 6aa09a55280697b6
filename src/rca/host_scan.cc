#include "rca/host_scan.h"

#include <algorithm>
#include <map>

namespace vigil::rca {

std::vector<HostSuspect> ScanHosts(const CaseData& data, const std::vector<MetricChange>& changes) {
  struct Acc {
    std::map<std::string, std::vector<double>> node_metric;  // indicator -> per-pod scores
    std::map<std::string, std::pair<double, std::string>> pod_best;  // pod -> best resource change
    std::map<std::string, std::string> pod_indicator;
  };
  std::map<std::string, Acc> hosts;
  for (const MetricChange& c : changes) {
    const MetricSeries& m = data.metrics[c.series];
    if (m.host.empty()) continue;
    Acc& a = hosts[m.host];
    const bool node = IsNodeIndicator(m.indicator) || m.service.empty();
    if (node) {
      a.node_metric[m.indicator].push_back(c.score);
    } else if (KindOfIndicator(m.indicator) == IndicatorKind::kResource) {
      auto& best = a.pod_best[m.instance];
      if (c.score > best.first) best = {c.score, m.indicator};
    }
  }
  std::vector<HostSuspect> out;
  for (auto& [host, a] : hosts) {
    HostSuspect h;
    h.host = host;
    h.pods = static_cast<int>(a.pod_best.size());
    for (auto& [ind, scores] : a.node_metric) {
      double s = Median(scores);
      if (s > h.score) {
        h.score = s;
        h.indicator = ind;
        h.metric_score = s;
      }
    }
    if (!a.pod_best.empty()) {
      std::vector<double> bests;
      std::string top_pod;
      double top = -1;
      for (auto& [pod, b] : a.pod_best) {
        bests.push_back(b.first);
        if (b.first > top) {
          top = b.first;
          top_pod = pod;
        }
      }
      double med = Median(bests);
      if (med > h.score) {
        h.score = med;
        h.indicator = a.pod_best[top_pod].second;
        h.instance = top_pod;
        h.metric_score = top;
      }
    }
    out.push_back(std::move(h));
  }
  std::sort(out.begin(), out.end(), [](const HostSuspect& a, const HostSuspect& b) { return a.score > b.score; });
  return out;
}

}  // namespace vigil::rca
