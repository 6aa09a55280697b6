// RcaRunner: puts a root-cause ranking on every open incident and keeps it
// current (docs/rca.md, "In the daemon").
//
// One thread polls the newest incidents (every settings.poll). An incident is
// ranked as soon as it is seen without a ranking, and ranked again when it
// changed since (new anomalies or alerts: its updated_ms moved) and the last
// ranking is at least min_interval old, for up to rerank_for after it
// opened. Ranking gathers what the engine holds around the incident -- the
// metric windows of every series (capped), the recent spans of the trace
// ring, error and normal log lines, deploy and config events -- into an
// rca::CaseData, runs rca::Localize and stores the JSON with its compute
// time (Store::PutRootCauses), which the incident API serves as
// `root_causes`. The first ranking, and each change of the top cause, is a
// line on the incident's timeline.
//
// Reads go through the engine's thread-safe accessors; nothing here blocks
// ingest for longer than those copies take.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "engine/config.h"

namespace vigil {

class Engine;

struct RcaRunnerStats {
  uint64_t rankings = 0;           // rankings computed
  uint64_t failures = 0;           // rankings that could not be stored
  double last_compute_ms = 0;      // localizers only
  double last_gather_ms = 0;       // collecting the case data
  double max_compute_ms = 0;
  size_t last_series = 0, last_spans = 0, last_logs = 0;
};

class RcaRunner {
 public:
  RcaRunner(const RcaSettings& settings, Engine* engine, const Clock* clock);
  ~RcaRunner();

  void Start();
  void Stop();
  RcaRunnerStats stats() const;
  void RenderMetrics(std::string* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
