// The data of one root-cause case: what the localizers see about an incident.
// Filled by a reader (Nezha-layout case directories, rca/nezha_cases.h), by
// the simulator's exporter, or by the daemon from its windows; the
// localizers never see a file or a wire format.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/event.h"
#include "core/sample.h"
#include "core/span.h"

namespace vigil::rca {

// One metric of one pod (or of a whole service when instance is empty):
// timestamps ascending, NaN = no sample (the pod did not answer the scrape).
// Counters are given as per-interval rates or increases, not raw totals. The
// indicator's name tells the metric localizer its role (KindOfIndicator in
// metric_evidence.h): names with success/error/5xx/4xx are errors, with
// workload/requests_total/ops load (client... = calls out), with
// latency/duration latency, `up`/`Up` scrape health, Node... the host's;
// anything else is a resource. Prometheus series map as the metric name
// plus the labels that split it, e.g. http_server_requests_total{code="5xx"}.
struct MetricSeries {
  std::string service, instance, host;
  std::string indicator;  // e.g. "CpuUsageRate(%)", "container_cpu_usage_seconds_total"
  std::vector<TimestampMs> ts_ms;
  std::vector<double> values;
};

// One log line reduced to what the localizers use: who wrote it, when, how
// severe, and its template (the line with its variable parts masked).
struct LogRecord {
  TimestampMs ts_ms = 0;
  std::string service, instance, host;
  bool error = false;  // ERROR/FATAL level or an exception
  std::string template_text;
};

struct CaseData {
  std::string id;
  // The incident's start (or fault-detection) time: the abnormal window is
  // [incident_ms, incident_ms + LocalizeOptions::abnormal_ms) and the normal
  // one ends LocalizeOptions::gap_ms before it.
  TimestampMs incident_ms = 0;
  std::vector<Span> spans;  // spans around the incident (normal and abnormal windows)
  std::vector<MetricSeries> metrics;
  std::vector<Event> events;  // deploys, config changes (labels service/instance)
  std::vector<LogRecord> logs;
  // Optional fault-free period (per-operation latency baselines for the
  // trace localizer); empty = the pre-incident window is the normal period.
  std::vector<Span> normal_spans;
  // Optional known dependencies (caller service -> callee service), e.g.
  // Nezha's dependency.csv; merged with the edges seen in spans.
  std::vector<std::pair<std::string, std::string>> dependencies;
};

// The call graph as seen in spans: a child span on another service than its
// parent's is one call from the parent's service (and instance) to the
// child's. Minimal on purpose: the live graph with rates and latencies is
// traces/'s.
struct CallGraph {
  std::vector<std::string> services;                     // index -> name
  std::unordered_map<std::string, int> service_index;    // name -> index
  std::vector<std::vector<int>> callees, callers;        // per service, sorted, unique
  std::unordered_map<std::string, std::string> instance_service;  // pod -> service
  std::unordered_map<std::string, std::string> instance_host;     // pod -> host ("" unknown)
  int Index(const std::string& service) const {
    auto it = service_index.find(service);
    return it == service_index.end() ? -1 : it->second;
  }
};

// Builds the graph from the case's spans and dependencies; services and
// instances named only by metrics, logs or events are added as nodes
// without edges, so every localizer speaks of the same entities.
CallGraph BuildCallGraph(const CaseData& data);

}  // namespace vigil::rca
