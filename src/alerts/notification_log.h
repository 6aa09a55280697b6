// NotificationLog: what was last sent for each (receiver, group), so that
// the same notification is not sent twice (Alertmanager's nflog and its
// DedupStage). A group's flush is sent when:
//   - nothing was sent for it yet and it has firing alerts;
//   - its firing set has an alert the last notification did not have;
//   - with send_resolved, its resolved set has an alert the last
//     notification did not have as resolved;
//   - everything resolved that was firing at the last notification (the
//     all-clear; only with send_resolved);
//   - or repeat_interval has passed since the last notification and
//     something is still firing.
// Fewer firing alerts than last time (some resolved) alone is not news
// without send_resolved.
//
// Entries are plain values the caller persists (engine: SQLite) and
// restores. Bounded by the caller: Forget() drops a group's entry once the
// group is gone. Not thread-safe: one owner.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/alert.h"
#include "core/sample.h"

namespace vigil {

struct NotificationLogEntry {
  std::string receiver;
  std::string group_key;
  std::vector<Fingerprint> firing;    // sorted
  std::vector<Fingerprint> resolved;  // sorted
  TimestampMs sent_ms = 0;
};

class NotificationLog {
 public:
  // True when a flush with these (sorted) sets should be sent, see above.
  bool ShouldNotify(const std::string& receiver, const std::string& group_key, const std::vector<Fingerprint>& firing,
                    const std::vector<Fingerprint>& resolved, bool send_resolved, TimestampMs repeat_interval_ms,
                    TimestampMs now) const;
  void Record(NotificationLogEntry e);
  const NotificationLogEntry* Get(const std::string& receiver, const std::string& group_key) const;
  void Forget(const std::string& receiver, const std::string& group_key);
  std::vector<NotificationLogEntry> Entries() const;
  size_t size() const { return entries_.size(); }

 private:
  std::map<std::pair<std::string, std::string>, NotificationLogEntry> entries_;
};

}  // namespace vigil
