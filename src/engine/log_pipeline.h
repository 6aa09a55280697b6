// LogPipeline: what `vigil serve` does with log lines (docs/logs.md).
//
//   Ingest(LogBatch) --(bounded queue, 503 when full)--> one log thread:
//     per stream (a label set): header split + template mining (src/logs),
//     lines and their template ids into LogStore (SQLite + FTS5),
//     new-template anomalies (after the stream's learning period, or soon
//     after a deploy event of its service) with the template and an example
//     line, and per interval: per-template line counts and error/fatal line
//     counts as series handed to the engine's detectors (surges and drops).
//
// Miner state (templates, known shapes, the header layout) is persisted per
// stream in the log store every few seconds and at Stop(), and restored at
// Open(), so template ids survive restarts. Queries (search, context, stats,
// templates) may run on any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/anomaly.h"
#include "core/clock.h"
#include "core/event.h"
#include "core/status.h"
#include "engine/config.h"
#include "ingest/log_batch.h"

namespace vigil {

struct WriteBatch;

struct LogIngestOutcome {
  size_t accepted = 0;
  size_t rejected = 0;
  std::vector<std::string> reasons;  // at most 20
};

struct LogHit {
  int64_t id = 0;
  TimestampMs ts_ms = 0;
  Labels labels;
  uint32_t template_id = 0;
  std::string template_text;
  int severity = -1;
  std::string line;
  int64_t seq = 0;
};

struct LogQuery {
  std::string text;      // terms, "phrases", -term or NOT term
  std::string selector;  // {service="checkout", level!="debug"} (may be empty)
  TimestampMs from_ms = 0;
  TimestampMs to_ms = INT64_MAX;
  size_t limit = 100;
};

struct LogStatsSeries {
  std::string key;  // template text or label value
  uint32_t template_id = 0;
  std::vector<std::pair<TimestampMs, uint64_t>> buckets;
  uint64_t total = 0;
};

struct LogTemplateInfo {
  Labels stream;
  uint32_t id = 0;
  std::string text;
  uint64_t count = 0;
};

struct LogPipelineStats {
  uint64_t lines_accepted = 0, lines_rejected = 0, requests_refused_full = 0;
  uint64_t new_template_anomalies = 0, streams = 0, templates = 0, lines_stored = 0;
  uint64_t retention_deleted = 0, store_errors = 0, samples_dropped = 0;
};

class LogPipeline {
 public:
  // Hands series (template counts, error counts) to the engine's detectors.
  using SampleSink = std::function<Status(WriteBatch*)>;
  // Hands anomalies (new templates) to the anomaly/incident path.
  using AnomalySink = std::function<Status(std::vector<Anomaly>)>;

  static Result<std::unique_ptr<LogPipeline>> Open(const LogSettings& settings, const std::string& data_dir,
                                                   const Clock* clock, SampleSink samples, AnomalySink anomalies);
  ~LogPipeline();

  void Start();
  // Drains the queue, persists miner state, joins the thread.
  void Stop();

  // Queues the batch's records (taken from it); ResourceExhausted when the
  // queue cannot take them all (nothing is queued then).
  Result<LogIngestOutcome> Ingest(LogBatch* batch);
  // Deploy events mark their service: its new templates are anomalies for
  // deploy_window after the event, even during the learning period.
  void OnEvents(const std::vector<Event>& events);
  // Blocks until queued lines are mined and stored.
  void Flush();

  Result<std::vector<LogHit>> Search(const LogQuery& q);
  // The line `id` and up to `before`/`after` lines of its stream around it,
  // in stream order.
  Result<std::vector<LogHit>> Context(int64_t id, int before, int after);
  // Counts per `step_ms` bucket, grouped by template ("template") or by the
  // value of a label ("label:NAME").
  Result<std::vector<LogStatsSeries>> Stats(const LogQuery& q, TimestampMs step_ms, const std::string& by);
  std::vector<LogTemplateInfo> Templates(const std::string& selector, size_t limit);

  LogPipelineStats stats() const;
  void RenderMetrics(std::string* out) const;

 private:
  struct Impl;
  explicit LogPipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Turns a search text into FTS5 MATCH expressions: the positive part (terms
// and "phrases" ANDed) and the excluded part (-term / NOT term, ORed).
// InvalidArgument for an unterminated quote.
Status BuildFtsQuery(std::string_view text, std::string* positive, std::string* exclude);

}  // namespace vigil
