// Case directories in the layout published with the Nezha study (Yu et al.,
// "Nezha: Interpretable Fine-Grained Root Causes Analysis for Microservices
// on Multi-modal Observability Data", FSE 2023):
//
//   DIR/<day>/<day>-fault_list.json   {"<hour>": [{"inject_time": "2023-01-29 09:03:53",
//                                       "inject_timestamp": "...", "inject_pod": "...",
//                                       "inject_type": "cpu_contention", ...}]}
//   DIR/<day>/metric/<pod>_metric.csv one row per minute: Time, TimeStamp, PodName, metrics...
//   DIR/<day>/metric/front_service.csv  ServiceName, SuccessRate(%), LatencyP50(s)...
//   DIR/<day>/metric/dependency.csv   Source, Target, Weight (optional)
//   DIR/<day>/trace/<HH_MM>_trace.csv TraceID, SpanID, ParentID, PodName, OperationName,
//                                     StartTimeUnixNano, EndTimeUnixNano, Duration (us)
//   DIR/<day>/log/<HH_MM>_log.csv     Timestamp, TimeUnixNano, Node, PodName, Container,
//                                     TraceID, SpanID, Log (the container's raw JSON line)
//
// vigil reads a few optional extensions, written by `vigil sim --export-cases`:
// extra numeric metric columns (every numeric column is a metric named by its
// header), a `Node` metric column (the pod's host), a `StatusCode` trace
// column (>= 500 or 0 with an Error column = a failed span), fault fields
// `inject_service` (the root-cause service when it is not the pod's) and
// `inject_scope` ("service": every pod of it, so no instance is scored), and
// `<day>/event/events.csv` (Time, TimeStamp, Kind, ServiceName, PodName,
// Version, Text) with deploys and config changes. A day whose fault list is
// empty is fault-free: its spans are the normal period of every case.
//
// Parsing is pure (text in, records or an error naming file, line and field
// out); LoadNezhaCases does the file reading.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "rca/case_data.h"

namespace vigil::rca {

struct InjectedFault {
  TimestampMs inject_ms = 0;
  std::string pod, service, type;
  bool whole_service = false;  // inject_scope "service": no instance truth
};

// "ts-basic-service-5dc8d4f9fd-46997" -> "ts-basic-service" (the pod name
// without its ReplicaSet and pod hash suffixes; a StatefulSet's "-0" goes too).
std::string ServiceOfPod(const std::string& pod);

// Splits one CSV record (RFC 4180 quoting) into fields.
std::vector<std::string> SplitCsvLine(const std::string& line);

Result<std::vector<InjectedFault>> ParseFaultList(const std::string& text, const std::string& where);
// Every numeric column after Time/TimeStamp/PodName (or ServiceName) is one
// series; rows outside [from_ms, to_ms) are skipped.
Result<std::vector<MetricSeries>> ParseMetricCsv(const std::string& text, const std::string& where,
                                                 TimestampMs from_ms, TimestampMs to_ms);
Result<std::vector<Span>> ParseTraceCsv(const std::string& text, const std::string& where, TimestampMs from_ms,
                                        TimestampMs to_ms);
Result<std::vector<LogRecord>> ParseLogCsv(const std::string& text, const std::string& where, TimestampMs from_ms,
                                           TimestampMs to_ms);
Result<std::vector<Event>> ParseEventCsv(const std::string& text, const std::string& where);
Result<std::vector<std::pair<std::string, std::string>>> ParseDependencyCsv(const std::string& text,
                                                                            const std::string& where);

struct NezhaCase {
  InjectedFault truth;
  CaseData data;
};

struct NezhaLoadOptions {
  int64_t before_ms = 40 * 60000;  // data read before the injection
  int64_t after_ms = 10 * 60000;   // and after it
  size_t max_normal_spans = 500000;          // read from fault-free days
  size_t max_normal_spans_per_case = 100000;  // kept per case (its services' only)
};

// Reads every case of DIR (all days), one case per injected fault, in time
// order. Errors name the file, line and field.
Result<std::vector<NezhaCase>> LoadNezhaCases(const std::string& dir, const NezhaLoadOptions& options = {});
// The same, one case at a time (memory bounded by one case): `visit` is
// called per case in time order; a read error stops the walk.
Status ForEachNezhaCase(const std::string& dir, const NezhaLoadOptions& options,
                        const std::function<void(NezhaCase&&)>& visit);

}  // namespace vigil::rca
