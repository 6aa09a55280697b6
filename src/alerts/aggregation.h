// AggregationGroups: Alertmanager's dispatcher timing. Alerts that land on
// the same route with the same group labels form one group, notified
// together:
//   - a new group waits group_wait before its first flush, so the alerts
//     of one burst arrive in one notification;
//   - after a flush, the group flushes again every group_interval (the
//     notification log decides whether that flush is news worth sending);
//   - an alert joining a group that already flushed waits for the next
//     group_interval tick.
// The caller removes resolved alerts once their resolution was handled;
// an empty group is deleted.
//
// Time comes from the caller. Not thread-safe: one owner.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "alerts/route.h"
#include "core/alert.h"

namespace vigil {

struct AggregationGroup {
  const RouteNode* route = nullptr;
  std::string key;                // GroupKey(route, labels)
  Labels labels;
  std::set<Fingerprint> alerts;
  TimestampMs created_ms = 0;
  TimestampMs next_flush_ms = 0;
  bool flushed = false;
};

class AggregationGroups {
 public:
  // Adds fp to the group of (route, group_labels), creating it. Returns the
  // group's key.
  const std::string& Insert(const RouteNode& route, const Labels& group_labels, Fingerprint fp, TimestampMs now);
  // Groups whose flush time has come, in key order; each is rescheduled at
  // now + group_interval and marked flushed. Pointers stay valid until the
  // next Insert/Remove.
  std::vector<AggregationGroup*> Due(TimestampMs now);
  // Takes fp out of a group; deletes the group when it empties. Unknown
  // keys are ignored.
  void Remove(const std::string& key, Fingerprint fp);
  const AggregationGroup* Find(const std::string& key) const;
  AggregationGroup* FindMutable(const std::string& key);
  // Earliest next flush, or INT64_MAX with no group.
  TimestampMs NextDue() const;
  size_t size() const { return groups_.size(); }
  const std::map<std::string, AggregationGroup>& groups() const { return groups_; }

 private:
  std::map<std::string, AggregationGroup> groups_;
};

}  // namespace vigil
