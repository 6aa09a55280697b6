// Engine: wires the stages of vigil serve.
//
//   Ingest() --(shard = series id % N, bounded queues)--> N detector threads
//        --> anomaly queue --> one converge thread (store, incidents, notify)
//
// Ingest is called concurrently by HTTP threads. It accepts a batch whole or
// refuses it whole when a detector queue is full (ResourceExhausted, which the
// server answers with 503 + Retry-After); individually bad series or samples
// are rejected with reasons and counted. Reads (series, points, incidents) are
// safe from any thread. Detector state is snapshotted to the store and
// restored at Open(), so a restart does not relearn.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/anomaly.h"
#include "core/clock.h"
#include "core/event.h"
#include "core/incident.h"
#include "core/sample.h"
#include "core/status.h"
#include "detect/kpi_profiler.h"
#include "engine/config.h"
#include "engine/stats.h"

namespace vigil {

class Store;
class AlertService;
class SeriesSelector;
class ChangeRiskRunner;
class LogPipeline;
class TracePipeline;
struct WriteBatch;

struct IngestOutcome {
  size_t accepted = 0;
  size_t rejected = 0;
  size_t duplicates = 0;  // exact resends (same time and value): ignored, not errors
  std::vector<std::string> reasons;  // at most ~20, then "... and N more"
};

struct SeriesInfo {
  SeriesId id = 0;
  Labels labels;
  size_t points = 0;
  bool is_counter = false;
  bool stale = false;
  TimestampMs last_ms = 0;
};

// What the KPI suite knows about one series (GET /api/v1/series/{id}/profile).
struct SeriesProfileInfo {
  SeriesInfo info;
  bool profiled = false;  // false while the suite is still learning
  KpiProfile profile;
  double sensitivity = 1;  // threshold multiplier from feedback (> 1 = fewer alarms)
  size_t state_bytes = 0;
};

// The expected band of the suite's current model at one time.
struct ExpectedBand {
  TimestampMs ts_ms = 0;
  double expected = 0, lower = 0, upper = 0;
};

class Engine {
 public:
  // Opens the store in cfg.data_dir and restores detector snapshots and open
  // incidents. Does not start threads.
  static Result<std::unique_ptr<Engine>> Open(const ServeConfig& cfg, const Clock* clock);
  ~Engine();

  // Starts detector, converge, notify and housekeeping threads.
  Status Start();
  // Drains the queues, writes a final snapshot and joins every thread.
  void Stop();

  // Applies a decoded batch (consumes batch->series). See the class comment.
  Result<IngestOutcome> Ingest(WriteBatch* batch);
  // Stores events and puts them on the timelines of matching open incidents.
  Result<std::vector<int64_t>> AddEvents(std::vector<Event> events);
  // Acknowledges an incident (open or resolved).
  Result<Incident> Acknowledge(int64_t incident_id, const std::string& by);

  std::vector<SeriesInfo> FindSeries(const SeriesSelector& selector, size_t limit) const;
  // False when the series is unknown.
  bool Points(SeriesId id, TimestampMs from, TimestampMs to, SeriesInfo* info, std::vector<Sample>* points) const;

  // Change-risk reports of deploy/config events (change_risk_runner.h).
  const ChangeRiskRunner& change_risk() const;
  // The KPI suite's profile of a series; false when the series is unknown.
  bool Profile(SeriesId id, SeriesProfileInfo* out) const;
  // The expected band at each of `times` from the series' current model
  // (empty while it learns); false when the series is unknown.
  bool Bands(SeriesId id, const std::vector<TimestampMs>& times, std::vector<ExpectedBand>* out) const;
  // Records an operator's verdict on a stored anomaly and adapts that
  // series' sensitivity (stored; replayed at Open). Returns the new
  // sensitivity; NotFound for an unknown anomaly.
  Result<double> AnomalyFeedback(int64_t anomaly_id, bool false_alarm);

  Store* store() const;
  // The log pipeline (log_pipeline.h): ingest, search, templates.
  LogPipeline* logs() const;
  // The trace pipeline (trace_pipeline.h): spans, topology, recent traces.
  TracePipeline* traces() const;
  // Puts anomalies found outside the detector threads (new log templates) on
  // the anomaly/incident path; ResourceExhausted when its queue is full.
  Status ReportAnomalies(std::vector<Anomaly> anomalies);
  // The alert pipeline (alerts, silences, alert incidents).
  AlertService* alerts() const;
  // Current time from the engine's Clock.
  TimestampMs NowMs() const;
  const ServeConfig& config() const;
  // vigil's own counters: atomics, updated from any thread (the server counts
  // requests and malformed bodies here too).
  EngineStats& stats() const;
  // vigil's own metrics in the Prometheus text format.
  void RenderMetrics(std::string* out) const;

  // Blocks until every queued sample and anomaly has been processed (tests,
  // batch replays).
  void Flush();
  // Writes a detector snapshot now.
  Status WriteSnapshot();

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
