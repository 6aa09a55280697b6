#include "store/alert_store.h"

#include <sqlite3.h>

namespace vigil {

namespace {

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

void BindText(sqlite3_stmt* s, int i, const std::string& v) { sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }

}  // namespace

Status AlertStore::Error(const std::string& what) const {
  return Status::IOError(path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

Result<std::unique_ptr<AlertStore>> AlertStore::Open(const std::string& data_dir) {
  std::string path = data_dir + "/vigil.db";
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::IOError("cannot open " + path + ": " + msg);
  }
  std::unique_ptr<AlertStore> s(new AlertStore(path, db));
  sqlite3_busy_timeout(db, 10000);
  // WAL was set by the Store; NORMAL sync is durable across process kills in WAL mode.
  const char* ddl =
      "PRAGMA synchronous=NORMAL;"
      "CREATE TABLE IF NOT EXISTS alert_docs (kind TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL,"
      " PRIMARY KEY (kind, key)) WITHOUT ROWID;";
  if (sqlite3_exec(db, ddl, nullptr, nullptr, nullptr) != SQLITE_OK) return s->Error("creating alert_docs");
  return s;
}

AlertStore::~AlertStore() { sqlite3_close(db_); }

Status AlertStore::Commit(const std::vector<DocWrite>& writes, std::vector<NotificationRecord>* outbox) {
  std::lock_guard<std::mutex> lock(mu_);
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return Error("begin");
  auto fail = [&](const std::string& what) {
    Status st = Error(what);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
  };
  {
    Stmt up(db_, "INSERT INTO alert_docs (kind, key, doc) VALUES (?1, ?2, ?3) ON CONFLICT (kind, key) DO UPDATE SET doc = ?3");
    Stmt del(db_, "DELETE FROM alert_docs WHERE kind = ?1 AND key = ?2");
    if (!up.ok() || !del.ok()) return fail("preparing");
    for (const auto& w : writes) {
      sqlite3_stmt* s = w.doc.empty() ? del.get() : up.get();
      sqlite3_reset(s);
      BindText(s, 1, w.kind);
      BindText(s, 2, w.key);
      if (!w.doc.empty()) BindText(s, 3, w.doc);
      if (sqlite3_step(s) != SQLITE_DONE) return fail("writing " + w.kind + " " + w.key);
    }
  }
  if (outbox && !outbox->empty()) {
    Stmt ins(db_,
             "INSERT INTO notifications (incident_id, receiver, kind, url, payload, status, attempts, next_attempt_ms,"
             " last_error, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    if (!ins.ok()) return fail("preparing the outbox insert");
    for (auto& n : *outbox) {
      sqlite3_stmt* s = ins.get();
      sqlite3_reset(s);
      sqlite3_bind_int64(s, 1, n.incident_id);
      BindText(s, 2, n.receiver);
      BindText(s, 3, n.kind);
      BindText(s, 4, n.url);
      BindText(s, 5, n.payload);
      BindText(s, 6, n.status);
      sqlite3_bind_int(s, 7, n.attempts);
      sqlite3_bind_int64(s, 8, n.next_attempt_ms);
      BindText(s, 9, n.last_error);
      sqlite3_bind_int64(s, 10, n.created_ms);
      sqlite3_bind_int64(s, 11, n.updated_ms);
      if (sqlite3_step(s) != SQLITE_DONE) return fail("queueing a notification");
      n.id = sqlite3_last_insert_rowid(db_);
      if (Status linked = LinkNotification(db_, n); !linked.ok()) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return linked;
      }
    }
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("commit");
  return Status::Ok();
}

Result<std::vector<std::pair<std::string, std::string>>> AlertStore::Load(const std::string& kind) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, "SELECT key, doc FROM alert_docs WHERE kind = ?1 ORDER BY key");
  if (!q.ok()) return Error("preparing load");
  BindText(q.get(), 1, kind);
  std::vector<std::pair<std::string, std::string>> out;
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 0)),
                     std::string(reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 1)),
                                 sqlite3_column_bytes(q.get(), 1)));
  }
  if (rc != SQLITE_DONE) return Error("loading " + kind);
  return out;
}

}  // namespace vigil
