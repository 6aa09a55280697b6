// Alertmanager wire formats for vigil incidents.
//
// vigil speaks the two JSON shapes the Prometheus ecosystem already knows,
// unchanged, so that existing receivers work without adapters:
//   - the webhook payload Alertmanager posts to a webhook_config receiver
//     (version "4", Alertmanager 0.25), for vigil's own webhooks;
//   - the alert list Prometheus posts to Alertmanager's POST /api/v2/alerts,
//     for forwarding incidents to a real Alertmanager, which then routes,
//     groups, silences and notifies as it does for Prometheus alerts.
//
// One incident is one alert. Its labels (IncidentAlertLabels) are:
//   alertname="VigilIncident", incident_id="<id>", every entity label of the
//   incident (instance, job, service, ...), and severity: "critical" when the
//   incident's max_score >= 20, else "warning".
// Entity labels never override those three; reserved names (__*) are left
// out, except that an entity known only by its metric name (__name__) gets
// it as label "metric". The annotations are summary
// (the incident title) and description (the strongest series and their
// scores). The alert's fingerprint is the 16-hex-digit stable hash of its
// labels (the same labels always give the same fingerprint).
//
// Pure functions: no I/O, no clock (the caller passes `now`), any thread.
#pragma once

#include <string>
#include <vector>

#include "core/incident.h"
#include "core/labels.h"
#include "core/sample.h"

namespace vigil {

inline constexpr const char* kIncidentAlertName = "VigilIncident";
inline constexpr double kCriticalScore = 20.0;

// The alert labels of an incident (see above), sorted by name.
Labels IncidentAlertLabels(const Incident& inc);

// "critical" when inc.max_score >= kCriticalScore, else "warning".
const char* IncidentSeverity(const Incident& inc);

// One line per series, strongest first, at most `max_series` lines, e.g.
//   node_cpu_seconds_total{cpu="0",mode="idle"}: max score 67.1 over 12 anomalies
// followed by "... and N more series" when some were left out.
std::string IncidentDescription(const Incident& inc, size_t max_series = 5);

// Link to the incident in vigil: <base>/incidents/<id> (base without a
// trailing slash).
std::string IncidentUrl(const std::string& base_url, int64_t incident_id);

// The Alertmanager webhook body (version "4") announcing one incident to
// `receiver`. status is "firing" while the incident is open (endsAt is Go's
// zero time "0001-01-01T00:00:00Z") and "resolved" once it is resolved
// (endsAt = resolved time). groupLabels are alertname and incident_id;
// groupKey is built from them as Alertmanager does. externalURL is
// `external_url`, and generatorURL links to the incident there. `now` is
// accepted for symmetry with AlertsV2Payload and is not otherwise needed.
std::string WebhookPayloadV4(const Incident& inc, const std::string& receiver, const std::string& external_url,
                             TimestampMs now);

// The JSON array Prometheus posts to Alertmanager's /api/v2/alerts, one
// element per incident: labels, annotations, startsAt (opened time), endsAt
// and generatorURL (<generator_url_base>/incidents/<id>). An open
// incident's endsAt is now + 4 * resend_interval_ms (Alertmanager resolves
// an alert by itself once endsAt passes, so open incidents must be re-sent
// within that time, as Prometheus does); a resolved incident's endsAt is its
// resolved time.
std::string AlertsV2Payload(const std::vector<Incident>& incs, TimestampMs now, TimestampMs resend_interval_ms,
                            const std::string& generator_url_base);

}  // namespace vigil
