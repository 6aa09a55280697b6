// RouteNode: Alertmanager's routing tree. An alert enters at the root (which
// matches everything) and descends: the children of a node are tried in
// order; an alert goes down into every matching child until one without
// `continue: true` matches; a node none of whose children matched is where
// the alert lands. So an alert lands on one route, or on several when
// `continue` is set.
//
// Each route says who is told (receiver), how alerts are grouped into
// notifications (group_by: label names, or "..." for every label, meaning
// one group per alert) and when (group_wait before a new group's first
// notification, group_interval between notifications of a group when its
// alerts changed, repeat_interval before the same notification is sent
// again). Unset fields are inherited from the parent, as in Alertmanager.
//
// vigil addition: the pseudo-label "incident" in group_by (or in matchers)
// stands for the id of the incident the alert was correlated into, so
// `group_by: [incident]` sends one notification stream per incident.
#pragma once

#include <string>
#include <vector>

#include "alerts/matcher.h"
#include "core/labels.h"
#include "core/sample.h"

namespace vigil {

inline constexpr const char* kIncidentGroupLabel = "incident";

struct RouteNode {
  std::vector<Matcher> matchers;
  std::string receiver;
  std::vector<std::string> group_by;  // sorted, unique
  bool group_by_all = false;           // group_by: ['...']
  bool continue_matching = false;
  TimestampMs group_wait_ms = 30'000;
  TimestampMs group_interval_ms = 5 * 60'000;
  TimestampMs repeat_interval_ms = 4 * 3600'000;
  std::vector<RouteNode> routes;
  int id = 0;  // position in a depth-first walk, root = 0 (stable per config)
};

// The routes `labels` land on (see above), in tree order; never empty for a
// root. `labels` should already carry the "incident" pseudo-label when
// routes match on it.
std::vector<const RouteNode*> MatchRoutes(const RouteNode& root, const Labels& labels);

// The group labels of an alert on `route`: the group_by labels it has (all
// its labels for group_by_all).
Labels GroupLabels(const RouteNode& route, const Labels& labels);

// Alertmanager's group key: {<route matchers path>}:{name="value", ...}.
std::string GroupKey(const RouteNode& route, const Labels& group_labels);

// Numbers the nodes depth-first (RouteNode::id).
void NumberRoutes(RouteNode* root);

}  // namespace vigil
