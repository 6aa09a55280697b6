#include "alerts/storm.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

namespace vigil {

namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return (Next() >> 11) * (1.0 / 9007199254740992.0); }
  int64_t Range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(Uniform() * (hi - lo + 1)); }

 private:
  uint64_t s_;
};

const char* const kLayers[] = {"edge", "api", "core", "data"};
const int kLayerSize[] = {3, 8, 12, 8};
// A rule's severity is written in the rule, as in a Prometheus rule file:
// the same ErrorRateHigh is critical on the faulty service and on every
// caller it drags down. (Until this was fixed the generator made a root's
// alerts critical and its symptoms' warning, which told a correlator the
// answer.)
//
// A rule also says how long it keeps firing after its condition's cause is
// gone (`clear_lag_*`, the resolve delay on top of Prometheus' evaluation
// interval). Rate and quantile rules over a 5m window stay above their
// threshold for part of that window; gauges clear at the next evaluation;
// a queue backlog drains for minutes; `increase(restarts[10m]) > 0` holds
// until the last restart is 10 minutes old. (Until storms stop 6 every
// alert, root or symptom, resolved within 2 minutes of its fault's end,
// which made "a fault's symptoms clear with it" far sharper than real
// storms are.)
//
// A call-side rule (about the service's calls to others) may name the
// callee, in `dependency_label` (StormConfig::dependency_label_fraction):
// different tools name it differently (Istio's destination_service is the
// callee's cluster DNS name; a client library's upstream or peer its bare
// name).
struct Rule {
  const char* name;
  const char* severity;
  TimestampMs clear_lag_min_ms, clear_lag_max_ms;
  const char* dependency_label = nullptr;
};
const Rule kRules[] = {{"HighLatencyP99", "warning", 0, 240'000},
                       {"ErrorRateHigh", "critical", 0, 240'000},
                       {"PodRestarting", "critical", 120'000, 600'000},
                       {"CPUThrottling", "warning", 0, 240'000},
                       {"SaturationHigh", "warning", 0, 60'000},
                       {"QueueBacklog", "warning", 60'000, 480'000},
                       {"TimeoutsHigh", "critical", 0, 240'000, "upstream"},
                       {"ConnectionErrors", "warning", 0, 240'000, "peer"},
                       {"ApdexLow", "warning", 0, 240'000},
                       {"UpstreamErrors", "warning", 0, 240'000, "destination_service"},
                       {"MemoryPressure", "warning", 0, 180'000},
                       {"ReadinessFailing", "critical", 0, 60'000}};
const Rule kNoiseRules[] = {{"DiskSpaceLow", "warning", 0, 0}, {"CertExpiringSoon", "warning", 0, 0},
                            {"NTPDrift", "warning", 0, 0},     {"SlowGC", "warning", 0, 0},
                            {"LogVolumeHigh", "info", 0, 0}};

struct Episode {
  Labels labels;
  TimestampMs start = 0, end = 0;
  int fault = -1;
};

Labels AlertLabels(const std::string& rule, const std::string& service, int pod, const char* severity) {
  return *Labels::FromPairs({{"alertname", rule},
                             {"service", service},
                             {"instance", service + "-" + std::to_string(pod)},
                             {"severity", severity},
                             {"cluster", "prod"}});
}

// Whether `rule` on `service` names its callee: a property of the rule as
// deployed there (the same for every fault and pod), drawn from a stream
// of its own (FNV-1a of the names and the seed) so the storm is otherwise
// the one generated without labels.
bool NamesCallee(uint64_t seed, const std::string& service, const char* rule, double fraction) {
  if (fraction <= 0) return false;
  uint64_t h = 1469598103934665603ULL ^ seed;
  for (char c : service + "/" + rule) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return Rng(h).Uniform() < fraction;
}

Labels AlertLabels(const std::string& rule, const std::string& service, int pod, const char* severity,
                   const char* dependency_label, const std::string& callee) {
  Labels l = AlertLabels(rule, service, pod, severity);
  if (!dependency_label) return l;
  std::string value = callee;
  if (std::string_view(dependency_label) == "destination_service") value += ".prod.svc.cluster.local";
  std::vector<Label> items = l.items();
  items.push_back({dependency_label, value});
  return *Labels::FromPairs(std::move(items));
}

}  // namespace

Storm GenerateStorm(const StormConfig& cfg) {
  Rng rng(cfg.seed * 0x2545f4914f6cdd1dULL + 17);
  Rng lag_rng(cfg.seed * 0x9e3779b97f4a7c15ULL + 29);
  Storm storm;
  // The call graph: each service calls 2-3 services of the next layer.
  std::vector<std::vector<std::string>> layers;
  for (int l = 0; l < 4; ++l) {
    layers.emplace_back();
    for (int i = 0; i < kLayerSize[l]; ++i) layers[l].push_back(std::string(kLayers[l]) + "-" + std::to_string(i));
  }
  std::map<std::string, int> pods;
  for (int l = 0; l < 4; ++l) {
    for (const auto& s : layers[l]) {
      pods[s] = static_cast<int>(rng.Range(2, 6));
      if (l == 3) continue;
      int calls = static_cast<int>(rng.Range(2, 3));
      std::set<size_t> picked;
      while (static_cast<int>(picked.size()) < calls) picked.insert(rng.Next() % layers[l + 1].size());
      for (size_t j : picked) {
        storm.topology.AddCall(s, layers[l + 1][j]);
        storm.calls.emplace_back(s, layers[l + 1][j]);
      }
    }
  }
  std::vector<Episode> episodes;
  // Faults: roots in the core and data layers. Faults are independent: a
  // root is never a service that another fault, active at the time, makes
  // alert (nor the reverse); such a pair cannot be told apart from alerts
  // alone, and no labelling of it would be right.
  struct Spread {
    std::string root;
    TimestampMs start, end;
    std::map<std::string, TimestampMs> onset;
  };
  std::map<std::string, std::string> via;  // caller -> the callee the current fault reached it through
  std::vector<Spread> spreads;
  for (int f = 0; f < cfg.faults; ++f) {
    StormFault fault;
    fault.id = f;
    std::map<std::string, TimestampMs> onset;
    for (int attempt = 0;; ++attempt) {
      int l = rng.Uniform() < 0.5 ? 2 : 3;
      std::string root = layers[l][rng.Next() % layers[l].size()];
      TimestampMs start = cfg.start_ms + rng.Range(0, cfg.fault_start_spread_ms);
      TimestampMs end = start + rng.Range(10 * 60'000, 25 * 60'000);
      // Spread to callers, hop by hop.
      onset = {{root, start}};
      via.clear();
      std::vector<std::string> frontier{root};
      while (!frontier.empty()) {
        std::vector<std::string> next;
        for (const auto& svc : frontier) {
          for (const auto& caller : storm.topology.Callers(svc)) {
            if (onset.count(caller) || rng.Uniform() > cfg.spread_probability) continue;
            onset[caller] = onset[svc] + rng.Range(20'000, 60'000);
            via[caller] = svc;
            next.push_back(caller);
          }
        }
        frontier = std::move(next);
      }
      // Nor is a fault whose root calls the other's (directly or not), or is
      // called by it, when both began and ended within the generator's own
      // jitter of each other (alerts start up to 90 s after their service's
      // onset, and their conditions end up to a minute or two after the
      // fault): that is exactly what one fault spreading to a caller looks
      // like, start and end alike.
      bool clash = false;
      for (const auto& o : spreads) {
        bool overlap = start <= o.end + 5 * 60'000 && o.start <= end + 5 * 60'000;
        if (overlap && (o.root == root || o.onset.count(root) || onset.count(o.root))) clash = true;
        bool chained = storm.topology.DependsOn(root, o.root) || storm.topology.DependsOn(o.root, root);
        if (chained && std::llabs(start - o.start) <= 120'000 && std::llabs(end - o.end) <= 120'000) clash = true;
      }
      if (!clash || attempt > 200) {
        fault.root_service = root;
        fault.start_ms = start;
        fault.end_ms = end;
        spreads.push_back({root, start, end, onset});
        break;
      }
    }
    const std::string& root = fault.root_service;
    for (const auto& [svc, t0] : onset) {
      bool is_root = svc == root;
      int rules = static_cast<int>(rng.Range(is_root ? 4 : 2, is_root ? 7 : 5));
      std::set<size_t> picked;
      while (static_cast<int>(picked.size()) < rules) picked.insert(rng.Next() % std::size(kRules));
      for (size_t r : picked) {
        bool names = !is_root && kRules[r].dependency_label &&
                     NamesCallee(cfg.seed, svc, kRules[r].name, cfg.dependency_label_fraction);
        for (int p = 0; p < pods[svc]; ++p) {
          if (!is_root && rng.Uniform() < 0.3) continue;  // not every pod of a caller suffers
          Episode e;
          e.labels = names ? AlertLabels(kRules[r].name, svc, p, kRules[r].severity, kRules[r].dependency_label, via[svc])
                           : AlertLabels(kRules[r].name, svc, p, kRules[r].severity);
          e.start = t0 + rng.Range(0, 90'000);
          // Its condition ends with the fault (plus the evaluation interval,
          // up to a minute); the rule's window or backlog holds it longer.
          // (A stream of its own, so the storms are the same as before the
          // lag was added but for their ends.)
          e.end = fault.end_ms + rng.Range(0, 60'000) +
                  lag_rng.Range(kRules[r].clear_lag_min_ms, kRules[r].clear_lag_max_ms);
          e.fault = f;
          episodes.push_back(std::move(e));
          ++fault.alerts;
        }
      }
    }
    storm.faults.push_back(fault);
  }
  std::vector<std::string> all;
  for (const auto& l : layers) all.insert(all.end(), l.begin(), l.end());
  // Background noise: short blips anywhere, any time.
  for (int i = 0; i < cfg.noise_alerts; ++i) {
    Episode e;
    std::string svc = all[rng.Next() % all.size()];
    const Rule& rule = kNoiseRules[rng.Next() % std::size(kNoiseRules)];
    e.labels = AlertLabels(rule.name, svc, static_cast<int>(rng.Next() % pods[svc]), rule.severity);
    e.start = cfg.start_ms + rng.Range(0, cfg.duration_ms - 5 * 60'000);
    e.end = e.start + rng.Range(30'000, 90'000);
    episodes.push_back(std::move(e));
  }
  // Flapping alerts: on for 1-2 minutes, off for 1-2 minutes, all hour.
  for (int i = 0; i < cfg.flapping_alerts; ++i) {
    std::string svc = all[rng.Next() % all.size()];
    Labels l = AlertLabels("HealthCheckFlapping", svc, static_cast<int>(rng.Next() % pods[svc]), "warning");
    TimestampMs t = cfg.start_ms + rng.Range(0, 120'000);
    while (t < cfg.start_ms + cfg.duration_ms - 4 * 60'000) {
      Episode e;
      e.labels = l;
      e.start = t;
      e.end = t + rng.Range(60'000, 120'000);
      t = e.end + rng.Range(60'000, 120'000);
      episodes.push_back(std::move(e));
    }
  }
  // One rule on one pod is one alert: when two faults make it fire at
  // overlapping times (or one right after the other, within a resend
  // interval), Prometheus sees the condition hold throughout and sends one
  // episode, with the first start and the last end (not two interleaved
  // streams with a resolve in between). It belongs to the fault that began
  // it (the scorer's label; the other fault carried it on).
  {
    std::map<Fingerprint, std::vector<size_t>> by_fp;
    for (size_t i = 0; i < episodes.size(); ++i) {
      if (episodes[i].fault >= 0) by_fp[FingerprintOf(episodes[i].labels)].push_back(i);
    }
    std::vector<bool> gone(episodes.size(), false);
    for (auto& [fp, idx] : by_fp) {
      std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return episodes[a].start < episodes[b].start; });
      size_t keep = idx[0];
      for (size_t k = 1; k < idx.size(); ++k) {
        Episode& e = episodes[idx[k]];
        if (e.start <= episodes[keep].end + cfg.resend_ms) {
          episodes[keep].end = std::max(episodes[keep].end, e.end);
          if (e.fault != episodes[keep].fault) storm.shared.insert(fp);
          gone[idx[k]] = true;
        } else {
          keep = idx[k];
        }
      }
    }
    std::vector<Episode> merged;
    for (size_t i = 0; i < episodes.size(); ++i) {
      if (!gone[i]) merged.push_back(std::move(episodes[i]));
    }
    episodes = std::move(merged);
  }
  // Sends, the way Prometheus sends: every resend interval while firing
  // (endsAt four intervals ahead), then once with the real end.
  for (const auto& e : episodes) {
    for (TimestampMs t = e.start; t < e.end; t += cfg.resend_ms) {
      StormSend s;
      s.at = t;
      s.alert.labels = e.labels;
      s.alert.starts_ms = e.start;
      s.alert.ends_ms = t + 4 * cfg.resend_ms;
      s.alert.source = "storm";
      storm.sends.push_back(std::move(s));
    }
    StormSend s;
    s.at = e.end;
    s.alert.labels = e.labels;
    s.alert.starts_ms = e.start;
    s.alert.ends_ms = e.end;
    s.alert.source = "storm";
    storm.sends.push_back(std::move(s));
    ++storm.alert_episodes;
  }
  std::vector<const Episode*> by_start;
  for (const auto& e : episodes) by_start.push_back(&e);
  std::stable_sort(by_start.begin(), by_start.end(),
                   [](const Episode* a, const Episode* b) { return a->start < b->start; });
  for (const Episode* e : by_start) storm.truth.emplace_back(FingerprintOf(e->labels), e->fault);
  std::stable_sort(storm.sends.begin(), storm.sends.end(),
                   [](const StormSend& a, const StormSend& b) { return a.at < b.at; });
  return storm;
}

}  // namespace vigil
