// Decoders of alert payloads (bytes in, alerts or an error naming the
// field out; pure, fuzzable):
//   DecodeAlertsV2      what Prometheus posts to Alertmanager's
//                       POST /api/v2/alerts: [{labels, annotations,
//                       startsAt, endsAt, generatorURL}, ...]
//   DecodeWebhookV4     Alertmanager's webhook payload (version "4"):
//                       {alerts: [{status, labels, annotations, startsAt,
//                       endsAt, generatorURL, fingerprint}], ...}
//   DecodeGenericAlerts vigil's simple shape for other tools:
//                       [{"name": "DiskFull", "labels": {...},
//                         "severity": "warning", "summary": "...",
//                         "status": "firing"|"resolved", "time": t}]
// Unknown fields are ignored. A missing alertname (name) or a startsAt /
// endsAt / time that is not a time is an InvalidArgument naming the field,
// e.g. `[2].labels.alertname: required`. The whole body is refused on the
// first error, so nothing is half accepted. Go's zero time means "unset".
#pragma once

#include <string_view>
#include <vector>

#include "core/alert.h"
#include "core/status.h"

namespace vigil {

Status DecodeAlertsV2(std::string_view body, TimestampMs now, std::vector<Alert>* out);
Status DecodeWebhookV4(std::string_view body, TimestampMs now, std::vector<Alert>* out);
Status DecodeGenericAlerts(std::string_view body, TimestampMs now, std::vector<Alert>* out);

}  // namespace vigil
