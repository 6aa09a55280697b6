#include "store/sqlite_store.h"

#include <sqlite3.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <limits>
#include <system_error>

#include "store/blob_columns.h"

namespace vigil {

namespace {

// Written into the file header so that Open() can tell a vigil database from
// any other SQLite file: "VGIL".
constexpr int32_t kApplicationId = 0x5647494c;

// Larger snapshots are refused by PutSnapshot, and a stored size above this is
// treated as corruption rather than allocated.
constexpr size_t kMaxSnapshotBytes = size_t{1} << 30;
constexpr int kSnapshotZstdLevel = 3;
constexpr int kBusyTimeoutMs = 5000;
constexpr size_t kMaxMatchLabels = 32;

// Schema migrations: kMigrations[v] takes a database from user_version v to
// v + 1. Append new steps; never edit a released one.
//
// Column conventions: SeriesId values are stored bit-cast to int64 (SQLite
// integers are signed); label sets and incident series lists are BLOBs in
// the blob_columns.h encodings, which round-trip any bytes; REAL columns are
// NULL where the value was NaN, because SQLite cannot store NaN.
constexpr const char* kMigrations[] = {
    // v0 -> v1
    R"sql(
CREATE TABLE anomalies (
  id INTEGER PRIMARY KEY,
  series INTEGER NOT NULL,
  labels BLOB NOT NULL,
  ts_ms INTEGER NOT NULL,
  value REAL, expected REAL, lower REAL, upper REAL, score REAL,
  direction TEXT NOT NULL,
  detector TEXT NOT NULL,
  pattern TEXT NOT NULL,
  is_rate INTEGER NOT NULL,
  incident_id INTEGER
);
CREATE INDEX anomalies_by_time ON anomalies (ts_ms);
CREATE INDEX anomalies_by_series ON anomalies (series, ts_ms);
CREATE INDEX anomalies_by_incident ON anomalies (incident_id, ts_ms) WHERE incident_id IS NOT NULL;

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  ts_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  labels BLOB NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX events_by_time ON events (ts_ms);
-- One row per non-empty label of each event: the index behind EventQuery::match.
CREATE TABLE event_labels (
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  event_id INTEGER NOT NULL,
  PRIMARY KEY (name, value, event_id)
) WITHOUT ROWID;
CREATE INDEX event_labels_by_event ON event_labels (event_id);

CREATE TABLE incidents (
  id INTEGER PRIMARY KEY,
  entity TEXT NOT NULL,
  entity_labels BLOB NOT NULL,
  title TEXT NOT NULL,
  state TEXT NOT NULL,
  opened_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  resolved_ms INTEGER NOT NULL,
  last_anomaly_ms INTEGER NOT NULL,
  acknowledged INTEGER NOT NULL,
  acknowledged_by TEXT NOT NULL,
  max_score REAL,
  anomaly_count INTEGER NOT NULL,
  series BLOB NOT NULL
);
CREATE INDEX incidents_by_opened ON incidents (opened_ms);
CREATE INDEX incidents_by_state ON incidents (state, resolved_ms);

CREATE TABLE timeline (
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL,
  ts_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  text TEXT NOT NULL,
  ref_id INTEGER NOT NULL
);
CREATE INDEX timeline_by_incident ON timeline (incident_id, ts_ms);

CREATE TABLE notifications (
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL,
  receiver TEXT NOT NULL,
  kind TEXT NOT NULL,
  url TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX notifications_due ON notifications (next_attempt_ms) WHERE status = 'pending';
CREATE INDEX notifications_by_incident ON notifications (incident_id);

CREATE TABLE snapshots (
  key TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  data BLOB NOT NULL
);
)sql",
    // v1 -> v2: the root-cause ranking of an incident (rca/), replaced each
    // time it is recomputed; the JSON is what the API serves.
    R"sql(
CREATE TABLE root_causes (
  incident_id INTEGER PRIMARY KEY,
  computed_ms INTEGER NOT NULL,
  compute_us INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  ranking TEXT NOT NULL,
  first_computed_ms INTEGER NOT NULL,
  first_ranking TEXT NOT NULL
);
)sql",
    // v2 -> v3: entities that joined an incident besides its own (pods of
    // the same service, callers and callees), one entity key per line.
    R"sql(
ALTER TABLE incidents ADD COLUMN members TEXT NOT NULL DEFAULT '';
)sql",
    // v3 -> v4: the incidents a notification covers besides its own (the
    // all-clear digest of several incidents is one notification).
    R"sql(
CREATE TABLE notification_incidents (
  incident_id INTEGER NOT NULL,
  notification_id INTEGER NOT NULL,
  PRIMARY KEY (incident_id, notification_id)
) WITHOUT ROWID;
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

StatusCode CodeOf(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      return StatusCode::kCorruption;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StatusCode::kUnavailable;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
      return StatusCode::kIOError;
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
      return StatusCode::kInvalidArgument;
    default:
      return StatusCode::kInternal;
  }
}

Status MakeStatus(StatusCode code, std::string msg) {
  switch (code) {
    case StatusCode::kCorruption: return Status::Corruption(std::move(msg));
    case StatusCode::kUnavailable: return Status::Unavailable(std::move(msg));
    case StatusCode::kIOError: return Status::IOError(std::move(msg));
    case StatusCode::kInvalidArgument: return Status::InvalidArgument(std::move(msg));
    default: return Status::Internal(std::move(msg));
  }
}

Status CheckLimit(int64_t limit) {
  if (limit <= 0) return Status::InvalidArgument("limit must be positive, got " + std::to_string(limit));
  return Status::Ok();
}

int64_t ToDb(SeriesId id) { return std::bit_cast<int64_t>(id); }
SeriesId FromDb(int64_t v) { return std::bit_cast<SeriesId>(v); }

Result<IncidentState> ParseState(std::string_view s) {
  if (s == "open") return IncidentState::kOpen;
  if (s == "resolved") return IncidentState::kResolved;
  return Status::Corruption("unknown incident state \"" + std::string(s) + "\"");
}

Result<Direction> ParseDirection(std::string_view s) {
  if (s == "up") return Direction::kUp;
  if (s == "down") return Direction::kDown;
  return Status::Corruption("unknown anomaly direction \"" + std::string(s) + "\"");
}

}  // namespace

namespace {

Status SqlErrorOf(sqlite3* db, const std::string& path, int rc, std::string_view what) {
  std::string detail = sqlite3_errmsg(db);
  // sqlite3_errmsg describes the last API call; for a failed bind, the
  // generic text for rc is the honest one.
  if (sqlite3_extended_errcode(db) != rc) detail = sqlite3_errstr(rc);
  return MakeStatus(CodeOf(rc), "\"" + path + "\": " + std::string(what) + ": " + detail);
}

// One use of a cached prepared statement: binds parameters left to right,
// steps, reads columns, and resets the statement when it goes out of scope so
// the cache can hand it out again.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Int(int64_t v) { return Note(sqlite3_bind_int64(s_, ++index_, v)); }
  // NaN becomes NULL (SQLite would do the same, silently).
  Stmt& Real(double v) {
    return Note(std::isnan(v) ? sqlite3_bind_null(s_, ++index_) : sqlite3_bind_double(s_, ++index_, v));
  }
  Stmt& Text(std::string_view v) {
    // A null pointer would bind SQL NULL; an empty string must stay a string.
    return Note(sqlite3_bind_text64(s_, ++index_, v.empty() ? "" : v.data(), v.size(), SQLITE_TRANSIENT,
                                    SQLITE_UTF8));
  }
  Stmt& Blob(std::string_view v) {
    return Note(sqlite3_bind_blob64(s_, ++index_, v.empty() ? "" : v.data(), v.size(), SQLITE_TRANSIENT));
  }

  // SQLITE_ROW, SQLITE_DONE, or an error code (a failed bind included).
  int Step() { return bind_rc_ != SQLITE_OK ? bind_rc_ : sqlite3_step(s_); }

  int64_t ColInt(int col) const { return sqlite3_column_int64(s_, col); }
  double ColReal(int col) const {
    if (sqlite3_column_type(s_, col) == SQLITE_NULL) return std::numeric_limits<double>::quiet_NaN();
    return sqlite3_column_double(s_, col);
  }
  // TEXT or BLOB bytes, valid until the next Step.
  std::string_view ColBytes(int col) const {
    const void* p = sqlite3_column_blob(s_, col);
    int n = sqlite3_column_bytes(s_, col);
    return p ? std::string_view(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string_view();
  }
  std::string ColString(int col) const { return std::string(ColBytes(col)); }

 private:
  Stmt& Note(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
  }
  sqlite3_stmt* s_;
  int index_ = 0;
  int bind_rc_ = SQLITE_OK;
};

// Steps `st` to the end, turning each row into a T with `read` (which returns
// Result<T>). Errors name the file and `what`.
template <typename T, typename Read>
Result<std::vector<T>> ReadAll(sqlite3* db, const std::string& path, Stmt& st, Read read, std::string_view what) {
  std::vector<T> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    Result<T> row = read(st);
    if (!row.ok()) return row.status().WithContext("\"" + path + "\": " + std::string(what));
    out.push_back(std::move(row).value());
  }
  if (rc != SQLITE_DONE) return SqlErrorOf(db, path, rc, what);
  return out;
}

}  // namespace

// BEGIN IMMEDIATE ... COMMIT, rolled back on scope exit unless committed.
// IMMEDIATE takes the write lock up front, so a transaction never fails
// half-way with SQLITE_BUSY because another process wrote first.
class Store::Transaction {
 public:
  explicit Transaction(Store* store) : store_(store) {}
  ~Transaction() {
    if (!sqlite3_get_autocommit(store_->db_)) sqlite3_exec(store_->db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Status Begin() { return store_->Exec("BEGIN IMMEDIATE"); }
  Status Commit() { return store_->Exec("COMMIT"); }

 private:
  Store* store_;
};

// ---------------------------------------------------------------------------
// Opening

Store::Store(std::string db_path, sqlite3* db)
    : db_path_(std::move(db_path)), wal_path_(db_path_ + "-wal"), db_(db) {}

Store::~Store() {
  for (auto& [sql, stmt] : stmts_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
  ZSTD_freeCCtx(zstd_c_);
  ZSTD_freeDCtx(zstd_d_);
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& data_dir) {
  if (data_dir.empty()) return Status::InvalidArgument("data directory: empty path");
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec || !fs::is_directory(data_dir, ec)) {
    return Status::IOError("data directory \"" + data_dir + "\": cannot create it: " +
                           (ec ? ec.message() : std::string("a file of that name exists")));
  }
  std::string path = (fs::path(data_dir) / "vigil.db").string();
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return MakeStatus(CodeOf(rc), "cannot open \"" + path + "\": " + msg);
  }
  std::unique_ptr<Store> store(new Store(path, db));
  if (Status s = store->Configure(); !s.ok()) return s;
  if (Status s = store->MigrateSchema(); !s.ok()) return s;
  store->zstd_c_ = ZSTD_createCCtx();
  store->zstd_d_ = ZSTD_createDCtx();
  if (!store->zstd_c_ || !store->zstd_d_) return Status::Internal("cannot allocate zstd contexts");
  ZSTD_CCtx_setParameter(store->zstd_c_, ZSTD_c_compressionLevel, kSnapshotZstdLevel);
  ZSTD_CCtx_setParameter(store->zstd_c_, ZSTD_c_checksumFlag, 1);
  return store;
}

Status Store::Configure() {
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  // The first statement reads the file header, so a file that is not a
  // database fails here, with SQLITE_NOTADB.
  sqlite3_stmt* raw = nullptr;
  constexpr const char* kWhat = "opening (PRAGMA journal_mode=WAL)";
  int rc = sqlite3_prepare_v2(db_, "PRAGMA journal_mode=WAL", -1, &raw, nullptr);
  if (rc != SQLITE_OK) return SqlError(rc, kWhat);
  std::string mode;
  {
    Stmt st(raw);
    rc = st.Step();
    if (rc == SQLITE_ROW) mode = st.ColString(0);
  }
  sqlite3_finalize(raw);
  if (rc != SQLITE_ROW) return SqlError(rc, kWhat);
  if (mode != "wal") {
    return Status::IOError("\"" + db_path_ + "\": journal_mode=WAL refused (got \"" + mode +
                           "\"); the file system may not support shared memory");
  }
  // Durability. In WAL mode a commit appends the transaction to the -wal file
  // with write(2); synchronous=NORMAL skips the fsync at commit and syncs
  // only at checkpoints. Once write(2) has returned, the bytes are in the
  // kernel's page cache, which outlives the process: a kill -9 or a crash of
  // vigil loses nothing, and the next Open() replays the WAL. Only an OS
  // crash or power loss can drop the most recent commits, and even then the
  // WAL's checksums keep the database consistent (never half a transaction).
  // FULL would fsync every commit, costing a disk flush per write batch for
  // protection against power loss only.
  //
  // journal_size_limit truncates the WAL after a checkpoint, so a burst of
  // writes does not leave a large file behind forever.
  rc = sqlite3_exec(db_, "PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit=67108864;", nullptr, nullptr,
                    nullptr);
  if (rc != SQLITE_OK) return SqlError(rc, "setting pragmas");
  return Status::Ok();
}

Status Store::MigrateSchema() {
  Transaction txn(this);
  if (Status s = txn.Begin(); !s.ok()) return s;
  // Read inside the write transaction, so two processes opening a new file at
  // once cannot both create the schema.
  int64_t app_id = 0, version = 0, objects = 0;
  for (auto [sql, out] : {std::pair{"PRAGMA application_id", &app_id}, std::pair{"PRAGMA user_version", &version},
                          std::pair{"SELECT count(*) FROM sqlite_schema", &objects}}) {
    auto stmt = Prepare(sql);
    if (!stmt.ok()) return stmt.status();
    Stmt st(*stmt);
    int rc = st.Step();
    if (rc != SQLITE_ROW) return SqlError(rc, std::string("reading ") + sql);
    *out = st.ColInt(0);
  }
  if (app_id != kApplicationId && (app_id != 0 || objects != 0)) {
    return Status::Corruption("\"" + db_path_ + "\" is an SQLite database but not vigil's (application_id " +
                              std::to_string(app_id) + ")");
  }
  if (version > kSchemaVersion) {
    return Status::InvalidArgument("\"" + db_path_ + "\" has schema version " + std::to_string(version) +
                                   ", newer than this build's " + std::to_string(kSchemaVersion) +
                                   "; run a newer vigil");
  }
  if (version == kSchemaVersion) return Status::Ok();
  for (int64_t v = version; v < kSchemaVersion; ++v) {
    int rc = sqlite3_exec(db_, kMigrations[v], nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return SqlError(rc, "migrating schema to version " + std::to_string(v + 1));
  }
  std::string pragmas = "PRAGMA application_id=" + std::to_string(kApplicationId) +
                        "; PRAGMA user_version=" + std::to_string(kSchemaVersion) + ";";
  int rc = sqlite3_exec(db_, pragmas.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqlError(rc, "setting schema version");
  return txn.Commit();
}

// ---------------------------------------------------------------------------
// Plumbing

Status Store::SqlError(int rc, std::string_view what) const { return SqlErrorOf(db_, db_path_, rc, what); }

Result<sqlite3_stmt*> Store::Prepare(const std::string& sql) {
  auto it = stmts_.find(sql);
  if (it != stmts_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                              nullptr);
  if (rc != SQLITE_OK) return SqlError(rc, "preparing statement");
  stmts_.emplace(sql, stmt);
  return stmt;
}

Status Store::Exec(const char* sql) {
  auto stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  Stmt st(*stmt);
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return SqlError(rc, sql);
  return Status::Ok();
}

int64_t Store::SizeBytes() const {
  int64_t total = 0;
  for (const std::string* p : {&db_path_, &wal_path_}) {
    std::error_code ec;
    auto n = std::filesystem::file_size(*p, ec);
    if (!ec) total += static_cast<int64_t>(n);
  }
  return total;
}

// ---------------------------------------------------------------------------
// Row readers: one row of a SELECT of the *Columns lists below into a value.

namespace {

constexpr const char* kAnomalyColumns =
    "id, series, labels, ts_ms, value, expected, lower, upper, score, direction, detector, pattern, is_rate";

Result<Anomaly> ReadAnomaly(const Stmt& st) {
  Anomaly a;
  a.id = st.ColInt(0);
  std::string context = "anomaly " + std::to_string(a.id);
  a.series = FromDb(st.ColInt(1));
  auto labels = blob_columns::DecodeLabels(st.ColBytes(2));
  if (!labels.ok()) return labels.status().WithContext(context);
  a.labels = std::move(labels).value();
  a.ts_ms = st.ColInt(3);
  a.value = st.ColReal(4);
  a.expected = st.ColReal(5);
  a.lower = st.ColReal(6);
  a.upper = st.ColReal(7);
  a.score = st.ColReal(8);
  auto dir = ParseDirection(st.ColBytes(9));
  if (!dir.ok()) return dir.status().WithContext(context);
  a.direction = *dir;
  a.detector = st.ColString(10);
  a.pattern = st.ColString(11);
  a.is_rate = st.ColInt(12) != 0;
  return a;
}

constexpr const char* kEventColumns = "id, ts_ms, kind, labels, text";

Result<Event> ReadEvent(const Stmt& st) {
  Event e;
  e.id = st.ColInt(0);
  e.ts_ms = st.ColInt(1);
  e.kind = st.ColString(2);
  auto labels = blob_columns::DecodeLabels(st.ColBytes(3));
  if (!labels.ok()) return labels.status().WithContext("event " + std::to_string(e.id));
  e.labels = std::move(labels).value();
  e.text = st.ColString(4);
  return e;
}

constexpr const char* kIncidentColumns =
    "id, entity, entity_labels, title, state, opened_ms, updated_ms, resolved_ms, last_anomaly_ms, acknowledged, "
    "acknowledged_by, max_score, anomaly_count, series, members";

Result<Incident> ReadIncident(const Stmt& st) {
  Incident inc;
  inc.id = st.ColInt(0);
  std::string context = "incident " + std::to_string(inc.id);
  inc.entity = st.ColString(1);
  auto labels = blob_columns::DecodeLabels(st.ColBytes(2));
  if (!labels.ok()) return labels.status().WithContext(context);
  inc.entity_labels = std::move(labels).value();
  inc.title = st.ColString(3);
  auto state = ParseState(st.ColBytes(4));
  if (!state.ok()) return state.status().WithContext(context);
  inc.state = *state;
  inc.opened_ms = st.ColInt(5);
  inc.updated_ms = st.ColInt(6);
  inc.resolved_ms = st.ColInt(7);
  inc.last_anomaly_ms = st.ColInt(8);
  inc.acknowledged = st.ColInt(9) != 0;
  inc.acknowledged_by = st.ColString(10);
  inc.max_score = st.ColReal(11);
  inc.anomaly_count = static_cast<int>(st.ColInt(12));
  auto series = blob_columns::DecodeIncidentSeries(st.ColBytes(13));
  if (!series.ok()) return series.status().WithContext(context);
  inc.series = std::move(series).value();
  std::string_view members = st.ColBytes(14);
  while (!members.empty()) {
    size_t nl = members.find('\n');
    inc.members.emplace_back(members.substr(0, nl));
    members = nl == std::string_view::npos ? std::string_view() : members.substr(nl + 1);
  }
  return inc;
}

constexpr const char* kTimelineColumns = "id, incident_id, ts_ms, kind, text, ref_id";

Result<TimelineEntry> ReadTimelineEntry(const Stmt& st) {
  TimelineEntry e;
  e.id = st.ColInt(0);
  e.incident_id = st.ColInt(1);
  e.ts_ms = st.ColInt(2);
  e.kind = st.ColString(3);
  e.text = st.ColString(4);
  e.ref_id = st.ColInt(5);
  return e;
}

constexpr const char* kNotificationColumns =
    "id, incident_id, receiver, kind, url, payload, status, attempts, next_attempt_ms, last_error, created_ms, "
    "updated_ms";

Result<NotificationRecord> ReadNotification(const Stmt& st) {
  NotificationRecord n;
  n.id = st.ColInt(0);
  n.incident_id = st.ColInt(1);
  n.receiver = st.ColString(2);
  n.kind = st.ColString(3);
  n.url = st.ColString(4);
  n.payload = st.ColString(5);
  n.status = st.ColString(6);
  n.attempts = static_cast<int>(st.ColInt(7));
  n.next_attempt_ms = st.ColInt(8);
  n.last_error = st.ColString(9);
  n.created_ms = st.ColInt(10);
  n.updated_ms = st.ColInt(11);
  return n;
}

std::string Select(const char* columns, const char* table, std::string_view rest) {
  return std::string("SELECT ") + columns + " FROM " + table + " " + std::string(rest);
}

}  // namespace

// ---------------------------------------------------------------------------
// Anomalies

Status Store::InsertAnomalies(std::vector<Anomaly>* anomalies) {
  std::lock_guard lock(mu_);
  Transaction txn(this);
  if (Status s = txn.Begin(); !s.ok()) return s;
  auto stmt = Prepare(
      "INSERT INTO anomalies (series, labels, ts_ms, value, expected, lower, upper, score, direction, detector, "
      "pattern, is_rate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!stmt.ok()) return stmt.status();
  std::vector<int64_t> ids;
  ids.reserve(anomalies->size());
  for (const Anomaly& a : *anomalies) {
    Stmt st(*stmt);
    st.Int(ToDb(a.series)).Blob(blob_columns::EncodeLabels(a.labels)).Int(a.ts_ms);
    st.Real(a.value).Real(a.expected).Real(a.lower).Real(a.upper).Real(a.score);
    st.Text(DirectionName(a.direction)).Text(a.detector).Text(a.pattern).Int(a.is_rate ? 1 : 0);
    if (int rc = st.Step(); rc != SQLITE_DONE) return SqlError(rc, "inserting anomaly");
    ids.push_back(sqlite3_last_insert_rowid(db_));
  }
  if (Status s = txn.Commit(); !s.ok()) return s;
  for (size_t i = 0; i < ids.size(); ++i) (*anomalies)[i].id = ids[i];
  return Status::Ok();
}

Status Store::LinkAnomaly(int64_t anomaly_id, int64_t incident_id) {
  std::lock_guard lock(mu_);
  auto find = Prepare("SELECT 1 FROM incidents WHERE id = ?");
  if (!find.ok()) return find.status();
  {
    Stmt st(*find);
    int rc = st.Int(incident_id).Step();
    if (rc == SQLITE_DONE) return Status::NotFound("incident " + std::to_string(incident_id) + " does not exist");
    if (rc != SQLITE_ROW) return SqlError(rc, "looking up incident");
  }
  auto update = Prepare("UPDATE anomalies SET incident_id = ? WHERE id = ?");
  if (!update.ok()) return update.status();
  Stmt st(*update);
  if (int rc = st.Int(incident_id).Int(anomaly_id).Step(); rc != SQLITE_DONE) return SqlError(rc, "linking anomaly");
  if (sqlite3_changes(db_) == 0) return Status::NotFound("anomaly " + std::to_string(anomaly_id) + " does not exist");
  return Status::Ok();
}

Result<std::vector<Anomaly>> Store::ListAnomalies(const AnomalyQuery& q) {
  if (Status s = CheckLimit(q.limit); !s.ok()) return s;
  std::string where = "WHERE ts_ms BETWEEN ? AND ?";
  if (q.series) where += " AND series = ?";
  if (q.incident_id) where += " AND incident_id = ?";
  if (q.id) where += " AND id = ?";
  where += " ORDER BY ts_ms DESC, id DESC LIMIT ?";

  std::lock_guard lock(mu_);
  auto stmt = Prepare(Select(kAnomalyColumns, "anomalies", where));
  if (!stmt.ok()) return stmt.status();
  Stmt st(*stmt);
  st.Int(q.from).Int(q.to);
  if (q.series) st.Int(ToDb(*q.series));
  if (q.incident_id) st.Int(*q.incident_id);
  if (q.id) st.Int(*q.id);
  st.Int(q.limit);
  return ReadAll<Anomaly>(db_, db_path_, st, ReadAnomaly, "listing anomalies");
}

// ---------------------------------------------------------------------------
// Events

Status Store::InsertEventLocked(const Event& e, int64_t* id) {
  auto insert = Prepare("INSERT INTO events (ts_ms, kind, labels, text) VALUES (?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  {
    Stmt st(*insert);
    st.Int(e.ts_ms).Text(e.kind).Blob(blob_columns::EncodeLabels(e.labels)).Text(e.text);
    if (int rc = st.Step(); rc != SQLITE_DONE) return SqlError(rc, "inserting event");
  }
  *id = sqlite3_last_insert_rowid(db_);
  auto label = Prepare("INSERT OR IGNORE INTO event_labels (name, value, event_id) VALUES (?, ?, ?)");
  if (!label.ok()) return label.status();
  for (const Label& l : e.labels.items()) {
    if (l.value.empty()) continue;  // absent and empty are the same to a matcher
    Stmt st(*label);
    if (int rc = st.Text(l.name).Text(l.value).Int(*id).Step(); rc != SQLITE_DONE) {
      return SqlError(rc, "indexing event label");
    }
  }
  return Status::Ok();
}

Result<int64_t> Store::InsertEvent(const Event& e) {
  auto ids = InsertEvents({e});
  if (!ids.ok()) return ids.status();
  return ids->front();
}

Result<std::vector<int64_t>> Store::InsertEvents(const std::vector<Event>& events) {
  std::lock_guard lock(mu_);
  Transaction txn(this);
  if (Status s = txn.Begin(); !s.ok()) return s;
  std::vector<int64_t> ids(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    if (Status s = InsertEventLocked(events[i], &ids[i]); !s.ok()) return s;
  }
  if (Status s = txn.Commit(); !s.ok()) return s;
  return ids;
}

Result<std::vector<Event>> Store::ListEvents(const EventQuery& q) {
  if (Status s = CheckLimit(q.limit); !s.ok()) return s;
  if (q.match.size() > kMaxMatchLabels) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxMatchLabels) + " match labels, got " +
                                   std::to_string(q.match.size()));
  }
  // Must-have labels first, then must-lack ones: the SQL text then depends on
  // the two counts only, which bounds the statement cache.
  std::vector<const Label*> present, absent;
  for (const Label& l : q.match) (l.value.empty() ? absent : present).push_back(&l);
  std::string where = "WHERE ts_ms BETWEEN ? AND ?";
  for (size_t i = 0; i < present.size(); ++i) {
    where += " AND EXISTS (SELECT 1 FROM event_labels WHERE name = ? AND value = ? AND event_id = events.id)";
  }
  for (size_t i = 0; i < absent.size(); ++i) {
    where += " AND NOT EXISTS (SELECT 1 FROM event_labels WHERE name = ? AND event_id = events.id)";
  }
  where += " ORDER BY ts_ms DESC, id DESC LIMIT ?";

  std::lock_guard lock(mu_);
  auto stmt = Prepare(Select(kEventColumns, "events", where));
  if (!stmt.ok()) return stmt.status();
  Stmt st(*stmt);
  st.Int(q.from).Int(q.to);
  for (const Label* l : present) st.Text(l->name).Text(l->value);
  for (const Label* l : absent) st.Text(l->name);
  st.Int(q.limit);
  return ReadAll<Event>(db_, db_path_, st, ReadEvent, "listing events");
}

// ---------------------------------------------------------------------------
// Incidents

Status Store::UpsertIncident(Incident* inc) {
  std::lock_guard lock(mu_);
  bool insert = inc->id == 0;
  auto stmt = Prepare(insert ? "INSERT INTO incidents (entity, entity_labels, title, state, opened_ms, updated_ms, "
                               "resolved_ms, last_anomaly_ms, acknowledged, acknowledged_by, max_score, "
                               "anomaly_count, series, members) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                             : "UPDATE incidents SET entity = ?, entity_labels = ?, title = ?, state = ?, "
                               "opened_ms = ?, updated_ms = ?, resolved_ms = ?, last_anomaly_ms = ?, "
                               "acknowledged = ?, acknowledged_by = ?, max_score = ?, anomaly_count = ?, "
                               "series = ?, members = ? WHERE id = ?");
  if (!stmt.ok()) return stmt.status();
  Stmt st(*stmt);
  st.Text(inc->entity).Blob(blob_columns::EncodeLabels(inc->entity_labels)).Text(inc->title);
  st.Text(IncidentStateName(inc->state)).Int(inc->opened_ms).Int(inc->updated_ms).Int(inc->resolved_ms);
  st.Int(inc->last_anomaly_ms).Int(inc->acknowledged ? 1 : 0).Text(inc->acknowledged_by).Real(inc->max_score);
  st.Int(inc->anomaly_count).Blob(blob_columns::EncodeIncidentSeries(inc->series));
  std::string members;
  for (const auto& m : inc->members) {
    if (!members.empty()) members += '\n';
    members += m;  // entity keys are label text: quotes escape newlines
  }
  st.Text(members);
  if (!insert) st.Int(inc->id);
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqlError(rc, insert ? "inserting incident" : "updating incident");
  if (insert) {
    inc->id = sqlite3_last_insert_rowid(db_);
  } else if (sqlite3_changes(db_) == 0) {
    return Status::NotFound("incident " + std::to_string(inc->id) + " does not exist");
  }
  return Status::Ok();
}

Result<std::optional<Incident>> Store::GetIncident(int64_t id) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(Select(kIncidentColumns, "incidents", "WHERE id = ?"));
  if (!stmt.ok()) return stmt.status();
  Stmt st(*stmt);
  st.Int(id);
  auto rows = ReadAll<Incident>(db_, db_path_, st, ReadIncident, "reading incident");
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Incident>();
  return std::optional<Incident>(std::move(rows->front()));
}

Result<std::vector<Incident>> Store::ListIncidents(const IncidentQuery& q) {
  if (Status s = CheckLimit(q.limit); !s.ok()) return s;
  // Overlap of [opened_ms, resolved_ms or forever] with [from, to].
  std::string where = "WHERE opened_ms <= ? AND (state = 'open' OR resolved_ms >= ?)";
  if (q.state) where += " AND state = ?";
  where += " ORDER BY opened_ms DESC, id DESC LIMIT ?";

  std::lock_guard lock(mu_);
  auto stmt = Prepare(Select(kIncidentColumns, "incidents", where));
  if (!stmt.ok()) return stmt.status();
  Stmt st(*stmt);
  st.Int(q.to).Int(q.from);
  if (q.state) st.Text(IncidentStateName(*q.state));
  st.Int(q.limit);
  return ReadAll<Incident>(db_, db_path_, st, ReadIncident, "listing incidents");
}

Result<std::vector<Incident>> Store::LoadOpenIncidents() {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(Select(kIncidentColumns, "incidents", "WHERE state = 'open' ORDER BY opened_ms, id"));
  if (!stmt.ok()) return stmt.status();
  Stmt st(*stmt);
  return ReadAll<Incident>(db_, db_path_, st, ReadIncident, "loading open incidents");
}

// ---------------------------------------------------------------------------
// Timelines

Status Store::AppendTimeline(TimelineEntry* e) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare("INSERT INTO timeline (incident_id, ts_ms, kind, text, ref_id) VALUES (?, ?, ?, ?, ?)");
  if (!stmt.ok()) return stmt.status();
  Stmt st(*stmt);
  st.Int(e->incident_id).Int(e->ts_ms).Text(e->kind).Text(e->text).Int(e->ref_id);
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqlError(rc, "appending timeline entry");
  e->id = sqlite3_last_insert_rowid(db_);
  return Status::Ok();
}

Result<std::vector<TimelineEntry>> Store::Timeline(int64_t incident_id) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(Select(kTimelineColumns, "timeline", "WHERE incident_id = ? ORDER BY ts_ms, id"));
  if (!stmt.ok()) return stmt.status();
  Stmt st(*stmt);
  st.Int(incident_id);
  return ReadAll<TimelineEntry>(db_, db_path_, st, ReadTimelineEntry, "reading timeline");
}

// ---------------------------------------------------------------------------
// Notifications

Status LinkNotification(sqlite3* db, const NotificationRecord& n) {
  if (n.covers.empty()) return Status::Ok();
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO notification_incidents (incident_id, notification_id) VALUES (?, ?)",
                         -1, &raw, nullptr) != SQLITE_OK) {
    return Status::IOError(std::string("preparing the notification links: ") + sqlite3_errmsg(db));
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> st(raw, sqlite3_finalize);
  for (int64_t incident : n.covers) {
    if (incident == n.incident_id || incident <= 0) continue;
    sqlite3_reset(raw);
    sqlite3_bind_int64(raw, 1, incident);
    sqlite3_bind_int64(raw, 2, n.id);
    if (sqlite3_step(raw) != SQLITE_DONE) {
      return Status::IOError("linking notification " + std::to_string(n.id) + " to incident " +
                             std::to_string(incident) + ": " + sqlite3_errmsg(db));
    }
  }
  return Status::Ok();
}

Status Store::EnqueueNotification(NotificationRecord* n) {
  std::lock_guard lock(mu_);
  Transaction txn(this);  // the row and its links together
  if (Status s = txn.Begin(); !s.ok()) return s;
  auto stmt = Prepare(
      "INSERT INTO notifications (incident_id, receiver, kind, url, payload, status, attempts, next_attempt_ms, "
      "last_error, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!stmt.ok()) return stmt.status();
  Stmt st(*stmt);
  st.Int(n->incident_id).Text(n->receiver).Text(n->kind).Text(n->url).Text(n->payload).Text(n->status);
  st.Int(n->attempts).Int(n->next_attempt_ms).Text(n->last_error).Int(n->created_ms).Int(n->updated_ms);
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqlError(rc, "enqueueing notification");
  n->id = sqlite3_last_insert_rowid(db_);
  if (Status s = LinkNotification(db_, *n); !s.ok()) return s;
  return txn.Commit();
}

Status Store::UpdateNotification(const NotificationRecord& n) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(
      "UPDATE notifications SET incident_id = ?, receiver = ?, kind = ?, url = ?, payload = ?, status = ?, "
      "attempts = ?, next_attempt_ms = ?, last_error = ?, updated_ms = ? WHERE id = ?");
  if (!stmt.ok()) return stmt.status();
  Stmt st(*stmt);
  st.Int(n.incident_id).Text(n.receiver).Text(n.kind).Text(n.url).Text(n.payload).Text(n.status);
  st.Int(n.attempts).Int(n.next_attempt_ms).Text(n.last_error).Int(n.updated_ms).Int(n.id);
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqlError(rc, "updating notification");
  if (sqlite3_changes(db_) == 0) return Status::NotFound("notification " + std::to_string(n.id) + " does not exist");
  return Status::Ok();
}

Result<std::vector<NotificationRecord>> Store::DueNotifications(TimestampMs now, int limit) {
  if (Status s = CheckLimit(limit); !s.ok()) return s;
  std::lock_guard lock(mu_);
  // The literal 'pending' lets SQLite use the partial index notifications_due.
  auto stmt = Prepare(Select(kNotificationColumns, "notifications",
                             "WHERE status = 'pending' AND next_attempt_ms <= ? ORDER BY next_attempt_ms, id LIMIT ?"));
  if (!stmt.ok()) return stmt.status();
  Stmt st(*stmt);
  st.Int(now).Int(limit);
  return ReadAll<NotificationRecord>(db_, db_path_, st, ReadNotification, "reading due notifications");
}

Result<std::vector<NotificationRecord>> Store::NotificationsFor(int64_t incident_id) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(Select(kNotificationColumns, "notifications",
                             "WHERE incident_id = ?1 OR id IN "
                             "(SELECT notification_id FROM notification_incidents WHERE incident_id = ?1) ORDER BY id"));
  if (!stmt.ok()) return stmt.status();
  Stmt st(*stmt);
  st.Int(incident_id);
  return ReadAll<NotificationRecord>(db_, db_path_, st, ReadNotification, "reading notifications");
}

// ---------------------------------------------------------------------------
// Snapshots

Status Store::PutRootCauses(RootCauseRecord* r) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(
      "INSERT INTO root_causes (incident_id, computed_ms, compute_us, revision, ranking, first_computed_ms, "
      "first_ranking) VALUES (?1, ?2, ?3, 1, ?4, ?2, ?4) "
      "ON CONFLICT (incident_id) DO UPDATE SET computed_ms = excluded.computed_ms, compute_us = excluded.compute_us, "
      "revision = root_causes.revision + 1, ranking = excluded.ranking RETURNING revision, first_computed_ms");
  if (!stmt.ok()) return stmt.status();
  Stmt st(*stmt);
  st.Int(r->incident_id).Int(r->computed_ms).Int(r->compute_us).Text(r->ranking_json);
  int rc = st.Step();
  if (rc != SQLITE_ROW) return SqlError(rc, "writing the root causes of incident " + std::to_string(r->incident_id));
  r->revision = st.ColInt(0);
  r->first_computed_ms = st.ColInt(1);
  while (rc == SQLITE_ROW) rc = st.Step();
  if (rc != SQLITE_DONE) return SqlError(rc, "writing the root causes of incident " + std::to_string(r->incident_id));
  return Status::Ok();
}

Result<std::optional<RootCauseRecord>> Store::GetRootCauses(int64_t incident_id) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(
      "SELECT computed_ms, compute_us, revision, ranking, first_computed_ms, first_ranking FROM root_causes "
      "WHERE incident_id = ?");
  if (!stmt.ok()) return stmt.status();
  Stmt st(*stmt);
  st.Int(incident_id);
  int rc = st.Step();
  if (rc == SQLITE_DONE) return std::optional<RootCauseRecord>();
  if (rc != SQLITE_ROW) return SqlError(rc, "reading the root causes of incident " + std::to_string(incident_id));
  RootCauseRecord r;
  r.incident_id = incident_id;
  r.computed_ms = st.ColInt(0);
  r.compute_us = st.ColInt(1);
  r.revision = st.ColInt(2);
  r.ranking_json = st.ColString(3);
  r.first_computed_ms = st.ColInt(4);
  r.first_ranking_json = st.ColString(5);
  return std::optional<RootCauseRecord>(std::move(r));
}

Status Store::PutSnapshot(std::string_view key, std::string_view blob) {
  if (blob.size() > kMaxSnapshotBytes) {
    return Status::InvalidArgument("snapshot \"" + std::string(key) + "\": " + std::to_string(blob.size()) +
                                   " bytes exceeds the limit of " + std::to_string(kMaxSnapshotBytes));
  }
  std::string packed(ZSTD_compressBound(blob.size()), '\0');
  {
    std::lock_guard lock(zstd_mu_);
    size_t n = ZSTD_compress2(zstd_c_, packed.data(), packed.size(), blob.data(), blob.size());
    if (ZSTD_isError(n)) {
      return Status::Internal("snapshot \"" + std::string(key) + "\": zstd: " + ZSTD_getErrorName(n));
    }
    packed.resize(n);
  }
  std::lock_guard lock(mu_);
  auto stmt = Prepare(
      "INSERT INTO snapshots (key, size, data) VALUES (?, ?, ?) "
      "ON CONFLICT (key) DO UPDATE SET size = excluded.size, data = excluded.data");
  if (!stmt.ok()) return stmt.status();
  Stmt st(*stmt);
  st.Text(key).Int(static_cast<int64_t>(blob.size())).Blob(packed);
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqlError(rc, "writing snapshot \"" + std::string(key) + "\"");
  return Status::Ok();
}

Result<std::optional<std::string>> Store::GetSnapshot(std::string_view key) {
  std::string what = "snapshot \"" + std::string(key) + "\"";
  int64_t size = 0;
  std::string packed;
  {
    std::lock_guard lock(mu_);
    auto stmt = Prepare("SELECT size, data FROM snapshots WHERE key = ?");
    if (!stmt.ok()) return stmt.status();
    Stmt st(*stmt);
    st.Text(key);
    int rc = st.Step();
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return SqlError(rc, "reading " + what);
    size = st.ColInt(0);
    packed = st.ColString(1);
  }
  unsigned long long framed = ZSTD_getFrameContentSize(packed.data(), packed.size());
  if (size < 0 || static_cast<uint64_t>(size) > kMaxSnapshotBytes || framed != static_cast<uint64_t>(size)) {
    return Status::Corruption("\"" + db_path_ + "\": " + what + ": stored size " + std::to_string(size) +
                              " does not match its zstd frame");
  }
  std::string out(static_cast<size_t>(size), '\0');
  std::lock_guard lock(zstd_mu_);
  size_t n = ZSTD_decompressDCtx(zstd_d_, out.data(), out.size(), packed.data(), packed.size());
  if (ZSTD_isError(n) || n != out.size()) {
    return Status::Corruption("\"" + db_path_ + "\": " + what + ": " +
                              (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short zstd frame"));
  }
  return std::optional<std::string>(std::move(out));
}

// ---------------------------------------------------------------------------
// Retention

Result<int64_t> Store::ApplyRetention(TimestampMs cutoff) {
  std::lock_guard lock(mu_);
  Transaction txn(this);
  if (Status s = txn.Begin(); !s.ok()) return s;
  struct Step {
    const char* sql;
    bool counted;  // event_labels rows are an index, not records
  };
  static constexpr Step kSteps[] = {
      {"DELETE FROM anomalies WHERE ts_ms < ?", true},
      {"DELETE FROM event_labels WHERE event_id IN (SELECT id FROM events WHERE ts_ms < ?)", false},
      {"DELETE FROM events WHERE ts_ms < ?", true},
      {"DELETE FROM timeline WHERE incident_id IN "
       "(SELECT id FROM incidents WHERE state = 'resolved' AND resolved_ms < ?)",
       true},
      {"DELETE FROM notifications WHERE incident_id IN "
       "(SELECT id FROM incidents WHERE state = 'resolved' AND resolved_ms < ?)",
       true},
      {"DELETE FROM notification_incidents WHERE incident_id IN "
       "(SELECT id FROM incidents WHERE state = 'resolved' AND resolved_ms < ?)",
       false},
      // A notification that belongs to no incident of its own (a digest) goes
      // once it is no longer queued and none of the incidents it covers is left.
      {"DELETE FROM notifications WHERE incident_id = 0 AND status != 'pending' AND created_ms < ? AND id NOT IN "
       "(SELECT notification_id FROM notification_incidents)",
       true},
      {"DELETE FROM root_causes WHERE incident_id IN "
       "(SELECT id FROM incidents WHERE state = 'resolved' AND resolved_ms < ?)",
       false},
      {"DELETE FROM incidents WHERE state = 'resolved' AND resolved_ms < ?", true},
  };
  int64_t deleted = 0;
  for (const Step& step : kSteps) {
    auto stmt = Prepare(step.sql);
    if (!stmt.ok()) return stmt.status();
    Stmt st(*stmt);
    if (int rc = st.Int(cutoff).Step(); rc != SQLITE_DONE) return SqlError(rc, "applying retention");
    if (step.counted) deleted += sqlite3_changes64(db_);
  }
  if (Status s = txn.Commit(); !s.ok()) return s;
  return deleted;
}

}  // namespace vigil
