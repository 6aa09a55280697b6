// AlertStore: durable documents of the alert pipeline (alerts, silences,
// notification log, alert-incident state) in vigil.db, beside the Store's
// tables, through a connection of its own.
//
// Documents are JSON text keyed by (kind, key); the engine's AlertService
// decides their shape. Commit() writes upserts, deletions and new outbox
// notifications (the Store's `notifications` table) in ONE transaction: a
// notification is queued exactly when its notification-log entry is
// written, so after a kill -9 nothing is lost and nothing is sent twice.
//
// Thread-safe (one internal mutex). Durable when a call returns ok.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "store/sqlite_store.h"

struct sqlite3;

namespace vigil {

struct DocWrite {
  std::string kind;   // "alert", "silence", "nflog", "alert_incident"
  std::string key;
  std::string doc;    // empty: delete
};

class AlertStore {
 public:
  // Opens data_dir/vigil.db (the Store must have created it).
  static Result<std::unique_ptr<AlertStore>> Open(const std::string& data_dir);
  ~AlertStore();

  // One transaction: every write, then every notification (ids set).
  Status Commit(const std::vector<DocWrite>& writes, std::vector<NotificationRecord>* outbox = nullptr);
  // Every document of a kind, by key.
  Result<std::vector<std::pair<std::string, std::string>>> Load(const std::string& kind);

 private:
  AlertStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  Status Error(const std::string& what) const;
  std::string path_;
  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace vigil
