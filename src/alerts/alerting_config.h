// AlertingConfig: the YAML that configures vigil's alert pipeline. It is an
// Alertmanager configuration file (route, receivers, inhibit_rules,
// global.resolve_timeout; `templates` is accepted and ignored; vigil adds
// global.resolved_digest, see AlertingConfig) plus three
// vigil sections:
//
//   topology:            # service -> the services it calls
//     frontend: [checkout, search]
//   correlation:
//     window: 5m           # signals this close in time may join an incident
//     propagation_window: 3m  # a fault reaches a caller within this time
//     onset_spread: 90s    # one fault's alerts on a service begin within this span
//     symptom_lag: 2m      # a service failing this long after what it depends on is no symptom
//     min_alerts: 5        # evidence before an incident opens: N alerts ...
//     min_duration: 2m     # ... or one alert firing this long
//     resolve_after: 5m    # an incident resolves this long after its last alert resolved
//     service_labels: [service, job, app]
//     entity_labels: [instance, pod, host]
//     page_critical_symptoms: false  # true: critical alerts downstream of a
//                                    # suspected root still page (not muted)
//   dedup:
//     flap_transitions: 4
//     flap_window: 10m
//
// Receivers may have webhook_configs (Alertmanager's webhook payload),
// slack_configs (Slack incoming-webhook JSON to api_url) and, vigil's
// addition, alertmanager_configs (alerts forwarded to url + /api/v2/alerts).
// Unknown keys are errors naming the key, except that parts of
// Alertmanager's format vigil does not implement (templates, time
// intervals, other notifier types) are reported as such.
#pragma once

#include <string>
#include <vector>

#include "alerts/dedup.h"
#include "alerts/inhibit.h"
#include "alerts/route.h"
#include "alerts/topology.h"
#include "core/status.h"

namespace vigil {

struct WebhookTarget {
  std::string url;
  bool send_resolved = true;
  int max_alerts = 0;  // 0 = all
};

struct SlackTarget {
  std::string api_url;
  std::string channel;
  bool send_resolved = false;
};

struct AlertmanagerTarget {
  std::string url;  // base URL; alerts go to url + "/api/v2/alerts"
};

struct Receiver {
  std::string name;
  std::vector<WebhookTarget> webhooks;
  std::vector<SlackTarget> slack;
  std::vector<AlertmanagerTarget> alertmanagers;
  // True when any target wants resolved notifications.
  bool SendResolved() const;
};

struct CorrelationConfig {
  TimestampMs window_ms = 5 * 60'000;
  TimestampMs propagation_window_ms = 3 * 60'000;
  // One fault's alerts on one service (rule, pod) begin within about this
  // span of each other. A relation to an incident by a service, pod or rule
  // whose episode there began longer ago is "late": it yields to a fresh
  // propagation path into another incident (a second fault reaching a
  // caller that has been failing for minutes). 0 turns this off.
  TimestampMs onset_spread_ms = 90'000;
  // Topology inhibition does not mute a service whose alerts began more
  // than this after its nearest failing dependency in the incident: a
  // symptom follows its cause within a hop; that late, it is more likely a
  // fault of its own nested in the incident, and pages once as news.
  // 0 turns this off.
  TimestampMs symptom_lag_ms = 2 * 60'000;
  int min_alerts = 5;
  TimestampMs min_duration_ms = 2 * 60'000;
  TimestampMs resolve_after_ms = 5 * 60'000;
  std::vector<std::string> service_labels = {"service", "job", "app"};
  std::vector<std::string> entity_labels = {"instance", "pod", "host"};
  // Labels by which a caller-side alert names the dependency it is about
  // (service-mesh and client metrics: Istio's destination_service, a
  // client's peer or upstream, ...). The first present whose value is a
  // known service (exactly, or its part before the first '.', as in
  // "reviews.default.svc.cluster.local") attributes the alert along that
  // call edge: it prefers the incident whose suspected root is that
  // service or reachable through it (docs/alerts.md, storms stop 8).
  // Empty turns this off.
  std::vector<std::string> dependency_labels = {"destination_service", "destination_workload", "destination_app",
                                                "upstream",            "upstream_service",     "peer",
                                                "peer_service",        "target_service",       "backend",
                                                "remote_service",      "downstream_service",   "db"};
  size_t max_incidents = 10'000;
  // Topology inhibition mutes every alert of a service downstream of an
  // incident's suspected root. With this on, critical ones (critical, page,
  // error) are not muted, as Alertmanager's usual "critical mutes warning"
  // rule would have it: a caller's own fault inside another fault's
  // incident then pages, and so does every critical symptom (off by
  // default: with rule-set severities that costs more pages than it saves
  // faults; docs/alerts.md).
  bool page_critical_symptoms = false;
};

struct AlertingConfig {
  RouteNode route;
  std::vector<Receiver> receivers;
  std::vector<InhibitRule> inhibit_rules;
  ServiceTopology topology;
  CorrelationConfig correlation;
  DedupConfig dedup;
  // global.resolved_digest: the all-clears a receiver is due within one
  // flush go out as one notification listing the resolved groups (see
  // docs/alerts.md); false sends one all-clear per group.
  bool resolved_digest = true;
  // global.resolved_digest_wait: with the digest, an all-clear that falls
  // due waits this long for the receiver's other groups to clear too (a new
  // firing alert in the group cancels it); -1 (default) = one group_interval
  // of the group whose all-clear fell due first, 0 = no wait.
  TimestampMs resolved_digest_wait_ms = -1;

  const Receiver* FindReceiver(const std::string& name) const;
};

// The configuration used when none is given: one receiver "default" with no
// targets, routes grouped by incident.
AlertingConfig DefaultAlertingConfig();

// Parses YAML text. Errors name the key path and value, e.g.
// `route.routes[1].group_wait: bad duration "5x"`.
Result<AlertingConfig> ParseAlertingConfig(const std::string& yaml_text);
Result<AlertingConfig> LoadAlertingConfig(const std::string& path);

// Go/Prometheus durations: "1h30m", "500ms", "2d", "1w"; combined units allowed.
Result<TimestampMs> ParsePromDuration(std::string_view text);

}  // namespace vigil
