#include "sim/scorecard.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "sim/topology.h"

namespace vigil::sim {

namespace {

struct Acc {
  ScoreRow row;
  std::vector<double> delays, localize, recover;
  double ac[5] = {0, 0, 0, 0, 0};
  int ranked = 0, recovered = 0, within = 0, found1 = 0;
  bool any_ranking = false, any_recovery = false;
};

double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  // nearest rank
  size_t k = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, k == 0 ? 0 : k - 1)];
}

void Finish(Acc& a) {
  ScoreRow& r = a.row;
  if (r.faults > 0) {
    r.detection_recall = static_cast<double>(r.detected) / r.faults;
    r.found_within_1m = static_cast<double>(a.found1) / r.faults;
  }
  if (r.fault_free_days > 0) r.false_alarms_per_day = r.false_alarms / r.fault_free_days;
  if (!a.delays.empty()) {
    r.detect_delay_p50_s = Quantile(a.delays, 0.5);
    r.detect_delay_p95_s = Quantile(a.delays, 0.95);
  }
  if (a.any_ranking && r.faults > 0) {
    r.ac1 = a.ac[0] / r.faults;
    r.ac3 = a.ac[2] / r.faults;
    r.avg5 = (a.ac[0] + a.ac[1] + a.ac[2] + a.ac[3] + a.ac[4]) / (5.0 * r.faults);
    if (!a.localize.empty()) r.localize_p50_s = Quantile(a.localize, 0.5);
  }
  if (a.any_recovery && !a.recover.empty()) r.recover_p50_s = Quantile(a.recover, 0.5);
  if (a.any_ranking && a.any_recovery && r.faults > 0) r.within_1_5_10 = static_cast<double>(a.within) / r.faults;
}

bool Related(const ScenarioResult& run, size_t fault, const std::string& service) {
  if (fault >= run.related.size() || run.related[fault].empty()) return true;
  const auto& r = run.related[fault];
  return std::find(r.begin(), r.end(), service) != r.end();
}

// When vigil decided to open the incident. Its opened_ms is its first
// evidence, up to an evidence window earlier: an incident decided after a
// fault began, whose evidence began with a stray anomaly a minute before
// it, did not exist when the fault began and is that fault's detection.
TimestampMs Declared(const ScoredIncident& inc) { return std::max(inc.opened_ms, inc.declared_ms); }

}  // namespace

std::vector<std::string> RelatedServices(const Topology& t, const GroundTruthFault& fault) {
  const int root = t.FindService(fault.service);
  if (root < 0) return {};
  std::vector<char> mark(t.services.size(), 0);
  mark[root] = 1;
  // callers, transitively: repeat until nothing changes (graphs are small)
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t s = 0; s < t.services.size(); ++s) {
      if (mark[s]) continue;
      for (const auto& e : t.services[s].endpoints) {
        for (const auto& c : e.calls) {
          if (mark[c.service] && !mark[s]) {
            mark[s] = 1;
            changed = true;
          }
        }
      }
    }
  }
  if (fault.type == "traffic-surge") {  // more load everywhere downstream
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t s = 0; s < t.services.size(); ++s) {
        if (!mark[s]) continue;
        for (const auto& e : t.services[s].endpoints) {
          for (const auto& c : e.calls) {
            if (!mark[c.service]) {
              mark[c.service] = 1;
              changed = true;
            }
          }
        }
      }
    }
  }
  if (int peer = t.FindService(fault.peer); peer >= 0) mark[peer] = 1;
  std::vector<std::string> out;
  for (size_t s = 0; s < t.services.size(); ++s) {
    if (mark[s]) out.push_back(t.services[s].name);
  }
  return out;
}

Scorecard Score(const std::vector<ScenarioResult>& runs, int64_t grace_ms) {
  Acc overall;
  std::map<std::string, Acc> by;
  for (const auto& run : runs) {
    for (const auto& inc : run.incidents) {
      overall.any_ranking = overall.any_ranking || !inc.ranking.empty();
      overall.any_recovery = overall.any_recovery || inc.remediated_ms > 0;
    }
  }
  for (const auto& run : runs) {
    // false alarms and fault-free time
    std::vector<std::pair<TimestampMs, TimestampMs>> windows;
    for (const auto& f : run.faults) windows.push_back({f.start_ms, f.end_ms + grace_ms});
    std::sort(windows.begin(), windows.end());
    TimestampMs covered = 0, cursor = run.scored_from_ms;
    for (auto [a, b] : windows) {
      a = std::max(a, cursor);
      b = std::min(b, run.end_ms);
      if (b > a) {
        covered += b - a;
        cursor = b;
      }
    }
    const double free_days = static_cast<double>(std::max<TimestampMs>(0, run.end_ms - run.scored_from_ms - covered)) /
                             86400000.0;
    overall.row.fault_free_days += free_days;
    auto explains = [&](size_t k, const ScoredIncident& inc) {
      const auto& f = run.faults[k];
      return Declared(inc) >= f.start_ms && Declared(inc) <= f.end_ms + grace_ms && Related(run, k, inc.service);
    };
    for (const auto& inc : run.incidents) {
      if (Declared(inc) < run.scored_from_ms || Declared(inc) > run.end_ms) continue;
      bool in_window = false;
      for (auto [a, b] : windows) in_window = in_window || (Declared(inc) >= a && Declared(inc) <= b);
      if (!in_window) overall.row.false_alarms++;
    }
    for (size_t fk = 0; fk < run.faults.size(); ++fk) {
      const auto& f = run.faults[fk];
      for (Acc* a : {&overall, &by[f.type]}) {
        a->row.faults++;
        a->any_ranking = overall.any_ranking;
        a->any_recovery = overall.any_recovery;
      }
      const ScoredIncident* first = nullptr;
      for (const auto& inc : run.incidents) {
        if (explains(fk, inc) && (!first || Declared(inc) < Declared(*first))) {
          first = &inc;
        }
      }
      if (!first) continue;
      const TimestampMs known_ms = std::max(first->opened_ms, first->declared_ms);
      const double delay = static_cast<double>(known_ms - f.start_ms) / 1000.0;
      bool on_root = false;
      for (const auto& inc : run.incidents) {
        const bool names_root = inc.service == f.service || std::find(inc.member_services.begin(), inc.member_services.end(),
                                                                         f.service) != inc.member_services.end();
        on_root = on_root || (Declared(inc) >= f.start_ms && Declared(inc) <= f.end_ms + grace_ms && names_root);
      }
      double ac[5] = {0, 0, 0, 0, 0};
      for (size_t k = 0; k < first->ranking.size() && k < 5; ++k) {
        if (first->ranking[k] == f.service) {
          for (size_t j = k; j < 5; ++j) ac[j] = 1;
          break;
        }
      }
      for (Acc* a : {&overall, &by[f.type]}) {
        a->row.detected++;
        if (on_root) a->row.entity_hits++;
        a->delays.push_back(delay);
        if (delay <= 60) a->found1++;
        for (int k = 0; k < 5; ++k) a->ac[k] += ac[k];
        double loc = -1, rec = -1;
        if (first->ranked_ms > 0) {
          loc = static_cast<double>(first->ranked_ms - f.start_ms) / 1000.0;
          a->localize.push_back(loc);
        }
        if (first->remediated_ms > 0) {
          rec = static_cast<double>(first->remediated_ms - f.start_ms) / 1000.0;
          a->recover.push_back(rec);
        }
        if (delay <= 60 && ac[0] > 0 && loc >= 0 && loc <= 300 && rec >= 0 && rec <= 600) a->within++;
      }
    }
  }
  Scorecard sc;
  Finish(overall);
  sc.overall = overall.row;
  for (auto& [k, a] : by) {
    Finish(a);
    sc.by_fault[k] = a.row;
  }
  return sc;
}

std::string ScoreRowJson(const ScoreRow& r) {
  auto v = [](const std::optional<double>& x) -> nlohmann::json {
    if (!x) return nullptr;
    return std::round(*x * 1000) / 1000;
  };
  nlohmann::json j = {{"detection_recall", v(r.detection_recall)},
                      {"false_alarms_per_day", v(r.false_alarms_per_day)},
                      {"detect_delay_p50_s", v(r.detect_delay_p50_s)},
                      {"detect_delay_p95_s", v(r.detect_delay_p95_s)},
                      {"ac1", v(r.ac1)},
                      {"ac3", v(r.ac3)},
                      {"avg5", v(r.avg5)},
                      {"localize_p50_s", v(r.localize_p50_s)},
                      {"recover_p50_s", v(r.recover_p50_s)},
                      {"within_1_5_10", v(r.within_1_5_10)}};
  return j.dump();
}

}  // namespace vigil::sim
