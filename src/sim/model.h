// Simulator: a deterministic model of a microservice application under
// faults, stepped by a simulated clock.
//
// Each Step() advances the clock by one scrape interval and produces what a
// real system would emit for that interval: one value per metric series
// (per pod: CPU, memory, network, disk, GC, connection pool, per-endpoint
// request counters and latency quantiles, per-peer client metrics), log
// lines, sampled traces, and deploy/config events. The model:
//   traffic   request types enter at endpoints with a base rate shaped by a
//             daily cycle, a smooth weekly dip, a trend and noise;
//   load      rates flow down the call graph (retries add load on errors);
//             each service's rate is shared by its live pods;
//   resources CPU = idle + cost per request + faults; latency grows with
//             utilisation (an M/M/1-like queueing factor); memory, heap, GC,
//             disk and pool state evolve per pod;
//   calls     callees are computed first; a caller's latency adds its
//             callees' (bounded by the call timeout), a timed-out or failed
//             call is retried once, errors propagate upwards.
// Nothing here reads the wall clock or does I/O; the same seed gives the
// same output bit for bit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/labels.h"
#include "core/sample.h"
#include "core/status.h"
#include "sim/faults.h"
#include "sim/topology.h"

namespace vigil::sim {

struct SimOptions {
  uint64_t seed = 1;
  TimestampMs start_ms = 0;
  int64_t step_ms = 10000;        // scrape interval and model step
  // Makes pod and host names unique to a run (like Kubernetes' random pod
  // suffixes); empty = derived from the seed.
  std::string name_salt;
  double noise = 0.03;            // relative noise on every measurement
  double daily_amplitude = 0.35;  // traffic peak/mean - 1 (peak at 15:00 UTC)
  double weekly_amplitude = 0.2;  // weekend dip
  double trend_per_day = 0.01;    // traffic growth per day
  // Routine, fault-free life of a production system: traffic bursts (every
  // ~6 h, +15-45% for 2-6 min), rolling deploys of a random service (every
  // ~3 h, with a deploy event, a missed scrape and a warm-up per pod), an
  // hourly job adding CPU on one service, lone p99 spikes. None of it is in
  // the ground truth: an incident for it is a false alarm.
  bool routine = true;
  bool logs = true;
  bool traces = true;
  int traces_per_step = 2;        // sampled traces per step (whole system)
};

struct Pod {
  std::string name;   // e.g. cartservice-6d8f7c9b5-x2k4p
  std::string host;
  int service = 0;
  int index = 0;      // within its service
};

struct LogLine {
  TimestampMs ts_ms = 0;
  int pod = 0;
  const char* level = "INFO";
  std::string text;
};

struct SpanRecord {
  uint64_t trace_hi = 0, trace_lo = 0, span_id = 0, parent_span_id = 0;  // parent 0 = root
  int pod = 0;
  std::string name;        // endpoint
  int64_t start_us = 0;    // Unix microseconds
  int64_t duration_us = 0;
  bool server = true;      // server span (false: the caller's client span)
  bool error = false;
  int http_status = 200;
};

struct SimEvent {
  TimestampMs ts_ms = 0;
  std::string kind;  // deploy, config
  std::string service, instance, version, text;
};

struct StepOutput {
  TimestampMs ts_ms = 0;
  // One per series (Simulator::series()); NaN = no sample (pod down),
  // StaleMarker() on the first scrape a pod misses.
  std::vector<double> values;
  std::vector<LogLine> logs;
  std::vector<SpanRecord> spans;
  std::vector<SimEvent> events;
  void Clear();
};

// One fault as it was injected: what a scorer compares incidents with.
struct GroundTruthFault {
  FaultSpec spec;
  TimestampMs start_ms = 0, end_ms = 0;
  std::string type, service, instance, host, peer, indicator;
};

// The per-pod series the model writes, for readers of StepOutput::values
// (e.g. the static-threshold baseline).
enum PodMetric {
  kUp, kCpuSeconds, kMemoryBytes, kRxBytes, kTxBytes, kRetransmits, kFsUsage, kFsIoSeconds, kRestarts,
  kDnsFailures, kGcPauseSeconds, kHeapBytes, kPoolActive, kPoolPending, kDbQuerySeconds, kPodMetricCount
};

class Simulator {
 public:
  static Result<std::unique_ptr<Simulator>> Create(Topology topology, SimOptions options);
  ~Simulator();

  // Schedules a fault (times relative to options.start_ms). InvalidArgument
  // naming the service, instance or peer when they do not exist, or when the
  // fault does not apply (gc-storm on a non-JVM service, slow-sql or
  // pool-exhaustion on a service without a database pool).
  Status AddFault(const FaultSpec& fault);

  // Produces the data of the current instant, then advances the clock.
  void Step(StepOutput* out);

  TimestampMs now_ms() const;
  const SimOptions& options() const;
  const Topology& topology() const;
  const std::vector<Pod>& pods() const;
  // Label sets, index-aligned with StepOutput::values.
  const std::vector<Labels>& series() const;
  // Series index of a pod metric, or -1 when the pod does not have it.
  int PodSeries(int pod, PodMetric m) const;
  // Series of the pod's per-endpoint request counters {2xx, 4xx, 5xx} and
  // latency quantiles {p50, p99} (seconds), per endpoint.
  struct EndpointSeries {
    int req[3];
    int p50, p99;
  };
  const std::vector<EndpointSeries>& PodEndpointSeries(int pod) const;
  std::vector<GroundTruthFault> ground_truth() const;

 private:
  struct Impl;
  explicit Simulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Ground truth as JSON: {"topology","seed","start_ms","step_ms","faults":[{
// "type","start_ms","end_ms","start","end","service","instance","host",
// "peer","indicator"}]}.
std::string GroundTruthJson(const Simulator& sim);

}  // namespace vigil::sim
