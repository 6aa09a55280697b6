// Alerts: a labelled statement from a monitoring tool that something is
// wrong, in the shape Prometheus and Alertmanager exchange (labels,
// annotations, startsAt, endsAt, generatorURL).
//
// The identity of an alert is its label set: the fingerprint is the stable
// hash of the sorted labels (annotations are excluded, so a changing
// description does not make a new alert). Repeats of one fingerprint are
// the same alert, updated.
#pragma once

#include <cstdint>
#include <string>

#include "core/labels.h"
#include "core/sample.h"

namespace vigil {

using Fingerprint = uint64_t;

struct Alert {
  Labels labels;            // must contain alertname
  Labels annotations;       // summary, description, runbook_url, ...
  TimestampMs starts_ms = 0;
  TimestampMs ends_ms = 0;  // 0: not given (resolves after a resolve timeout)
  std::string generator_url;
  std::string source;       // "prometheus", "alertmanager-webhook", "json", "storm"
};

// Hash of the label set (SeriesIdOf); annotations do not take part.
inline Fingerprint FingerprintOf(const Labels& labels) { return SeriesIdOf(labels); }

// True when the alert states its own end and that end is not after `now`.
inline bool EndedBy(const Alert& a, TimestampMs now) { return a.ends_ms > 0 && a.ends_ms <= now; }

}  // namespace vigil
