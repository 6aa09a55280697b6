#include "alerts/alertmanager_payload.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/time_format.h"

namespace vigil {
namespace {

using nlohmann::json;

std::string SharedData() {
  const char* env = std::getenv("VIGIL_SHARED_DATA");
  return env != nullptr ? env : VIGIL_SHARED_DATA;
}

json LoadCapture(const std::string& name) {
  std::ifstream in(SharedData() + "/protocol-samples/alertmanager/" + name);
  EXPECT_TRUE(in.good()) << "missing capture " << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

Incident SampleIncident() {
  Incident inc;
  inc.id = 42;
  inc.entity = "instance=\"h:9100\",job=\"node\"";
  inc.entity_labels = *Labels::FromPairs({{"instance", "h:9100"}, {"job", "node"}});
  inc.title = "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} up (rate 0.98/s, expected 0.02) on "
              "instance=\"h:9100\",job=\"node\"";
  inc.opened_ms = *ParseRfc3339("2026-11-22T07:54:17Z");
  inc.updated_ms = inc.opened_ms + 5000;
  inc.last_anomaly_ms = inc.updated_ms;
  inc.max_score = 67.25;
  inc.anomaly_count = 7;
  inc.series = {
      {1, "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"}", 67.25, 4, inc.updated_ms},
      {2, "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"}", 51.0, 3, inc.updated_ms},
  };
  return inc;
}

// Same keys, and the same JSON type under each key, recursively (arrays
// compared element by element against the capture's first element).
void ExpectSameShape(const json& ours, const json& theirs, const std::string& path) {
  ASSERT_EQ(ours.type_name(), std::string(theirs.type_name())) << path;
  if (theirs.is_object()) {
    std::set<std::string> a, b;
    for (auto it = ours.begin(); it != ours.end(); ++it) a.insert(it.key());
    for (auto it = theirs.begin(); it != theirs.end(); ++it) b.insert(it.key());
    // Label and annotation maps hold free-form names: only their value type matters.
    bool free_form = path.ends_with("Labels") || path.ends_with("labels") || path.ends_with("nnotations");
    if (!free_form) {
      EXPECT_EQ(a, b) << path;
    }
    for (auto it = theirs.begin(); it != theirs.end(); ++it) {
      if (ours.contains(it.key())) {
        ExpectSameShape(ours[it.key()], it.value(), path + "." + it.key());
      }
    }
    if (free_form) {
      for (auto it = ours.begin(); it != ours.end(); ++it) {
        EXPECT_TRUE(it.value().is_string()) << path;
      }
    }
  } else if (theirs.is_array() && !theirs.empty()) {
    ASSERT_FALSE(ours.empty()) << path;
    for (const auto& el : ours) ExpectSameShape(el, theirs[0], path + "[]");
  }
}

TEST(AlertLabels, EntityLabelsPlusIdentity) {
  Incident inc = SampleIncident();
  Labels l = IncidentAlertLabels(inc);
  EXPECT_EQ(l.Get("alertname"), "VigilIncident");
  EXPECT_EQ(l.Get("incident_id"), "42");
  EXPECT_EQ(l.Get("instance"), "h:9100");
  EXPECT_EQ(l.Get("job"), "node");
  EXPECT_EQ(l.Get("severity"), "critical");
  EXPECT_EQ(l.size(), 5u);
  inc.max_score = 19.9;
  EXPECT_EQ(IncidentAlertLabels(inc).Get("severity"), "warning");
}

TEST(AlertLabels, EntityCannotOverrideIdentityAndReservedNamesAreMapped) {
  Incident inc = SampleIncident();
  inc.entity_labels = *Labels::FromPairs({{"alertname", "Other"}, {"severity", "info"}, {"__name__", "checkout_ms"}});
  Labels l = IncidentAlertLabels(inc);
  EXPECT_EQ(l.Get("alertname"), "VigilIncident");
  EXPECT_EQ(l.Get("severity"), "critical");
  EXPECT_EQ(l.Get("metric"), "checkout_ms");
  EXPECT_FALSE(l.Has("__name__"));
}

TEST(WebhookPayloadV4, FiringMatchesAlertmanagerShape) {
  json ours = json::parse(WebhookPayloadV4(SampleIncident(), "ops", "http://vigil:8080", 0));
  for (const char* capture : {"am0.25-webhook-firing-api-posted.json", "am0.25-webhook-firing-from-prometheus-rule.json"}) {
    ExpectSameShape(ours, LoadCapture(capture), capture);
  }
  EXPECT_EQ(ours["version"], "4");
  EXPECT_EQ(ours["status"], "firing");
  EXPECT_EQ(ours["receiver"], "ops");
  EXPECT_EQ(ours["externalURL"], "http://vigil:8080");
  EXPECT_EQ(ours["truncatedAlerts"], 0);
  EXPECT_EQ(ours["groupKey"], "{}:{alertname=\"VigilIncident\", incident_id=\"42\"}");
  EXPECT_EQ(ours["groupLabels"], (json{{"alertname", "VigilIncident"}, {"incident_id", "42"}}));
  const json& a = ours["alerts"][0];
  EXPECT_EQ(a["status"], "firing");
  EXPECT_EQ(a["endsAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(a["startsAt"], "2026-11-22T07:54:17.000Z");
  EXPECT_EQ(a["generatorURL"], "http://vigil:8080/incidents/42");
  EXPECT_EQ(a["labels"], ours["commonLabels"]);
  EXPECT_EQ(a["annotations"], ours["commonAnnotations"]);
  EXPECT_EQ(a["annotations"]["summary"], SampleIncident().title);
  std::string desc = a["annotations"]["description"];
  EXPECT_NE(desc.find("node_cpu_seconds_total{cpu=\"0\",mode=\"user\"}: max score 67.2 over 4 anomalies"),
            std::string::npos)
      << desc;
  std::string fp = a["fingerprint"];
  ASSERT_EQ(fp.size(), 16u);
  EXPECT_EQ(fp.find_first_not_of("0123456789abcdef"), std::string::npos);
  // Parses as RFC 3339 like Alertmanager's own times.
  EXPECT_TRUE(ParseRfc3339(a["startsAt"].get<std::string>()).ok());
}

TEST(WebhookPayloadV4, ResolvedMatchesAlertmanagerShape) {
  Incident inc = SampleIncident();
  inc.state = IncidentState::kResolved;
  inc.resolved_ms = *ParseRfc3339("2026-11-22T07:56:26Z");
  json ours = json::parse(WebhookPayloadV4(inc, "ops", "http://vigil:8080/", 0));
  for (const char* capture :
       {"am0.25-webhook-resolved-api-posted.json", "am0.25-webhook-resolved-from-prometheus-rule.json"}) {
    ExpectSameShape(ours, LoadCapture(capture), capture);
  }
  EXPECT_EQ(ours["status"], "resolved");
  EXPECT_EQ(ours["alerts"][0]["status"], "resolved");
  EXPECT_EQ(ours["alerts"][0]["endsAt"], "2026-11-22T07:56:26.000Z");
  EXPECT_EQ(ours["alerts"][0]["generatorURL"], "http://vigil:8080/incidents/42");
}

TEST(WebhookPayloadV4, FingerprintIsStableAndDependsOnLabels) {
  Incident a = SampleIncident();
  Incident b = SampleIncident();
  b.title = "another title";
  auto fp = [](const Incident& i) {
    return json::parse(WebhookPayloadV4(i, "r", "http://x", 0))["alerts"][0]["fingerprint"].get<std::string>();
  };
  EXPECT_EQ(fp(a), fp(b));
  b.id = 43;
  EXPECT_NE(fp(a), fp(b));
}

TEST(WebhookPayloadV4, InvalidUtf8IsReplacedNotFatal) {
  Incident inc = SampleIncident();
  inc.title = "bad \xff\xfe bytes";
  std::string body = WebhookPayloadV4(inc, "r", "http://x", 0);
  EXPECT_TRUE(json::accept(body));
}

TEST(AlertsV2Payload, FiringMatchesPrometheusShape) {
  TimestampMs now = *ParseRfc3339("2026-11-22T07:55:00Z");
  json ours = json::parse(AlertsV2Payload({SampleIncident()}, now, 30000, "http://vigil:8080"));
  ExpectSameShape(ours, LoadCapture("prom2.42-to-am-v2-alerts-firing.json"), "v2-firing");
  ASSERT_EQ(ours.size(), 1u);
  EXPECT_EQ(ours[0]["startsAt"], "2026-11-22T07:54:17.000Z");
  EXPECT_EQ(ours[0]["endsAt"], "2026-11-22T07:57:00.000Z");  // now + 4 * 30 s
  EXPECT_EQ(ours[0]["generatorURL"], "http://vigil:8080/incidents/42");
  EXPECT_EQ(ours[0]["labels"]["alertname"], "VigilIncident");
  EXPECT_FALSE(ours[0].contains("status"));
  EXPECT_FALSE(ours[0].contains("fingerprint"));
}

TEST(AlertsV2Payload, ResolvedEndsAtResolution) {
  Incident inc = SampleIncident();
  inc.state = IncidentState::kResolved;
  inc.resolved_ms = *ParseRfc3339("2026-11-22T07:55:39.310Z");
  Incident open = SampleIncident();
  open.id = 7;
  json ours = json::parse(AlertsV2Payload({inc, open}, inc.resolved_ms + 1000, 30000, "http://v"));
  ExpectSameShape(ours, LoadCapture("prom2.42-to-am-v2-alerts-resolved.json"), "v2-resolved");
  ASSERT_EQ(ours.size(), 2u);
  EXPECT_EQ(ours[0]["endsAt"], "2026-11-22T07:55:39.310Z");
  EXPECT_EQ(ours[1]["labels"]["incident_id"], "7");
  EXPECT_TRUE(AlertsV2Payload({}, 0, 30000, "http://v") == "[]");
}

TEST(IncidentDescription, ListsStrongestSeriesAndCountsTheRest) {
  Incident inc = SampleIncident();
  for (int i = 0; i < 8; ++i) inc.series.push_back({static_cast<SeriesId>(10 + i), "s" + std::to_string(i), 7, 1, 0});
  std::string d = IncidentDescription(inc, 3);
  EXPECT_EQ(std::count(d.begin(), d.end(), '\n'), 3);
  EXPECT_NE(d.find("... and 7 more series"), std::string::npos);
  EXPECT_NE(d.find("over 1 anomaly"), std::string::npos);
}

}  // namespace
}  // namespace vigil
