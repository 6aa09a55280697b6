#include "incidents/alert_correlator.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>

namespace vigil {

namespace {

int SeverityRank(std::string_view s) {
  if (s == "critical" || s == "page" || s == "error") return 3;
  if (s == "warning" || s == "warn") return 2;
  if (s.empty()) return 0;
  return 1;
}

// How much earlier than its cause a symptom may be seen to start (scrape
// and rule-evaluation jitter).
constexpr TimestampMs kCauseSlackMs = 60'000;
// How long after a symptom began to clear its root resolves something at
// the latest (SplitClearedBeforeRoot).
constexpr TimestampMs kRootClearsWithinMs = 150'000;

// Relatedness scores, strongest first (see Relatedness).
constexpr int kSameRule = 26;   // the same rule on the same service, its episode begun within onset_spread
constexpr int kClose = 24;      // same entity or service, or the propagation path, fresh
constexpr int kLate = 23;       // the same, but its episode began more than onset_spread ago
constexpr int kLoose = 22;      // depends on the root (or is deeper), the nearest front
// BestMatch adds NamedEdgeTier times this to the score: an incident the
// alert's named call edge leads into outranks any relation without it.
constexpr int kNamedEdge = 100;

// With correlation.page_critical_symptoms, topology inhibition mutes a
// caller's alerts below this severity only; see MutedAsSymptom.
constexpr int kUnmutedSeverityRank = 3;

TimestampMs StartOf(const TrackedAlert& t) { return t.alert.starts_ms > 0 ? t.alert.starts_ms : t.first_seen_ms; }

// When `service`'s failure in `inc` began (INT64_MAX when it has no alert
// there). Lags run from onsets, not episodes: a root that kept failing for
// minutes and fired one more rule does not make a caller failing now look
// like its fresh symptom. Alerts moved in (Adopt) have an onset only.
TimestampMs OnsetIn(const AlertIncident& inc, const std::string& service) {
  auto s = inc.service_since.find(service);
  auto o = inc.service_onset.find(service);
  TimestampMs began = s != inc.service_since.end() ? s->second : INT64_MAX;
  return o != inc.service_onset.end() ? std::min(o->second, began) : began;
}

// When the last run of resolutions began: the earliest of `resolved` that
// reaches the latest through gaps of at most `gap`. A service's (or a
// root's) rules clear over minutes once its cause is gone (rate windows,
// backlogs draining); a blip that resolved long before is not part of it.
TimestampMs ClearingBegan(std::vector<TimestampMs> resolved, TimestampMs gap) {
  std::sort(resolved.rbegin(), resolved.rend());
  TimestampMs began = resolved.empty() ? 0 : resolved.front();
  for (TimestampMs r : resolved) {
    if (began - r > gap) break;
    began = r;
  }
  return began;
}

TimelineEntry Line(TimestampMs ts, const char* kind, std::string text, int64_t ref = 0) {
  TimelineEntry e;
  e.ts_ms = ts;
  e.kind = kind;
  e.text = std::move(text);
  e.ref_id = ref;
  return e;
}

std::string AlertLine(const TrackedAlert& t) {
  std::string s(t.alert.labels.Get("alertname"));
  s += " " + t.alert.labels.ToString();
  return s;
}

// The timeline line for a service whose first alert was as related to
// `other` as to the incident it joined; `gap_ms`: the joined incident's
// evidence time less the other's.
TimelineEntry TiedLine(TimestampMs now, const std::string& svc, const AlertIncident& other, TimestampMs gap_ms) {
  const std::string id = std::to_string(other.id);
  const TimestampMs gap = std::llabs(gap_ms);
  const std::string when = gap < 1000 ? "at the same time as this incident's"
                                      : std::to_string(gap / 1000) + " s " + (gap_ms > 0 ? "earlier" : "later") +
                                            " than this incident's";
  return Line(now, "alert",
              svc + " is as closely related to incident " + id + " (suspected root " + other.root_service +
                  "), whose evidence began " + when + ": " + svc +
                  "'s alerts may be that fault's (if so, split them off and merge them into incident " + id + ")",
              other.id);
}

}  // namespace

AlertCorrelator::AlertCorrelator(const CorrelationConfig& cfg, const ServiceTopology* topology,
                                 std::function<int64_t()> next_id)
    : cfg_(cfg), topo_(topology), next_id_(std::move(next_id)) {}

std::string AlertCorrelator::ServiceOf(const Labels& labels) const {
  return std::string(labels.FirstOf(cfg_.service_labels));
}

std::string AlertCorrelator::EntityOf(const Labels& labels) const {
  for (const auto& n : cfg_.entity_labels) {
    std::string_view v = labels.Get(n);
    if (!v.empty()) return n + "=" + std::string(v);
  }
  return {};
}

std::string AlertCorrelator::RuleOf(const Labels& labels) const {
  std::string svc = ServiceOf(labels);
  std::string_view name = labels.Get("alertname");
  if (svc.empty() || name.empty()) return {};
  return svc + "/" + std::string(name);
}

bool AlertCorrelator::KnownService(const std::string& service) const {
  if (topo_ && topo_->Knows(service)) return true;
  for (const auto* pool : {&incidents_, &candidates_}) {
    for (const auto& [id, inc] : *pool) {
      if (!inc.resolved && inc.services.count(service)) return true;
    }
  }
  return false;
}

std::string AlertCorrelator::DependencyOf(const Labels& labels, const std::string& service) const {
  for (const auto& name : cfg_.dependency_labels) {
    std::string_view v = labels.Get(name);
    if (v.empty()) continue;
    // Meshes name a destination by its DNS name
    // ("reviews.default.svc.cluster.local"); the service is its first part.
    for (std::string_view cand : {v, v.substr(0, v.find('.'))}) {
      std::string dep(cand);
      if (!dep.empty() && dep != service && KnownService(dep)) return dep;
    }
  }
  return {};
}

int AlertCorrelator::NamedEdgeTier(const AlertIncident& inc, const std::string& dependency) const {
  if (dependency.empty() || inc.root_service.empty()) return 0;
  bool is_root = dependency == inc.root_service;
  bool through = is_root || (topo_ && DependsOn(dependency, inc.root_service));
  return (through ? 2 : 0) + (is_root || inc.services.count(dependency) ? 1 : 0);
}

bool AlertCorrelator::IsSymptom(const AlertIncident& inc, const std::string& service) const {
  // Only a root that is itself firing (and not flapping) explains others away.
  if (inc.root_firing) return Downstream(inc, service);
  // Once its own root recovered, an alert still firing downstream of another
  // live incident's failing root is explained by that one (two faults
  // reaching one caller keep its alerts firing; the receiver was paged about
  // both roots). Downstream of no failing root, it is news.
  for (const auto& [id, other] : incidents_) {
    if (&other != &inc && !other.resolved && other.root_firing && Downstream(other, service)) return true;
  }
  return false;
}

AlertCorrelator::ServiceAlertCount AlertCorrelator::CountServiceAlerts(
    const AlertIncident& inc, const std::string& service,
    const std::function<TrackedAlert*(Fingerprint)>& alerts) const {
  ServiceAlertCount n;
  for (Fingerprint fp : inc.alerts) {
    const TrackedAlert* t = alerts(fp);
    if (!t || t->flapping || ServiceOf(t->alert.labels) != service) continue;
    ++n.total;
    n.firing += t->firing ? 1 : 0;
  }
  return n;
}

bool AlertCorrelator::MostlyResolved(const AlertIncident& inc, const std::string& service,
                                     const std::function<TrackedAlert*(Fingerprint)>& alerts) const {
  return CountServiceAlerts(inc, service, alerts).MostlyResolved();
}

bool AlertCorrelator::ExplainedByEarlierRoot(const AlertIncident& inc, const std::string& service,
                                             const std::function<TrackedAlert*(Fingerprint)>& alerts) const {
  // IsSymptom once the incident's root recovered, counting only the other
  // live incidents' failing roots that began failing no later than the
  // latest of the service's alerts here (within the cause slack): a cause
  // precedes its effects, so a root that began after every alert the
  // service has here cannot be why any of them fire (storms stop 14:
  // 17067, core-5's alerts all began at 313-394 s, outlived their root
  // data-0 and stayed muted as symptoms of three roots begun at 666-941 s).
  TimestampMs latest = INT64_MIN;
  for (Fingerprint fp : inc.alerts) {
    const TrackedAlert* t = alerts(fp);
    if (t && !t->flapping && ServiceOf(t->alert.labels) == service) latest = std::max(latest, StartOf(*t));
  }
  for (const auto& [id, other] : incidents_) {
    if (&other == &inc || other.resolved || !other.root_firing || !Downstream(other, service)) continue;
    const TimestampMs began = OnsetIn(other, other.root_service);
    if (latest == INT64_MIN || began == INT64_MAX || began <= latest + kCauseSlackMs) return true;
  }
  return false;
}

bool AlertCorrelator::BeganTooLateForASymptom(const AlertIncident& inc, const std::string& service,
                                              std::string* front_service, TimestampMs* lag, bool early) const {
  // A fault reaches a caller a hop delay after its callee, and the caller's
  // first alert follows within its rules' evaluation: a service whose
  // alerts began minutes after every failing service it depends on in the
  // incident was not dragged down by them (nested in the incident by
  // topology alone, its own fault would be muted and nobody paged).
  if (cfg_.symptom_lag_ms <= 0 || !topo_) return false;
  // Asked for every alert at every re-send: cached while no episode moved
  // (not for a service moved in: that looks at other incidents too).
  const bool moved_in = !inc.service_since.count(service);
  if (!front_service && !lag && !moved_in && early) {
    auto c = inc.late_symptom_cache.find(service);
    if (c != inc.late_symptom_cache.end() && c->second.first == inc.since_version) return c->second.second;
    std::string front;
    bool late = BeganTooLateForASymptom(inc, service, &front, nullptr);
    if (inc.late_symptom_cache.size() < inc.services.size() + 1) {
      inc.late_symptom_cache[service] = {inc.since_version, late};
    } else {
      inc.late_symptom_cache.clear();
    }
    return late;
  }
  TimestampMs own = OnsetIn(inc, service);
  if (own == INT64_MAX) return false;
  const std::string* front = nullptr;
  TimestampMs front_since = INT64_MIN;
  for (const auto& [dep, n] : inc.services) {
    TimestampMs began = OnsetIn(inc, dep);
    if (dep != service && began != INT64_MAX && began <= own && began > front_since && DependsOn(service, dep)) {
      front = &dep;
      front_since = began;
    }
  }
  if (!front) return early && BeganBeforeItsCause(inc, service, own, front_service, lag);
  TimestampMs late_by = own - front_since;
  if (late_by <= cfg_.symptom_lag_ms) {
    // Its first alert came within symptom_lag, but a fault's alerts on a
    // service all begin within onset_spread of reaching it (rule
    // evaluation, pods at their own pace), so the last alert of its onset
    // burst, less onset_spread, is the earliest the failure can have
    // reached it. When that is more than symptom_lag less half an
    // onset_spread after the latest onset of anything it depends on (in
    // any live incident: it may be another fault's symptom), no failing
    // dependency reached it within a hop: a fault of its own begun right
    // after its callee's (storms stop 11).
    auto b = inc.service_burst.find(service);
    if (moved_in || b == inc.service_burst.end() || cfg_.onset_spread_ms <= 0) return false;
    TimestampMs reached = std::min(own, b->second.second - cfg_.onset_spread_ms);
    TimestampMs latest = front_since;
    for (const auto* pool : {&incidents_, &candidates_}) {
      for (const auto& [id, other] : *pool) {
        if (other.resolved || &other == &inc) continue;
        for (const auto& [dep, n] : other.services) {
          TimestampMs began = OnsetIn(other, dep);
          if (dep != service && began <= own && began > latest && DependsOn(service, dep)) {
            latest = began;
            front = &dep;
          }
        }
      }
    }
    // Through a dependency further down (one between has not alerted) the
    // failure may have taken several hops: nothing to judge by.
    if (!topo_->Callees(service).count(*front)) return false;
    late_by = reached - latest;
    if (late_by <= cfg_.symptom_lag_ms - cfg_.onset_spread_ms / 2) return false;
  }
  // A service moved in by a re-attribution (ReclaimClearedWithRoot,
  // HandOverToFailingRoot) may have begun as the symptom of a failing
  // service in another incident, where it was misplaced before: too late
  // only when nothing it depends on anywhere began within symptom_lag
  // before it.
  if (moved_in) {
    for (const auto& [id, other] : incidents_) {
      if (&other == &inc || other.resolved) continue;
      for (const auto& [dep, n] : other.services) {
        TimestampMs began = OnsetIn(other, dep);
        if (dep != service && began <= own && own - began <= cfg_.symptom_lag_ms && DependsOn(service, dep)) {
          return false;
        }
      }
    }
  }
  if (front_service) *front_service = *front;
  if (lag) *lag = late_by;
  return true;
}

bool AlertCorrelator::BeganBeforeItsCause(const AlertIncident& inc, const std::string& service, TimestampMs own,
                                          std::string* front_service, TimestampMs* lag) const {
  // Everything it depends on began failing after it. A fault reaches a
  // caller after its callee, and the callee's alerts all begin within
  // onset_spread of the fault reaching it, so the last of its onset burst,
  // less onset_spread, is the earliest that can have been: a service whose
  // alerts began before that, for every failing dependency, was failing
  // before any of them could have reached it (storms stop 11).
  if (!inc.service_since.count(service) || cfg_.onset_spread_ms <= 0) return false;
  const std::string* first = nullptr;
  TimestampMs earliest = INT64_MAX;
  for (const auto* pool : {&incidents_, &candidates_}) {
    for (const auto& [id, other] : *pool) {
      if (other.resolved && &other != &inc) continue;
      for (const auto& [dep, n] : other.services) {
        if (dep == service || !DependsOn(service, dep)) continue;
        TimestampMs began = OnsetIn(other, dep);
        if (began <= own) {
          if (own - began <= cfg_.symptom_lag_ms) return false;  // it may have come from there
          continue;
        }
        auto b = other.service_burst.find(dep);
        if (b != other.service_burst.end()) began = std::min(began, b->second.second - cfg_.onset_spread_ms);
        if (began < earliest) {
          earliest = began;
          first = &dep;
        }
      }
    }
  }
  if (!first || own >= earliest) return false;
  if (front_service) *front_service = *first;
  if (lag) *lag = own - earliest;
  return true;
}

bool AlertCorrelator::PagedEvenAsSymptom(const TrackedAlert& t) const {
  return cfg_.page_critical_symptoms && SeverityRank(t.severity) >= kUnmutedSeverityRank;
}

bool AlertCorrelator::MutedAsSymptom(const AlertIncident& inc, const TrackedAlert& t) const {
  if (PagedEvenAsSymptom(t)) return false;
  std::string svc = ServiceOf(t.alert.labels);
  return IsSymptom(inc, svc) && !BeganTooLateForASymptom(inc, svc);
}

bool AlertCorrelator::FirstUnmutedOn(const AlertIncident& inc, const TrackedAlert& t,
                                     const std::function<TrackedAlert*(Fingerprint)>& alerts) const {
  const std::string svc = ServiceOf(t.alert.labels);
  for (Fingerprint fp : inc.alerts) {
    const TrackedAlert* o = alerts(fp);
    if (o && o != &t && SeverityRank(o->severity) >= kUnmutedSeverityRank && ServiceOf(o->alert.labels) == svc) {
      return false;
    }
  }
  return true;
}

void AlertCorrelator::UpdateRootFiring(AlertIncident& inc, const std::function<TrackedAlert*(Fingerprint)>& alerts,
                                       TimestampMs now) const {
  inc.root_firing = false;
  // Symptoms outlive their cause by a little while: a root that resolved
  // within the propagation window still explains them.
  for (Fingerprint fp : inc.alerts) {
    const TrackedAlert* t = alerts(fp);
    if (!t || t->flapping || ServiceOf(t->alert.labels) != inc.root_service) continue;
    if (t->firing || now - t->resolved_ms <= cfg_.propagation_window_ms) {
      inc.root_firing = true;
      return;
    }
  }
}

bool AlertCorrelator::Downstream(const AlertIncident& inc, const std::string& service) const {
  if (!topo_ || service.empty() || inc.root_service.empty() || service == inc.root_service) return false;
  return DependsOn(service, inc.root_service);
}

bool AlertCorrelator::DependsOn(const std::string& service, const std::string& dependency) const {
  auto key = std::make_pair(service, dependency);
  auto it = depends_cache_.find(key);
  if (it != depends_cache_.end()) return it->second;
  bool d = topo_->DependsOn(service, dependency);
  if (depends_cache_.size() < 100'000) depends_cache_.emplace(key, d);
  return d;
}

int AlertCorrelator::Relatedness(const AlertIncident& inc, const std::string& service, const std::string& entity,
                                 const std::string& rule, TimestampMs now, bool weak_path, TimestampMs* evidence) const {
  auto fresh = [&](TimestampMs since) { return now - since <= cfg_.propagation_window_ms; };
  // A relation whose episode began more than onset_spread ago is late: one
  // fault's alerts on a service begin together (the fault reaches it once),
  // so a new alert there minutes later may be a second fault arriving by
  // another callee.
  auto late = [&](TimestampMs since) { return cfg_.onset_spread_ms > 0 && now - since > cfg_.onset_spread_ms; };
  int best = 0;
  *evidence = INT64_MIN;
  auto take = [&](int score, TimestampMs since) {
    if (score > best || (score == best && since > *evidence)) {
      best = score;
      *evidence = since;
    }
  };
  auto consider = [&](bool close, TimestampMs since) {
    // Fresh relations: entity, service and propagation path rank alike (the
    // most recent evidence decides among them), above the looser topology ones.
    // Only fresh evidence relates: an alert that starts long after the
    // current episode of its service (entity) in an incident began is a
    // different problem, or a blip (measured on the storm suite: letting
    // stale relations join put background noise into fault incidents and
    // kept quiet incidents paging).
    if (!fresh(since)) return;
    take(!close ? kLoose : late(since) ? kLate : kClose, since);
  };
  // The strongest relation: the same rule already failing on the same
  // service in the incident (one fault shows the same symptom on the pods of
  // a service; a second fault reaching a shared caller mostly fires other
  // rules there). Measured on the storm suite: attributing shared callers by
  // service and recency alone gave many of a fault's late alerts there to a
  // concurrent fault. A late one ranks as any late relation.
  if (!rule.empty()) {
    auto it = inc.rule_since.find(rule);
    if (it != inc.rule_since.end() && fresh(it->second)) {
      if (!late(it->second)) {
        *evidence = it->second;
        return kSameRule;
      }
      consider(true, it->second);
    }
  }
  if (!entity.empty()) {
    auto it = inc.entity_since.find(entity);
    if (it != inc.entity_since.end()) consider(true, it->second);
  }
  if (service.empty()) return best;
  auto own = inc.service_since.find(service);
  if (own != inc.service_since.end()) consider(true, own->second);
  if (!topo_ || inc.root_service.empty()) return best;
  bool downstream = Downstream(inc, service);
  if (downstream) {
    // On the propagation path: it calls a service that just started alerting.
    for (const auto& callee : topo_->Callees(service)) {
      auto it = inc.service_since.find(callee);
      if (it == inc.service_since.end()) continue;
      // One alert on the callee is too weak a cause to pull callers in,
      // when other services of the incident have more; in a candidate it
      // never is (chains of single blips on adjacent services would add up
      // to an incident, and catch the first alerts of a real fault).
      auto n = inc.services.find(callee);
      int need = inc.open ? std::min(2, inc.max_service_alerts) : 2;
      if (fresh(it->second) && n != inc.services.end() && n->second >= need) {
        consider(true, it->second);
      } else if (weak_path && inc.open && !late(it->second)) {
        // Against a late relation elsewhere only (OnAlert): one alert on a
        // callee that began within onset_spread is as good as that, and
        // fresher (a fast second fault: its caller's first alert comes
        // before the callee's second).
        take(kLate, it->second);
      }
    }
  }
  auto root = inc.service_since.find(inc.root_service);
  if (root != inc.service_since.end() && fresh(root->second) &&
      (downstream || (DependsOn(inc.root_service, service) && now - root->second <= kCauseSlackMs))) {
    consider(false, root->second);  // further up the path, or deeper than the suspected root
  }
  if (downstream && best <= kLate) {
    // Further up the path, the fault's front nearest to it decides: its
    // dependency in the incident that began failing most recently (two
    // concurrent faults below a caller whose direct callee has not alerted
    // yet: the root that began last is not the better guess, the front
    // that just moved next to it is).
    for (const auto& [dep, n] : inc.services) {
      auto d = inc.service_since.find(dep);
      if (d != inc.service_since.end() && fresh(d->second) && DependsOn(service, dep)) consider(false, d->second);
    }
  }
  return best;
}

AlertIncident* AlertCorrelator::BestMatch(std::map<int64_t, AlertIncident>& pool, const std::string& service,
                                          const std::string& entity, const std::string& rule, TimestampMs now,
                                          bool close_only, int* score, bool weak_path,
                                          const std::string& dependency, Rival* rival) {
  AlertIncident* best = nullptr;
  *score = 0;
  TimestampMs best_evidence = INT64_MIN;
  AlertIncident* second = nullptr;
  int second_score = 0;
  TimestampMs second_evidence = INT64_MIN;
  for (auto& [id, inc] : pool) {
    if (inc.resolved || inc.last_ms < now - cfg_.window_ms) continue;
    TimestampMs evidence = 0;
    int s = Relatedness(inc, service, entity, rule, now, weak_path, &evidence);
    if (s == 0 || (close_only && s <= kLoose)) continue;
    // The named call edge ranks first, among incidents related anyway (a
    // label alone never joins an alert to an incident it is otherwise
    // unrelated to).
    s += kNamedEdge * NamedEdgeTier(inc, dependency);
    // Among equally related incidents, the one with the most recent evidence.
    if (s > *score || (s == *score && evidence > best_evidence)) {
      if (best) {
        second = best;
        second_score = *score;
        second_evidence = best_evidence;
      }
      best = &inc;
      *score = s;
      best_evidence = evidence;
    } else if (s > second_score) {
      second = &inc;
      second_score = s;
      second_evidence = evidence;
    }
  }
  if (rival) {
    // Another incident as related as the chosen one, with a suspected root
    // of its own: only the tie-break (the most recent evidence) decided.
    bool tie = best && second && second_score == *score && second->root_service != best->root_service;
    rival->incident = tie ? second : nullptr;
    rival->evidence_gap_ms = tie ? best_evidence - second_evidence : 0;
  }
  return best;
}

void AlertCorrelator::UpdateRoot(AlertIncident& inc, const std::string& service) {
  if (service.empty()) return;
  if (inc.root_service.empty() || !topo_) {
    if (inc.root_service.empty()) inc.root_service = service;
    return;
  }
  // The suspected root is the service that explains most of the incident's
  // alerts: its own and those of the services that depend on it and began
  // failing no earlier than it did (a cause precedes its effects). One
  // alert is weak evidence (a blip on a database must not become the root
  // of the fault of its caller), so a candidate root needs two, unless no
  // service has more. Ties go to the earlier episode, then to the current root.
  const int need = std::min(2, inc.max_service_alerts);
  std::string best = inc.root_service;
  long best_cover = -1;
  TimestampMs best_since = INT64_MAX;
  for (const auto& [cand, n] : inc.services) {
    if (n < need) continue;
    auto cs = inc.service_since.find(cand);
    TimestampMs since = cs == inc.service_since.end() ? 0 : cs->second;
    long cover = 0;
    for (const auto& [other, m] : inc.services) {
      if (other == cand) {
        cover += m;
        continue;
      }
      auto os = inc.service_since.find(other);
      TimestampMs other_since = os == inc.service_since.end() ? 0 : os->second;
      if (other_since + kCauseSlackMs >= since && DependsOn(other, cand)) cover += m;
    }
    bool better = cover > best_cover || (cover == best_cover && since < best_since) ||
                  (cover == best_cover && since == best_since && cand == inc.root_service);
    if (better) {
      best = cand;
      best_cover = cover;
      best_since = since;
    }
  }
  inc.root_service = best;
}

bool AlertCorrelator::FreshServiceEpisode(const AlertIncident& inc, const std::string& service, TimestampMs now,
                                          const std::function<TrackedAlert*(Fingerprint)>& alerts) const {
  auto since = inc.service_since.find(service);
  if (service.empty() || since == inc.service_since.end() || now - since->second <= kCauseSlackMs) return false;
  return !ServiceFiring(inc, service, 0, alerts);
}

bool AlertCorrelator::ServiceFiring(const AlertIncident& inc, const std::string& service, Fingerprint except,
                                    const std::function<TrackedAlert*(Fingerprint)>& alerts) const {
  for (Fingerprint fp : inc.firing) {
    const TrackedAlert* t = fp == except ? nullptr : alerts(fp);
    if (t && t->firing && ServiceOf(t->alert.labels) == service) return true;
  }
  return false;
}

void AlertCorrelator::WidenBurst(AlertIncident& inc, const std::string& service, TimestampMs start) const {
  auto [b, added] = inc.service_burst.emplace(service, std::make_pair(start, start));
  if (added) return;
  auto& [first, last] = b->second;
  if (start < first) {
    first = start;
    last = std::min(last, first + cfg_.onset_spread_ms);
  } else if (start - first <= cfg_.onset_spread_ms) {
    last = std::max(last, start);
  }
}

void AlertCorrelator::Add(AlertIncident& inc, const TrackedAlert& t, TimestampMs now, bool fresh_service_episode,
                          const std::function<TrackedAlert*(Fingerprint)>* alerts) {
  std::string svc = ServiceOf(t.alert.labels);
  std::string ent = EntityOf(t.alert.labels);
  if (inc.alerts.empty()) inc.first_ms = now;
  inc.alerts.insert(t.fingerprint);
  inc.dirty = true;
  if (t.firing) {
    inc.firing.insert(t.fingerprint);
    inc.quiet_since_ms = 0;
  }
  // *_since is when the current episode of alerts on that service (entity)
  // began: a new alert after a quiet propagation window starts a new one.
  auto episode = [&](std::map<std::string, TimestampMs>& since, std::map<std::string, TimestampMs>& last,
                     const std::string& key) {
    auto l = last.find(key);
    if (l == last.end() || now - l->second > cfg_.propagation_window_ms) since[key] = now;
    last[key] = now;
  };
  if (!svc.empty()) {
    inc.max_service_alerts = std::max(inc.max_service_alerts, ++inc.services[svc]);
    if (fresh_service_episode) inc.service_last.erase(svc);
    auto l = inc.service_last.find(svc);
    bool restarts = l == inc.service_last.end() || now - l->second > cfg_.propagation_window_ms;
    // A new episode of a service that kept firing here is not a new failure
    // of it: its onset (what a caller's lag is measured from) stays.
    if (restarts && !(alerts && inc.service_onset.count(svc) && ServiceFiring(inc, svc, t.fingerprint, *alerts))) {
      inc.service_onset[svc] = now;
      inc.service_burst.erase(svc);
    }
    WidenBurst(inc, svc, StartOf(t));
    episode(inc.service_since, inc.service_last, svc);
    ++inc.since_version;
  }
  if (!ent.empty()) {
    inc.entities.insert(ent);
    episode(inc.entity_since, inc.entity_last, ent);
  }
  std::string rule = RuleOf(t.alert.labels);
  if (!rule.empty()) episode(inc.rule_since, inc.rule_last, rule);
  inc.last_ms = std::max(inc.last_ms, now);
  if (SeverityRank(t.severity) > SeverityRank(inc.worst_severity)) inc.worst_severity = t.severity;
  UpdateRoot(inc, svc);
}

void AlertCorrelator::Retitle(AlertIncident& inc, const TrackedAlert* first) const {
  std::string name = first ? std::string(first->alert.labels.Get("alertname")) : std::string("alerts");
  std::string where = inc.root_service.empty() ? std::string("") : " on " + inc.root_service;
  size_t others = inc.alerts.size() > 0 ? inc.alerts.size() - 1 : 0;
  inc.title = name + where;
  if (others > 0) {
    inc.title += " and " + std::to_string(others) + " more alert" + (others == 1 ? "" : "s") + " on " +
                 std::to_string(inc.services.size()) + " service" + (inc.services.size() == 1 ? "" : "s");
  }
}

void AlertCorrelator::MarkSymptoms(AlertIncident& inc, const std::function<TrackedAlert*(Fingerprint)>& alerts,
                                   TimestampMs now) const {
  UpdateRootFiring(inc, alerts, now);
  for (Fingerprint fp : inc.alerts) {
    if (TrackedAlert* t = alerts(fp)) t->symptom = MutedAsSymptom(inc, *t);
  }
}

void AlertCorrelator::DropBlipsBefore(AlertIncident& cand, const std::function<TrackedAlert*(Fingerprint)>& alerts) {
  // A candidate's alert that came and went (fired less than a propagation
  // window) before any other alert of it began overlapped nothing of what
  // the candidate became: a blip on the service (a disk, a certificate, a
  // GC pause) that a fault beginning there a minute or two later joined
  // (by the same service, its episode still fresh). It stays out of the
  // incident that opens, and counts for no evidence. Measured on the storm
  // pools (storms stop 16): purity +0.0009 to +0.0073 on every pool of 100,
  // completeness -0.0004 to +0.0021.
  std::set<Fingerprint> before;
  for (Fingerprint fp : cand.alerts) {
    const TrackedAlert* t = alerts(fp);
    if (!t || t->firing || t->flapping || t->resolved_ms - StartOf(*t) >= cfg_.propagation_window_ms) continue;
    bool first = true;
    for (Fingerprint o : cand.alerts) {
      const TrackedAlert* u = o == fp ? nullptr : alerts(o);
      first = first && (!u || StartOf(*u) > t->resolved_ms);
    }
    if (first) before.insert(fp);
  }
  if (before.empty() || before.size() == cand.alerts.size()) return;
  Detach(cand, before, alerts);
  for (Fingerprint fp : before) candidate_of_.erase(fp);
  if (!cand.services.empty() && !cand.services.count(cand.root_service)) {
    cand.root_service = cand.services.begin()->first;  // the blip's service: judged again among what stays
    UpdateRoot(cand, cand.root_service);
  }
}

void AlertCorrelator::Open(int64_t key, TimestampMs now, const std::function<TrackedAlert*(Fingerprint)>& alerts,
                           std::vector<AlertIncidentChange>* out) {
  auto node = candidates_.extract(key);
  AlertIncident inc = std::move(node.mapped());
  DropBlipsBefore(inc, alerts);
  inc.id = next_id_();
  inc.open = true;
  inc.opened_ms = now;
  AlertIncidentChange ch;
  ch.kind = AlertIncidentChange::Kind::kOpened;
  ch.incident_id = inc.id;
  const TrackedAlert* first = nullptr;
  for (Fingerprint fp : inc.alerts) {
    candidate_of_.erase(fp);
    TrackedAlert* t = alerts(fp);
    if (!t) continue;
    t->incident_id = inc.id;
    if (!first || StartOf(*t) < StartOf(*first)) first = t;
    ch.alerts.push_back(fp);
  }
  Retitle(inc, first);
  MarkSymptoms(inc, alerts, now);
  ch.timeline.push_back(Line(now, "opened", "opened with " + std::to_string(inc.alerts.size()) + " alert(s) on " +
                                                std::to_string(inc.services.size()) + " service(s); suspected root " +
                                                (inc.root_service.empty() ? "unknown" : inc.root_service)));
  for (const auto& [svc, n] : inc.services) {
    ch.timeline.push_back(Line(now, "alert", std::to_string(n) + " alert(s) on " + svc));
  }
  for (auto& e : ch.timeline) e.incident_id = inc.id;
  incidents_.emplace(inc.id, std::move(inc));
  out->push_back(std::move(ch));
}

void AlertCorrelator::OnAlert(TrackedAlert* t, TimestampMs now, const std::function<TrackedAlert*(Fingerprint)>& alerts,
                              std::vector<AlertIncidentChange>* out) {
  if (t->incident_id != 0) {
    auto it = incidents_.find(t->incident_id);
    if (it != incidents_.end() && !it->second.resolved) {
      AlertIncident& inc = it->second;
      bool was = inc.firing.count(t->fingerprint) > 0;
      if (t->firing) {
        inc.firing.insert(t->fingerprint);
        inc.quiet_since_ms = 0;
        inc.last_ms = std::max(inc.last_ms, now);
      } else {
        inc.firing.erase(t->fingerprint);
        if (inc.firing.empty() && inc.quiet_since_ms == 0) inc.quiet_since_ms = now;
      }
      if (was && !t->firing && BlipDuringFault(inc, *t, now, alerts)) {
        // Not the fault's: it leaves the incident (and, resolved, is in none).
        LeaveAsBlip(inc, t, now, now, "", alerts, out);
        return;
      }
      if (was && !t->firing && !t->flapping && inc.id != 0 && now - StartOf(*t) < cfg_.propagation_window_ms &&
          root_blip_checks_.size() < cfg_.max_incidents && ServiceOf(t->alert.labels) == inc.root_service &&
          ServiceFiring(inc, inc.root_service, t->fingerprint, alerts)) {
        // Spared by BlipDuringFault (begun with the root's onset): a root
        // pod's, or a blip? Judged a propagation window on.
        root_blip_checks_.push_back({inc.id, t->fingerprint, now});
      }
      t->symptom = MutedAsSymptom(inc, *t);
      std::string svc;  // (its service is looked up only for a resolution: not on every repeat)
      if (was && !t->firing && !t->flapping && clear_checks_.size() < cfg_.max_incidents &&
          (svc = ServiceOf(t->alert.labels), inc.root_firing || part_split_.count({inc.id, svc}))) {
        bool svc_firing = false;
        for (Fingerprint fp : inc.firing) {
          const TrackedAlert* o = alerts(fp);
          svc_firing = svc_firing || (o && o->firing && ServiceOf(o->alert.labels) == svc);
        }
        if (Downstream(inc, svc)) {
          if (!svc_firing) {
            clear_checks_.push_back({inc.id, svc, now});
          } else if (MostlyCleared(inc, svc, alerts)) {
            // One lagging rule (a restart count) may hold a service firing
            // past its root's recovery: judge it once most of it cleared.
            clear_checks_.push_back({inc.id, svc, now, true});
          }
        }
      }
      if (was != t->firing) {
        inc.dirty = true;
        AlertIncidentChange ch;
        ch.incident_id = inc.id;
        ch.alerts.push_back(t->fingerprint);
        out->push_back(std::move(ch));
      }
      return;
    }
    t->incident_id = 0;  // its incident is over: a new firing starts afresh
  }
  auto cit = candidate_of_.find(t->fingerprint);
  if (cit != candidate_of_.end()) {
    AlertIncident& cand = candidates_[cit->second];
    if (t->firing) {
      cand.firing.insert(t->fingerprint);
      cand.last_ms = std::max(cand.last_ms, now);
    } else {
      cand.firing.erase(t->fingerprint);
    }
    return;
  }
  if (!t->firing) return;
  std::string svc = ServiceOf(t->alert.labels);
  std::string ent = EntityOf(t->alert.labels);
  std::string rule = RuleOf(t->alert.labels);
  std::string dep = cfg_.dependency_labels.empty() ? std::string() : DependencyOf(t->alert.labels, svc);
  int open_score = 0, cand_score = 0;
  Rival rival;
  AlertIncident* open = BestMatch(incidents_, svc, ent, rule, now, false, &open_score, false, dep, &rival);
  // Related to an open incident only late: a callee that just began in
  // another (one alert is enough then) is the better guess.
  if (open_score == kLate) open = BestMatch(incidents_, svc, ent, rule, now, false, &open_score, true, dep, &rival);
  // Candidates gather only closely related alerts (same entity or service,
  // or the propagation path): loose topology relations would let unrelated
  // blips add up to the evidence of an incident.
  AlertIncident* cand = BestMatch(candidates_, svc, ent, rule, now, true, &cand_score, false, dep);
  if (open && cand && open_score < cand_score && OnPropagationPath(*open, *cand, now)) {
    // The candidate's services all call services failing in the open
    // incident, downstream of its root: a fast fault's callers that began
    // their own candidate before the root's incident could pull them in.
    // Nothing was paged about them yet; they join the incident.
    AlertIncidentChange moved;
    moved.incident_id = open->id;
    for (Fingerprint fp : cand->alerts) {
      candidate_of_.erase(fp);
      TrackedAlert* a = alerts(fp);
      if (!a) continue;
      Add(*open, *a, now);
      if (!a->firing) open->firing.erase(fp);
      a->incident_id = open->id;
      moved.alerts.push_back(fp);
    }
    for (auto it = candidates_.begin(); it != candidates_.end(); ++it) {
      if (&it->second == cand) {
        candidates_.erase(it);
        break;
      }
    }
    cand = nullptr;
    cand_score = 0;
    MarkSymptoms(*open, alerts, now);
    out->push_back(std::move(moved));
  }
  if (open && open_score >= cand_score) {
    bool new_service = !svc.empty() && !open->services.count(svc);
    // Whether its service was already paged as too late for a symptom: the
    // onset burst (BeganTooLateForASymptom) may tell so only at a later alert.
    bool was_late = !new_service && !svc.empty() && BeganTooLateForASymptom(*open, svc);
    std::string old_root = open->root_service;
    Add(*open, *t, now, FreshServiceEpisode(*open, svc, now, alerts), &alerts);
    t->incident_id = open->id;
    AlertIncidentChange ch;
    ch.incident_id = open->id;
    ch.alerts.push_back(t->fingerprint);
    if (new_service) ch.timeline.push_back(Line(now, "alert", "alerts now also on " + svc + ": " + AlertLine(*t)));
    if (new_service && rival.incident && rival.incident->open) {
      // Said once, when the service's first alert joins: an operator
      // should know that this grouping was a coin toss between two faults
      // (alert times and topology cannot tell whose a caller of both is;
      // correlation.dependency_labels can, when the alerts carry them).
      ch.timeline.push_back(TiedLine(now, svc, *rival.incident, rival.evidence_gap_ms));
    }
    if (open->root_service != old_root) {
      ch.timeline.push_back(Line(now, "root", "suspected root moved from " + old_root + " to " + open->root_service));
    }
    for (auto& e : ch.timeline) e.incident_id = open->id;
    if (open->root_service != old_root) MarkSymptoms(*open, alerts, now);
    t->symptom = MutedAsSymptom(*open, *t);
    std::string front;
    TimestampMs lag = 0;
    if (!t->symptom && !was_late && IsSymptom(*open, svc) && BeganTooLateForASymptom(*open, svc, &front, &lag)) {
      ch.timeline.push_back(Line(now, "alert",
                                 "alerts on " + svc + " began " + std::to_string(lag / 1000) +
                                     " s after its nearest failing dependency " + front +
                                     ": not muted as symptoms of the suspected root " + open->root_service +
                                     " (possibly a fault of " + svc + "'s own): " + AlertLine(*t),
                                 0));
      ch.timeline.back().incident_id = open->id;
    } else if (!t->symptom && IsSymptom(*open, svc) && !BeganTooLateForASymptom(*open, svc) &&
               FirstUnmutedOn(*open, *t, alerts)) {
      ch.timeline.push_back(Line(now, "alert",
                                 "critical alerts on " + svc + ", downstream of the suspected root " +
                                     open->root_service + ", are not muted as its symptoms (possibly a fault of " +
                                     svc + "'s own): " + AlertLine(*t),
                                 0));
      ch.timeline.back().incident_id = open->id;
    }
    if (new_service || open->root_service != old_root) open->title.clear();
    out->push_back(std::move(ch));
    return;
  }
  int64_t key;
  if (cand) {
    key = 0;
    for (auto& [k, c] : candidates_) {
      if (&c == cand) key = k;
    }
  } else {
    if (candidates_.size() + incidents_.size() >= cfg_.max_incidents) return;  // bounded; counted by the owner
    key = next_candidate_++;
  }
  AlertIncident& c = candidates_[key];
  Add(c, *t, now, FreshServiceEpisode(c, svc, now, alerts), &alerts);
  candidate_of_[t->fingerprint] = key;
  DropBlipsBefore(c, alerts);  // no evidence of what it became either
  if (static_cast<int>(c.alerts.size()) >= cfg_.min_alerts) Open(key, now, alerts, out);
}

bool AlertCorrelator::BlipDuringFault(const AlertIncident& inc, const TrackedAlert& t, TimestampMs now,
                                      const std::function<TrackedAlert*(Fingerprint)>& alerts) const {
  if (inc.id == 0 || now - StartOf(t) >= cfg_.propagation_window_ms || inc.root_service.empty()) return false;
  // On the root itself only an alert that began apart from the root's
  // failure (a pod recovering early is part of it).
  if (ServiceOf(t.alert.labels) == inc.root_service && StartOf(t) - OnsetIn(inc, inc.root_service) <= cfg_.onset_spread_ms) {
    return false;
  }
  return ServiceFiring(inc, inc.root_service, t.fingerprint, alerts);
}

void AlertCorrelator::LeaveAsBlip(AlertIncident& inc, TrackedAlert* t, TimestampMs now, TimestampMs ended,
                                  const std::string& why,
                                  const std::function<TrackedAlert*(Fingerprint)>& alerts,
                                  std::vector<AlertIncidentChange>* out) {
  AlertIncidentChange ch;
  ch.incident_id = inc.id;
  ch.alerts.push_back(t->fingerprint);
  ch.timeline.push_back(Line(now, "alert",
                             "left the incident: fired " + std::to_string((ended - StartOf(*t)) / 1000) +
                                 " s and resolved while the suspected root " + inc.root_service + " kept failing" +
                                 why + " (a blip, not a symptom): " + AlertLine(*t),
                             0));
  ch.timeline.back().incident_id = inc.id;
  Detach(inc, {t->fingerprint}, alerts);
  t->incident_id = 0;
  out->push_back(std::move(ch));
}

void AlertCorrelator::LeaveIfRootKeptFailing(const RootBlipCheck& check, TimestampMs now,
                                             const std::function<TrackedAlert*(Fingerprint)>& alerts,
                                             std::vector<AlertIncidentChange>* out) {
  // A fault's root fails for as long as the fault: a root pod that
  // recovers with it goes with the rest of the root's alerts (which is why
  // BlipDuringFault spares the root's own alerts begun with its onset),
  // while a brief alert there that resolved a propagation window before
  // anything else of the root did was something else on the service (a
  // disk, a certificate, a GC pause). Measured on the storm pools (storms
  // stop 16): such blips, often the first alert on the root's service
  // (they began the candidate the fault joined), sat in fault incidents of
  // 50-150 alerts; purity +0.0011 to +0.0018 on every pool of 100.
  auto it = incidents_.find(check.incident);
  if (it == incidents_.end() || it->second.resolved || !it->second.alerts.count(check.fp)) return;
  AlertIncident& inc = it->second;
  TrackedAlert* t = alerts(check.fp);
  if (!t || t->firing || t->flapping || t->resolved_ms != check.resolved ||
      ServiceOf(t->alert.labels) != inc.root_service) {
    return;
  }
  bool kept_failing = false;  // a root alert that fired before the resolution fires still
  for (Fingerprint fp : inc.firing) {
    const TrackedAlert* u = fp == check.fp ? nullptr : alerts(fp);
    kept_failing = kept_failing || (u && u->firing && !u->flapping && ServiceOf(u->alert.labels) == inc.root_service &&
                                    StartOf(*u) <= check.resolved);
  }
  if (kept_failing) LeaveAsBlip(inc, t, now, t->resolved_ms, " for a propagation window after", alerts, out);
}

void AlertCorrelator::Detach(AlertIncident& inc, const std::set<Fingerprint>& fps,
                             const std::function<TrackedAlert*(Fingerprint)>& alerts) const {
  for (Fingerprint fp : fps) {
    inc.alerts.erase(fp);
    inc.firing.erase(fp);
  }
  // Rebuild the counts from what stays; keys nothing stays on lose their
  // episode (so they no longer relate new alerts to this incident).
  std::map<std::string, int> services;
  std::set<std::string> entities, rules;
  for (Fingerprint fp : inc.alerts) {
    const TrackedAlert* t = alerts(fp);
    if (!t) continue;
    std::string svc = ServiceOf(t->alert.labels), ent = EntityOf(t->alert.labels), rule = RuleOf(t->alert.labels);
    if (!svc.empty()) ++services[svc];
    if (!ent.empty()) entities.insert(ent);
    if (!rule.empty()) rules.insert(rule);
  }
  auto prune = [](std::map<std::string, TimestampMs>& m, const auto& keep) {
    for (auto it = m.begin(); it != m.end();) it = keep.count(it->first) ? std::next(it) : m.erase(it);
  };
  prune(inc.service_since, services);
  prune(inc.service_onset, services);
  for (auto it = inc.service_burst.begin(); it != inc.service_burst.end();) {
    it = services.count(it->first) ? std::next(it) : inc.service_burst.erase(it);
  }
  ++inc.since_version;
  prune(inc.service_last, services);
  prune(inc.entity_since, entities);
  prune(inc.entity_last, entities);
  prune(inc.rule_since, rules);
  prune(inc.rule_last, rules);
  inc.services = std::move(services);
  inc.entities = std::move(entities);
  inc.max_service_alerts = 0;
  for (const auto& [svc, n] : inc.services) inc.max_service_alerts = std::max(inc.max_service_alerts, n);
  inc.dirty = true;
  inc.title.clear();
}

void AlertCorrelator::RegroupAfterRoot(int64_t id, TimestampMs now,
                                       const std::function<TrackedAlert*(Fingerprint)>& alerts,
                                       std::vector<AlertIncidentChange>* out) {
  // A fault's symptoms end with it: once its root has been quiet for a
  // propagation window, a service of the incident still firing, none of
  // whose alerts ended with the root, was not hit by this fault. Typically
  // a second fault whose root calls this root began a minute or two later;
  // its alerts looked exactly like propagation and joined here. Later
  // evidence decides now: such alerts, explained by no other failing root,
  // move into a new incident, one per independent fault among them (they
  // would page here as news anyway; now they page as what they are, and
  // this incident can clear).
  // Kept apart, measured on the storm suite (docs/alerts.md):
  //  - a service some of whose alerts ended with the root stays: what still
  //    fires there may be one continuous alert carried on by another fault;
  //  - alerts another live incident's failing root explains stay (they are
  //    muted symptoms; moving them there cost purity on seeds 6-15, as such
  //    alerts were mostly continuous alerts begun by this fault).
  // Alerts that outlived the root move: still firing, or resolved more than
  // the jitter slack after the root's last alert (two faults whose roots
  // call each other and began together look like one until then; measured
  // on the storm suite: seeds 301-310 purity 0.932 -> 0.956, one missed
  // fault fewer). Flapping alerts and those that ended earlier stay.
  // Only just after the root's recovery (after a restart, root_firing
  // starts true and is re-derived: an incident whose root recovered long
  // ago has nothing left to tell apart by "ended with the root").
  // Ended with the root: while its alerts resolved (within the jitter
  // slack); a blip that ended before says nothing, nor does an alert that
  // ended minutes later (it outlived the root). And only a service that
  // began to clear within a propagation window (and the slack) of the root:
  // a symptom's fastest rules clear within an evaluation, their lag and a
  // hop of the root's end; one that began to clear later and cleared the
  // rest of the way after the root is its own fault, whose first alerts
  // happened to resolve during the root's slow tail (a restart count, a
  // backlog; storms stop 13: 13001-13100 one missed fault fewer, purity
  // +0.002-0.004, completeness -0.001).
  TimestampMs with_from = 0, with_to = 0;
  AlertIncident* recovered = JustRecovered(id, now, alerts, &with_from, &with_to);
  if (!recovered) return;
  AlertIncident& inc = *recovered;
  std::set<std::string> ended;
  std::map<std::string, TimestampMs> began_to_clear;
  for (Fingerprint fp : inc.alerts) {
    const TrackedAlert* t = alerts(fp);
    if (t && !t->flapping && !t->firing && t->resolved_ms >= with_from && t->resolved_ms <= with_to) {
      auto [b, fresh] = began_to_clear.emplace(ServiceOf(t->alert.labels), t->resolved_ms);
      if (!fresh) b->second = std::min(b->second, t->resolved_ms);
    }
  }
  for (const auto& [svc, at] : began_to_clear) {
    if (at <= with_from + kCauseSlackMs + cfg_.propagation_window_ms) ended.insert(svc);
  }
  // What outlived the root: still firing, or resolved after it (the check
  // runs a propagation window after the root's last alert).
  std::set<Fingerprint> moving;
  for (Fingerprint fp : inc.alerts) {
    const TrackedAlert* t = alerts(fp);
    if (!t || t->flapping || (!t->firing && t->resolved_ms <= with_to)) continue;
    std::string svc = ServiceOf(t->alert.labels);
    if (svc.empty() || svc == inc.root_service || ended.count(svc) ||
        (IsSymptom(inc, svc) && (!MostlyResolved(inc, svc, alerts) || ExplainedByEarlierRoot(inc, svc, alerts)))) {
      continue;
    }
    moving.insert(fp);
  }
  if (moving.empty()) return;
  // Services of which none depends on another were hit by separate faults
  // (each spreads to its callers, never sideways): one new incident each,
  // their callers with the one of them that began failing last (the
  // nearest front, as when they joined).
  std::set<std::string> services, roots;
  for (Fingerprint fp : moving) services.insert(ServiceOf(alerts(fp)->alert.labels));
  for (const auto& a : services) {
    bool deeper = false;
    for (const auto& b : services) deeper = deeper || (a != b && DependsOn(a, b));
    if (!deeper) roots.insert(a);
  }
  std::map<std::string, std::set<Fingerprint>> by_root;
  for (Fingerprint fp : moving) {
    std::string svc = ServiceOf(alerts(fp)->alert.labels), front;
    TimestampMs front_since = INT64_MIN;
    for (const auto& r : roots) {
      if (r != svc && !DependsOn(svc, r)) continue;
      auto since = inc.service_since.find(r);
      TimestampMs t = since == inc.service_since.end() ? 0 : since->second;
      if (r == svc || front.empty() || t > front_since) {
        front = r;
        front_since = r == svc ? INT64_MAX : t;
      }
    }
    by_root[front].insert(fp);
  }
  // Nobody was told of them when every one was muted as a symptom (as in
  // SplitClearedBeforeRoot): the new incident sends a split notice. Most
  // have resolved by now (the check runs a propagation window after the
  // root's last alert), so what still fires may never page (storms stop
  // 14: 17067, core-5's 25 moved alerts resolved before their first flush).
  std::set<std::string> still_muted;  // services another failing root would keep muted here
  for (const auto& svc : services) {
    if (IsSymptom(inc, svc)) still_muted.insert(svc);
  }
  // Moved alerts no other root keeps muted page as news in the new
  // incident if they still fire at its first flush; those that resolved
  // before it (the check runs a propagation window after the root's last
  // alert) were heard of by nobody (storms stop 15: 23042, core-5's 21
  // moved alerts, the last two resolving 8 and 18 s after the check): the
  // notice is due then, and only then (`notice_unless_paged`). Only for
  // services that joined this incident themselves (not handed over from
  // another root: what outlived two roots is a lagging tail) and none of
  // whose alerts resolved within two propagation windows of the root's
  // recovery: a symptom with few alerts may begin to clear minutes after
  // its root (each rule's window or backlog at its own pace), and its last
  // restart-count pod outlive it (13001-13100: five such one- or two-alert
  // notices, compression below 0.98).
  for (const auto& [root, fps] : by_root) {
    std::set<std::string> group;
    for (Fingerprint fp : fps) group.insert(ServiceOf(alerts(fp)->alert.labels));
    bool unpaged = true, kept_muted = true, told = false, joined_here = true, cleared_late = true;
    for (Fingerprint fp : fps) {
      const TrackedAlert* t = alerts(fp);
      const std::string svc = ServiceOf(t->alert.labels);
      unpaged = unpaged && t->symptom && !PagedEvenAsSymptom(*t);
      kept_muted = kept_muted && still_muted.count(svc) > 0;
      told = told || part_split_.count({inc.id, svc}) > 0;  // the rest of it split off with a notice already
      joined_here = joined_here && inc.service_since.count(svc) > 0;
    }
    for (Fingerprint fp : inc.alerts) {
      const TrackedAlert* t = alerts(fp);
      if (t && !t->flapping && !t->firing && t->resolved_ms >= with_from && group.count(ServiceOf(t->alert.labels))) {
        cleared_late = cleared_late && t->resolved_ms > with_from + kCauseSlackMs + 2 * cfg_.propagation_window_ms;
      }
    }
    if (!kept_muted && (told || !joined_here || !cleared_late)) unpaged = false;
    const std::string host = std::to_string(inc.id);
    SplitOff(inc, fps, now, alerts, out, "that outlived its root " + inc.root_service, "that outlived the root",
             unpaged ? "independent fault on " + root + " outlived its suspected root " + inc.root_service +
                           " while muted as its symptom (incident " + host + ")"
                     : "");
    if (unpaged && !kept_muted) incidents_[out->back().incident_id].notice_unless_paged = true;
  }
}

void AlertCorrelator::SplitOff(AlertIncident& inc, const std::set<Fingerprint>& moving, TimestampMs now,
                               const std::function<TrackedAlert*(Fingerprint)>& alerts,
                               std::vector<AlertIncidentChange>* out, const std::string& why_opened,
                               const std::string& why_left, const std::string& notice) {
  const int64_t id = inc.id;
  Detach(inc, moving, alerts);
  if (inc.firing.empty() && inc.quiet_since_ms == 0) inc.quiet_since_ms = now;
  AlertIncident fresh;
  fresh.id = next_id_();
  fresh.open = true;
  fresh.opened_ms = now;
  int64_t fresh_id = fresh.id;
  AlertIncident& dst = incidents_.emplace(fresh_id, std::move(fresh)).first->second;
  AlertIncidentChange opened;
  opened.kind = AlertIncidentChange::Kind::kOpened;
  opened.incident_id = fresh_id;
  const TrackedAlert* first = nullptr;
  for (Fingerprint fp : moving) {
    TrackedAlert* t = alerts(fp);
    Add(dst, *t, now);
    t->incident_id = fresh_id;
    opened.alerts.push_back(fp);
    if (!first || StartOf(*t) < StartOf(*first)) first = t;
  }
  if (dst.firing.empty()) dst.quiet_since_ms = now;
  Retitle(dst, first);
  MarkSymptoms(dst, alerts, now);
  dst.dirty = false;
  dst.split_notice = notice;
  opened.timeline.push_back(Line(now, "split", "opened with " + std::to_string(moving.size()) + " alert(s) of incident " +
                                                   std::to_string(id) + " " + why_opened + "; suspected root " +
                                                   dst.root_service,
                                 id));
  opened.timeline.back().incident_id = fresh_id;
  AlertIncidentChange left;
  left.incident_id = id;
  left.timeline.push_back(Line(now, "split", std::to_string(moving.size()) + " alert(s) " + why_left +
                                                 " moved to incident " + std::to_string(fresh_id),
                               fresh_id));
  left.timeline.back().incident_id = id;
  out->push_back(std::move(left));
  out->push_back(std::move(opened));
}

bool AlertCorrelator::MostlyCleared(const AlertIncident& inc, const std::string& service,
                                    const std::function<TrackedAlert*(Fingerprint)>& alerts) const {
  const ServiceAlertCount n = CountServiceAlerts(inc, service, alerts);
  return n.firing > 0 && n.MostlyResolved();
}

bool AlertCorrelator::RootResolvedWithin(const AlertIncident& inc, TimestampMs from, TimestampMs to,
                                         const std::function<TrackedAlert*(Fingerprint)>& alerts) const {
  for (Fingerprint fp : inc.alerts) {
    const TrackedAlert* t = alerts(fp);
    if (t && !t->firing && !t->flapping && t->resolved_ms >= from && t->resolved_ms <= to &&
        ServiceOf(t->alert.labels) == inc.root_service) {
      return true;
    }
  }
  return false;
}

void AlertCorrelator::SplitClearedBeforeRoot(const ClearCheck& check, TimestampMs now,
                                             const std::function<TrackedAlert*(Fingerprint)>& alerts,
                                             std::vector<AlertIncidentChange>* out) {
  // A fault's symptoms clear with it, or after it (within a propagation
  // window), never minutes before: a service muted as the root's symptom
  // that cleared while the root kept failing was not. Typically a fault of
  // its own that began while the root's fault spread to it, ended first,
  // and looked exactly like propagation while it fired. Its alerts move to
  // an incident of their own (resolved; the record the postmortem reads is
  // right, and says why), which sends a split notice when nobody was paged
  // about them (AlertPipeline::SplitNotice). Kept apart:
  //  - too little evidence to have opened an incident alone (min_alerts,
  //    min_duration): a blip on a caller is not a fault;
  //  - a root that resolved anything within a propagation window of the
  //    clearing (it may have been recovering, and took its symptoms along);
  //  - another incident's root that the service depends on and that
  //    resolved anything then (the alerts were that fault's symptoms,
  //    grouped here by a guess; ReclaimClearedWithRoot moves them there).
  auto it = incidents_.find(check.incident);
  if (it != incidents_.end() && !check.partial && FollowPartSplitOff(it->second, check.service, now, alerts, out)) return;
  if (it == incidents_.end() || it->second.resolved || !it->second.root_firing) return;
  AlertIncident& inc = it->second;
  if (!Downstream(inc, check.service)) return;
  std::set<Fingerprint> moving;
  bool long_enough = false;
  std::vector<TimestampMs> resolved;
  TimestampMs first_start = INT64_MAX;
  for (Fingerprint fp : inc.alerts) {
    const TrackedAlert* t = alerts(fp);
    if (!t || ServiceOf(t->alert.labels) != check.service) continue;
    if (t->flapping) continue;
    if (t->firing) {
      if (!check.partial) return;  // fired again since
      continue;
    }
    moving.insert(fp);
    first_start = std::min(first_start, StartOf(*t));
    resolved.push_back(t->resolved_ms);
    long_enough = long_enough || t->resolved_ms - StartOf(*t) >= cfg_.min_duration_ms;
  }
  if (moving.empty() || (static_cast<int>(moving.size()) < cfg_.min_alerts && !long_enough)) return;
  if (check.partial && !MostlyCleared(inc, check.service, alerts)) return;
  // The service began to clear a propagation window before the explaining
  // roots resolved anything: its lagging rules (a backlog draining, a
  // restart count over 10 minutes) may still resolve after the root began
  // to recover, so its first resolution in its last run is what counts.
  const TimestampMs began = ClearingBegan(std::move(resolved), 2 * cfg_.propagation_window_ms);
  //
  // After `began`, only within kRootClearsWithinMs: a symptom cannot begin
  // to clear before its cause's fault ended, and the root's fastest rules
  // resolve within an evaluation and a gauge's lag of that; a service that
  // began to clear longer before the root resolved anything cleared on its
  // own (storms stop 15: 23011's core-6 began to clear 165 s before its
  // suspected root data-3; measured 120, 150 and 180 s, docs/alerts.md).
  const TimestampMs from = began - cfg_.propagation_window_ms,
                    to = began + std::min(cfg_.propagation_window_ms, kRootClearsWithinMs);
  for (const auto& [id, other] : incidents_) {
    bool explains = &other == &inc || other.root_service == check.service || DependsOn(check.service, other.root_service);
    // Another incident's root explains the clearing only when the service
    // began failing within two windows of that root's onset: a root that
    // had failed for many minutes before reached its callers long before,
    // and its last lagging alert resolving then is no cause of this.
    if (explains && &other != &inc && other.root_service != check.service) {
      auto onset = other.service_onset.find(other.root_service);
      explains = onset == other.service_onset.end() || first_start - onset->second <= 2 * cfg_.propagation_window_ms;
    }
    if (explains && RootResolvedWithin(other, from, to, alerts)) return;
  }
  // Nobody was told of these alerts when every one of them was muted as a
  // symptom while it fired (a critical one with page_critical_symptoms was
  // paged): the new incident then sends a split notice (AlertPipeline).
  // (Not counting a service that began before its cause: that may have
  // turned true only once an explaining incident resolved, after these
  // alerts ended unpaged; a notice too many is better than none.)
  bool unpaged = !BeganTooLateForASymptom(inc, check.service, nullptr, nullptr, false);
  for (Fingerprint fp : moving) {
    const TrackedAlert* t = alerts(fp);
    unpaged = unpaged && !PagedEvenAsSymptom(*t);
  }
  const std::string host = std::to_string(inc.id);
  SplitOff(inc, moving, now, alerts, out,
           "on " + check.service + " that cleared while its suspected root " + inc.root_service +
               " kept failing (not its symptoms: possibly a fault of " + check.service + "'s own)",
           "on " + check.service + " that cleared while the root kept failing",
           unpaged ? "independent fault on " + check.service + " came and went while muted as a symptom of incident " +
                         host + " (suspected root " + inc.root_service + ")"
                   : "");
  if (check.partial && part_split_.size() < cfg_.max_incidents) {
    part_split_[{inc.id, check.service}] = out->back().incident_id;
  }
}

bool AlertCorrelator::FollowPartSplitOff(AlertIncident& inc, const std::string& service, TimestampMs now,
                                         const std::function<TrackedAlert*(Fingerprint)>& alerts,
                                         std::vector<AlertIncidentChange>* out) {
  // The last alerts of a service split off while they still fired (a
  // lagging rule) follow the rest once they clear: the same fault's, by
  // the same judgement, even if the root stopped failing meanwhile.
  auto split = part_split_.find({inc.id, service});
  if (split == part_split_.end()) return false;
  auto dst = incidents_.find(split->second);
  part_split_.erase(split);
  if (dst == incidents_.end()) return false;
  std::set<Fingerprint> moving;
  for (Fingerprint fp : inc.alerts) {
    const TrackedAlert* t = alerts(fp);
    if (!t || t->flapping || ServiceOf(t->alert.labels) != service) continue;
    if (t->firing) return false;
    moving.insert(fp);
  }
  if (moving.empty()) return false;
  Detach(inc, moving, alerts);
  if (inc.firing.empty() && inc.quiet_since_ms == 0) inc.quiet_since_ms = now;
  AlertIncidentChange here;
  here.incident_id = dst->first;
  for (Fingerprint fp : moving) {
    Adopt(dst->second, alerts(fp));
    here.alerts.push_back(fp);
  }
  here.timeline.push_back(Line(now, "split", std::to_string(moving.size()) + " resolved alert(s) on " + service +
                                                 " moved here from incident " + std::to_string(inc.id) +
                                                 ": the rest of what split off from it",
                               inc.id));
  here.timeline.back().incident_id = dst->first;
  AlertIncidentChange there;
  there.incident_id = inc.id;
  there.timeline.push_back(Line(now, "split", std::to_string(moving.size()) + " resolved alert(s) on " + service +
                                                  " moved to incident " + std::to_string(dst->first) +
                                                  " with the rest of " + service + "'s",
                                dst->first));
  there.timeline.back().incident_id = inc.id;
  out->push_back(std::move(there));
  out->push_back(std::move(here));
  return true;
}

bool AlertCorrelator::NoticeDone(int64_t id, const std::string& receiver) {
  auto it = incidents_.find(id);
  if (it == incidents_.end()) return false;
  it->second.notice_done.insert(receiver);
  return true;
}

AlertIncident* AlertCorrelator::JustRecovered(int64_t id, TimestampMs now,
                                              const std::function<TrackedAlert*(Fingerprint)>& alerts,
                                              TimestampMs* with_from, TimestampMs* with_to) {
  auto it = incidents_.find(id);
  if (it == incidents_.end() || it->second.resolved || !topo_) return nullptr;
  TimestampMs first = 0, last = 0;
  if (!RootRecovery(it->second, now, alerts, &first, &last)) return nullptr;
  *with_from = first - kCauseSlackMs;
  *with_to = last + kCauseSlackMs;
  return &it->second;
}

bool AlertCorrelator::RootRecovery(const AlertIncident& inc, TimestampMs now,
                                   const std::function<TrackedAlert*(Fingerprint)>& alerts, TimestampMs* first,
                                   TimestampMs* last) const {
  std::vector<TimestampMs> resolved;
  for (Fingerprint fp : inc.alerts) {
    const TrackedAlert* t = alerts(fp);
    if (t && !t->firing && !t->flapping && ServiceOf(t->alert.labels) == inc.root_service) {
      resolved.push_back(t->resolved_ms);
    }
  }
  if (resolved.empty()) return false;
  *last = *std::max_element(resolved.begin(), resolved.end());
  if (now - *last > 2 * cfg_.propagation_window_ms) return false;
  // The recovery began with the first of the root's alerts that resolved in
  // one run with its last: its rules clear over minutes.
  *first = ClearingBegan(std::move(resolved), 2 * cfg_.propagation_window_ms);
  return true;
}

void AlertCorrelator::ReclaimClearedWithRoot(int64_t id, TimestampMs now,
                                             const std::function<TrackedAlert*(Fingerprint)>& alerts,
                                             std::vector<AlertIncidentChange>* out) {
  // A fault's symptoms clear with it. Two concurrent faults reaching the
  // same callers leave alerts there that, while both fail, could be either
  // one's; the grouping had to guess (same rule, nearest front). When this
  // incident's root recovers and alerts in another incident, whose own root
  // still fails, clear at the same time on services that depend on this
  // root, the guess was wrong for them: they were this fault's symptoms.
  // They move here (resolved: nobody is paged again; the incident record
  // is what the postmortem reads). Only alerts that began after this
  // root did (a symptom does not precede its cause) and cleared while its
  // alerts resolved (from its first, less the jitter slack, to its last,
  // plus the slack), more than the slack before the other root's first
  // alert resolved (a symptom's gauge clears at the next evaluation, its
  // root's rate rules up to minutes later: one that cleared just before
  // its root did is no evidence against it).
  TimestampMs cleared_from = 0, cleared_to = 0;
  AlertIncident* recovered = JustRecovered(id, now, alerts, &cleared_from, &cleared_to);
  if (!recovered || recovered->root_service.empty()) return;
  AlertIncident& inc = *recovered;
  TimestampMs root_began = INT64_MAX;
  for (Fingerprint fp : inc.alerts) {
    const TrackedAlert* t = alerts(fp);
    if (t && !t->flapping && ServiceOf(t->alert.labels) == inc.root_service) root_began = std::min(root_began, StartOf(*t));
  }
  for (auto& [other_id, other] : incidents_) {
    if (other_id == id || other.resolved || !other.root_firing || other.root_service == inc.root_service) continue;
    // The other root must be failing still, and only what cleared before it
    // began to recover moves (after that, what cleared could be either's).
    bool other_root_firing = false;
    TimestampMs other_root_clearing = INT64_MAX;
    for (Fingerprint fp : other.alerts) {
      const TrackedAlert* t = alerts(fp);
      if (!t || t->flapping || ServiceOf(t->alert.labels) != other.root_service) continue;
      other_root_firing = other_root_firing || t->firing;
      if (!t->firing && t->resolved_ms >= cleared_from) other_root_clearing = std::min(other_root_clearing, t->resolved_ms);
    }
    if (!other_root_firing) continue;
    std::set<Fingerprint> moving;
    std::set<std::string> where;
    for (Fingerprint fp : other.alerts) {
      const TrackedAlert* t = alerts(fp);
      if (!t || t->firing || t->flapping || t->resolved_ms < cleared_from || t->resolved_ms > cleared_to ||
          t->resolved_ms + kCauseSlackMs >= other_root_clearing ||
          StartOf(*t) + kCauseSlackMs < root_began) {
        continue;
      }
      std::string svc = ServiceOf(t->alert.labels);
      if (svc == other.root_service || !Downstream(inc, svc)) continue;
      moving.insert(fp);
      where.insert(svc);
    }
    if (moving.empty()) continue;
    // One rule's alerts on a service that began together are one symptom
    // (its pods); each pod's rule clears at its own pace (a rate window, a
    // backlog). The pods that resolved since the root began to recover, but
    // after its span, go with the ones that ended in it. Not those still
    // firing: one that carries on may be the other fault's.
    std::map<std::string, std::vector<TimestampMs>> began_with;
    for (Fingerprint fp : moving) {
      const TrackedAlert* t = alerts(fp);
      began_with[RuleOf(t->alert.labels)].push_back(StartOf(*t));
    }
    for (Fingerprint fp : other.alerts) {
      const TrackedAlert* t = alerts(fp);
      if (!t || t->firing || t->flapping || t->resolved_ms < cleared_from || t->resolved_ms > cleared_to || moving.count(fp)) continue;
      auto g = began_with.find(RuleOf(t->alert.labels));
      if (g == began_with.end()) continue;
      for (TimestampMs start : g->second) {
        if (std::llabs(StartOf(*t) - start) <= cfg_.onset_spread_ms) {
          moving.insert(fp);
          break;
        }
      }
    }
    Detach(other, moving, alerts);
    AlertIncidentChange here;
    here.incident_id = id;
    for (Fingerprint fp : moving) {
      TrackedAlert* t = alerts(fp);
      Adopt(inc, t);
      t->symptom = true;
      here.alerts.push_back(fp);
    }
    std::string services;
    for (const auto& s : where) services += (services.empty() ? "" : ", ") + s;
    here.timeline.push_back(Line(now, "reattributed",
                                 std::to_string(moving.size()) + " resolved alert(s) on " + services +
                                     " moved here from incident " + std::to_string(other_id) + ": they cleared with " +
                                     inc.root_service + " while that incident's root " + other.root_service +
                                     " still fails",
                                 other_id));
    here.timeline.back().incident_id = id;
    AlertIncidentChange there;
    there.incident_id = other_id;
    there.timeline.push_back(Line(now, "reattributed",
                                  std::to_string(moving.size()) + " resolved alert(s) on " + services +
                                      " moved to incident " + std::to_string(id) + ": they cleared with its root " +
                                      inc.root_service,
                                  id));
    there.timeline.back().incident_id = other_id;
    out->push_back(std::move(there));
    out->push_back(std::move(here));
  }
}

void AlertCorrelator::Adopt(AlertIncident& inc, TrackedAlert* t) const {
  std::string svc = ServiceOf(t->alert.labels), ent = EntityOf(t->alert.labels);
  inc.alerts.insert(t->fingerprint);
  if (t->firing) {
    inc.firing.insert(t->fingerprint);
    inc.quiet_since_ms = 0;
  }
  if (!svc.empty()) {
    inc.max_service_alerts = std::max(inc.max_service_alerts, ++inc.services[svc]);
    // Undated for relations, but its failure's onset still tells whether it
    // began too late to be a symptom here (BeganTooLateForASymptom).
    auto [o, added] = inc.service_onset.emplace(svc, StartOf(*t));
    if (!added && StartOf(*t) < o->second) o->second = StartOf(*t);
    WidenBurst(inc, svc, StartOf(*t));
    ++inc.since_version;
  }
  if (!ent.empty()) inc.entities.insert(ent);
  t->incident_id = inc.id;
  inc.dirty = true;
  inc.title.clear();
}

void AlertCorrelator::HandOverToFailingRoot(int64_t id, TimestampMs now,
                                            const std::function<TrackedAlert*(Fingerprint)>& alerts,
                                            std::vector<AlertIncidentChange>* out) {
  // The converse of ReclaimClearedWithRoot: once this incident's root has
  // been quiet for a propagation window, an alert here that outlived it
  // (still firing, or resolved after its recovery) with no change of state
  // while the root's alerts resolved, on a service downstream of another
  // incident's failing root, is that fault's symptom: it began on a caller
  // both faults reach and went to this incident while both failed. It
  // moves there. One that resolved with the root and fired again stays: it
  // may be this fault's alert that the other carried on.
  TimestampMs with_from = 0, with_to = 0;
  AlertIncident* recovered = JustRecovered(id, now, alerts, &with_from, &with_to);
  if (!recovered) return;
  AlertIncident& inc = *recovered;
  // A root's slowest rule (a restart count, a draining backlog) may keep
  // it firing long after its fault ended, and its symptoms' rules clear
  // as theirs do: what still fired two propagation windows after the root
  // began to clear outlived it, whenever the root's last alert resolved.
  with_to = std::min(with_to, with_from + kCauseSlackMs + 2 * cfg_.propagation_window_ms);
  std::map<int64_t, std::vector<Fingerprint>> moving;  // incident -> alerts
  for (Fingerprint fp : inc.alerts) {
    const TrackedAlert* t = alerts(fp);
    if (!t || t->flapping || (!t->firing && t->resolved_ms <= with_to)) continue;
    std::string svc = ServiceOf(t->alert.labels), rule = RuleOf(t->alert.labels);
    if (svc.empty() || svc == inc.root_service) continue;
    bool changed = false;
    for (TimestampMs tr : t->transitions) changed = changed || (tr >= with_from && tr <= with_to);
    if (changed) continue;
    // Nor one whose rule has a pod here that began with it (within
    // onset_spread) and ended with the root: a rule's pods that began
    // together are one symptom, and each clears at its own pace (a rate
    // window, a backlog draining).
    bool sibling_ended = false;
    for (Fingerprint o : inc.alerts) {
      const TrackedAlert* u = o == fp ? nullptr : alerts(o);
      sibling_ended = sibling_ended ||
                      (u && !u->firing && !u->flapping && u->resolved_ms >= with_from && u->resolved_ms <= with_to &&
                       std::llabs(StartOf(*u) - StartOf(*t)) <= cfg_.onset_spread_ms && RuleOf(u->alert.labels) == rule);
    }
    if (sibling_ended) continue;
    // The failing root that explains it: the same rule failing there
    // first, else the root whose episode began last before the alert did.
    int64_t to = 0;
    bool same_rule = false;
    TimestampMs to_since = INT64_MIN;
    for (const auto& [oid, other] : incidents_) {
      if (oid == id || other.resolved || !other.root_firing || !Downstream(other, svc)) continue;
      auto rs = other.service_since.find(other.root_service);
      if (rs == other.service_since.end() || rs->second > StartOf(*t) + kCauseSlackMs) continue;
      bool r = other.rule_since.count(rule) > 0;
      if ((r && !same_rule) || (r == same_rule && rs->second > to_since)) {
        to = oid;
        same_rule = r;
        to_since = rs->second;
      }
    }
    if (to != 0) moving[to].push_back(fp);
  }
  for (const auto& [to, fps] : moving) {
    AlertIncident& dst = incidents_[to];
    Detach(inc, std::set<Fingerprint>(fps.begin(), fps.end()), alerts);
    AlertIncidentChange there;
    there.incident_id = to;
    std::set<std::string> where;
    for (Fingerprint fp : fps) {
      TrackedAlert* t = alerts(fp);
      Adopt(dst, t);
      t->symptom = MutedAsSymptom(dst, *t);
      where.insert(ServiceOf(t->alert.labels));
      there.alerts.push_back(fp);
    }
    std::string services;
    for (const auto& s : where) services += (services.empty() ? "" : ", ") + s;
    there.timeline.push_back(Line(now, "reattributed",
                                  std::to_string(fps.size()) + " alert(s) on " + services + " moved here from incident " +
                                      std::to_string(id) + ": they outlived its root " + inc.root_service +
                                      " and depend on this incident's root " + dst.root_service,
                                  id));
    there.timeline.back().incident_id = to;
    AlertIncidentChange here;
    here.incident_id = id;
    here.timeline.push_back(Line(now, "reattributed",
                                 std::to_string(fps.size()) + " alert(s) on " + services +
                                     " that outlived the root moved to incident " + std::to_string(to) +
                                     ", whose root " + dst.root_service + " they depend on still fails",
                                 to));
    here.timeline.back().incident_id = id;
    out->push_back(std::move(here));
    out->push_back(std::move(there));
  }
  if (!moving.empty() && inc.firing.empty() && inc.quiet_since_ms == 0) inc.quiet_since_ms = now;
}

bool AlertCorrelator::OnPropagationPath(const AlertIncident& inc, const AlertIncident& cand, TimestampMs now) const {
  if (!topo_ || cand.services.empty()) return false;
  for (const auto& [svc, n] : cand.services) {
    if (!Downstream(inc, svc)) return false;
    bool path = false;
    for (const auto& callee : topo_->Callees(svc)) {
      auto since = inc.service_since.find(callee);
      auto m = inc.services.find(callee);
      path = path || (since != inc.service_since.end() && now - since->second <= cfg_.propagation_window_ms &&
                      m != inc.services.end() && m->second >= 2);
    }
    if (!path) return false;
  }
  return true;
}

void AlertCorrelator::OnAnomaly(const Anomaly& a, std::vector<AlertIncidentChange>* out) {
  std::string svc = ServiceOf(a.labels);
  std::string ent = EntityOf(a.labels);
  if (svc.empty() && ent.empty()) return;
  int score = 0;
  AlertIncident* inc = BestMatch(incidents_, svc, ent, "", a.ts_ms, false, &score);
  if (!inc) return;
  inc->anomaly_ids.push_back(a.id);
  AlertIncidentChange ch;
  ch.incident_id = inc->id;
  ch.anomaly_ids.push_back(a.id);
  out->push_back(std::move(ch));
}

void AlertCorrelator::Tick(TimestampMs now, const std::function<TrackedAlert*(Fingerprint)>& alerts,
                           std::vector<AlertIncidentChange>* out, std::vector<int64_t>* forgotten) {
  std::vector<int64_t> to_open, to_drop;
  for (auto& [key, c] : candidates_) {
    bool long_enough = false;
    for (Fingerprint fp : c.firing) {
      const TrackedAlert* t = alerts(fp);
      if (t && t->firing && now - StartOf(*t) >= cfg_.min_duration_ms) long_enough = true;
    }
    if (long_enough) {
      to_open.push_back(key);
    } else if (c.firing.empty() && c.last_ms < now - cfg_.window_ms) {
      to_drop.push_back(key);
    }
  }
  for (int64_t k : to_open) Open(k, now, alerts, out);
  for (int64_t k : to_drop) {
    for (Fingerprint fp : candidates_[k].alerts) candidate_of_.erase(fp);
    candidates_.erase(k);
  }
  // A root starting or stopping to fail changes what explains alerts in the
  // other incidents whose own root recovered (IsSymptom).
  bool roots_changed = false;
  std::vector<int64_t> recovered;
  for (auto& [id, inc] : incidents_) {
    if (inc.resolved) continue;
    bool was = inc.root_firing;
    UpdateRootFiring(inc, alerts, now);
    if (was != inc.root_firing) {
      inc.dirty = true;
      roots_changed = true;
      if (was) recovered.push_back(id);
    }
  }
  for (int64_t id : recovered) {
    ReclaimClearedWithRoot(id, now, alerts, out);
    RegroupAfterRoot(id, now, alerts, out);
    HandOverToFailingRoot(id, now, alerts, out);
  }
  while (!root_blip_checks_.empty() && now - root_blip_checks_.front().resolved >= cfg_.propagation_window_ms) {
    RootBlipCheck check = root_blip_checks_.front();
    root_blip_checks_.pop_front();
    LeaveIfRootKeptFailing(check, now, alerts, out);
  }
  while (!clear_checks_.empty() && now - clear_checks_.front().cleared >= cfg_.propagation_window_ms) {
    ClearCheck check = std::move(clear_checks_.front());
    clear_checks_.pop_front();
    SplitClearedBeforeRoot(check, now, alerts, out);
  }
  for (auto it = incidents_.begin(); it != incidents_.end();) {
    AlertIncident& inc = it->second;
    if (!inc.resolved) {
      // Re-mark only what changed: a full pass over a large incident every
      // second would stall ingest (the caller holds the pipeline's lock).
      if (inc.dirty || (roots_changed && !inc.root_firing)) {
        const TrackedAlert* first = nullptr;
        for (Fingerprint fp : inc.alerts) {
          const TrackedAlert* t = alerts(fp);
          if (t && (!first || StartOf(*t) < StartOf(*first))) first = t;
        }
        Retitle(inc, first);
        MarkSymptoms(inc, alerts, now);
        inc.dirty = false;
      }
    }
    if (!inc.resolved && inc.firing.empty() && inc.quiet_since_ms > 0 &&
        now - inc.quiet_since_ms >= cfg_.resolve_after_ms) {
      inc.resolved = true;
      inc.resolved_ms = now;
      AlertIncidentChange ch;
      ch.kind = AlertIncidentChange::Kind::kResolved;
      ch.incident_id = inc.id;
      ch.timeline.push_back(Line(now, "resolved", "every alert resolved"));
      ch.timeline.back().incident_id = inc.id;
      out->push_back(std::move(ch));
    }
    if (inc.resolved && now - inc.resolved_ms > cfg_.window_ms + cfg_.resolve_after_ms) {
      if (forgotten) forgotten->push_back(inc.id);
      it = incidents_.erase(it);
    } else {
      ++it;
    }
  }
}

Result<int64_t> AlertCorrelator::Merge(int64_t into, int64_t from, TimestampMs now,
                                       const std::function<TrackedAlert*(Fingerprint)>& alerts,
                                       std::vector<AlertIncidentChange>* out) {
  if (into == from) return Status::InvalidArgument("cannot merge incident " + std::to_string(into) + " into itself");
  auto a = incidents_.find(into), b = incidents_.find(from);
  if (a == incidents_.end()) return Status::NotFound("no live alert incident with id " + std::to_string(into));
  if (b == incidents_.end()) return Status::NotFound("no live alert incident with id " + std::to_string(from));
  AlertIncident& dst = a->second;
  AlertIncident& src = b->second;
  AlertIncidentChange ch;
  ch.incident_id = into;
  for (Fingerprint fp : src.alerts) {
    TrackedAlert* t = alerts(fp);
    if (!t) continue;
    t->incident_id = into;
    Add(dst, *t, now);
    if (!t->firing) dst.firing.erase(fp);
    ch.alerts.push_back(fp);
  }
  dst.anomaly_ids.insert(dst.anomaly_ids.end(), src.anomaly_ids.begin(), src.anomaly_ids.end());
  dst.resolved = false;
  dst.title.clear();
  dst.dirty = true;
  src.alerts.clear();
  src.firing.clear();
  src.services.clear();
  src.resolved = true;
  src.resolved_ms = now;
  ch.timeline.push_back(Line(now, "merged", "incident " + std::to_string(from) + " merged into this one", from));
  ch.timeline.back().incident_id = into;
  MarkSymptoms(dst, alerts, now);
  out->push_back(std::move(ch));
  AlertIncidentChange gone;
  gone.kind = AlertIncidentChange::Kind::kResolved;
  gone.incident_id = from;
  gone.timeline.push_back(Line(now, "merged", "merged into incident " + std::to_string(into), into));
  gone.timeline.back().incident_id = from;
  out->push_back(std::move(gone));
  return into;
}

Result<int64_t> AlertCorrelator::Split(int64_t id, const std::vector<Fingerprint>& fps, TimestampMs now,
                                       const std::function<TrackedAlert*(Fingerprint)>& alerts,
                                       std::vector<AlertIncidentChange>* out) {
  auto it = incidents_.find(id);
  if (it == incidents_.end()) return Status::NotFound("no live alert incident with id " + std::to_string(id));
  if (fps.empty()) return Status::InvalidArgument("field \"fingerprints\": at least one alert is required");
  for (Fingerprint fp : fps) {
    if (!it->second.alerts.count(fp)) {
      return Status::InvalidArgument("alert " + SeriesIdToHex(fp) + " is not in incident " + std::to_string(id));
    }
  }
  if (fps.size() >= it->second.alerts.size()) {
    return Status::InvalidArgument("a split must leave at least one alert in incident " + std::to_string(id));
  }
  AlertIncident fresh;
  fresh.id = next_id_();
  fresh.open = true;
  fresh.opened_ms = now;
  AlertIncident& old = it->second;
  // Rebuild the old incident's indexes from the alerts that stay.
  AlertIncident rest;
  rest.id = old.id;
  rest.open = true;
  rest.opened_ms = old.opened_ms;
  rest.anomaly_ids = old.anomaly_ids;
  std::set<Fingerprint> moving(fps.begin(), fps.end());
  AlertIncidentChange ch_new, ch_old;
  ch_new.kind = AlertIncidentChange::Kind::kOpened;
  ch_new.incident_id = fresh.id;
  ch_old.incident_id = old.id;
  for (Fingerprint fp : old.alerts) {
    TrackedAlert* t = alerts(fp);
    if (!t) continue;
    AlertIncident& dst = moving.count(fp) ? fresh : rest;
    Add(dst, *t, now);
    if (!t->firing) dst.firing.erase(fp);
    t->incident_id = dst.id;
    if (&dst == &fresh) ch_new.alerts.push_back(fp);
  }
  rest.first_ms = old.first_ms;
  old = std::move(rest);
  old.title.clear();
  fresh.title.clear();
  old.dirty = fresh.dirty = true;
  MarkSymptoms(old, alerts, now);
  MarkSymptoms(fresh, alerts, now);
  ch_new.timeline.push_back(Line(now, "split", "split from incident " + std::to_string(id) + " with " +
                                                   std::to_string(fps.size()) + " alert(s)", id));
  ch_new.timeline.back().incident_id = fresh.id;
  ch_old.timeline.push_back(Line(now, "split", std::to_string(fps.size()) + " alert(s) split into incident " +
                                                   std::to_string(fresh.id), fresh.id));
  ch_old.timeline.back().incident_id = id;
  int64_t new_id = fresh.id;
  incidents_.emplace(new_id, std::move(fresh));
  out->push_back(std::move(ch_old));
  out->push_back(std::move(ch_new));
  return new_id;
}

Status AlertCorrelator::Resolve(int64_t id, TimestampMs now, std::vector<AlertIncidentChange>* out) {
  auto it = incidents_.find(id);
  if (it == incidents_.end() || it->second.resolved) return Status::NotFound("no open alert incident with id " + std::to_string(id));
  it->second.resolved = true;
  it->second.resolved_ms = now;
  AlertIncidentChange ch;
  ch.kind = AlertIncidentChange::Kind::kResolved;
  ch.incident_id = id;
  out->push_back(std::move(ch));
  return Status::Ok();
}

void AlertCorrelator::Restore(AlertIncident inc) {
  int64_t id = inc.id;
  inc.max_service_alerts = 0;
  for (const auto& [svc, n] : inc.services) inc.max_service_alerts = std::max(inc.max_service_alerts, n);
  incidents_[id] = std::move(inc);
}

void AlertCorrelator::ResumeClearChecks(TimestampMs now, const std::function<TrackedAlert*(Fingerprint)>& alerts) {
  std::vector<ClearCheck> resumed;
  for (const auto& [id, inc] : incidents_) {
    if (inc.resolved) continue;
    std::map<std::string, TimestampMs> cleared;
    std::set<std::string> firing;
    for (Fingerprint fp : inc.alerts) {
      const TrackedAlert* t = alerts(fp);
      if (!t || t->flapping) continue;
      std::string svc = ServiceOf(t->alert.labels);
      if (t->firing) {
        firing.insert(svc);
      } else {
        TimestampMs& c = cleared[svc];
        c = std::max(c, t->resolved_ms);
      }
    }
    for (const auto& [svc, at] : cleared) {
      // Older checks came due before the stop, and were decided then. Alerts
      // that had resolved before this incident opened (a split-off
      // incident's own, moved here already judged) were never checked here
      // live either: judging them again would split them off twice.
      if (now - at > 2 * cfg_.propagation_window_ms || at < inc.opened_ms || !Downstream(inc, svc)) continue;
      if (!firing.count(svc)) {
        resumed.push_back({id, svc, at});
      } else if (MostlyCleared(inc, svc, alerts)) {
        resumed.push_back({id, svc, at, true});
      }
    }
  }
  std::sort(resumed.begin(), resumed.end(), [](const ClearCheck& a, const ClearCheck& b) { return a.cleared < b.cleared; });
  for (auto& c : resumed) {
    if (clear_checks_.size() >= cfg_.max_incidents) break;
    clear_checks_.push_back(std::move(c));
  }
}

const AlertIncident* AlertCorrelator::Find(int64_t id) const {
  auto it = incidents_.find(id);
  return it == incidents_.end() ? nullptr : &it->second;
}

Incident AlertCorrelator::ToIncident(const AlertIncident& a) const {
  Incident inc;
  inc.id = a.id;
  std::string svc = a.root_service.empty() ? "unknown" : a.root_service;
  inc.entity = "alerts:service=\"" + svc + "\"";
  inc.entity_labels = Labels::FromSorted({{"service", svc}});
  inc.title = a.title.empty() ? "alerts on " + svc : a.title;
  inc.state = a.resolved ? IncidentState::kResolved : IncidentState::kOpen;
  inc.opened_ms = a.opened_ms;
  inc.updated_ms = std::max(a.last_ms, a.resolved_ms);
  inc.resolved_ms = a.resolved ? a.resolved_ms : 0;
  inc.last_anomaly_ms = a.last_ms;
  int rank = SeverityRank(a.worst_severity);
  inc.max_score = rank >= 3 ? 20 : rank == 2 ? 10 : 5;
  inc.anomaly_count = static_cast<int>(a.anomaly_ids.size());
  return inc;
}

}  // namespace vigil
