// AlertService: the engine's owner of the alert pipeline (src/incidents/
// alert_pipeline.h). HTTP threads hand it decoded alerts; it runs them
// through the pipeline under one mutex, persists every changed alert
// before answering (so an accepted alert survives kill -9), and on Tick
// renders group notifications for each receiver's targets and queues them
// in the durable outbox together with the notification-log entry, in one
// SQLite transaction (AlertStore::Commit): nothing is lost and nothing is
// sent twice across a restart. Incidents live in the Store (same ids as
// anomaly incidents); their timelines get every change and notification.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "alerts/alerting_config.h"
#include "core/alert.h"
#include "core/anomaly.h"
#include "core/clock.h"
#include "core/status.h"
#include "incidents/alert_pipeline.h"
#include "store/alert_store.h"
#include "store/sqlite_store.h"

namespace vigil {

class AlertService {
 public:
  // Loads the pipeline state saved by an earlier run.
  static Result<std::unique_ptr<AlertService>> Open(AlertingConfig cfg, Store* store, const std::string& data_dir,
                                                    const Clock* clock, std::string external_url);

  // Accepts decoded alerts (durable when ok).
  Status Receive(const std::vector<Alert>& alerts);
  void OnAnomaly(const Anomaly& a);
  // Adds caller -> callee service edges discovered from traces to the
  // correlator's topology (beside the YAML ones; never removed).
  void AddDiscoveredCalls(const std::vector<std::pair<std::string, std::string>>& calls);
  // Timers: resolve timeouts, evidence, group flushes, notifications.
  void Tick();

  Result<std::string> UpsertSilence(Silence s);
  Status ExpireSilence(const std::string& id);
  Result<int64_t> Merge(int64_t into, int64_t from, const std::string& by);
  Result<int64_t> Split(int64_t id, const std::vector<Fingerprint>& fps, const std::string& by);
  Status Resolve(int64_t id, const std::string& by);

  // Snapshots for the API, taken under the mutex.
  struct AlertView {
    TrackedAlert alert;
    MuteReason muted;
    std::vector<std::string> receivers;
  };
  std::vector<AlertView> Alerts(int64_t incident_id = 0);
  std::vector<Silence> Silences();
  TimestampMs NowMs() const { return clock_->NowMs(); }
  // vigil_alerts_* metrics in the Prometheus text format.
  void RenderMetrics(std::string* out);

 private:
  AlertService(AlertingConfig cfg, Store* store, std::unique_ptr<AlertStore> docs, const Clock* clock,
               std::string external_url);
  int64_t NewIncidentId();
  // Persists what an Output changed and queues its notifications.
  Status Commit(AlertPipeline::Output& out, TimestampMs now);
  // An operator's change (merge, split): `op` edits the pipeline; its
  // timeline lines name who did it, and the result is committed.
  Result<int64_t> ByOperator(const std::string& by,
                             const std::function<Result<int64_t>(TimestampMs, AlertPipeline::Output*)>& op);

  std::mutex mu_;
  Store* store_;
  std::unique_ptr<AlertStore> docs_;
  const Clock* clock_;
  std::string external_url_;
  std::unique_ptr<AlertPipeline> pipeline_;
  uint64_t received_ = 0, rejected_ = 0, notifications_ = 0;  // guarded by mu_
};

}  // namespace vigil
