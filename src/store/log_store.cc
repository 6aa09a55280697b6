#include "store/log_store.h"

#include <sqlite3.h>

#include <filesystem>

namespace vigil {

namespace {

class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return s_; }
  Status Error(const std::string& what) const {
    return Status::IOError("log store: " + what + ": " + sqlite3_errmsg(db_));
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void Bind(int i, const std::string& v) { sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  void BindBlob(int i, const std::string& v) { sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  int Step() { return sqlite3_step(s_); }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  int64_t Int(int c) { return sqlite3_column_int64(s_, c); }
  std::string Text(int c) {
    const void* p = sqlite3_column_blob(s_, c);
    int n = sqlite3_column_bytes(s_, c);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

// WHERE clause (without "WHERE") for a query over log_lines aliased "l", and
// its bindings in order.
std::string Filter(const LogSearchQuery& q, std::vector<std::string>* text_binds, std::vector<int64_t>* int_binds,
                   std::vector<bool>* is_text) {
  std::string w = "l.ts >= ? AND l.ts <= ?";
  int_binds->push_back(q.from_ms);
  int_binds->push_back(q.to_ms);
  is_text->push_back(false);
  is_text->push_back(false);
  if (!q.any_stream) {
    if (q.streams.empty()) {
      w += " AND 0";
    } else {
      w += " AND l.stream IN (";
      for (size_t i = 0; i < q.streams.size(); ++i) w += (i ? "," : "") + std::to_string(q.streams[i]);
      w += ")";
    }
  }
  if (!q.fts.empty()) {
    w += " AND l.id IN (SELECT rowid FROM log_text WHERE log_text MATCH ?)";
    text_binds->push_back(q.fts);
    is_text->push_back(true);
  }
  if (!q.fts_exclude.empty()) {
    w += " AND l.id NOT IN (SELECT rowid FROM log_text WHERE log_text MATCH ?)";
    text_binds->push_back(q.fts_exclude);
    is_text->push_back(true);
  }
  return w;
}

void BindAll(Stmt& st, const std::vector<std::string>& texts, const std::vector<int64_t>& ints,
             const std::vector<bool>& is_text) {
  size_t t = 0, n = 0;
  for (size_t i = 0; i < is_text.size(); ++i) {
    if (is_text[i]) st.Bind(static_cast<int>(i + 1), texts[t++]);
    else st.Bind(static_cast<int>(i + 1), ints[n++]);
  }
}

}  // namespace

Result<std::unique_ptr<LogStore>> LogStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Status::IOError("cannot open log store \"" + path + "\": " + msg);
  }
  std::unique_ptr<LogStore> s(new LogStore(db, path));
  sqlite3_busy_timeout(db, 5000);
  for (const char* sql : {
           "PRAGMA journal_mode=WAL",
           "PRAGMA synchronous=NORMAL",
           "PRAGMA journal_size_limit=67108864",
           "CREATE TABLE IF NOT EXISTS log_streams(id INTEGER PRIMARY KEY, labels TEXT NOT NULL UNIQUE, "
           "state BLOB, last_seq INTEGER NOT NULL DEFAULT 0)",
           "CREATE TABLE IF NOT EXISTS log_lines(id INTEGER PRIMARY KEY, stream INTEGER NOT NULL, seq INTEGER NOT NULL, "
           "ts INTEGER NOT NULL, template INTEGER NOT NULL, severity INTEGER NOT NULL)",
           "CREATE INDEX IF NOT EXISTS log_lines_stream_seq ON log_lines(stream, seq)",
           "CREATE INDEX IF NOT EXISTS log_lines_ts ON log_lines(ts)",
           "CREATE VIRTUAL TABLE IF NOT EXISTS log_text USING fts5(line, tokenize = 'unicode61')",
       }) {
    if (Status st = s->Exec(sql); !st.ok()) return st;
  }
  return s;
}

LogStore::~LogStore() { sqlite3_close_v2(db_); }

Status LogStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::IOError("log store \"" + path_ + "\": " + std::string(sql).substr(0, 60) + ": " + msg);
  }
  return Status::Ok();
}

Result<int64_t> LogStore::StreamId(const std::string& labels_text) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt ins(db_, "INSERT OR IGNORE INTO log_streams(labels) VALUES(?)");
  if (!ins.ok()) return ins.Error("prepare stream insert");
  ins.Bind(1, labels_text);
  if (ins.Step() != SQLITE_DONE) return ins.Error("insert stream");
  Stmt sel(db_, "SELECT id FROM log_streams WHERE labels = ?");
  sel.Bind(1, labels_text);
  if (sel.Step() != SQLITE_ROW) return sel.Error("find stream");
  return sel.Int(0);
}

Status LogStore::SaveStreamState(int64_t stream, const std::string& state) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st(db_, "UPDATE log_streams SET state = ? WHERE id = ?");
  st.BindBlob(1, state);
  st.Bind(2, stream);
  if (st.Step() != SQLITE_DONE) return st.Error("save stream state");
  return Status::Ok();
}

Result<std::vector<LogStore::StreamRow>> LogStore::Streams() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st(db_, "SELECT id, labels, state, last_seq FROM log_streams ORDER BY id");
  std::vector<StreamRow> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) out.push_back({st.Int(0), st.Text(1), st.Text(2), st.Int(3)});
  if (rc != SQLITE_DONE) return st.Error("list streams");
  return out;
}

Status LogStore::Append(std::vector<StoredLogLine>* lines) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Status s = Exec("BEGIN"); !s.ok()) return s;
  Stmt meta(db_, "INSERT INTO log_lines(stream, seq, ts, template, severity) VALUES(?,?,?,?,?)");
  Stmt text(db_, "INSERT INTO log_text(rowid, line) VALUES(?,?)");
  Stmt seq(db_, "UPDATE log_streams SET last_seq = max(last_seq, ?) WHERE id = ?");
  if (!meta.ok() || !text.ok() || !seq.ok()) {
    Exec("ROLLBACK");
    return meta.Error("prepare append");
  }
  for (StoredLogLine& l : *lines) {
    meta.Bind(1, l.stream);
    meta.Bind(2, l.seq);
    meta.Bind(3, l.ts_ms);
    meta.Bind(4, l.template_id);
    meta.Bind(5, l.severity);
    if (meta.Step() != SQLITE_DONE) {
      Status s = meta.Error("append line");
      Exec("ROLLBACK");
      return s;
    }
    meta.Reset();
    l.id = sqlite3_last_insert_rowid(db_);
    text.Bind(1, l.id);
    text.Bind(2, l.line);
    if (text.Step() != SQLITE_DONE) {
      Status s = text.Error("index line");
      Exec("ROLLBACK");
      return s;
    }
    text.Reset();
    seq.Bind(1, l.seq);
    seq.Bind(2, l.stream);
    seq.Step();
    seq.Reset();
  }
  return Exec("COMMIT");
}

Result<std::vector<StoredLogLine>> LogStore::Search(const LogSearchQuery& q) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> texts;
  std::vector<int64_t> ints;
  std::vector<bool> is_text;
  std::string where = Filter(q, &texts, &ints, &is_text);
  Stmt st(db_, "SELECT l.id, l.stream, l.seq, l.ts, l.template, l.severity, t.line FROM log_lines l "
               "JOIN log_text t ON t.rowid = l.id WHERE " + where + " ORDER BY l.ts DESC, l.id DESC LIMIT " +
                   std::to_string(q.limit));
  if (!st.ok()) return st.Error("prepare search");
  BindAll(st, texts, ints, is_text);
  std::vector<StoredLogLine> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    out.push_back({st.Int(0), st.Int(1), st.Int(2), st.Int(3), static_cast<uint32_t>(st.Int(4)),
                   static_cast<int>(st.Int(5)), st.Text(6)});
  }
  if (rc != SQLITE_DONE) return Status::InvalidArgument(std::string("search: ") + sqlite3_errmsg(db_));
  return out;
}

Result<StoredLogLine> LogStore::Get(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st(db_, "SELECT l.id, l.stream, l.seq, l.ts, l.template, l.severity, t.line FROM log_lines l "
               "JOIN log_text t ON t.rowid = l.id WHERE l.id = ?");
  st.Bind(1, id);
  if (st.Step() != SQLITE_ROW) return Status::NotFound("log line " + std::to_string(id) + " not found");
  return StoredLogLine{st.Int(0), st.Int(1), st.Int(2), st.Int(3), static_cast<uint32_t>(st.Int(4)),
                       static_cast<int>(st.Int(5)), st.Text(6)};
}

Result<std::vector<StoredLogLine>> LogStore::Range(int64_t stream, int64_t from_seq, int64_t to_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st(db_, "SELECT l.id, l.stream, l.seq, l.ts, l.template, l.severity, t.line FROM log_lines l "
               "JOIN log_text t ON t.rowid = l.id WHERE l.stream = ? AND l.seq BETWEEN ? AND ? ORDER BY l.seq");
  st.Bind(1, stream);
  st.Bind(2, from_seq);
  st.Bind(3, to_seq);
  std::vector<StoredLogLine> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    out.push_back({st.Int(0), st.Int(1), st.Int(2), st.Int(3), static_cast<uint32_t>(st.Int(4)),
                   static_cast<int>(st.Int(5)), st.Text(6)});
  }
  if (rc != SQLITE_DONE) return st.Error("context");
  return out;
}

Result<std::vector<LogCountRow>> LogStore::Counts(const LogSearchQuery& q, TimestampMs step_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> texts;
  std::vector<int64_t> ints;
  std::vector<bool> is_text;
  std::string where = Filter(q, &texts, &ints, &is_text);
  std::string step = std::to_string(step_ms);
  Stmt st(db_, "SELECT (l.ts / " + step + ") * " + step + " AS b, l.stream, l.template, count(*) FROM log_lines l WHERE " +
                   where + " GROUP BY b, l.stream, l.template ORDER BY b");
  if (!st.ok()) return st.Error("prepare stats");
  BindAll(st, texts, ints, is_text);
  std::vector<LogCountRow> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    out.push_back({st.Int(0), st.Int(1), static_cast<uint32_t>(st.Int(2)), static_cast<uint64_t>(st.Int(3))});
  }
  if (rc != SQLITE_DONE) return Status::InvalidArgument(std::string("stats: ") + sqlite3_errmsg(db_));
  return out;
}

Result<uint64_t> LogStore::SizeBytes() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st(db_, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
  if (st.Step() != SQLITE_ROW) return st.Error("size");
  return static_cast<uint64_t>(st.Int(0));
}

Result<uint64_t> LogStore::LineCount() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st(db_, "SELECT count(*) FROM log_lines");
  if (st.Step() != SQLITE_ROW) return st.Error("count");
  return static_cast<uint64_t>(st.Int(0));
}

Result<uint64_t> LogStore::ApplyRetention(TimestampMs cutoff_ms, uint64_t max_bytes) {
  uint64_t deleted = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt t(db_, "DELETE FROM log_text WHERE rowid IN (SELECT id FROM log_lines WHERE ts < ?)");
    t.Bind(1, cutoff_ms);
    if (t.Step() != SQLITE_DONE) return t.Error("retention by age (text)");
    Stmt l(db_, "DELETE FROM log_lines WHERE ts < ?");
    l.Bind(1, cutoff_ms);
    if (l.Step() != SQLITE_DONE) return l.Error("retention by age");
    deleted += static_cast<uint64_t>(sqlite3_changes(db_));
  }
  // By size: free pages are reused, so deleting the oldest tenth at a time
  // until the live data fits keeps the file from growing further.
  for (int round = 0; round < 10; ++round) {
    auto size = SizeBytes();
    if (!size.ok()) return size.status();
    std::lock_guard<std::mutex> lock(mu_);
    Stmt fl(db_, "SELECT freelist_count * page_size FROM pragma_freelist_count(), pragma_page_size()");
    uint64_t free_bytes = fl.Step() == SQLITE_ROW ? static_cast<uint64_t>(fl.Int(0)) : 0;
    if (*size - free_bytes <= max_bytes) break;
    Stmt cnt(db_, "SELECT min(id), max(id) FROM log_lines");
    if (cnt.Step() != SQLITE_ROW) break;
    int64_t lo = cnt.Int(0), hi = cnt.Int(1);
    if (hi <= lo) break;
    int64_t cut = lo + (hi - lo) / 10 + 1;
    Stmt t(db_, "DELETE FROM log_text WHERE rowid < ?");
    t.Bind(1, cut);
    if (t.Step() != SQLITE_DONE) return t.Error("retention by size (text)");
    Stmt l(db_, "DELETE FROM log_lines WHERE id < ?");
    l.Bind(1, cut);
    if (l.Step() != SQLITE_DONE) return l.Error("retention by size");
    deleted += static_cast<uint64_t>(sqlite3_changes(db_));
  }
  return deleted;
}

}  // namespace vigil
