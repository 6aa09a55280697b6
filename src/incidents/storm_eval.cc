#include "incidents/storm_eval.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include "incidents/alert_pipeline.h"

namespace vigil {

void StormScore::Add(const StormScore& o) {
  alerts += o.alerts;
  notifications += o.notifications;
  all_clears += o.all_clears;
  split_notices += o.split_notices;
  incidents += o.incidents;
  faults += o.faults;
  missed_faults += o.missed_faults;
  shared_alerts += o.shared_alerts;
  same_incident_pairs += o.same_incident_pairs;
  same_fault_pairs += o.same_fault_pairs;
  agreeing_pairs += o.agreeing_pairs;
}

AlertingConfig StormAlertingConfig(const Storm& storm) {
  AlertingConfig cfg = DefaultAlertingConfig();
  cfg.receivers[0].webhooks.push_back(WebhookTarget{"http://127.0.0.1:9/oncall", true, 0});
  cfg.route.group_wait_ms = 30'000;
  cfg.route.group_interval_ms = 5 * 60'000;
  cfg.route.repeat_interval_ms = 4 * 3600'000;
  cfg.topology = storm.topology;
  return cfg;
}

namespace {
double Pairs(double n) { return n * (n - 1) / 2; }

// Each scored fault alert outside its fault's main incident, by why it
// could be there: the services it relates to and the faults' timing. An
// incident is the fault's whose root is its suspected root (else the
// fault with most alerts there); a fault's main incident is the one of
// its own holding most of its alerts. One line per storm, summed by
// scripts; what docs/alerts.md's breakdowns count.
//   own-root      the alert is on its fault's root service (the fault's
//                 core went elsewhere: chained roots, a root blip);
//   shared-both   its service depends on both its root and the root of
//                 its incident's fault, and both faults fired there;
//   shared-one    the same, but only its own fault fired there;
//   only-own      its service depends on its root and not on the other's
//                 (topology alone says it is not the other fault's);
//   split         its incident is its fault's too, not the main one;
//   noise-inc     its incident is dominated by noise;
//   none          it is in no incident;
// suffixed by the gap between the two faults' starts (<60s, <180s, more)
// where another fault dominates.
void ExplainModes(const Storm& storm, const std::map<int, std::set<Fingerprint>>& by_fault,
                  const std::map<Fingerprint, int64_t>& incident_of, const std::map<int64_t, int>& owner,
                  std::string* out) {
  std::map<std::string, int> modes;
  std::map<Fingerprint, std::string> service_of;
  for (const auto& s : storm.sends) service_of[FingerprintOf(s.alert.labels)] = std::string(s.alert.labels.Get("service"));
  std::map<std::pair<std::string, int>, bool> hit;  // (service, fault): the fault fired there
  for (const auto& [f, fps] : by_fault) {
    for (Fingerprint fp : fps) hit[{service_of[fp], f}] = true;
  }
  for (const auto& [f, fps] : by_fault) {
    std::map<int64_t, int> where;
    for (Fingerprint fp : fps) {
      auto it = incident_of.find(fp);
      if (it != incident_of.end() && !storm.shared.count(fp)) ++where[it->second];
    }
    int64_t main_inc = 0;
    int most = 0;
    for (auto [inc, n] : where) {
      if (n > most && owner.at(inc) == f) main_inc = inc, most = n;
    }
    const StormFault& fault = storm.faults[static_cast<size_t>(f)];
    for (Fingerprint fp : fps) {
      if (storm.shared.count(fp)) continue;
      auto it = incident_of.find(fp);
      if (it == incident_of.end()) {
        ++modes["none"];
        continue;
      }
      int m = owner.at(it->second);
      if (it->second == main_inc) continue;
      if (m == f) {
        ++modes["split"];
        continue;
      }
      if (m < 0) {
        ++modes["noise-inc"];
        continue;
      }
      const StormFault& other = storm.faults[static_cast<size_t>(m)];
      const std::string& svc = service_of[fp];
      auto reaches = [&](const std::string& root) { return svc == root || storm.topology.DependsOn(svc, root); };
      std::string mode = svc == fault.root_service       ? "own-root"
                         : !reaches(other.root_service)   ? "only-own"
                         : hit[{svc, m}] ? "shared-both"  // the other fault fired there too
                                         : "shared-one";
      TimestampMs gap = std::llabs(fault.start_ms - other.start_ms);
      mode += (gap < 60'000 ? "<60s" : gap < 180'000 ? "<180s" : ">=180s");
      ++modes[mode];
    }
  }
  *out += "modes:";
  for (const auto& [m, n] : modes) *out += " " + m + "=" + std::to_string(n);
  *out += "\n";
}

// The wrongly merged pairs (what purity loses), by what put them together.
// In each incident, a pair of alerts of two true clusters (faults; each
// noise alert is a cluster of its own) is charged to the alert outside the
// incident's owner fault (both halves when neither is the owner's). Keys:
// the alert's mode (as ExplainModes, noise for noise), how its fault's
// root relates to the owner's (in: it depends on the owner's root, a
// nested fault; out: the owner's root depends on it; apart: neither), and
// the gap between the faults' starts (its fault's less the owner's:
// <-180s, <-60s, ~0 (within a minute), <180s, >=180s). Summed by scripts.
void ExplainPairs(const Storm& storm, const std::map<Fingerprint, int>& truth,
                  const std::map<Fingerprint, int64_t>& incident_of, const std::map<int64_t, int>& owner,
                  std::string* out) {
  std::map<Fingerprint, std::string> service_of;
  for (const auto& s : storm.sends) service_of[FingerprintOf(s.alert.labels)] = std::string(s.alert.labels.Get("service"));
  std::map<int64_t, std::map<int, int>> size;  // incident -> fault (noise: -1, counted apart) -> scored alerts
  std::map<int64_t, int> scored;
  for (const auto& [fp, f] : truth) {
    auto it = incident_of.find(fp);
    if (it == incident_of.end() || storm.shared.count(fp)) continue;
    ++scored[it->second];
    if (f >= 0) ++size[it->second][f];
  }
  std::map<std::string, double> pairs;
  double total = 0;
  for (const auto& [fp, f] : truth) {
    auto it = incident_of.find(fp);
    if (it == incident_of.end() || storm.shared.count(fp)) continue;
    const int64_t inc = it->second;
    const int own = owner.at(inc);
    if (f >= 0 && f == own) continue;
    const int mine = f >= 0 ? size[inc][f] : 1;
    const int own_n = own >= 0 && size[inc].count(own) ? size[inc][own] : 0;
    // With the owner's alerts: all charged here; with the other outsiders: half.
    double w = own_n + 0.5 * (scored[inc] - mine - own_n);
    if (w <= 0) continue;
    total += w;
    std::string key;
    if (f < 0) {
      key = "noise";
    } else if (own < 0) {
      key = "in-noise-inc";
    } else {
      const StormFault& fault = storm.faults[static_cast<size_t>(f)];
      const StormFault& other = storm.faults[static_cast<size_t>(own)];
      const std::string& svc = service_of[fp];
      bool hit_other = false;
      for (const auto& [g, h] : truth) hit_other = hit_other || (h == own && service_of[g] == svc);
      key = svc == fault.root_service ? "own-root"
            : !(svc == other.root_service || storm.topology.DependsOn(svc, other.root_service)) ? "only-own"
            : hit_other ? "shared-both" : "shared-one";
      key += storm.topology.DependsOn(fault.root_service, other.root_service)   ? "/in"
             : storm.topology.DependsOn(other.root_service, fault.root_service) ? "/out"
                                                                                 : "/apart";
      TimestampMs gap = fault.start_ms - other.start_ms;
      key += gap < -180'000 ? "/<-180s" : gap < -60'000 ? "/<-60s" : gap <= 60'000 ? "/~0" : gap < 180'000 ? "/<180s" : "/>=180s";
    }
    pairs[key] += w;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "pairs: wrong=%.1f", total);
  *out += buf;
  for (const auto& [k, w] : pairs) {
    std::snprintf(buf, sizeof buf, " %s=%.1f", k.c_str(), w);
    *out += buf;
  }
  *out += "\n";
}

void Explain(const Storm& storm, TimestampMs begin, const std::map<Fingerprint, int>& truth,
             const std::map<int, std::set<Fingerprint>>& by_fault, const std::map<Fingerprint, int64_t>& incident_of,
             const std::map<Fingerprint, std::string>& described, const std::map<int64_t, std::string>& root_of,
             const std::set<Fingerprint>& notified, std::string* out) {
  char buf[256];
  for (const auto& fault : storm.faults) {
    std::snprintf(buf, sizeof buf, "fault %d root %s %llds-%llds, %d alerts:", fault.id, fault.root_service.c_str(),
                  static_cast<long long>((fault.start_ms - begin) / 1000),
                  static_cast<long long>((fault.end_ms - begin) / 1000), fault.alerts);
    *out += buf;
    std::map<int64_t, int> where;  // incident (0 = none) -> alerts
    auto f = by_fault.find(fault.id);
    if (f != by_fault.end()) {
      for (Fingerprint fp : f->second) {
        auto it = incident_of.find(fp);
        ++where[it == incident_of.end() ? 0 : it->second];
      }
    }
    for (auto [inc, n] : where) *out += " incident " + std::to_string(inc) + ": " + std::to_string(n) + ";";
    bool paged = false;
    if (f != by_fault.end()) {
      for (Fingerprint fp : f->second) paged = paged || notified.count(fp);
    }
    if (!paged) *out += " MISSED (none of its alerts was in a firing notification or a split notice)";
    *out += "\n";
  }
  std::map<int64_t, std::map<int, int>> mix;  // incident -> fault (-1 = noise) -> alerts
  for (const auto& [fp, f] : truth) {
    auto it = incident_of.find(fp);
    if (it != incident_of.end()) ++mix[it->second][f];
  }
  std::map<int64_t, int> major;
  for (const auto& [inc, faults] : mix) {
    auto r = root_of.find(inc);
    *out += "incident " + std::to_string(inc) + " (root " + (r == root_of.end() ? std::string("?") : r->second) + "):";
    int best = -1, most = 0;
    for (auto [f, n] : faults) {
      *out += (f < 0 ? std::string(" noise ") : " fault " + std::to_string(f) + " ") + std::to_string(n) + ";";
      if (n > most) best = f, most = n;
    }
    major[inc] = best;
    *out += "\n";
  }
  for (const auto& [fp, f] : truth) {
    auto it = incident_of.find(fp);
    if (f < 0 || it == incident_of.end() || major[it->second] == f) continue;
    auto d = described.find(fp);
    *out += "  fault " + std::to_string(f) + " alert in incident " + std::to_string(it->second) + " (mostly fault " +
            std::to_string(major[it->second]) + "): " + (d == described.end() ? std::string("?") : d->second) +
            (storm.shared.count(fp) ? " [shared: another fault fired it too; not scored]" : "") + "\n";
  }
  std::map<int64_t, int> owner = major;
  for (auto& [inc, f] : owner) {
    auto r = root_of.find(inc);
    for (const auto& fault : storm.faults) {
      if (r != root_of.end() && fault.root_service == r->second && mix[inc].count(fault.id)) f = fault.id;
    }
  }
  ExplainModes(storm, by_fault, incident_of, owner, out);
  ExplainPairs(storm, truth, incident_of, owner, out);
}
}  // namespace

StormScore RunStorm(const Storm& storm, const AlertingConfig& cfg, std::string* explain, bool score_shared) {
  int64_t ids = 0;
  AlertPipeline p(cfg, [&ids] { return ++ids; });
  std::map<Fingerprint, int64_t> incident_of;  // last incident each alert was in
  std::set<Fingerprint> notified;              // alerts shown firing in a notification
  std::map<Fingerprint, std::string> described;  // --explain: labels and first seen
  StormScore score;
  AlertPipeline::Output out;
  TimestampMs begin = storm.sends.empty() ? 0 : storm.sends.front().at;
  std::map<int64_t, std::string> root_of;  // --explain: each incident's latest suspected root
  auto collect = [&] {
    if (explain) {
      for (const auto& ch : out.incidents) {
        if (const AlertIncident* inc = p.correlator().Find(ch.incident_id)) root_of[ch.incident_id] = inc->root_service;
      }
    }
    for (Fingerprint fp : out.changed_alerts) {
      const TrackedAlert* t = p.alerts().Find(fp);
      if (t && t->incident_id) incident_of[fp] = t->incident_id;
      if (t && !t->incident_id) {
        // Taken out of its incident (a blip, AlertCorrelator::BlipDuringFault):
        // in none now. (An alert whose incident is merely over keeps it.)
        auto was = incident_of.find(fp);
        const AlertIncident* inc = was == incident_of.end() ? nullptr : p.correlator().Find(was->second);
        if (inc && !inc->alerts.count(fp)) incident_of.erase(was);
      }
      if (explain && t && !described.count(fp)) {
        described[fp] = t->alert.labels.ToString() + " first seen " + std::to_string((t->first_seen_ms - begin) / 1000) + "s";
      }
    }
    for (const auto& n : out.notifications) {
      for (const auto& t : n.firing) notified.insert(t.fingerprint);
      // A split notice tells of a fault nobody was paged about, after it ended.
      if (!n.notice.empty()) {
        for (const auto& t : n.resolved) notified.insert(t.fingerprint);
        ++score.split_notices;
      }
    }
    score.notifications += static_cast<int64_t>(out.notifications.size());
    for (const auto& n : out.notifications) score.all_clears += n.all_resolved() ? 1 : 0;
    out = {};
  };
  size_t next = 0;
  TimestampMs end = storm.sends.empty() ? 0 : storm.sends.back().at + 30 * 60'000;
  for (TimestampMs now = begin; now <= end; now += 1000) {
    while (next < storm.sends.size() && storm.sends[next].at <= now) {
      p.Receive(storm.sends[next].alert, now, &out);
      ++next;
    }
    p.Tick(now, &out);
    collect();
  }
  score.incidents = ids;
  score.alerts = storm.alert_episodes;
  score.faults = static_cast<int64_t>(storm.faults.size());
  // Truth per fingerprint: the fault whose episode started it (the first in
  // time, when two faults fire the same rule on the same pod; noise = -1).
  std::map<Fingerprint, int> truth;
  for (const auto& [fp, f] : storm.truth) {
    auto it = truth.find(fp);
    if (it == truth.end() || (it->second < 0 && f >= 0)) truth[fp] = f;
  }
  std::map<int, std::set<Fingerprint>> by_fault;
  for (const auto& [fp, f] : truth) {
    if (f >= 0) by_fault[f].insert(fp);
  }
  for (const auto& fault : storm.faults) {
    bool seen = false;
    for (Fingerprint fp : by_fault[fault.id]) seen = seen || notified.count(fp);
    if (!seen) ++score.missed_faults;
  }
  // Contingency of (true cluster, predicted cluster); singletons where absent.
  std::map<std::pair<int64_t, int64_t>, double> cell;
  std::map<int64_t, double> true_size, pred_size;
  int64_t singleton = -1;
  score.shared_alerts = static_cast<int64_t>(storm.shared.size());
  for (const auto& [fp, f] : truth) {
    if (!score_shared && storm.shared.count(fp)) continue;
    int64_t tc = f >= 0 ? f : (1LL << 40) + static_cast<int64_t>(fp % (1ULL << 40));
    auto it = incident_of.find(fp);
    int64_t pc = it != incident_of.end() ? it->second : singleton--;
    cell[{tc, pc}] += 1;
    true_size[tc] += 1;
    pred_size[pc] += 1;
  }
  if (explain) Explain(storm, begin, truth, by_fault, incident_of, described, root_of, notified, explain);
  for (const auto& [k, n] : cell) score.agreeing_pairs += Pairs(n);
  for (const auto& [k, n] : true_size) score.same_fault_pairs += Pairs(n);
  for (const auto& [k, n] : pred_size) score.same_incident_pairs += Pairs(n);
  return score;
}

}  // namespace vigil
