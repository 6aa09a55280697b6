// Store: vigil's embedded durable store, one SQLite database in WAL mode at
// <data_dir>/vigil.db. It keeps what must survive a restart or a kill -9:
// anomalies, events, incidents with their timelines, the notification queue,
// and compressed detector snapshots.
//
// Threads: every method may be called from any thread. One internal mutex
// serializes all database work, so calls never interleave and each one sees
// the effects of every call that returned before it started. (Snapshot
// compression runs outside that mutex, so a large PutSnapshot does not stall
// anomaly inserts.) Batch writes with InsertAnomalies and InsertEvents, which
// take one transaction for the whole batch.
//
// Durability: when a write method returns ok, its rows survive the process
// being killed at any later moment (Store::Configure in sqlite_store.cc
// explains why synchronous=NORMAL is enough for that). A power loss may lose
// the last few transactions but never leaves the database inconsistent.
//
// Errors: methods return a non-ok Status, never throw. The message names the
// database file and the operation, and carries SQLite's own message. Codes:
// IOError (disk full, permission, unreadable file), Corruption (the file is
// not a vigil database, or a stored value fails its format check),
// Unavailable (another process held a lock longer than the busy timeout),
// NotFound (an update of an id that does not exist), InvalidArgument (bad
// query parameters, a value too large, a database from a newer vigil).
//
// Ordering: "newest first" sorts by time descending, then id descending, so
// results are deterministic when timestamps tie.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/anomaly.h"
#include "core/event.h"
#include "core/incident.h"
#include "core/labels.h"
#include "core/sample.h"
#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;
struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace vigil {

// Queries take inclusive time ranges [from, to] in Unix milliseconds.
// `limit` must be positive (InvalidArgument otherwise).
struct AnomalyQuery {
  TimestampMs from = INT64_MIN, to = INT64_MAX;   // on Anomaly::ts_ms
  std::optional<SeriesId> series;
  std::optional<int64_t> incident_id;             // anomalies linked by LinkAnomaly
  std::optional<int64_t> id;                      // one anomaly
  int limit = 1000;
};

// Matches incidents whose lifetime [opened_ms, resolved_ms] overlaps
// [from, to]; an open incident's lifetime has no end.
struct IncidentQuery {
  std::optional<IncidentState> state;
  TimestampMs from = INT64_MIN, to = INT64_MAX;
  int limit = 100;
};

struct EventQuery {
  TimestampMs from = INT64_MIN, to = INT64_MAX;   // on Event::ts_ms
  int limit = 1000;
  // Every label must be equal on the event. A label with an empty value
  // matches events that lack it (Prometheus semantics). At most 32 labels.
  std::vector<Label> match;
};

// One queued notification (webhook post or Alertmanager forward) and its
// delivery state. The store keeps it; the notifier decides what the fields
// mean beyond "status pending and due".
struct NotificationRecord {
  int64_t id = 0;
  int64_t incident_id = 0;
  std::string receiver;
  std::string kind;      // "webhook", "alertmanager"
  std::string url;
  std::string payload;
  std::string status;    // "pending", "sent", "failed"
  int attempts = 0;
  TimestampMs next_attempt_ms = 0;
  std::string last_error;
  TimestampMs created_ms = 0, updated_ms = 0;
  // Further incidents the notification speaks for besides incident_id (an
  // all-clear digest names every incident it closes, with incident_id 0):
  // NotificationsFor(any of them) lists it. Written with the row; read back
  // only by NotificationsFor's callers through incident_id / this list.
  std::vector<int64_t> covers;
};

// Writes the notification_incidents rows for `n.covers` (n.id already set)
// on `db`, inside the caller's transaction; shared by Store and AlertStore,
// which queue notifications on their own connections.
Status LinkNotification(sqlite3* db, const NotificationRecord& n);

// The root-cause ranking of one incident, as rca/ computed it (JSON text, so
// the store does not depend on rca/).
struct RootCauseRecord {
  int64_t incident_id = 0;
  TimestampMs computed_ms = 0;   // engine clock when the ranking was made
  int64_t compute_us = 0;        // how long the localizers took
  int64_t revision = 0;          // 1 for the first ranking, +1 per recompute
  std::string ranking_json;      // {"ranking":[...], ...}
  // The first ranking of the incident and when it was made (kept when
  // later rankings replace the current one): what vigil said first.
  TimestampMs first_computed_ms = 0;
  std::string first_ranking_json;
};

class Store {
 public:
  // Creates `data_dir` (and its parents) when missing, then opens or creates
  // data_dir/vigil.db and brings its schema to the current version. Fails
  // with a message naming the path when the directory cannot be created, the
  // file cannot be opened for writing, it is not a vigil database, or it was
  // written by a newer vigil (schema version above this build's).
  static Result<std::unique_ptr<Store>> Open(const std::string& data_dir);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // --- anomalies ---
  // Inserts all of *anomalies in one transaction and sets each one's id.
  // On failure nothing is inserted and the ids are left unchanged.
  Status InsertAnomalies(std::vector<Anomaly>* anomalies);
  // Records that an anomaly belongs to an incident (replacing any earlier
  // link). NotFound when either id does not exist.
  Status LinkAnomaly(int64_t anomaly_id, int64_t incident_id);
  // Newest first, at most q.limit.
  Result<std::vector<Anomaly>> ListAnomalies(const AnomalyQuery& q);

  // --- events ---
  // Returns the new event's id (the argument's id is ignored).
  Result<int64_t> InsertEvent(const Event& e);
  // One transaction; ids in input order. On failure nothing is inserted.
  Result<std::vector<int64_t>> InsertEvents(const std::vector<Event>& events);
  // Newest first, at most q.limit.
  Result<std::vector<Event>> ListEvents(const EventQuery& q);

  // --- incidents ---
  // id == 0: inserts and sets inc->id. Otherwise overwrites every field of
  // that incident, series list included; NotFound when it does not exist.
  Status UpsertIncident(Incident* inc);
  // nullopt when no incident has that id.
  Result<std::optional<Incident>> GetIncident(int64_t id);
  // Newest (by opened_ms) first, at most q.limit.
  Result<std::vector<Incident>> ListIncidents(const IncidentQuery& q);
  // Every open incident, oldest first: what the correlator resumes on start.
  Result<std::vector<Incident>> LoadOpenIncidents();

  // --- timelines ---
  // Appends e to its incident's timeline and sets e->id. The incident is not
  // checked: the correlator writes the timeline of incidents it holds.
  Status AppendTimeline(TimelineEntry* e);
  // Oldest first (by ts_ms, then insertion order).
  Result<std::vector<TimelineEntry>> Timeline(int64_t incident_id);

  // --- notification queue ---
  // Inserts *n and sets n->id.
  Status EnqueueNotification(NotificationRecord* n);
  // Overwrites every field but id and created_ms. NotFound for an unknown id.
  Status UpdateNotification(const NotificationRecord& n);
  // Records with status "pending" and next_attempt_ms <= now, earliest due
  // first, at most `limit` (must be positive).
  Result<std::vector<NotificationRecord>> DueNotifications(TimestampMs now, int limit);
  // Every record of one incident, in the order they were enqueued.
  Result<std::vector<NotificationRecord>> NotificationsFor(int64_t incident_id);

  // --- root causes ---
  // Stores the ranking of r->incident_id (replacing an earlier one) and sets
  // r->revision to how many times it has been computed.
  Status PutRootCauses(RootCauseRecord* r);
  // nullopt when the incident has no ranking yet.
  Result<std::optional<RootCauseRecord>> GetRootCauses(int64_t incident_id);

  // --- snapshots ---
  // Stores `blob` under `key` (replacing it), zstd-compressed with a content
  // checksum. At most 1 GiB per key (InvalidArgument beyond): split large
  // state across keys, e.g. one per shard.
  Status PutSnapshot(std::string_view key, std::string_view blob);
  // nullopt when no snapshot has that key; Corruption when the stored bytes
  // fail to decompress or their checksum.
  Result<std::optional<std::string>> GetSnapshot(std::string_view key);

  // --- retention ---
  // Deletes, in one transaction, anomalies and events with ts_ms < cutoff and
  // resolved incidents with resolved_ms < cutoff together with their timeline
  // entries and notifications. Open incidents and snapshots are never
  // deleted. Returns the number of rows deleted (anomalies + events +
  // incidents + timeline entries + notifications).
  Result<int64_t> ApplyRetention(TimestampMs cutoff);

  // Bytes on disk: the database file plus its write-ahead log. Reads file
  // sizes only; does not take the mutex.
  int64_t SizeBytes() const;

  const std::string& db_path() const { return db_path_; }

 private:
  class Transaction;

  Store(std::string db_path, sqlite3* db);
  Status Configure();
  Status MigrateSchema();
  // Error from the last SQLite call on db_, naming the file and `what`.
  Status SqlError(int rc, std::string_view what) const;
  // Runs one statement to completion through the statement cache.
  Status Exec(const char* sql);
  // The cached prepared statement for `sql`, preparing it on first use.
  Result<sqlite3_stmt*> Prepare(const std::string& sql);
  Status InsertEventLocked(const Event& e, int64_t* id);

  const std::string db_path_;
  const std::string wal_path_;
  std::mutex mu_;
  sqlite3* db_;                                    // guarded by mu_
  std::map<std::string, sqlite3_stmt*> stmts_;     // guarded by mu_
  std::mutex zstd_mu_;                             // never held together with mu_
  ZSTD_CCtx_s* zstd_c_ = nullptr;                  // guarded by zstd_mu_
  ZSTD_DCtx_s* zstd_d_ = nullptr;                  // guarded by zstd_mu_
};

}  // namespace vigil
