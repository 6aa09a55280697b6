#include "alerts/notify_payloads.h"

#include <nlohmann/json.hpp>

#include "core/time_format.h"

namespace vigil {

namespace {

using json = nlohmann::json;
constexpr const char* kGoZeroTime = "0001-01-01T00:00:00Z";

json LabelsJson(const Labels& l) {
  json o = json::object();
  for (const auto& x : l.items()) o[x.name] = x.value;
  return o;
}

json AlertJson(const TrackedAlert& t, bool firing) {
  return {{"status", firing ? "firing" : "resolved"},
          {"labels", LabelsJson(t.alert.labels)},
          {"annotations", LabelsJson(t.alert.annotations)},
          {"startsAt", FormatRfc3339(t.alert.starts_ms > 0 ? t.alert.starts_ms : t.first_seen_ms)},
          {"endsAt", firing ? std::string(kGoZeroTime) : FormatRfc3339(t.resolved_ms)},
          {"generatorURL", t.alert.generator_url},
          {"fingerprint", SeriesIdToHex(t.fingerprint)}};
}

// Labels (or annotations) every alert shares.
Labels Common(const GroupMessage& m, bool annotations) {
  std::vector<Label> common;
  bool first = true;
  for (const auto* list : {m.firing, m.resolved}) {
    if (!list) continue;
    for (const auto& t : *list) {
      const Labels& l = annotations ? t.alert.annotations : t.alert.labels;
      if (first) {
        common = l.items();
        first = false;
        continue;
      }
      std::erase_if(common, [&](const Label& c) { return l.Get(c.name) != c.value; });
    }
  }
  return Labels::FromSorted(std::move(common));
}

}  // namespace

std::string GroupWebhookV4(const GroupMessage& m) {
  json alerts = json::array();
  int total = 0, truncated = 0;
  for (bool firing : {true, false}) {
    const auto* list = firing ? m.firing : m.resolved;
    if (!list) continue;
    for (const auto& t : *list) {
      ++total;
      if (m.max_alerts > 0 && total > m.max_alerts) {
        ++truncated;
        continue;
      }
      alerts.push_back(AlertJson(t, firing));
    }
  }
  bool any_firing = m.firing && !m.firing->empty();
  json out = {{"version", "4"},
              {"groupKey", m.group_key},
              {"truncatedAlerts", truncated},
              {"status", any_firing ? "firing" : "resolved"},
              {"receiver", m.receiver},
              {"groupLabels", LabelsJson(m.group_labels)},
              {"commonLabels", LabelsJson(Common(m, false))},
              {"commonAnnotations", LabelsJson(Common(m, true))},
              {"externalURL", m.external_url},
              {"alerts", alerts}};
  if (m.incident_id) out["vigilIncident"] = m.external_url + "/incidents/" + std::to_string(m.incident_id);
  if (!m.incident_ids.empty()) {
    json links = json::array();
    for (int64_t id : m.incident_ids) links.push_back(m.external_url + "/incidents/" + std::to_string(id));
    out["vigilIncidents"] = links;
  }
  if (!m.notice.empty()) out["vigilNotice"] = m.notice;
  return out.dump();
}

std::string GroupAlertsV2(const GroupMessage& m, TimestampMs now) {
  json arr = json::array();
  for (bool firing : {true, false}) {
    const auto* list = firing ? m.firing : m.resolved;
    if (!list) continue;
    for (const auto& t : *list) {
      json annotations = LabelsJson(t.alert.annotations);
      if (!m.notice.empty()) annotations["vigil_notice"] = m.notice;
      json a = {{"labels", LabelsJson(t.alert.labels)},
                {"annotations", annotations},
                {"startsAt", FormatRfc3339(t.alert.starts_ms > 0 ? t.alert.starts_ms : t.first_seen_ms)},
                {"generatorURL", t.alert.generator_url}};
      // A forwarded firing alert ends in 5 minutes unless re-sent, as
      // Prometheus does; a resolved one ends when it resolved.
      a["endsAt"] = FormatRfc3339(firing ? now + 5 * 60'000 : t.resolved_ms);
      arr.push_back(std::move(a));
    }
  }
  return arr.dump();
}

std::string GroupSlack(const GroupMessage& m, const std::string& channel) {
  size_t nf = m.firing ? m.firing->size() : 0, nr = m.resolved ? m.resolved->size() : 0;
  std::string title = std::string(nf ? "[FIRING:" + std::to_string(nf) + "]" : "[RESOLVED]") + " " +
                      m.group_labels.ToString();
  if (!m.incident_ids.empty()) {
    title = "[RESOLVED] incidents";
    for (size_t i = 0; i < m.incident_ids.size(); ++i) title += (i ? ", " : " ") + std::to_string(m.incident_ids[i]);
  }
  std::string text;
  if (!m.notice.empty()) {
    title = "[RESOLVED, NOT PAGED] " + m.notice;
    text = "Nobody was paged while these fired (muted as symptoms):\n";
  }
  for (bool firing : {true, false}) {
    const auto* list = firing ? m.firing : m.resolved;
    if (!list) continue;
    size_t shown = 0;
    for (const auto& t : *list) {
      if (++shown > 10) {
        text += "... and " + std::to_string(list->size() - 10) + " more\n";
        break;
      }
      std::string summary(t.alert.annotations.Get("summary"));
      text += std::string(firing ? "• " : "✓ ") + std::string(t.alert.labels.Get("alertname")) + " " +
              t.alert.labels.ToString() + (summary.empty() ? "" : ": " + summary) + "\n";
    }
  }
  (void)nr;
  json att = {{"color", nf ? "danger" : "good"}, {"title", title}, {"text", text}, {"fallback", title}};
  if (m.incident_id) att["title_link"] = m.external_url + "/incidents/" + std::to_string(m.incident_id);
  json out = {{"text", title}, {"attachments", json::array({att})}};
  if (!channel.empty()) out["channel"] = channel;
  return out.dump();
}

}  // namespace vigil
