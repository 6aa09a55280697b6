#include "engine/engine.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "alerts/alertmanager_payload.h"
#include "alerts/retry_policy.h"
#include "core/byte_codec.h"
#include "detect/counter_rate.h"
#include "detect/kpi_detector.h"
#include "detect/robust_detector.h"
#include "engine/alert_service.h"
#include "engine/kpi_feedback.h"
#include "engine/bounded_queue.h"
#include "engine/capacity_watch.h"
#include "engine/change_risk_runner.h"
#include "engine/entity_watch.h"
#include "engine/log_pipeline.h"
#include "engine/rca_runner.h"
#include "engine/trace_pipeline.h"
#include "engine/notify_dispatcher.h"
#include "engine/selector.h"
#include "engine/series_table.h"
#include "incidents/correlator.h"
#include "ingest/write_batch.h"
#include "store/series_window.h"
#include "store/sqlite_store.h"

namespace vigil {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr size_t kMaxReasons = 20;
constexpr uint8_t kSnapshotVersion = 2;  // 2 added the KPI suite; 1 is still read (the suites relearn)

RobustDetectorConfig DetectorConfigOf(const DetectorSettings& s) {
  RobustDetectorConfig c;
  c.window = s.window;
  c.warmup = s.warmup;
  c.threshold = s.threshold;
  return c;
}

IncidentConfig IncidentConfigOf(const IncidentSettings& s) {
  IncidentConfig c;
  c.entity_labels = s.entity_labels;
  c.min_anomalies = s.min_anomalies;
  c.min_series = s.min_series;
  c.min_series_large_entity = s.min_series_large_entity;
  c.large_entity_series = s.large_entity_series;
  c.open_score = s.open_score;
  c.evidence_window_ms = s.evidence_window_ms;
  c.join_window_ms = s.join_window_ms;
  c.resolve_after_ms = s.resolve_after_ms;
  c.group_labels = s.group_labels;
  c.peer_labels = s.peer_labels;
  c.group_window_ms = s.group_window_ms;
  return c;
}

// The robust detector's configuration for one series: the engine's, told
// whether the series counts failures (a 5xx code label, an error-like name).
RobustDetectorConfig DetectorConfigFor(const RobustDetectorConfig& base, const Labels& labels) {
  static const std::vector<std::string> kStatusLabels = {"code", "status", "status_code", "http_status"};
  RobustDetectorConfig c = base;
  c.counts_failures = CountsFailures(labels.MetricName(), labels.FirstOf(kStatusLabels));
  return c;
}

// Everything vigil keeps about one live series. Guarded by its shard's
// state mutex (the ingest-side check lives in the shard's SeriesTable slot).
struct SeriesState {
  SeriesState(SeriesId id_, Labels labels_, const RobustDetectorConfig& dc, size_t window_points)
      : id(id_), labels(std::move(labels_)), detector(DetectorConfigFor(dc, labels)), window(window_points) {}

  SeriesId id;
  Labels labels;
  bool named_counter = false;  // named like a counter: always analysed as a rate
  bool is_counter = false;     // analysed as a rate now
  bool stale = false;
  CounterRate rate;
  MonotonicityTracker monotonic;
  RobustDetector detector;
  // The auto-selected KPI suite on the same analysed values (docs/detection.md).
  KpiDetector suite;
  uint64_t feedback_version = 0;  // KpiFeedback::version() last applied to suite
  SeriesWindow window;  // analysed values: rates for counters
};

// The samples of one request for one shard, flat: series i owns
// samples[ends[i-1] .. ends[i]). Three allocations per shard and request,
// whatever the number of series (Prometheus sends one series per sample).
// Series are never erased from a shard's map while vigil runs (the map owns
// them through unique_ptr, so their addresses are stable): the work can carry
// pointers and spare the detector thread a second lookup.
struct ShardWork {
  std::vector<SeriesState*> series;
  std::vector<uint32_t> ends;
  std::vector<Sample> samples;
  SteadyClock::time_point enqueued;
};

// Two locks, so that ingest (HTTP threads) and detection (the shard's
// thread) do not wait for each other: `mu` guards the series table and its
// ingest check, `state_mu` the series' detector state. Whoever needs both
// takes `mu` first.
struct Shard {
  explicit Shard(size_t queue_capacity) : queue(queue_capacity) {}
  mutable std::mutex mu;
  mutable std::mutex state_mu;
  SeriesTable<SeriesState> series;
  BoundedQueue<ShardWork> queue;
  std::atomic<uint64_t> in_flight{0};  // items popped but not finished
  std::thread worker;
};

void AddReason(IngestOutcome* out, size_t* hidden, std::string reason) {
  if (out->reasons.size() < kMaxReasons) {
    out->reasons.push_back(std::move(reason));
  } else {
    ++*hidden;
  }
}

bool EventMatches(const Event& e, const Incident& inc) {
  bool any_entity_label = false;
  for (const auto& l : inc.entity_labels.items()) {
    std::string_view v = e.labels.Get(l.name);
    if (v.empty()) continue;
    any_entity_label = true;
    if (v == l.value) return true;
  }
  // An event that names none of the incident's entity labels (a global
  // change, say) is shown on every incident; one that names a different
  // entity is not.
  return !any_entity_label;
}

std::string EventLine(const Event& e) {
  std::string s = e.kind;
  if (!e.labels.empty()) s += " " + e.labels.ToString();
  if (!e.text.empty()) s += ": " + e.text;
  return s;
}

}  // namespace

struct Engine::Impl {
  ServeConfig cfg;
  const Clock* clock;
  RobustDetectorConfig detector_cfg;
  std::unique_ptr<Store> store;
  KpiFeedback feedback;
  std::vector<std::unique_ptr<Shard>> shards;
  BoundedQueue<std::vector<Anomaly>> anomaly_queue;
  std::atomic<uint64_t> anomalies_in_flight{0};
  EngineStats stats;

  std::mutex incidents_mu;  // guards correlator and the apply step
  IncidentCorrelator correlator;
  TimestampMs last_resend_ms = 0;

  std::unique_ptr<NotifyDispatcher> notifier;
  std::unique_ptr<LogPipeline> logs;
  std::unique_ptr<AlertService> alerts;
  std::unique_ptr<TracePipeline> traces;
  std::unique_ptr<RcaRunner> rca;
  std::thread converger;
  std::thread housekeeper;
  // Periodic analysis off the ingest path: capacity forecasts and change-risk
  // reports (created in Open, once the Engine they read through exists).
  std::unique_ptr<CapacityWatch> capacity;
  std::unique_ptr<ChangeRiskRunner> change_risk;
  std::unique_ptr<EntityWatch> entities;
  std::thread watcher;
  std::atomic<bool> running{false};
  std::mutex hk_mu;
  std::condition_variable hk_cv;
  std::atomic<bool> logged_series_limit{false};
  std::atomic<bool> logged_window_full{false};

  Impl(const ServeConfig& c, const Clock* clk)
      : cfg(c),
        clock(clk),
        detector_cfg(DetectorConfigOf(c.detector)),
        anomaly_queue(c.limits.anomaly_queue),
        correlator(IncidentConfigOf(c.incidents)) {}

  Shard& ShardOf(SeriesId id) { return *shards[id % shards.size()]; }
  const Shard& ShardOf(SeriesId id) const { return *shards[id % shards.size()]; }

  // ---- detection (detector threads) ----

  // Counters of one batch, added to the shared stats once per batch: the
  // detector threads would otherwise bounce the stats' cache line between
  // cores on every point.
  struct BatchCounts {
    uint64_t points = 0, overwrites = 0;
  };

  void Analyse(SeriesState& st, const Sample& s, std::vector<Anomaly>* found, BatchCounts* counts) {
    if (IsStaleMarker(s.value)) {
      // The series vanished from its target: end its activity, keep what was
      // learned. A counter's next sample must not be read as a huge increase.
      st.stale = true;
      st.rate.Reset();
      stats.stale_markers.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (!std::isfinite(s.value)) return;
    st.stale = false;
    double x = s.value;
    if (!st.named_counter) {
      // A series not named like a counter may still behave like one (or stop
      // doing so): switch what is analysed, and start learning afresh.
      bool counter_now = st.monotonic.Observe(s.value) == SeriesKind::kCounter;
      if (counter_now != st.is_counter) {
        st.is_counter = counter_now;
        st.detector.Reset();
        st.suite = KpiDetector();
        st.feedback_version = 0;
        st.window.Clear();
        st.rate.Reset();
      }
    }
    if (st.is_counter) {
      auto r = st.rate.Update(s.ts_ms, s.value);
      if (!r) return;
      x = *r;
    }
    if (st.window.size() == st.window.capacity()) {
      ++counts->overwrites;
      if (!logged_window_full.load(std::memory_order_relaxed) && !logged_window_full.exchange(true)) {
        spdlog::info("series windows are full at limits.window_points={}: oldest points are dropped from memory "
                     "(counter vigil_window_overwrites_total)",
                     cfg.limits.window_points);
      }
    }
    st.window.Append({s.ts_ms, x});
    ++counts->points;
    // Only anomalies are reported: the band of a normal point is not needed.
    Verdict v = st.detector.Update(s.ts_ms, x, RobustDetector::Detail::kAnomalies);
    if (const uint64_t fv = feedback.version(); fv != st.feedback_version) {
      st.suite.SetSensitivity(feedback.SensitivityOf(st.id));
      st.feedback_version = fv;
    }
    const KpiVerdict kv = st.suite.Update(s.ts_ms, x);
    // The robust detector stays the first line (hardened on node_exporter
    // data); the suite explains its alarms, and alarms alone only where its
    // seasonal baseline is ready (a time-of-day anomaly the flat window
    // cannot see), once per excursion, and not by the surprise alone (its
    // risk, ~1e-3 per point, suits scoring more than paging). The KNN
    // novelty view of non-seasonal series (round nab5) only ranks: it
    // raises no alarm, so it cannot page.
    const bool suite_alone =
        !v.anomalous && kv.anomalous && !kv.by_surprise && kv.onset && (kv.fired & kDetSeasonal) != 0;
    if (!v.anomalous && !suite_alone) return;
    Anomaly a;
    a.series = st.id;
    a.labels = st.labels;
    a.ts_ms = s.ts_ms;
    a.value = x;
    if (suite_alone) {
      a.expected = kv.expected;
      a.lower = kv.lower;
      a.upper = kv.upper;
      a.score = kv.score;
      a.direction = kv.direction;
      a.detector = "kpi_suite:" + DetectorNames(kv.fired);
      a.pattern = KpiPatternName(kv.pattern);
    } else {
      a.expected = v.expected;
      a.lower = v.lower;
      a.upper = v.upper;
      a.score = v.score;
      a.direction = v.direction;
      a.detector = RobustDetector::kName;
      if (kv.anomalous) a.detector += "+kpi_suite:" + DetectorNames(kv.fired);
      a.pattern = v.pattern;
    }
    a.is_rate = st.is_counter;
    found->push_back(std::move(a));
  }

  static void PrefetchState(const SeriesState* st) {
    PrefetchBytes(st, sizeof(SeriesState));
  }
  static void PrefetchWindows(const SeriesState* st) {
    st->detector.Prefetch();
    st->window.Prefetch();
    st->suite.PrefetchParts();
  }

  void RunShard(Shard& shard) {
    ShardWork w;
    std::vector<Anomaly> found;
    for (;;) {
      if (!shard.queue.Pop(&w, std::chrono::milliseconds(200))) {
        if (!running.load() && shard.queue.used() == 0) return;
        continue;
      }
      found.clear();
      BatchCounts counts;
      {
        std::lock_guard<std::mutex> lock(shard.state_mu);
        uint32_t begin = 0;
        // Series states are cold (a shard holds thousands): load two
        // ahead, and their detector windows one ahead, so the misses
        // overlap instead of queueing one after another.
        // (measured: 8% less CPU per sample on bench/run.sh's load)
        const size_t n = w.series.size();
        for (size_t i = 0; i < std::min<size_t>(n, 2); ++i) PrefetchState(w.series[i]);
        if (n > 0) PrefetchWindows(w.series[0]);
        for (size_t i = 0; i < n; ++i) {
          if (i + 2 < n) PrefetchState(w.series[i + 2]);
          if (i + 1 < n) PrefetchWindows(w.series[i + 1]);
          uint32_t end = w.ends[i];
          for (uint32_t k = begin; k < end; ++k) Analyse(*w.series[i], w.samples[k], &found, &counts);
          begin = end;
        }
      }
      if (counts.points) stats.points_analysed.fetch_add(counts.points, std::memory_order_relaxed);
      if (counts.overwrites) stats.window_overwrites.fetch_add(counts.overwrites, std::memory_order_relaxed);
      stats.detect_latency.Observe(std::chrono::duration<double>(SteadyClock::now() - w.enqueued).count());
      if (!found.empty()) {
        stats.anomalies.fetch_add(found.size(), std::memory_order_relaxed);
        size_t n = found.size();
        anomalies_in_flight.fetch_add(1);
        // Blocks when the converge stage is behind: the detector queues then
        // fill and ingest answers 503, which is the backpressure we want.
        if (!anomaly_queue.PushBlocking(std::move(found), n)) anomalies_in_flight.fetch_sub(1);
        found = {};
      }
      shard.in_flight.fetch_sub(1);
    }
  }

  // ---- converge (one thread) ----

  void Notify(const Incident& inc, TimestampMs now) {
    for (const auto& t : cfg.notify.webhooks) {
      Enqueue(inc.id, t.name, "webhook", t.url, WebhookPayloadV4(inc, t.name, cfg.notify.external_url, now), now);
    }
    for (const auto& t : cfg.notify.alertmanagers) {
      Enqueue(inc.id, t.name, "alertmanager", t.url + "/api/v2/alerts",
              AlertsV2Payload({inc}, now, cfg.notify.resend_interval_ms, cfg.notify.external_url), now);
    }
  }

  // Queues one notification in the durable outbox; NotifyDispatcher sends it.
  void Enqueue(int64_t incident_id, const std::string& receiver, const char* kind, std::string url,
               std::string payload, TimestampMs now) {
    NotificationRecord n;
    n.incident_id = incident_id;
    n.receiver = receiver;
    n.kind = kind;
    n.url = std::move(url);
    n.payload = std::move(payload);
    n.status = "pending";
    n.next_attempt_ms = now;
    n.created_ms = n.updated_ms = now;
    Status s = store->EnqueueNotification(&n);
    if (!s.ok()) {
      stats.store_errors.fetch_add(1);
      spdlog::error("cannot queue notification to {} for incident {}: {}", n.url, n.incident_id, s.ToString());
      return;
    }
    stats.notifications_enqueued.fetch_add(1);
  }

  void AppendTimeline(int64_t incident_id, TimestampMs ts, const std::string& kind, const std::string& text,
                      int64_t ref) {
    TimelineEntry e;
    e.incident_id = incident_id;
    e.ts_ms = ts;
    e.kind = kind;
    e.text = text;
    e.ref_id = ref;
    Status s = store->AppendTimeline(&e);
    if (!s.ok()) {
      stats.store_errors.fetch_add(1);
      spdlog::error("cannot append to the timeline of incident {}: {}", incident_id, s.ToString());
    }
  }

  // Persists what the correlator decided. Caller holds incidents_mu.
  void Apply(std::vector<IncidentChange>& changes, TimestampMs now) {
    for (auto& ch : changes) {
      Incident& inc = ch.incident;
      bool is_new = inc.id == 0;
      Status s = store->UpsertIncident(&inc);
      if (!s.ok()) {
        stats.store_errors.fetch_add(1);
        spdlog::error("cannot store incident \"{}\": {}", inc.title, s.ToString());
        continue;
      }
      if (is_new) correlator.SetIncidentId(inc.entity, inc.id);
      for (int64_t aid : ch.anomaly_ids) {
        Status ls = store->LinkAnomaly(aid, inc.id);
        if (!ls.ok()) stats.store_errors.fetch_add(1);
      }
      for (auto& e : ch.timeline) {
        e.incident_id = inc.id;
        Status ts = store->AppendTimeline(&e);
        if (!ts.ok()) stats.store_errors.fetch_add(1);
      }
      switch (ch.kind) {
        case IncidentChange::Kind::kOpened: {
          stats.incidents_opened.fetch_add(1);
          spdlog::warn("incident {} opened: {}", inc.id, inc.title);
          // Changes shortly before the incident are the first suspects.
          EventQuery q;
          q.from = inc.opened_ms - 30 * 60 * 1000;
          q.to = now;
          q.limit = 50;
          auto events = store->ListEvents(q);
          if (events.ok()) {
            for (auto it = events->rbegin(); it != events->rend(); ++it) {
              if (EventMatches(*it, inc)) AppendTimeline(inc.id, it->ts_ms, "event", EventLine(*it), it->id);
            }
          }
          Notify(inc, now);
          break;
        }
        case IncidentChange::Kind::kResolved:
          stats.incidents_resolved.fetch_add(1);
          spdlog::info("incident {} resolved: {}", inc.id, inc.title);
          Notify(inc, now);
          break;
        case IncidentChange::Kind::kUpdated:
          break;
      }
    }
    stats.incidents_open.store(correlator.open_count());
  }

  // Alertmanager forgets an alert whose endsAt passed: re-post open incidents.
  // Caller holds incidents_mu.
  void ResendOpen(TimestampMs now) {
    if (cfg.notify.alertmanagers.empty()) return;
    if (now - last_resend_ms < cfg.notify.resend_interval_ms) return;
    last_resend_ms = now;
    std::vector<Incident> open = correlator.OpenIncidents();
    if (open.empty()) return;
    for (const auto& t : cfg.notify.alertmanagers) {
      Enqueue(open.front().id, t.name, "alertmanager-resend", t.url + "/api/v2/alerts",
              AlertsV2Payload(open, now, cfg.notify.resend_interval_ms, cfg.notify.external_url), now);
    }
  }

  void RunConverger() {
    std::vector<Anomaly> batch;
    TimestampMs next_tick = 0;
    for (;;) {
      bool got = anomaly_queue.Pop(&batch, std::chrono::milliseconds(250));
      if (got) {
        Status s = store->InsertAnomalies(&batch);
        if (!s.ok()) {
          stats.store_errors.fetch_add(1);
          spdlog::error("cannot store {} anomalies: {}", batch.size(), s.ToString());
        }
        std::lock_guard<std::mutex> lock(incidents_mu);
        TimestampMs now = clock->NowMs();
        for (const auto& a : batch) {
          auto changes = correlator.OnAnomaly(a);
          Apply(changes, now);
          alerts->OnAnomaly(a);
        }
        anomalies_in_flight.fetch_sub(1);
      } else if (!running.load() && anomaly_queue.used() == 0) {
        return;
      }
      TimestampMs now = clock->NowMs();
      if (now >= next_tick) {
        std::lock_guard<std::mutex> lock(incidents_mu);
        auto changes = correlator.Tick(now);
        Apply(changes, now);
        ResendOpen(now);
        alerts->Tick();
        next_tick = now + 1000;
      }
    }
  }

  // ---- housekeeping: snapshots and retention ----

  void RunHousekeeper() {
    TimestampMs next_snapshot = clock->NowMs() + cfg.snapshot_interval_ms;
    TimestampMs next_retention = clock->NowMs() + 60'000;
    std::unique_lock<std::mutex> lock(hk_mu);
    while (running.load()) {
      hk_cv.wait_for(lock, std::chrono::milliseconds(500));
      if (!running.load()) break;
      TimestampMs now = clock->NowMs();
      if (now >= next_snapshot) {
        lock.unlock();
        Status s = SaveSnapshot();
        if (!s.ok()) spdlog::error("snapshot failed: {}", s.ToString());
        lock.lock();
        next_snapshot = now + cfg.snapshot_interval_ms;
      }
      if (now >= next_retention) {
        auto deleted = store->ApplyRetention(now - cfg.retention_ms);
        if (!deleted.ok()) {
          spdlog::error("retention failed: {}", deleted.status().ToString());
        } else if (*deleted > 0) {
          spdlog::info("retention removed {} rows older than {} days", *deleted, cfg.retention_ms / 86'400'000.0);
        }
        next_retention = now + 3'600'000;
      }
    }
  }

  void RunWatcher() {
    std::unique_lock<std::mutex> lock(hk_mu);
    while (running.load()) {
      hk_cv.wait_for(lock, std::chrono::milliseconds(500));
      if (!running.load()) break;
      lock.unlock();
      TimestampMs now = clock->NowMs();
      change_risk->Tick(now);
      std::vector<Anomaly> found = capacity->Tick(now);
      for (auto& a : entities->Tick(now)) found.push_back(std::move(a));
      if (!found.empty()) {
        stats.anomalies.fetch_add(found.size(), std::memory_order_relaxed);
        size_t n = found.size();
        anomalies_in_flight.fetch_add(1);
        if (!anomaly_queue.PushBlocking(std::move(found), n)) anomalies_in_flight.fetch_sub(1);
      }
      lock.lock();
    }
  }

  // Snapshot format (version 2), one blob per shard under "series/<i>", the
  // count under "series/count":
  //   u8 version, varint n, then n records:
  //   fixed64 id, labels, u8 flags (1 counter, 2 stale, 4 named counter), fixed64 last_ingested, double last value,
  //   CounterRate, MonotonicityTracker, RobustDetector, SeriesWindow, KpiDetector (version 2 only).
  Status SaveSnapshot() {
    size_t blobs = 0;
    for (size_t i = 0; i < shards.size(); ++i) {
      std::string blob;
      blob.push_back(static_cast<char>(kSnapshotVersion));
      {
        std::lock_guard<std::mutex> lock(shards[i]->mu);
        std::lock_guard<std::mutex> state_lock(shards[i]->state_mu);
        bytes::PutVarint64(&blob, shards[i]->series.size());
        shards[i]->series.ForEach([&](const auto& slot) {
          const SeriesState* st = slot.state;
          bytes::PutFixed64(&blob, slot.id);
          bytes::PutLabels(&blob, st->labels);
          blob.push_back(static_cast<char>((st->is_counter ? 1 : 0) | (st->stale ? 2 : 0) |
                                           (st->named_counter ? 4 : 0)));
          bytes::PutFixed64(&blob, static_cast<uint64_t>(slot.last_ms));
          bytes::PutDouble(&blob, slot.last_value);
          st->rate.AppendTo(&blob);
          st->monotonic.AppendTo(&blob);
          st->detector.AppendTo(&blob);
          st->window.AppendTo(&blob);
          st->suite.AppendTo(&blob);
        });
      }
      Status s = store->PutSnapshot("series/" + std::to_string(i), blob);
      if (!s.ok()) {
        stats.snapshot_errors.fetch_add(1);
        return s;
      }
      ++blobs;
    }
    Status s = store->PutSnapshot("series/count", std::to_string(blobs));
    if (!s.ok()) {
      stats.snapshot_errors.fetch_add(1);
      return s;
    }
    stats.snapshots_written.fetch_add(1);
    return Status::Ok();
  }

  Status ParseSnapshotBlob(std::string_view in, size_t* restored) {
    const uint8_t version = in.empty() ? 0 : static_cast<uint8_t>(in[0]);
    if (version != 1 && version != kSnapshotVersion) return Status::Corruption("unknown snapshot version");
    in.remove_prefix(1);
    uint64_t n;
    if (!bytes::GetVarint64(&in, &n)) return Status::Corruption("truncated series count");
    for (uint64_t k = 0; k < n; ++k) {
      uint64_t id, last;
      Labels labels;
      if (!bytes::GetFixed64(&in, &id) || !bytes::GetLabels(&in, &labels) || in.empty()) {
        return Status::Corruption("truncated series record " + std::to_string(k));
      }
      uint8_t flags = static_cast<uint8_t>(in[0]);
      in.remove_prefix(1);
      double last_value;
      if (!bytes::GetFixed64(&in, &last) || !bytes::GetDouble(&in, &last_value)) {
        return Status::Corruption("truncated series record " + std::to_string(k));
      }
      auto rate = CounterRate::Parse(&in);
      if (!rate.ok()) return rate.status();
      auto mono = MonotonicityTracker::Parse(&in);
      if (!mono.ok()) return mono.status();
      auto det = RobustDetector::Parse(&in, DetectorConfigFor(detector_cfg, labels));
      if (!det.ok()) return det.status();
      auto win = SeriesWindow::Parse(&in);
      if (!win.ok()) return win.status();
      auto st = std::make_unique<SeriesState>(id, std::move(labels), detector_cfg, cfg.limits.window_points);
      if (version >= 2) {
        // A suite saved by a build with another state layout relearns.
        bool suite_restored = false;
        Status ss = st->suite.ParseFrom(&in, &suite_restored);
        if (!ss.ok()) return ss;
      }
      st->is_counter = flags & 1;
      st->stale = flags & 2;
      st->named_counter = flags & 4;
      st->rate = std::move(*rate);
      st->monotonic = std::move(*mono);
      st->detector = std::move(*det);
      // A window from a run with another limits.window_points is copied point
      // by point into one of the configured size.
      for (size_t i = 0; i < win->size(); ++i) st->window.Append(win->at(i));
      Shard& sh = ShardOf(id);
      std::lock_guard<std::mutex> lock(sh.mu);
      const Labels* l = &st->labels;
      if (sh.series.Find(id) == nullptr) {
        auto* slot = sh.series.Insert(id, std::move(st));
        slot->last_ms = static_cast<TimestampMs>(last);
        slot->last_value = last_value;
        ++*restored;
        correlator.CountSeries(*l);
      }
    }
    return Status::Ok();
  }

  void RestoreSnapshot() {
    auto count = store->GetSnapshot("series/count");
    if (!count.ok()) {
      spdlog::warn("detector snapshot unreadable, starting fresh: {}", count.status().ToString());
      return;
    }
    if (!count->has_value()) return;
    size_t blobs = std::strtoul((*count)->c_str(), nullptr, 10);
    size_t restored = 0;
    for (size_t i = 0; i < blobs; ++i) {
      auto blob = store->GetSnapshot("series/" + std::to_string(i));
      if (!blob.ok() || !blob->has_value()) {
        spdlog::warn("detector snapshot part {} missing or unreadable; those series relearn", i);
        continue;
      }
      Status s = ParseSnapshotBlob(**blob, &restored);
      if (!s.ok()) spdlog::warn("detector snapshot part {} is damaged ({}); later series in it relearn", i, s.ToString());
    }
    stats.series_active.store(restored);
    spdlog::info("restored detector state of {} series", restored);
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() { Stop(); }

Result<std::unique_ptr<Engine>> Engine::Open(const ServeConfig& cfg, const Clock* clock) {
  auto impl = std::make_unique<Impl>(cfg, clock);
  auto store = Store::Open(cfg.data_dir);
  if (!store.ok()) return store.status();
  impl->store = std::move(*store);
  int n = cfg.detector_threads > 0 ? cfg.detector_threads
                                   : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  size_t per_shard = std::max<size_t>(1000, cfg.limits.queue_samples / static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) impl->shards.push_back(std::make_unique<Shard>(per_shard));
  if (impl->cfg.notify.external_url.empty()) impl->cfg.notify.external_url = "http://" + cfg.listen;
  impl->RestoreSnapshot();
  if (Status fs = impl->feedback.Load(impl->store.get()); !fs.ok()) {
    spdlog::warn("anomaly feedback log unreadable, sensitivities start at 1: {}", fs.ToString());
  }
  auto open = impl->store->LoadOpenIncidents();
  if (!open.ok()) return open.status().WithContext("loading open incidents");
  impl->stats.incidents_open.store(open->size());
  std::vector<std::pair<std::string, int64_t>> restored;
  for (const auto& inc : *open) restored.emplace_back(inc.entity, inc.id);
  impl->correlator.Restore(std::move(*open));
  // The peers the open incidents' anomalies name (which services they call)
  // are not stored with the incident: read them back from its anomalies.
  for (const auto& [entity, id] : restored) {
    AnomalyQuery q;
    q.incident_id = id;
    auto linked = impl->store->ListAnomalies(q);
    if (linked.ok()) {
      impl->correlator.RestorePeers(entity, *linked);
    } else {
      spdlog::warn("incident {}: cannot read its anomalies back, its peers are forgotten: {}", id,
                   linked.status().ToString());
    }
  }
  AlertingConfig acfg = DefaultAlertingConfig();
  if (!cfg.alerting_config.empty()) {
    auto loaded = LoadAlertingConfig(cfg.alerting_config);
    if (!loaded.ok()) return loaded.status();
    acfg = std::move(*loaded);
  }
  // The declared topology also relates incidents of callers and callees.
  for (const auto& caller : acfg.topology.Services()) {
    for (const auto& callee : acfg.topology.Callees(caller)) impl->correlator.AddCall(caller, callee);
  }
  auto alerts = AlertService::Open(std::move(acfg), impl->store.get(), cfg.data_dir, clock, impl->cfg.notify.external_url);
  if (!alerts.ok()) return alerts.status().WithContext("opening the alert pipeline");
  impl->alerts = std::move(*alerts);
  std::unique_ptr<Engine> engine(new Engine(std::move(impl)));
  engine->impl_->capacity = std::make_unique<CapacityWatch>(engine.get(), cfg.detect);
  engine->impl_->change_risk = std::make_unique<ChangeRiskRunner>(engine.get(), cfg.detect.change_risk);
  engine->impl_->entities = std::make_unique<EntityWatch>(engine.get(), cfg.detect.multivariate);
  // Reports live in memory: recompute those of recent changes after a
  // restart (their windows come back with the detector snapshot).
  EventQuery recent;
  recent.from = clock->NowMs() - 6 * 3'600'000LL;
  recent.limit = static_cast<int>(std::min<size_t>(cfg.detect.change_risk.max_reports, 10'000));
  auto events = engine->impl_->store->ListEvents(recent);
  if (events.ok()) engine->impl_->change_risk->OnEvents(*events);
  Engine* e = engine.get();
  auto logs = LogPipeline::Open(
      cfg.logs, cfg.data_dir, clock, [e](WriteBatch* b) { return e->Ingest(b).status(); },
      [e](std::vector<Anomaly> a) { return e->ReportAnomalies(std::move(a)); });
  if (!logs.ok()) return logs.status().WithContext("opening the log store");
  engine->impl_->logs = std::move(logs).value();
  AlertService* alert_service = engine->impl_->alerts.get();
  engine->impl_->traces = std::make_unique<TracePipeline>(
      cfg.traces, clock, [e](std::vector<Anomaly> a) { return e->ReportAnomalies(std::move(a)); },
      [alert_service, d = engine->impl_.get(),
       on = cfg.traces.topology_to_alerts](const std::vector<std::pair<std::string, std::string>>& calls) {
        if (on) alert_service->AddDiscoveredCalls(calls);
        std::lock_guard<std::mutex> lock(d->incidents_mu);
        for (const auto& [caller, callee] : calls) d->correlator.AddCall(caller, callee);
      });
  engine->impl_->rca = std::make_unique<RcaRunner>(cfg.rca, e, clock);
  return engine;
}

Status Engine::Start() {
  auto& d = *impl_;
  if (d.running.exchange(true)) return Status::Ok();
  for (auto& sh : d.shards) {
    Shard* p = sh.get();
    sh->worker = std::thread([&d, p] { d.RunShard(*p); });
  }
  d.converger = std::thread([&d] { d.RunConverger(); });
  d.housekeeper = std::thread([&d] { d.RunHousekeeper(); });
  d.watcher = std::thread([&d] { d.RunWatcher(); });
  d.notifier = std::make_unique<NotifyDispatcher>(d.store.get(), d.clock, RetryPolicy{});
  d.notifier->Start();
  d.logs->Start();
  d.traces->Start();
  d.rca->Start();
  return Status::Ok();
}

void Engine::Stop() {
  auto& d = *impl_;
  if (d.rca) d.rca->Stop();  // reads everything below
  if (d.logs) d.logs->Stop();  // feeds the detectors: stop it first
  if (d.traces) d.traces->Stop();  // feeds the anomaly queue
  if (!d.running.exchange(false)) return;
  {
    std::lock_guard<std::mutex> lock(d.hk_mu);
  }
  d.hk_cv.notify_all();
  if (d.housekeeper.joinable()) d.housekeeper.join();
  if (d.watcher.joinable()) d.watcher.join();
  for (auto& sh : d.shards) {
    if (sh->worker.joinable()) sh->worker.join();
  }
  if (d.converger.joinable()) d.converger.join();
  if (d.notifier) d.notifier->Stop();
  Status s = d.SaveSnapshot();
  if (!s.ok()) spdlog::error("final snapshot failed: {}", s.ToString());
}

Result<IngestOutcome> Engine::Ingest(WriteBatch* batch) {
  auto& d = *impl_;
  IngestOutcome out;
  size_t hidden = 0;
  for (const auto& r : batch->rejected) AddReason(&out, &hidden, r.reason);
  out.rejected = batch->rejected_samples;
  if (batch->rejected_samples) {
    d.stats.samples_rejected[static_cast<size_t>(RejectReason::kInvalidLabels)].fetch_add(batch->rejected_samples);
  }

  const size_t n = d.shards.size();
  // (id, index in batch->series) per shard; the id comes from the decoder
  // when it knew the series (remote_write's series cache), else from the labels.
  std::vector<std::vector<std::pair<SeriesId, size_t>>> by_shard(n);
  std::vector<size_t> weight(n, 0);
  for (size_t i = 0; i < batch->series.size(); ++i) {
    const TimeSeries& ts = batch->series[i];
    if (ts.samples.empty()) continue;
    SeriesId id = batch->IdOf(i);
    size_t s = id % n;
    by_shard[s].emplace_back(id, i);
    weight[s] += ts.samples.size();
  }
  // All or nothing: reserve room in every shard the batch touches first.
  for (size_t s = 0; s < n; ++s) {
    if (weight[s] == 0 || d.shards[s]->queue.TryReserve(weight[s])) continue;
    for (size_t r = 0; r < s; ++r) {
      if (weight[r]) d.shards[r]->queue.Release(weight[r]);
    }
    d.stats.requests_refused_full.fetch_add(1);
    d.stats.samples_rejected[static_cast<size_t>(RejectReason::kQueueFull)].fetch_add(batch->sample_count);
    return Status::ResourceExhausted("detector queue " + std::to_string(s) + " is full (" +
                                     std::to_string(d.shards[s]->queue.used()) + " of " +
                                     std::to_string(d.shards[s]->queue.capacity()) +
                                     " samples queued); nothing from this request was applied, retry later");
  }

  size_t out_of_order = 0, over_limit = 0, duplicates = 0;
  std::vector<const Labels*> created;  // immutable once created: safe to read after the shard lock
  for (size_t s = 0; s < n; ++s) {
    if (weight[s] == 0) continue;
    Shard& sh = *d.shards[s];
    ShardWork w;
    w.series.reserve(by_shard[s].size());
    w.ends.reserve(by_shard[s].size());
    w.samples.reserve(weight[s]);
    size_t accepted = 0;
    {
      std::lock_guard<std::mutex> lock(sh.mu);
      // Table slots are cold: look four series ahead.
      const auto& todo = by_shard[s];
      constexpr size_t kAhead = 4;
      for (size_t j = 0; j < std::min(kAhead, todo.size()); ++j) sh.series.Prefetch(todo[j].first);
      for (size_t j = 0; j < todo.size(); ++j) {
        if (j + kAhead < todo.size()) sh.series.Prefetch(todo[j + kAhead].first);
        const SeriesId id = todo[j].first;
        TimeSeries* ts = &batch->series[todo[j].second];
        auto* slot = sh.series.Find(id);
        if (slot == nullptr) {
          // A series the decoder recognised (from an earlier request that
          // this engine may have refused) comes without its labels.
          if (batch->LabelsElsewhere(todo[j].second)) ts->labels = batch->LabelsOf(todo[j].second);
          if (d.stats.series_active.load() >= d.cfg.limits.max_series) {
            over_limit += ts->samples.size();
            d.stats.series_limit_hits.fetch_add(1);
            AddReason(&out, &hidden, ts->labels.ToString() + ": series limit reached (limits.max_series=" +
                                         std::to_string(d.cfg.limits.max_series) + ")");
            if (!d.logged_series_limit.exchange(true)) {
              spdlog::warn("series limit reached (limits.max_series={}): new series are rejected "
                           "(counter vigil_series_limit_hits_total)",
                           d.cfg.limits.max_series);
            }
            continue;
          }
          auto st = std::make_unique<SeriesState>(id, std::move(ts->labels), d.detector_cfg,
                                                  d.cfg.limits.window_points);
          st->named_counter = LooksLikeCounter(st->labels.MetricName());
          st->is_counter = st->named_counter;
          created.push_back(&st->labels);
          slot = sh.series.Insert(id, std::move(st));
          d.stats.series_created.fetch_add(1);
          d.stats.series_active.fetch_add(1);
        }
        SeriesState& st = *slot->state;
        const size_t before = w.samples.size();
        for (const auto& smp : ts->samples) {
          if (smp.ts_ms == slot->last_ms && std::memcmp(&smp.value, &slot->last_value, sizeof(double)) == 0) {
            ++duplicates;  // a resend of what was already taken: idempotent, not an error
            continue;
          }
          if (smp.ts_ms <= slot->last_ms) {
            if (++out_of_order <= 3) {
              AddReason(&out, &hidden, st.labels.ToString() + ": sample at " + std::to_string(smp.ts_ms) +
                                           " is not newer than the last accepted one at " +
                                           std::to_string(slot->last_ms));
            }
            continue;
          }
          slot->last_ms = smp.ts_ms;
          slot->last_value = smp.value;
          for (int64_t seen = d.stats.newest_sample_ms.load(std::memory_order_relaxed);
               smp.ts_ms > seen && !d.stats.newest_sample_ms.compare_exchange_weak(seen, smp.ts_ms);) {
          }
          w.samples.push_back(smp);
        }
        if (w.samples.size() == before) continue;
        // Consecutive entries of one series (Prometheus repeats the labels
        // for each sample) share one slot.
        if (!w.series.empty() && w.series.back() == &st) {
          w.ends.back() = static_cast<uint32_t>(w.samples.size());
        } else {
          w.series.push_back(&st);
          w.ends.push_back(static_cast<uint32_t>(w.samples.size()));
        }
      }
      accepted = w.samples.size();
    }
    if (accepted < weight[s]) sh.queue.Release(weight[s] - accepted);
    if (!w.series.empty()) {
      w.enqueued = SteadyClock::now();
      sh.in_flight.fetch_add(1);
      sh.queue.PushReserved(std::move(w), accepted);
    }
    out.accepted += accepted;
  }
  if (out_of_order) {
    d.stats.samples_rejected[static_cast<size_t>(RejectReason::kOutOfOrder)].fetch_add(out_of_order);
    if (out_of_order > 3) {
      AddReason(&out, &hidden, std::to_string(out_of_order) + " samples in all were out of order or duplicates");
    }
  }
  if (over_limit) d.stats.samples_rejected[static_cast<size_t>(RejectReason::kSeriesLimit)].fetch_add(over_limit);
  out.rejected += out_of_order + over_limit;
  if (hidden) out.reasons.push_back("... and " + std::to_string(hidden) + " more");
  d.stats.samples_accepted.fetch_add(out.accepted);
  if (!created.empty()) {
    std::lock_guard<std::mutex> lock(d.incidents_mu);
    for (const Labels* l : created) d.correlator.CountSeries(*l);
  }
  if (duplicates) d.stats.duplicate_samples.fetch_add(duplicates);
  out.duplicates = duplicates;
  return out;
}

Result<std::vector<int64_t>> Engine::AddEvents(std::vector<Event> events) {
  auto& d = *impl_;
  auto ids = d.store->InsertEvents(events);
  if (!ids.ok()) return ids.status();
  d.stats.events.fetch_add(events.size());
  for (size_t i = 0; i < events.size(); ++i) events[i].id = (*ids)[i];
  d.change_risk->OnEvents(events);
  if (d.logs) d.logs->OnEvents(events);
  std::lock_guard<std::mutex> lock(d.incidents_mu);
  for (const auto& inc : d.correlator.OpenIncidents()) {
    for (const auto& e : events) {
      if (EventMatches(e, inc)) d.AppendTimeline(inc.id, e.ts_ms, "event", EventLine(e), e.id);
    }
  }
  return ids;
}

Result<Incident> Engine::Acknowledge(int64_t incident_id, const std::string& by) {
  auto& d = *impl_;
  std::lock_guard<std::mutex> lock(d.incidents_mu);
  TimestampMs now = d.clock->NowMs();
  auto change = d.correlator.Acknowledge(incident_id, by, now);
  if (change.ok()) {
    std::vector<IncidentChange> changes{std::move(*change)};
    d.Apply(changes, now);
    return changes.front().incident;
  }
  // Not open: acknowledge a resolved incident straight in the store.
  auto inc = d.store->GetIncident(incident_id);
  if (!inc.ok()) return inc.status();
  if (!inc->has_value()) return Status::NotFound("no incident with id " + std::to_string(incident_id));
  Incident i = **inc;
  if (!i.acknowledged) {
    i.acknowledged = true;
    i.acknowledged_by = by;
    i.updated_ms = now;
    Status s = d.store->UpsertIncident(&i);
    if (!s.ok()) return s;
    d.AppendTimeline(i.id, now, "acknowledged", "acknowledged by " + by, 0);
  }
  return i;
}

std::vector<SeriesInfo> Engine::FindSeries(const SeriesSelector& selector, size_t limit) const {
  std::vector<SeriesInfo> out;
  for (const auto& sh : impl_->shards) {
    std::lock_guard<std::mutex> lock(sh->mu);
    std::lock_guard<std::mutex> state_lock(sh->state_mu);
    bool full = false;
    sh->series.ForEach([&](const auto& slot) {
      const SeriesState* st = slot.state;
      if (full || (full = out.size() >= limit)) return;
      if (!selector.Matches(st->labels)) return;
      SeriesInfo info;
      info.id = slot.id;
      info.labels = st->labels;
      info.points = st->window.size();
      info.is_counter = st->is_counter;
      info.stale = st->stale;
      info.last_ms = st->window.empty() ? 0 : st->window.back().ts_ms;
      out.push_back(std::move(info));
    });
    if (full) break;
  }
  return out;
}

bool Engine::Points(SeriesId id, TimestampMs from, TimestampMs to, SeriesInfo* info,
                    std::vector<Sample>* points) const {
  const Shard& sh = impl_->ShardOf(id);
  std::lock_guard<std::mutex> lock(sh.mu);
  const auto* slot = sh.series.Find(id);
  if (slot == nullptr) return false;
  std::lock_guard<std::mutex> state_lock(sh.state_mu);
  const SeriesState& st = *slot->state;
  info->id = id;
  info->labels = st.labels;
  info->points = st.window.size();
  info->is_counter = st.is_counter;
  info->stale = st.stale;
  info->last_ms = st.window.empty() ? 0 : st.window.back().ts_ms;
  *points = st.window.Range(from, to);
  return true;
}

const ChangeRiskRunner& Engine::change_risk() const { return *impl_->change_risk; }
AlertService* Engine::alerts() const { return impl_->alerts.get(); }

bool Engine::Profile(SeriesId id, SeriesProfileInfo* out) const {
  const Shard& sh = impl_->ShardOf(id);
  std::lock_guard<std::mutex> lock(sh.mu);
  const auto* slot = sh.series.Find(id);
  if (slot == nullptr) return false;
  std::lock_guard<std::mutex> state_lock(sh.state_mu);
  const SeriesState& st = *slot->state;
  out->info.id = id;
  out->info.labels = st.labels;
  out->info.points = st.window.size();
  out->info.is_counter = st.is_counter;
  out->info.stale = st.stale;
  out->info.last_ms = st.window.empty() ? 0 : st.window.back().ts_ms;
  out->profiled = st.suite.profiled();
  out->profile = st.suite.profile();
  out->sensitivity = st.suite.sensitivity();
  out->state_bytes = st.suite.StateBytes();
  return true;
}

bool Engine::Bands(SeriesId id, const std::vector<TimestampMs>& times, std::vector<ExpectedBand>* out) const {
  const Shard& sh = impl_->ShardOf(id);
  std::lock_guard<std::mutex> lock(sh.mu);
  const auto* slot = sh.series.Find(id);
  if (slot == nullptr) return false;
  std::lock_guard<std::mutex> state_lock(sh.state_mu);
  out->clear();
  for (TimestampMs t : times) {
    ExpectedBand b;
    b.ts_ms = t;
    if (slot->state->suite.BandAt(t, &b.expected, &b.lower, &b.upper)) out->push_back(b);
  }
  return true;
}

Result<double> Engine::AnomalyFeedback(int64_t anomaly_id, bool false_alarm) {
  AnomalyQuery q;
  q.id = anomaly_id;
  q.limit = 1;
  auto found = impl_->store->ListAnomalies(q);
  if (!found.ok()) return found.status();
  if (found->empty()) return Status::NotFound("no anomaly with id " + std::to_string(anomaly_id));
  return impl_->feedback.Record(impl_->store.get(), anomaly_id, found->front().series, false_alarm, NowMs());
}

Store* Engine::store() const { return impl_->store.get(); }
LogPipeline* Engine::logs() const { return impl_->logs.get(); }
TracePipeline* Engine::traces() const { return impl_->traces.get(); }

Status Engine::ReportAnomalies(std::vector<Anomaly> anomalies) {
  auto& d = *impl_;
  if (anomalies.empty()) return Status::Ok();
  size_t n = anomalies.size();
  if (!d.anomaly_queue.TryReserve(n)) {
    return Status::ResourceExhausted("anomaly queue is full (" + std::to_string(d.anomaly_queue.used()) + " queued)");
  }
  d.stats.anomalies.fetch_add(n, std::memory_order_relaxed);
  d.anomalies_in_flight.fetch_add(1);
  d.anomaly_queue.PushReserved(std::move(anomalies), n);
  return Status::Ok();
}
TimestampMs Engine::NowMs() const { return impl_->clock->NowMs(); }
const ServeConfig& Engine::config() const { return impl_->cfg; }
EngineStats& Engine::stats() const { return impl_->stats; }

void Engine::Flush() {
  auto& d = *impl_;
  if (d.logs) d.logs->Flush();
  if (d.traces) d.traces->Flush();
  for (;;) {
    bool busy = d.anomaly_queue.used() > 0 || d.anomalies_in_flight.load() > 0;
    for (const auto& sh : d.shards) busy = busy || sh->queue.used() > 0 || sh->in_flight.load() > 0;
    if (!busy) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Status Engine::WriteSnapshot() { return impl_->SaveSnapshot(); }

void Engine::RenderMetrics(std::string* out) const {
  const auto& d = *impl_;
  const auto& s = d.stats;
  auto line = [out](const char* name, const char* type, const char* help, double v) {
    *out += "# HELP ";
    *out += name;
    *out += ' ';
    *out += help;
    *out += "\n# TYPE ";
    *out += name;
    *out += ' ';
    *out += type;
    *out += '\n';
    *out += name;
    *out += ' ';
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g\n", v);
    *out += buf;
  };
  auto ld = [](const std::atomic<uint64_t>& a) { return static_cast<double>(a.load(std::memory_order_relaxed)); };
  line("vigil_write_requests_total", "counter", "remote_write requests received.", ld(s.write_requests));
  line("vigil_ingest_series_cache_hits_total", "counter",
       "remote_write series recognised by their label bytes (labels not parsed again).", ld(s.series_cache_hits));
  line("vigil_ingest_series_cache_misses_total", "counter", "remote_write series parsed in full with the series cache on.",
       ld(s.series_cache_misses));
  line("vigil_ingest_series_cache_resets_total", "counter",
       "Times a decoder's series cache reached its bound (limits.max_series) and was emptied.",
       ld(s.series_cache_resets));
  line("vigil_samples_requests_total", "counter", "JSON sample pushes received.", ld(s.samples_requests));
  line("vigil_ingest_samples_total", "counter", "Samples accepted for analysis.", ld(s.samples_accepted));
  *out += "# HELP vigil_ingest_samples_rejected_total Samples refused, by reason.\n"
          "# TYPE vigil_ingest_samples_rejected_total counter\n";
  for (size_t r = 0; r < static_cast<size_t>(RejectReason::kCount); ++r) {
    *out += "vigil_ingest_samples_rejected_total{reason=\"";
    *out += RejectReasonName(static_cast<RejectReason>(r));
    *out += "\"} " + std::to_string(s.samples_rejected[r].load()) + "\n";
  }
  line("vigil_ingest_refused_requests_total", "counter", "Requests answered 503 because a detector queue was full.",
       ld(s.requests_refused_full));
  line("vigil_stale_markers_total", "counter", "Prometheus staleness markers received.", ld(s.stale_markers));
  line("vigil_ingest_duplicate_samples_total", "counter",
       "Samples identical to the last accepted one of their series (resends), ignored.", ld(s.duplicate_samples));
  line("vigil_series_active", "gauge", "Series held in memory.", ld(s.series_active));
  line("vigil_series_limit", "gauge", "limits.max_series.", static_cast<double>(d.cfg.limits.max_series));
  line("vigil_series_limit_hits_total", "counter", "New series refused at limits.max_series.",
       ld(s.series_limit_hits));
  line("vigil_window_overwrites_total", "counter", "Points dropped from full per-series windows.",
       ld(s.window_overwrites));
  line("vigil_points_analysed_total", "counter", "Points judged by detectors.", ld(s.points_analysed));
  *out += "# HELP vigil_queue_depth_samples Samples waiting per detector queue.\n"
          "# TYPE vigil_queue_depth_samples gauge\n";
  for (size_t i = 0; i < d.shards.size(); ++i) {
    *out += "vigil_queue_depth_samples{shard=\"" + std::to_string(i) + "\"} " +
            std::to_string(d.shards[i]->queue.used()) + "\n";
  }
  line("vigil_queue_capacity_samples", "gauge", "Capacity of each detector queue.",
       static_cast<double>(d.shards.front()->queue.capacity()));
  line("vigil_anomaly_queue_depth", "gauge", "Anomalies waiting for the converge stage.",
       static_cast<double>(d.anomaly_queue.used()));
  line("vigil_anomalies_total", "counter", "Anomalies found.", ld(s.anomalies));
  line("vigil_incidents_opened_total", "counter", "Incidents opened.", ld(s.incidents_opened));
  line("vigil_incidents_resolved_total", "counter", "Incidents resolved.", ld(s.incidents_resolved));
  line("vigil_incidents_open", "gauge", "Incidents open now.", ld(s.incidents_open));
  line("vigil_events_total", "counter", "Events stored.", ld(s.events));
  line("vigil_notifications_enqueued_total", "counter", "Notifications queued for delivery.",
       ld(s.notifications_enqueued));
  if (d.notifier) {
    line("vigil_notifications_sent_total", "counter", "Notifications delivered.",
         static_cast<double>(d.notifier->sent()));
    line("vigil_notifications_failed_total", "counter", "Notifications given up after all retries.",
         static_cast<double>(d.notifier->failed()));
    line("vigil_notifications_retried_total", "counter", "Notification attempts that failed and were retried.",
         static_cast<double>(d.notifier->retried()));
  }
  line("vigil_snapshots_written_total", "counter", "Detector snapshots written.", ld(s.snapshots_written));
  line("vigil_snapshot_errors_total", "counter", "Detector snapshots that failed.", ld(s.snapshot_errors));
  line("vigil_store_errors_total", "counter", "Embedded store writes that failed.", ld(s.store_errors));
  line("vigil_store_size_bytes", "gauge", "Embedded store size on disk (database + WAL).",
       static_cast<double>(d.store->SizeBytes()));
  s.detect_latency.Render("vigil_detect_latency_seconds",
                          "Time from a batch being queued to its points being judged.", out);
  if (d.logs) d.logs->RenderMetrics(out);
  if (d.traces) d.traces->RenderMetrics(out);
  if (d.rca) d.rca->RenderMetrics(out);
  if (d.alerts) d.alerts->RenderMetrics(out);
}

}  // namespace vigil
