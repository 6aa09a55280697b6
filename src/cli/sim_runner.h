// RunSimulation: steps a Simulator and ships what it produces to a receiver
// over the real protocols (remote_write, Loki push, OTLP/HTTP JSON, vigil's
// events API), in real time, accelerated, or as fast as possible. The
// simulator model itself (src/sim/) is pure; this is its I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "cli/http_client.h"
#include "core/status.h"
#include "sim/model.h"

namespace vigil {

struct SimRunOptions {
  int64_t duration_ms = 3600000;
  double speed = 1;            // simulated seconds per wall second; 0 = as fast as possible
  HttpClient* client = nullptr;  // null: generate and encode only (dry run)
  bool send_logs = true;
  bool send_traces = true;
  int batch_steps = 0;         // steps per request; 0 = about one request per wall second (at most 30 s of data), 1 at max speed
  std::function<void(const sim::StepOutput&)> observe;  // sees every step (e.g. the baseline alerter)
  std::function<void(const std::string&)> say;          // fault start/end announcements
  std::function<void(TimestampMs)> after_batch;          // after each batch was sent, with the batch's last data time
};

struct SimRunStats {
  size_t steps = 0, samples = 0, metric_requests = 0, metric_bytes = 0;
  size_t log_lines = 0, spans = 0, events = 0;
  size_t metric_failures = 0;  // non-2xx answers to remote_write (after retries)
  size_t log_404 = 0, trace_404 = 0, event_failures = 0, log_failures = 0, trace_failures = 0;
  long backoffs = 0;           // 429/503 answers retried
  std::string first_error;
  double wall_s = 0;
  double encode_s = 0;         // time spent generating and encoding
};

Result<SimRunStats> RunSimulation(sim::Simulator& simulator, const SimRunOptions& options);

}  // namespace vigil
