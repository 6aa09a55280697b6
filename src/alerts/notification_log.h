// NotificationLog: what was last sent for each (receiver, group), so that
// the same notification is not sent twice (Alertmanager's nflog and its
// DedupStage). A group's flush is sent when:
//   - nothing was sent for it yet and it has (unmuted) firing alerts;
//   - its firing set has an alert the last notification did not have (or,
//     with a news key, an alert whose key none of those had);
//   - with send_resolved, nothing in the group fires any more (muted alerts
//     included) and the last notification had firing alerts: the all-clear;
//   - or repeat_interval has passed since the last notification and
//     something is still firing.
// Where vigil differs from Alertmanager: one alert of a group resolving
// while others still fire is not news (Alertmanager with send_resolved
// notifies it at the next group_interval); the group's resolution is sent
// once, when everything in it has resolved.
//
// Entries are plain values the caller persists (engine: SQLite) and
// restores. Not thread-safe: one owner.
#pragma once

#include <functional>
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
  // `firing`: the group's unmuted firing alerts (sorted); `any_firing`:
  // whether anything in the group fires, muted or not.
  // `news_key`, when given, maps an alert to what counts as news about it:
  // a firing alert is news only when no alert of the last notification had
  // the same key (incident groups: the same service and alert name, so that
  // the fifth pod of a service failing the same way does not page again).
  bool ShouldNotify(const std::string& receiver, const std::string& group_key, const std::vector<Fingerprint>& firing,
                    bool any_firing, bool send_resolved, TimestampMs repeat_interval_ms, TimestampMs now,
                    const std::function<uint64_t(Fingerprint)>& news_key = nullptr) const;
  // For each of `firing`: whether the last notification of another group of
  // the receiver showed it firing (alerts that moved from one incident to
  // another: the receiver has heard of them).
  std::vector<bool> ShownFiringElsewhere(const std::string& receiver, const std::string& group_key,
                                         const std::vector<Fingerprint>& firing) const;
  void Record(NotificationLogEntry e);
  const NotificationLogEntry* Get(const std::string& receiver, const std::string& group_key) const;
  void Forget(const std::string& receiver, const std::string& group_key);
  std::vector<NotificationLogEntry> Entries() const;
  size_t size() const { return entries_.size(); }

 private:
  std::map<std::pair<std::string, std::string>, NotificationLogEntry> entries_;
};

}  // namespace vigil
