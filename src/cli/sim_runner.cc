#include "cli/sim_runner.h"

#include <chrono>
#include <thread>

#include "core/time_format.h"
#include "sim/wire.h"

namespace vigil {

namespace {
using Wall = std::chrono::steady_clock;

double Since(Wall::time_point t) { return std::chrono::duration<double>(Wall::now() - t).count(); }

void Note(SimRunStats* st, const std::string& what) {
  if (st->first_error.empty()) st->first_error = what;
}
}  // namespace

Result<SimRunStats> RunSimulation(sim::Simulator& simulator, const SimRunOptions& o) {
  SimRunStats st;
  const int64_t step_ms = simulator.options().step_ms;
  const int64_t steps = (o.duration_ms + step_ms - 1) / step_ms;
  int batch = o.batch_steps;
  if (batch <= 0) {
    // As fast as possible, one scrape per request when sending: vigil's
    // detector shards drain their queues independently, and anomalies of one
    // entity arriving minutes apart out of order would age each other out of
    // the correlator's evidence window.
    // At most 30 s of data per request when sending, for the same reason.
    batch = o.speed <= 0 ? (o.client ? 1 : 30)
                         : static_cast<int>(std::clamp(o.speed * 1000.0 / static_cast<double>(step_ms), 1.0,
                                                       o.client ? std::max(1.0, 30000.0 / static_cast<double>(step_ms)) : 30.0));
  }
  sim::RemoteWriteEncoder encoder(simulator.series());
  std::vector<sim::StepOutput> outs(static_cast<size_t>(batch));
  std::vector<const sim::StepOutput*> ptrs;
  const auto truth = simulator.ground_truth();
  std::vector<int> announced(truth.size(), 0);
  const auto wall_start = Wall::now();
  const std::vector<std::string> rw_headers = {"Content-Type: application/x-protobuf", "Content-Encoding: snappy",
                                               "X-Prometheus-Remote-Write-Version: 0.1.0", "User-Agent: vigil-sim"};
  const std::vector<std::string> json_headers = {"Content-Type: application/json", "User-Agent: vigil-sim"};
  const size_t n_series = simulator.series().size();
  const size_t chunk = 20000 / static_cast<size_t>(batch) + 1;  // series per request: ~20k samples

  for (int64_t k = 0; k < steps;) {
    const auto t0 = Wall::now();
    ptrs.clear();
    std::vector<sim::LogLine> logs;
    std::vector<sim::SpanRecord> spans;
    std::vector<sim::SimEvent> events;
    int n = 0;
    for (; n < batch && k < steps; ++n, ++k) {
      sim::StepOutput& out = outs[static_cast<size_t>(n)];
      simulator.Step(&out);
      if (o.observe) o.observe(out);
      ptrs.push_back(&out);
      for (size_t i = 0; i < truth.size(); ++i) {
        if (announced[i] == 0 && out.ts_ms >= truth[i].start_ms) {
          announced[i] = 1;
          if (o.say) {
            o.say(FormatRfc3339(out.ts_ms) + "  fault START " + truth[i].type + " on " + truth[i].service +
                  (truth[i].instance.empty() ? " (every pod)" : " pod " + truth[i].instance) +
                  (truth[i].peer.empty() ? "" : " -> " + truth[i].peer) + ", until " + FormatRfc3339(truth[i].end_ms));
          }
        } else if (announced[i] == 1 && out.ts_ms >= truth[i].end_ms) {
          announced[i] = 2;
          if (o.say) o.say(FormatRfc3339(out.ts_ms) + "  fault END   " + truth[i].type + " on " + truth[i].service);
        }
      }
      if (o.send_logs) logs.insert(logs.end(), out.logs.begin(), out.logs.end());
      if (o.send_traces) spans.insert(spans.end(), out.spans.begin(), out.spans.end());
      events.insert(events.end(), out.events.begin(), out.events.end());
    }
    st.steps += static_cast<size_t>(n);
    st.log_lines += logs.size();
    st.spans += spans.size();
    st.events += events.size();
    std::vector<std::string> bodies;
    for (size_t first = 0; first < n_series; first += chunk) {
      size_t samples = 0;
      bodies.push_back(encoder.Encode(ptrs, first, std::min(n_series, first + chunk), &samples));
      st.samples += samples;
      st.metric_bytes += bodies.back().size();
    }
    std::string log_body = logs.empty() ? "" : sim::EncodeLokiPush(simulator, logs);
    std::string trace_body = spans.empty() ? "" : sim::EncodeOtlpTraces(simulator, spans);
    std::string event_body = events.empty() ? "" : sim::EncodeEvents(events);
    st.encode_s += Since(t0);
    if (!o.client) continue;

    if (o.speed > 0) {  // real time or accelerated: never send data from the future
      const double due = static_cast<double>(k * step_ms) / 1000.0 / o.speed;
      const double wait = due - Since(wall_start);
      if (wait > 0) std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    }
    if (!event_body.empty()) {
      auto r = o.client->Post("/api/v1/events", event_body, json_headers);
      if (!r.ok() || r->status / 100 != 2) {
        ++st.event_failures;
        Note(&st, r.ok() ? "events: HTTP " + std::to_string(r->status) + " " + r->body : r.status().message());
      }
    }
    for (const auto& b : bodies) {
      auto r = o.client->Post("/api/v1/write", b, rw_headers);
      ++st.metric_requests;
      if (!r.ok()) return r.status();
      if (r->status / 100 != 2) {
        ++st.metric_failures;
        Note(&st, "remote_write: HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 300));
      }
    }
    if (!log_body.empty()) {
      auto r = o.client->Post("/loki/api/v1/push", log_body, json_headers);
      if (r.ok() && r->status == 404) ++st.log_404;
      else if (!r.ok() || r->status / 100 != 2) ++st.log_failures;
    }
    if (!trace_body.empty()) {
      auto r = o.client->Post("/v1/traces", trace_body, json_headers);
      if (r.ok() && r->status == 404) ++st.trace_404;
      else if (!r.ok() || r->status / 100 != 2) ++st.trace_failures;
    }
    if (o.after_batch) o.after_batch(ptrs.back()->ts_ms);
  }
  if (o.client) st.backoffs = o.client->backoffs();
  st.wall_s = Since(wall_start);
  return st;
}

}  // namespace vigil
