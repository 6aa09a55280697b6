// LogStore: log lines in SQLite with an FTS5 full-text index, in their own
// database file (logs.db beside vigil.db) so log volume never slows the
// incident store. WAL mode; one connection, guarded by a mutex: the engine's
// log thread writes, API threads read.
//
// Tables: log_streams (id, labels as text, persisted miner state),
// log_lines (id, stream, seq, ts, template, severity) and log_text, an FTS5
// table whose rowid is log_lines.id and whose column is the line. `seq` is
// the line's position in its stream as it arrived, so context reads lines in
// their stream's own order whatever the interleaving across streams.
// Retention removes the oldest lines by age and by database size.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/sample.h"
#include "core/status.h"

struct sqlite3;

namespace vigil {

struct StoredLogLine {
  int64_t id = 0;
  int64_t stream = 0;
  int64_t seq = 0;
  TimestampMs ts_ms = 0;
  uint32_t template_id = 0;
  int severity = -1;
  std::string line;
};

struct LogSearchQuery {
  std::string fts;                  // FTS5 MATCH expression for the positive part ("" = all)
  std::string fts_exclude;          // lines matching this are left out ("" = none)
  std::vector<int64_t> streams;     // restrict to these streams (empty = all)
  bool any_stream = true;           // false with empty `streams` = no stream matches
  TimestampMs from_ms = 0;
  TimestampMs to_ms = INT64_MAX;
  size_t limit = 100;
};

struct LogCountRow {
  TimestampMs bucket_ms = 0;
  int64_t stream = 0;
  uint32_t template_id = 0;
  uint64_t count = 0;
};

class LogStore {
 public:
  static Result<std::unique_ptr<LogStore>> Open(const std::string& path);
  ~LogStore();

  // Streams: an id for a label text (created on first use), and the miner
  // state persisted for it.
  Result<int64_t> StreamId(const std::string& labels_text);
  Status SaveStreamState(int64_t stream, const std::string& state);
  // (id, labels text, state) of every stream.
  struct StreamRow {
    int64_t id;
    std::string labels;
    std::string state;
    int64_t last_seq;
  };
  Result<std::vector<StreamRow>> Streams();

  // Appends lines in one transaction; sets each line's id.
  Status Append(std::vector<StoredLogLine>* lines);

  Result<std::vector<StoredLogLine>> Search(const LogSearchQuery& q);
  Result<StoredLogLine> Get(int64_t id);
  // Lines of `stream` with seq in [from_seq, to_seq], by seq.
  Result<std::vector<StoredLogLine>> Range(int64_t stream, int64_t from_seq, int64_t to_seq);
  // Counts per (bucket, stream, template) for lines matching q (q.limit ignored).
  Result<std::vector<LogCountRow>> Counts(const LogSearchQuery& q, TimestampMs step_ms);

  // Deletes lines older than `cutoff_ms`, then the oldest until the file is
  // below `max_bytes`. Returns the number of lines deleted.
  Result<uint64_t> ApplyRetention(TimestampMs cutoff_ms, uint64_t max_bytes);
  Result<uint64_t> SizeBytes();
  Result<uint64_t> LineCount();

 private:
  LogStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Exec(const char* sql);
  sqlite3* db_;
  std::string path_;
  std::mutex mu_;
};

}  // namespace vigil
