// Wire formats of group notifications: Alertmanager's webhook payload
// (version "4"), the alert list of Alertmanager's POST /api/v2/alerts (for
// forwarding to a real Alertmanager), and Slack's incoming-webhook JSON.
// Pure functions; any thread.
#pragma once

#include <string>
#include <vector>

#include "alerts/dedup.h"

namespace vigil {

struct GroupMessage {
  std::string receiver;
  std::string group_key;
  Labels group_labels;
  int64_t incident_id = 0;
  const std::vector<TrackedAlert>* firing = nullptr;
  const std::vector<TrackedAlert>* resolved = nullptr;
  std::string external_url;
  int max_alerts = 0;  // webhook: 0 = all; beyond, truncatedAlerts counts the rest
  std::vector<int64_t> incident_ids;  // an all-clear digest: the incidents it resolves
  // A split notice (an independent fault that came and went while muted as
  // another incident's symptom): webhook `vigilNotice`, a `vigil_notice`
  // annotation on forwarded alerts, the Slack title. Empty otherwise.
  std::string notice;
};

std::string GroupWebhookV4(const GroupMessage& m);
std::string GroupAlertsV2(const GroupMessage& m, TimestampMs now);
std::string GroupSlack(const GroupMessage& m, const std::string& channel);

}  // namespace vigil
