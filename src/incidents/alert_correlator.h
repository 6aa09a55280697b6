// AlertCorrelator: joins alerts (and vigil's own anomalies) into incidents
// by entity, service topology and time; the alert-side companion of
// IncidentCorrelator, whose anomaly incidents it shares the id space and
// the store with.
//
// Joining. An alert names a service (the first of correlation.service_labels
// it has) and an entity (the first of correlation.entity_labels). It joins
// the live incident that it is most related to. Relations, strongest first:
// the incident has the same rule (alertname) failing on the same service;
// it has an alert on the same entity (pod, instance); ... on the same service; the
// alert's service depends on the incident's suspected root and calls a
// service alerting in it with at least two alerts (it sits on the fault's
// propagation path); it depends on the root, or the root depends on it (a
// deeper suspected root), these last two ranking lower, with the evidence
// of the incident's service it depends on that began failing last (the
// fault's nearest front). Each relation has an
// evidence time (when the current episode of alerts of the entity, service
// or root began in the incident; an episode ends after a propagation window
// without a new alert), and only fresh evidence (within propagation_window)
// relates at all: a fault reaches its callers within minutes, while an alert
// that starts long after its service's episode began is another problem or
// a blip. A rule, entity or service relation whose episode began more than
// onset_spread ago is late (one fault's alerts on a service begin
// together): it ranks below a fresh propagation path, and against it one
// alert on a just-failing callee carries the path too (a second fault
// reaching a caller that was already failing). Ties go to the most recent
// evidence. An alert that names the dependency it is about
// (correlation.dependency_labels: a mesh's destination_service, a client's
// peer or upstream) prefers, among the incidents it relates to, those whose
// suspected root is that callee or reachable through it: the label says
// which call edge the symptom travelled, which alert times and topology
// cannot tell for a caller of two failing roots. Services that merely share a
// caller or a callee are not related. An alert related to none starts a new
// candidate incident. Incidents are never merged automatically (two
// concurrent faults whose symptoms meet at a shared caller stay two
// incidents); operators merge and split by the API.
// This is the topology-plus-time grouping of e.g. Chen et al., "Towards
// Incident-aware Duplicate Ticket Aggregation" and alert-storm
// summarisation work (Zhao et al., "Understanding and Handling Alert Storm
// for Online Service Systems", ICSE-SEIP 2020), reduced to its simplest
// deterministic form.
//
// Minimum evidence. A candidate opens (and gets an id) only once it holds
// min_alerts distinct alerts, or one of its alerts has been firing for
// min_duration; a candidate whose alerts all resolved before that is
// dropped, so one-off blips page nobody. A candidate's alert that fired
// less than a propagation window and resolved before any other of it began
// (a blip a fault on its service joined a minute later) is taken out of
// it: no evidence, and not in the incident that opens.
//
// Suspected root: the incident's service that explains most of its alerts
// (its own and those of the services that depend on it and began failing no
// earlier than it, within a minute of jitter), among services with at least
// two alerts; without topology, the service of its first alert. Alerts on
// services that depend on the root are symptoms
// (topology inhibition) while the root has a non-flapping alert firing or
// resolved within the propagation window: a flapping root, or one resolved
// long ago, explains nothing away, so a fault downstream of it still pages.
// With page_critical_symptoms, critical alerts are not muted so
// (Alertmanager's usual inhibit rule: critical mutes warning, not
// critical): a fault of a caller's own that begins while its callee's fault
// spreads, and joins that incident, pages. Nor is a service whose alerts
// began more than symptom_lag after its nearest failing dependency in the
// incident (a symptom follows its cause within a hop), nor one whose onset
// burst (its alerts begun within onset_spread of its first) ended more than
// symptom_lag + onset_spread / 2 after the latest onset of anything it
// depends on (the failure reached it too late for a hop).
//
// After the root: once an incident's root has been quiet for a
// propagation window, the evidence of the end (a fault's symptoms clear
// with it) corrects what the start could only guess:
//  - alerts in other incidents, whose roots still fail, that cleared with
//    this root on services depending on it move here, with the pods of
//    their rule that began with them and cleared in the root's span
//    (ReclaimClearedWithRoot);
//  - its alerts that outlived the root, on services none of whose alerts
//    ended with it, explained by no other failing root, were another fault
//    that only looked like propagation: they move into a new incident, one
//    per service of them that depends on none of the others (RegroupAfterRoot;
//    a root begun after all of a mostly resolved service's alerts explains
//    none of them, and such a service, muted, moves with a split notice);
//  - its alerts that outlived the root, unchanged while it recovered, on a
//    service depending on another incident's failing root, move there,
//    unless a pod of their rule that began with them ended with the root
//    (HandOverToFailingRoot).
// Each move is a "split" or "reattributed" timeline line on both incidents.
// An incident split off because its alerts cleared while muted as the
// root's symptoms carries a split notice (AlertIncident::split_notice) that
// the pipeline sends once to its receivers: nobody was paged about them.
//
// Resolution: an incident with no firing alert for resolve_after resolves.
//
// Anomalies never open incidents here (IncidentCorrelator does that); an
// anomaly whose entity or service matches an open alert incident, or sits
// on a service adjacent to one, is attached to it.
//
// Time comes from the caller. Not thread-safe: one owner.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "alerts/alerting_config.h"
#include "alerts/dedup.h"
#include "core/anomaly.h"
#include "core/incident.h"

namespace vigil {

struct AlertIncident {
  int64_t id = 0;                 // 0 while a candidate
  bool open = false;              // evidence met
  bool resolved = false;
  std::set<Fingerprint> alerts;
  std::set<Fingerprint> firing;
  std::map<std::string, int> services;   // service -> alerts
  int max_service_alerts = 0;            // the largest count in `services`
  std::map<std::string, TimestampMs> service_since;  // service -> start of its current alert episode
  std::map<std::string, TimestampMs> service_last;   // service -> when its latest new alert joined
  // service -> when its failure in the incident began: the start of the
  // episode that began its current run of firing alerts (a new episode
  // while the service still fires there carries it on). Absent (restored
  // from an older store): its service_since.
  std::map<std::string, TimestampMs> service_onset;
  // service -> its onset burst: the start of its earliest alert in the
  // current failure and the latest start within onset_spread of that. A
  // fault's alerts on a service begin within onset_spread of reaching it,
  // so it reached the service no earlier than the second less onset_spread
  // (BeganTooLateForASymptom).
  std::map<std::string, std::pair<TimestampMs, TimestampMs>> service_burst;
  std::set<std::string> entities;
  std::map<std::string, TimestampMs> entity_since;   // entity -> start of its current alert episode
  std::map<std::string, TimestampMs> entity_last;    // entity -> when its latest new alert joined
  std::map<std::string, TimestampMs> rule_since;     // service + alertname -> start of its current episode
  std::map<std::string, TimestampMs> rule_last;      // service + alertname -> when its latest new alert joined
  std::string root_service;
  std::string title;
  TimestampMs first_ms = 0, last_ms = 0, opened_ms = 0, resolved_ms = 0, quiet_since_ms = 0;
  std::vector<int64_t> anomaly_ids;
  std::string worst_severity;
  bool root_firing = true;  // the root service has a firing, non-flapping alert
  bool dirty = true;        // alerts changed since the last Tick re-marked symptoms
  // BeganTooLateForASymptom per service, valid while `since_version` (bumped
  // whenever service_since changes) is the one cached (not persisted).
  uint64_t since_version = 0;
  mutable std::map<std::string, std::pair<uint64_t, bool>> late_symptom_cache;
  // Split notice: set when the incident was split off from another, after
  // its alerts came and went while muted there as symptoms (nobody was
  // paged about them). Its route's receivers get one resolved-status
  // notification saying so (AlertPipeline); `notice_done` holds the
  // receivers for whom that was decided (sent, or muted by a silence or an
  // inhibition rule), so it is never sent twice, also after a restart.
  std::string split_notice;
  std::set<std::string> notice_done;
  // The split notice is due only when the group's first flush pages none
  // of its firing alerts (they would tell of the fault themselves): set
  // for alerts moved off after their root recovered that no other root
  // keeps muted (RegroupAfterRoot), which page as news if they still fire
  // then, and were never heard of if they resolved first.
  bool notice_unless_paged = false;
};

struct AlertIncidentChange {
  enum class Kind { kOpened, kUpdated, kResolved };
  Kind kind = Kind::kUpdated;
  int64_t incident_id = 0;
  std::vector<TimelineEntry> timeline;
  std::vector<Fingerprint> alerts;    // alerts that joined (or were moved)
  std::vector<int64_t> anomaly_ids;   // anomalies attached
};

class AlertCorrelator {
 public:
  // `next_id` gives each opening incident its id (the engine stores it and
  // returns the store's id; tests and evals count).
  AlertCorrelator(const CorrelationConfig& cfg, const ServiceTopology* topology, std::function<int64_t()> next_id);

  // Takes the alert's new state; sets t->incident_id once its incident is
  // open, and t->symptom (of every alert of the incident when its root
  // moves: `alerts` looks them up). Appends what changed.
  void OnAlert(TrackedAlert* t, TimestampMs now, const std::function<TrackedAlert*(Fingerprint)>& alerts,
               std::vector<AlertIncidentChange>* out);
  // Attaches an anomaly to a related open incident (see above).
  void OnAnomaly(const Anomaly& a, std::vector<AlertIncidentChange>* out);
  // Opens candidates that have been firing long enough, drops dead
  // candidates, resolves quiet incidents. `alerts` looks up alerts by
  // fingerprint so their incident ids can be set.
  // Resolved incidents are forgotten window + resolve_after after they
  // resolved (their ids go to *forgotten when given).
  void Tick(TimestampMs now, const std::function<TrackedAlert*(Fingerprint)>& alerts,
            std::vector<AlertIncidentChange>* out, std::vector<int64_t>* forgotten = nullptr);

  // Operator actions. Merge moves every alert of `from` into `into` and
  // resolves `from`. Split moves the given alerts into a new open incident
  // and returns its id. Resolve closes an incident now (its alerts, should
  // they fire again, start a new one). NotFound for unknown ids.
  Result<int64_t> Merge(int64_t into, int64_t from, TimestampMs now,
                        const std::function<TrackedAlert*(Fingerprint)>& alerts, std::vector<AlertIncidentChange>* out);
  Result<int64_t> Split(int64_t id, const std::vector<Fingerprint>& fps, TimestampMs now,
                        const std::function<TrackedAlert*(Fingerprint)>& alerts, std::vector<AlertIncidentChange>* out);
  Status Resolve(int64_t id, TimestampMs now, std::vector<AlertIncidentChange>* out);

  // Puts an incident back (restart); its alerts must be restored into the
  // dedup stage with their incident_id.
  void Restore(AlertIncident inc);
  // After the restores: the checks for a symptom that cleared while its
  // root kept failing (SplitClearedBeforeRoot) wait a propagation window in
  // memory; those pending when vigil stopped are derived again from the
  // restored alerts (each downstream service of a live incident none of
  // whose alerts there fires, that cleared within two windows of `now`), so
  // a restart loses no split and no split notice.
  void ResumeClearChecks(TimestampMs now, const std::function<TrackedAlert*(Fingerprint)>& alerts);

  const AlertIncident* Find(int64_t id) const;
  // The incident as the store keeps it (entity = root service, title, ...).
  Incident ToIncident(const AlertIncident& inc) const;
  std::string ServiceOf(const Labels& labels) const;
  std::string EntityOf(const Labels& labels) const;
  // The alert rule on its service ("service/alertname"), "" without either.
  std::string RuleOf(const Labels& labels) const;
  // True when `service` depends on the incident's root (downstream of the
  // fault).
  bool Downstream(const AlertIncident& inc, const std::string& service) const;
  // True when its alerts are symptoms: downstream of a root that has a
  // firing, non-flapping alert.
  bool IsSymptom(const AlertIncident& inc, const std::string& service) const;
  // True when `t` is muted as a symptom of `inc`: IsSymptom, its service
  // did not begin failing too late for a symptom (BeganTooLateForASymptom),
  // and, with page_critical_symptoms, below critical severity (a critical
  // alert on a caller pages even then: it may be a fault of its own that
  // began while the root's fault spread).
  // A critical alert with page_critical_symptoms: paged even as a symptom.
  bool PagedEvenAsSymptom(const TrackedAlert& t) const;
  bool MutedAsSymptom(const AlertIncident& inc, const TrackedAlert& t) const;
  // True when `service`'s episode in `inc` began more than symptom_lag
  // after that of its nearest failing dependency there (which, and the
  // lag, go to the out-parameters): not muted as a symptom.
  // `early`: also true when it began before any failing dependency could
  // have reached it (BeganBeforeItsCause; judged by what is live now, so
  // it may turn true only after the service's alerts ended).
  bool BeganTooLateForASymptom(const AlertIncident& inc, const std::string& service,
                               std::string* front_service = nullptr, TimestampMs* lag = nullptr,
                               bool early = true) const;
  // True when no other alert of `inc` on t's service is of a severity
  // MutedAsSymptom never mutes (for the timeline line saying so, once).
  bool FirstUnmutedOn(const AlertIncident& inc, const TrackedAlert& t,
                      const std::function<TrackedAlert*(Fingerprint)>& alerts) const;
  // The dependency the alert names: the value of the first of
  // correlation.dependency_labels that is a known service other than
  // `service` (the value itself, or its part before the first '.'); "" when
  // none does.
  std::string DependencyOf(const Labels& labels, const std::string& service) const;
  // topology.DependsOn, memoized (bounded).
  bool DependsOn(const std::string& service, const std::string& dependency) const;
  // The split notice of incident `id` was sent to `receiver` (or muted for
  // it); false when there is no such incident.
  bool NoticeDone(int64_t id, const std::string& receiver);
  const std::map<int64_t, AlertIncident>& incidents() const { return incidents_; }
  size_t candidates() const { return candidates_.size(); }

 private:
  // `weak_path`: one alert on a callee that began within onset_spread
  // carries the propagation path, at the late relation's rank.
  int Relatedness(const AlertIncident& inc, const std::string& service, const std::string& entity, const std::string& rule,
                  TimestampMs now, bool weak_path, TimestampMs* evidence) const;
  // Another incident exactly as related as the one BestMatch chose, with
  // another suspected root (nullptr when none): the tie-break decided.
  struct Rival {
    AlertIncident* incident = nullptr;
    TimestampMs evidence_gap_ms = 0;  // the chosen one's evidence time less the rival's
  };
  // `dependency`: the callee the alert names (DependencyOf; "" for none).
  // Among related incidents, those the named call edge leads into
  // (NamedEdgeTier) come first; *score then includes the tier.
  AlertIncident* BestMatch(std::map<int64_t, AlertIncident>& pool, const std::string& service,
                           const std::string& entity, const std::string& rule, TimestampMs now, bool close_only, int* score,
                           bool weak_path = false, const std::string& dependency = "", Rival* rival = nullptr);
  // How far the call edge to `dependency` leads into `inc`: 2 when its
  // suspected root is the dependency or reachable through it, plus 1 when
  // the dependency is the root or has alerts in it; 0 without a dependency.
  int NamedEdgeTier(const AlertIncident& inc, const std::string& dependency) const;
  // True when `service` is in the topology or has alerts in a live
  // incident or candidate.
  bool KnownService(const std::string& service) const;
  // `fresh_service_episode`: the alert starts a new episode of its service
  // even within the propagation window (nothing of the service still fires
  // there; see FreshServiceEpisode).
  // `alerts` (optional) tells whether the service still fires in `inc`
  // when its episode restarts (its onset then carries on).
  void Add(AlertIncident& inc, const TrackedAlert& t, TimestampMs now, bool fresh_service_episode = false,
           const std::function<TrackedAlert*(Fingerprint)>* alerts = nullptr);
  // True when an alert of `service` other than `except` fires in `inc`.
  bool ServiceFiring(const AlertIncident& inc, const std::string& service, Fingerprint except,
                     const std::function<TrackedAlert*(Fingerprint)>& alerts) const;
  // True when nothing of `service` fires in `inc` any more and its episode
  // began more than the jitter slack ago: a resolved blip does not age the
  // episode of a fault that begins on the service a minute or two later.
  bool FreshServiceEpisode(const AlertIncident& inc, const std::string& service, TimestampMs now,
                           const std::function<TrackedAlert*(Fingerprint)>& alerts) const;
  // True when every service of `cand` calls a service failing in `inc`
  // (fresh, two alerts at least) and depends on its root.
  bool OnPropagationPath(const AlertIncident& inc, const AlertIncident& cand, TimestampMs now) const;
  void UpdateRoot(AlertIncident& inc, const std::string& service);
  // The root of incident `id` stopped failing: services still firing that
  // did not stop with it belong to another fault (see the .cc); their
  // alerts move into new incidents (one per independent fault).
  // `service`'s non-flapping alerts in `inc`: how many, and how many still fire.
  struct ServiceAlertCount {
    int total = 0, firing = 0;
    // Three quarters or more resolved: a service's rules clear at their own
    // pace, and one or two lagging ones should not hide that the rest cleared
    // early (storms stop 12: half judged too early on seed 5083, nine tenths
    // too late).
    bool MostlyResolved() const { return total > 0 && 4 * (total - firing) >= 3 * total; }
  };
  ServiceAlertCount CountServiceAlerts(const AlertIncident& inc, const std::string& service,
                                       const std::function<TrackedAlert*(Fingerprint)>& alerts) const;
  // Three quarters or more of `service`'s non-flapping alerts in `inc` resolved.
  bool MostlyResolved(const AlertIncident& inc, const std::string& service,
                      const std::function<TrackedAlert*(Fingerprint)>& alerts) const;
  // IsSymptom after the root recovered, by failing roots that began no
  // later than the latest of `service`'s alerts in `inc` (RegroupAfterRoot).
  bool ExplainedByEarlierRoot(const AlertIncident& inc, const std::string& service,
                              const std::function<TrackedAlert*(Fingerprint)>& alerts) const;
  void RegroupAfterRoot(int64_t id, TimestampMs now, const std::function<TrackedAlert*(Fingerprint)>& alerts,
                        std::vector<AlertIncidentChange>* out);
  // A service downstream of the root of incident `check.incident`, all (or,
  // `partial`, most) of whose alerts there resolved at `check.cleared`, a propagation window
  // ago: when the root (and every other root it depends on) kept failing
  // throughout, those alerts were not its symptoms; they move to an
  // incident of their own (see the .cc).
  struct ClearCheck {
    int64_t incident = 0;
    std::string service;
    TimestampMs cleared = 0;
    // Some of the service's alerts still fire (MostlyCleared): those stay,
    // the resolved ones are judged and move.
    bool partial = false;
  };
  // True when some of `service`'s non-flapping alerts in `inc` still fire
  // but at least three quarters of them resolved.
  bool MostlyCleared(const AlertIncident& inc, const std::string& service,
                     const std::function<TrackedAlert*(Fingerprint)>& alerts) const;
  // The rest of `service`'s alerts in `inc`, all resolved now, join the
  // incident its resolved alerts split off into while some still fired
  // (a partial ClearCheck); false when there is none.
  bool FollowPartSplitOff(AlertIncident& inc, const std::string& service, TimestampMs now,
                          const std::function<TrackedAlert*(Fingerprint)>& alerts,
                          std::vector<AlertIncidentChange>* out);
  void SplitClearedBeforeRoot(const ClearCheck& check, TimestampMs now,
                              const std::function<TrackedAlert*(Fingerprint)>& alerts,
                              std::vector<AlertIncidentChange>* out);
  // True when a non-flapping alert of `inc`'s root resolved within [from, to].
  bool RootResolvedWithin(const AlertIncident& inc, TimestampMs from, TimestampMs to,
                          const std::function<TrackedAlert*(Fingerprint)>& alerts) const;
  // Moves `moving` out of `inc` into a new open incident; timeline lines on
  // both ("opened with N alert(s) of incident X <why_opened>", "N alert(s)
  // <why_left> moved to incident Y").
  void SplitOff(AlertIncident& inc, const std::set<Fingerprint>& moving, TimestampMs now,
                const std::function<TrackedAlert*(Fingerprint)>& alerts, std::vector<AlertIncidentChange>* out,
                const std::string& why_opened, const std::string& why_left, const std::string& notice = "");
  // The root of incident `id` stopped failing: resolved alerts in other
  // incidents (whose roots still fail) that cleared with it, downstream of
  // it, were its symptoms; they move here (see the .cc).
  void ReclaimClearedWithRoot(int64_t id, TimestampMs now, const std::function<TrackedAlert*(Fingerprint)>& alerts,
                              std::vector<AlertIncidentChange>* out);
  // The root of incident `id` stopped failing: alerts still firing in it,
  // whose rule has no alert that ended with the root, downstream of
  // another incident's failing root, were that fault's; they move there.
  void HandOverToFailingRoot(int64_t id, TimestampMs now, const std::function<TrackedAlert*(Fingerprint)>& alerts,
                             std::vector<AlertIncidentChange>* out);
  // The root of `inc` recovered just now (its last alert resolved within
  // two propagation windows): when its alerts resolved, first (of the run
  // that reaches the last through gaps of at most a window) and last.
  bool RootRecovery(const AlertIncident& inc, TimestampMs now, const std::function<TrackedAlert*(Fingerprint)>& alerts,
                    TimestampMs* first, TimestampMs* last) const;
  // The live incident `id` when the topology is known and its root has just
  // recovered (RootRecovery); nullptr otherwise. `*with_from`/`*with_to` get
  // the span in which an alert "ended with the root": its first resolution
  // less the jitter slack to its last plus the slack. The entry test of the
  // passes that regroup alerts by how they ended with the root.
  AlertIncident* JustRecovered(int64_t id, TimestampMs now, const std::function<TrackedAlert*(Fingerprint)>& alerts,
                               TimestampMs* with_from, TimestampMs* with_to);
  // True when `t`, which just resolved in the open incident `inc`, fired
  // for less than a propagation window while the incident's suspected root
  // kept failing (has another alert firing): a blip during the fault, not
  // one of its symptoms (those last as long as the fault does).
  bool BlipDuringFault(const AlertIncident& inc, const TrackedAlert& t, TimestampMs now,
                       const std::function<TrackedAlert*(Fingerprint)>& alerts) const;
  // The exception BlipDuringFault makes for the root (an alert begun within
  // its onset spread may be a root pod recovering with the fault) is
  // judged again a propagation window after the alert resolved: when the
  // root kept failing all that while (an alert of it that fired before the
  // resolution still fires), the short alert was no part of the fault but
  // something brief on the root's service (a blip that came first often
  // began the root's candidate); it leaves the incident then.
  struct RootBlipCheck {
    int64_t incident = 0;
    Fingerprint fp = 0;
    TimestampMs resolved = 0;
  };
  void LeaveIfRootKeptFailing(const RootBlipCheck& check, TimestampMs now,
                              const std::function<TrackedAlert*(Fingerprint)>& alerts,
                              std::vector<AlertIncidentChange>* out);
  // Detaches `t` (resolved at `ended`) from `inc` as a blip: a timeline
  // line (`why` after "kept failing"), a change; `t` is in no incident after.
  void LeaveAsBlip(AlertIncident& inc, TrackedAlert* t, TimestampMs now, TimestampMs ended, const std::string& why,
                   const std::function<TrackedAlert*(Fingerprint)>& alerts, std::vector<AlertIncidentChange>* out);
  // Counts an alert moved into `inc` without dating it (it starts no
  // episode there: new alerts on its service must not join by it).
  void Adopt(AlertIncident& inc, TrackedAlert* t) const;
  // BeganTooLateForASymptom's converse, for a service nothing it depends on
  // began failing before (`own`: its onset in `inc`).
  bool BeganBeforeItsCause(const AlertIncident& inc, const std::string& service, TimestampMs own,
                           std::string* front_service, TimestampMs* lag) const;
  // Widens `service`'s onset burst in `inc` (AlertIncident::service_burst) by an alert begun at `start`.
  void WidenBurst(AlertIncident& inc, const std::string& service, TimestampMs start) const;
  // Takes `fps` out of `inc`, keeping the episode times of what stays.
  void Detach(AlertIncident& inc, const std::set<Fingerprint>& fps,
              const std::function<TrackedAlert*(Fingerprint)>& alerts) const;
  // Takes out of a candidate about to open its alerts that fired less than
  // a propagation window and resolved before any other of it began.
  void DropBlipsBefore(AlertIncident& cand, const std::function<TrackedAlert*(Fingerprint)>& alerts);
  void Open(int64_t cand_key, TimestampMs now, const std::function<TrackedAlert*(Fingerprint)>& alerts,
            std::vector<AlertIncidentChange>* out);
  void MarkSymptoms(AlertIncident& inc, const std::function<TrackedAlert*(Fingerprint)>& alerts, TimestampMs now) const;
  void UpdateRootFiring(AlertIncident& inc, const std::function<TrackedAlert*(Fingerprint)>& alerts,
                        TimestampMs now) const;
  void Retitle(AlertIncident& inc, const TrackedAlert* first) const;

  CorrelationConfig cfg_;
  const ServiceTopology* topo_;
  std::function<int64_t()> next_id_;
  std::map<int64_t, AlertIncident> incidents_;   // opened (live and recently resolved), by id
  std::map<int64_t, AlertIncident> candidates_;  // not yet open, by a local key
  std::map<Fingerprint, int64_t> candidate_of_;  // alert -> candidate key
  int64_t next_candidate_ = 1;
  // (incident, service) -> the incident a partial ClearCheck split the
  // service's resolved alerts off into (FollowPartSplitOff; bounded).
  std::map<std::pair<int64_t, std::string>, int64_t> part_split_;
  std::deque<ClearCheck> clear_checks_;  // due a propagation window after `cleared` (bounded; not persisted)
  std::deque<RootBlipCheck> root_blip_checks_;  // due a propagation window after `resolved` (bounded; not persisted)
  mutable std::map<std::pair<std::string, std::string>, bool> depends_cache_;  // (service, root) -> depends
};

}  // namespace vigil
