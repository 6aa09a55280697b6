// ServeConfig: everything `vigil serve` can be told, with defaults that work
// with no file at all. Loaded from YAML; unknown keys are errors (a typo must
// not silently fall back to a default).
#pragma once

#include <string>
#include <vector>

#include "core/sample.h"
#include "core/status.h"

namespace vigil {

struct DetectorSettings {
  int window = 240;
  int warmup = 30;
  double threshold = 6.0;
};

struct IncidentSettings {
  std::vector<std::string> entity_labels = {"instance", "job", "host", "service", "pod"};
  int min_anomalies = 3;
  int min_series = 1;          // distinct series among that evidence
  int min_series_large_entity = 2;  // ... for entities with large_entity_series series or more
  size_t large_entity_series = 20;
  double open_score = 12.0;    // at least one anomaly this strong opens an incident
  TimestampMs evidence_window_ms = 60'000;
  TimestampMs join_window_ms = 300'000;
  TimestampMs resolve_after_ms = 120'000;
  // One incident for a fault however many entities show it: pods sharing a
  // group label and callers/callees (peer labels, traces, topology) join an
  // incident opened within group_window. See IncidentCorrelator.
  std::vector<std::string> group_labels = {"service"};
  std::vector<std::string> peer_labels = {"peer", "peer_service", "upstream_service", "destination_service"};
  TimestampMs group_window_ms = 300'000;
};

struct NotifyTarget {
  std::string url;
  std::string name;  // receiver name shown on timelines; defaults to the URL
};

struct NotifySettings {
  std::vector<NotifyTarget> webhooks;       // Alertmanager webhook payload (version 4)
  std::vector<NotifyTarget> alertmanagers;  // forwarded to POST {url}/api/v2/alerts
  TimestampMs resend_interval_ms = 30'000;
  std::string external_url;                 // link base for generatorURL; defaults to http://<listen>
};

struct LimitSettings {
  size_t max_series = 200'000;
  size_t window_points = 360;
  size_t queue_samples = 2'000'000;  // across all detector queues
  size_t anomaly_queue = 100'000;
  size_t max_body_bytes = 64 << 20;
};

// A capacity-risk rule: series matching `match` are forecast every
// detect.capacity_interval; a predicted crossing of `threshold` within
// `horizon` raises a "capacity_risk" anomaly (docs/forecast-and-change-risk.md).
struct CapacityRule {
  std::string match;            // Prometheus selector
  double threshold = 0;
  TimestampMs horizon_ms = 7LL * 86'400'000;
  std::string direction = "auto";  // up, down, auto (below the threshold now: up)
  TimestampMs repeat_ms = 3'600'000;  // re-raise while the risk lasts at most this often
};

// Change-risk reports after deploy/config events: the changed service's KPIs
// in [t - before, t - gap] against [t + gap, t + gap + after].
struct ChangeRiskSettings {
  std::vector<std::string> kinds = {"deploy", "config", "config_change", "release", "rollback"};
  std::vector<std::string> scope_labels = {"service", "namespace", "host", "instance", "pod", "endpoint"};
  TimestampMs before_ms = 30 * 60'000;
  TimestampMs gap_ms = 60'000;
  TimestampMs after_ms = 8 * 60'000;
  size_t max_series = 500;    // KPIs compared per event
  size_t max_reports = 1000;  // reports (and pending events) kept in memory
};

// Multivariate detection per entity (engine/entity_watch.h); off while
// entity_label is empty.
struct MultivariateSettings {
  std::string entity_label;          // e.g. "instance", "host", "pod"
  TimestampMs interval_ms = 60'000;  // how often entities are checked
  size_t max_entities = 200;
  size_t max_metrics = 32;
  size_t min_rows = 60;              // aligned rows needed to train
};

struct DetectSettings {
  MultivariateSettings multivariate;
  std::vector<CapacityRule> capacity;
  TimestampMs capacity_interval_ms = 5 * 60'000;
  ChangeRiskSettings change_risk;
};

// Logs (docs/logs.md): mining, storage, anomalies, syslog listeners.
struct LogSettings {
  size_t queue_lines = 200'000;             // bounded: a full queue answers 503
  uint64_t retention_bytes = 1ULL << 30;    // logs.db size budget
  TimestampMs retention_ms = 7LL * 24 * 3600 * 1000;
  TimestampMs learning_period_ms = 600'000;  // a stream's new templates are anomalies after this
  TimestampMs deploy_window_ms = 1'800'000;  // ... or within this long after a deploy event
  TimestampMs count_interval_ms = 60'000;    // per-template and error-line counts per interval
  size_t max_template_series = 200;          // per stream
  size_t max_streams = 10'000;               // label sets; lines of further new streams are refused
  std::string syslog_udp;                    // "host:port" to listen on, "" = off
  std::string syslog_tcp;
};

// Traces (docs/traces.md): ingest queue, assembly window, dependency graph,
// per-operation baselines and the ring of recent spans.
struct TraceSettings {
  size_t queue_spans = 200'000;              // bounded: a full queue answers 503
  size_t recent_spans = 500'000;             // ring of recent assembled spans (RecentSpans, /api/v1/traces/{id})
  TimestampMs recent_window_ms = 900'000;    // ... and no older than this (span time)
  TimestampMs idle_timeout_ms = 10'000;      // a trace closes after this much span time without a new span
  TimestampMs idle_flush_ms = 5'000;         // wall time without spans before open traces and buckets close
  size_t max_open_traces = 50'000;
  size_t max_open_spans = 1'000'000;
  size_t max_spans_per_trace = 2'000;
  TimestampMs graph_window_ms = 900'000;     // longest topology window (30 s slots)
  size_t max_edges = 20'000;                 // per level (service, instance)
  TimestampMs bucket_ms = 10'000;            // trace anomalies per operation per bucket
  double z_threshold = 6;
  uint64_t min_baseline_calls = 30;
  size_t max_operations = 20'000;
  bool topology_to_alerts = true;            // discovered service edges join the alert correlator's topology
};

// Root-cause ranking of open incidents (rca_runner.h, docs/rca.md).
struct RcaSettings {
  bool enabled = true;
  TimestampMs poll_ms = 1'000;               // how often open incidents are checked
  TimestampMs min_interval_ms = 15'000;      // between two rankings of one incident
  // The first ranking of an open incident waits until it is this old: at
  // the moment it opens, the abnormal window holds a few points and the
  // callers' symptoms often outweigh the cause (measured on the simulator's
  // suite: see docs/rca.md). A resolved incident is ranked at once.
  TimestampMs first_rank_after_ms = 30'000;
  TimestampMs rerank_for_ms = 30 * 60'000;   // re-rank on new evidence for this long after opening
  TimestampMs onset_lead_ms = 30'000;        // the fault began this long before the incident opened
  TimestampMs normal_ms = 20 * 60'000;       // the normal window before it
  TimestampMs max_abnormal_ms = 10 * 60'000; // the abnormal window grows up to this
  size_t max_incidents = 50;                 // open incidents looked at per poll
  size_t max_series = 20'000;                // metric windows gathered per ranking
  size_t max_spans = 200'000;                // spans gathered per ranking
  size_t max_logs = 5'000;                   // log lines per window (abnormal, normal)
};

struct ServeConfig {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./vigil-data";
  int detector_threads = 0;  // 0 = number of cores
  int http_threads = 0;      // 0 = number of cores
  DetectorSettings detector;
  IncidentSettings incidents;
  NotifySettings notify;
  LimitSettings limits;
  DetectSettings detect;
  LogSettings logs;
  TraceSettings traces;
  RcaSettings rca;
  TimestampMs retention_ms = 7LL * 24 * 3600 * 1000;
  TimestampMs snapshot_interval_ms = 60'000;
  // Alert pipeline configuration (Alertmanager-style YAML, docs/alerts.md);
  // empty: one receiver without targets, routes grouped by incident.
  std::string alerting_config;
};

// Parses YAML text (see docs/api-contract.md). Errors name the key and value.
Result<ServeConfig> ParseServeConfig(const std::string& yaml_text);
Result<ServeConfig> LoadServeConfig(const std::string& path);

// "500ms", "30s", "5m", "2h", "7d", "1w"; a bare number is seconds.
Result<TimestampMs> ParseDuration(std::string_view text);

}  // namespace vigil
