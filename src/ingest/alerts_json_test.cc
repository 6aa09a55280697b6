#include "ingest/alerts_json.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace vigil {
namespace {

std::string Sample(const std::string& name) {
  const char* env = std::getenv("VIGIL_SHARED_DATA");
  std::string dir = env ? env : VIGIL_SHARED_DATA;
  std::ifstream in(dir + "/protocol-samples/alertmanager/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AlertsJson, PrometheusSamples) {
  std::vector<Alert> a;
  ASSERT_TRUE(DecodeAlertsV2(Sample("prom2.42-to-am-v2-alerts-firing.json"), 0, &a).ok());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].labels.Get("alertname"), "NodeExporterDown");
  EXPECT_GT(a[0].ends_ms, a[0].starts_ms);
  ASSERT_TRUE(DecodeAlertsV2(Sample("curl-post-api-v2-alerts.json"), 5, &a).ok());
  EXPECT_EQ(a[1].ends_ms, 0);
  EXPECT_EQ(a[1].annotations.Get("summary"), "p99 latency above 2s");
}

TEST(AlertsJson, WebhookSamples) {
  std::vector<Alert> a;
  ASSERT_TRUE(DecodeWebhookV4(Sample("am0.25-webhook-firing-from-prometheus-rule.json"), 0, &a).ok());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].ends_ms, 0);
  ASSERT_TRUE(DecodeWebhookV4(Sample("am0.25-webhook-resolved-api-posted.json"), 0, &a).ok());
  EXPECT_GT(a[1].ends_ms, 0);
}

TEST(AlertsJson, ErrorsNameTheField) {
  std::vector<Alert> a;
  Status s = DecodeAlertsV2(R"([{"labels":{"alertname":"A"}},{"labels":{"x":"y"}}])", 0, &a);
  EXPECT_EQ(s.message(), "[1].labels.alertname: required");
  EXPECT_TRUE(a.empty());  // nothing half accepted
  s = DecodeAlertsV2(R"([{"labels":{"alertname":"A"},"startsAt":"yesterday"}])", 0, &a);
  EXPECT_NE(s.message().find("[0].startsAt"), std::string::npos) << s.message();
  EXPECT_TRUE(DecodeAlertsV2(R"([{"labels":{"alertname":"A"},"unknown":1}])", 0, &a).ok());
  s = DecodeGenericAlerts(R"([{"labels":{"service":"x"}}])", 0, &a);
  EXPECT_EQ(s.message(), "[0].name: required");
  a.clear();
  ASSERT_TRUE(DecodeGenericAlerts(R"({"alerts":[{"name":"Disk","severity":"warning","labels":{"service":"db"},"status":"resolved","time":1000}]})", 0, &a).ok());
  EXPECT_EQ(a[0].labels.ToString(), "{alertname=\"Disk\",service=\"db\",severity=\"warning\"}");
  EXPECT_EQ(a[0].ends_ms, 1000000);  // a number below 1e11 is seconds
}

}  // namespace
}  // namespace vigil
