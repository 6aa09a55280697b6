// AlertPipeline: vigil's alert path, assembled in one place from the small
// stages of src/alerts (Alertmanager's notify pipeline is the model):
//
//   Receive(alert)
//     -> AlertDedup        fingerprint, count, last seen, resolve timeout, flapping
//     -> InhibitStage      index of firing inhibition sources
//     -> AlertCorrelator   incident by entity / topology / time; minimum evidence;
//                          suspected root and symptoms (topology inhibition)
//     -> routing tree      route(s) and group labels (pseudo-label "incident")
//     -> AggregationGroups group_wait / group_interval timing
//   Tick(now), per due group:
//     -> mute              silenced, inhibited, flapping (held) or symptom
//     -> NotificationLog   send only news, or a repeat after repeat_interval
//     -> split notice      once, for an incident split off after its alerts
//                          came and went muted as another's symptoms
//     -> all-clear digest  a receiver's all-clears due in one tick, and those
//                          of its other groups that have nothing firing any
//                          more, go out as one notification
//     -> GroupNotification out (the engine renders and queues it durably)
//
// Alerts are routed only once their incident opened: the minimum-evidence
// gate of the correlator applies to every route, so a one-off blip pages
// nobody. Everything takes `now` from the caller: a replay with a simulated
// clock gives the same notifications as the live run.
//
// Not thread-safe: one owner (the engine's converge thread, or an eval).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "alerts/aggregation.h"
#include "alerts/alerting_config.h"
#include "alerts/dedup.h"
#include "alerts/inhibit.h"
#include "alerts/notification_log.h"
#include "alerts/silence.h"
#include "incidents/alert_correlator.h"

namespace vigil {

// One notification a receiver is to get: the group's unmuted firing alerts
// and its newly resolved ones.
struct GroupNotification {
  std::string receiver;
  std::string group_key;
  Labels group_labels;
  int64_t incident_id = 0;             // when every alert belongs to one incident
  // An all-clear digest (several groups' all-clears to one receiver in one
  // notification): the groups and incidents it resolves.
  std::vector<std::string> group_keys;
  std::vector<int64_t> incident_ids;
  std::vector<TrackedAlert> firing;
  std::vector<TrackedAlert> resolved;
  TimestampMs at = 0;
  // A split notice (see AlertCorrelator: alerts that came and went muted as
  // another incident's symptoms, split off into this incident): why; the
  // alerts are in `resolved`. Empty for every other notification.
  std::string notice;
  bool all_resolved() const { return firing.empty() && notice.empty(); }
};

// Why an alert is not notified now ("" when it is not muted).
struct MuteReason {
  std::vector<std::string> silenced_by;
  Fingerprint inhibited_by = 0;
  bool flapping = false;
  bool symptom = false;
  bool muted() const { return !silenced_by.empty() || inhibited_by != 0 || flapping || symptom; }
};

class AlertPipeline {
 public:
  struct Output {
    std::vector<AlertIncidentChange> incidents;
    std::vector<GroupNotification> notifications;
    std::vector<NotificationLogEntry> nflog;     // entries written (persist them with the notification)
    std::vector<std::pair<std::string, std::string>> nflog_forgotten;  // (receiver, group key) entries dropped
    std::vector<Fingerprint> changed_alerts;     // alerts whose stored state changed (or that were forgotten)
    std::vector<int64_t> forgotten_incidents;    // incidents no longer kept in memory
    std::vector<std::string> forgotten_silences; // silences expired past their retention
  };

  AlertPipeline(AlertingConfig cfg, std::function<int64_t()> next_incident_id, uint64_t silence_seed = 0);

  DedupOutcome Receive(const Alert& a, TimestampMs now, Output* out);
  void OnAnomaly(const Anomaly& a, Output* out);
  void Tick(TimestampMs now, Output* out);

  Result<int64_t> Merge(int64_t into, int64_t from, TimestampMs now, Output* out);
  Result<int64_t> Split(int64_t id, const std::vector<Fingerprint>& fps, TimestampMs now, Output* out);
  Status Resolve(int64_t id, TimestampMs now, Output* out);

  MuteReason MutedNow(const TrackedAlert& t, TimestampMs now) const;

  // Restart: alerts (with their incident ids), incidents, silences and the
  // notification log as stored; then Reroute() puts the alerts of open
  // incidents back into their groups.
  void RestoreAlert(TrackedAlert t);
  void RestoreIncident(AlertIncident inc) { correlator_.Restore(std::move(inc)); }
  void RestoreNotificationLog(NotificationLogEntry e) { nflog_.Record(std::move(e)); }
  void Reroute(TimestampMs now);

  const AlertingConfig& config() const { return cfg_; }
  // Service edges discovered from traces join the configured topology (the
  // correlator reads it through a pointer, so the addition is seen at once).
  void AddDiscoveredCalls(const std::vector<std::pair<std::string, std::string>>& calls) {
    for (const auto& [caller, callee] : calls) cfg_.topology.AddCall(caller, callee);
  }
  const AlertDedup& alerts() const { return dedup_; }
  SilenceSet& silences() { return silences_; }
  const SilenceSet& silences() const { return silences_; }
  const NotificationLog& nflog() const { return nflog_; }
  const AlertCorrelator& correlator() const { return correlator_; }
  const AggregationGroups& groups() const { return groups_; }
  TrackedAlert* FindAlert(Fingerprint fp) { return dedup_.FindMutable(fp); }

 private:
  void Route(const TrackedAlert& t, TimestampMs now);
  void Apply(std::vector<AlertIncidentChange>& changes, TimestampMs now, Output* out);
  // Sends what the group's flush calls for. With `clears`, an all-clear is
  // folded into its receiver's digest there instead; with `clear_only`,
  // nothing but an all-clear is done.
  void Flush(AggregationGroup& g, TimestampMs now, Output* out,
             std::map<std::string, GroupNotification>* clears = nullptr, bool clear_only = false);
  // The group is one incident split off with a notice not yet decided for
  // its receiver: sends it (its unmuted alerts, resolved) and records it.
  // False when the group's incident has no such notice due.
  bool SplitNotice(AggregationGroup& g, GroupNotification& n, const std::vector<const TrackedAlert*>& resolved,
                   TimestampMs now, Output* out);
  // The split notice due to n.receiver for the group's incident (its
  // unmuted resolved alerts, into `notice`; `notice->notice` stays empty
  // when all of them are muted), decided once: false when none is due.
  bool TakeSplitNotice(const std::string& key, const GroupNotification& n,
                       const std::vector<const TrackedAlert*>& resolved, TimestampMs now, Output* out,
                       GroupNotification* notice);

  AlertingConfig cfg_;
  AlertDedup dedup_;
  InhibitStage inhibit_;
  AlertCorrelator correlator_;
  SilenceSet silences_;
  AggregationGroups groups_;
  NotificationLog nflog_;
  std::map<Fingerprint, std::vector<std::string>> memberships_;  // alert -> its current group keys
  // Resolved blips taken out of their incident, still in its groups (see Route).
  std::set<Fingerprint> blips_;
  std::function<TrackedAlert*(Fingerprint)> lookup_;
  // Receiver -> when its held all-clears go out (resolved_digest_wait; in
  // memory: after a restart the wait starts again at the next flush).
  std::map<std::string, TimestampMs> clear_held_until_;
};

}  // namespace vigil
