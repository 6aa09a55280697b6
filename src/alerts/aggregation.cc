#include "alerts/aggregation.h"

#include <climits>

namespace vigil {

const std::string& AggregationGroups::Insert(const RouteNode& route, const Labels& group_labels, Fingerprint fp,
                                             TimestampMs now) {
  std::string key = GroupKey(route, group_labels);
  auto it = groups_.find(key);
  if (it == groups_.end()) {
    AggregationGroup g;
    g.route = &route;
    g.key = key;
    g.labels = group_labels;
    g.created_ms = now;
    g.next_flush_ms = now + route.group_wait_ms;
    it = groups_.emplace(key, std::move(g)).first;
  }
  it->second.alerts.insert(fp);
  return it->first;
}

std::vector<AggregationGroup*> AggregationGroups::Due(TimestampMs now) {
  std::vector<AggregationGroup*> due;
  for (auto& [key, g] : groups_) {
    if (g.next_flush_ms > now) continue;
    g.flushed = true;
    g.next_flush_ms = now + g.route->group_interval_ms;
    due.push_back(&g);
  }
  return due;
}

void AggregationGroups::Remove(const std::string& key, Fingerprint fp) {
  auto it = groups_.find(key);
  if (it == groups_.end()) return;
  it->second.alerts.erase(fp);
  if (it->second.alerts.empty()) groups_.erase(it);
}

const AggregationGroup* AggregationGroups::Find(const std::string& key) const {
  auto it = groups_.find(key);
  return it == groups_.end() ? nullptr : &it->second;
}

AggregationGroup* AggregationGroups::FindMutable(const std::string& key) {
  auto it = groups_.find(key);
  return it == groups_.end() ? nullptr : &it->second;
}

TimestampMs AggregationGroups::NextDue() const {
  TimestampMs t = INT64_MAX;
  for (const auto& [k, g] : groups_) t = std::min(t, g.next_flush_ms);
  return t;
}

}  // namespace vigil
