#include "engine/config.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(ServeConfig, EmptyIsDefaults) {
  auto c = ParseServeConfig("");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->listen, "127.0.0.1:8080");
  EXPECT_EQ(c->data_dir, "./vigil-data");
  EXPECT_EQ(c->incidents.min_anomalies, 3);
}

TEST(ServeConfig, ParsesEverySection) {
  auto c = ParseServeConfig(R"(
listen: "0.0.0.0:9999"
data_dir: /tmp/v
detector_threads: 3
detector: {window: 100, warmup: 20, threshold: 5.5}
incidents: {min_anomalies: 2, evidence_window: 30s, join_window: 10m, resolve_after: 20s, entity_labels: [instance]}
notify:
  resend_interval: 5s
  webhooks: [{url: "http://127.0.0.1:5001/hook", name: hook}]
  alertmanagers: [{url: "http://127.0.0.1:9093"}]
limits: {max_series: 10, window_points: 50, queue_samples: 5000}
retention: 2d
snapshot_interval: 90s
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen, "0.0.0.0:9999");
  EXPECT_EQ(c->detector_threads, 3);
  EXPECT_EQ(c->detector.window, 100);
  EXPECT_DOUBLE_EQ(c->detector.threshold, 5.5);
  EXPECT_EQ(c->incidents.evidence_window_ms, 30000);
  EXPECT_EQ(c->incidents.join_window_ms, 600000);
  EXPECT_EQ(c->incidents.entity_labels, std::vector<std::string>{"instance"});
  EXPECT_EQ(c->notify.resend_interval_ms, 5000);
  ASSERT_EQ(c->notify.webhooks.size(), 1u);
  EXPECT_EQ(c->notify.webhooks[0].name, "hook");
  ASSERT_EQ(c->notify.alertmanagers.size(), 1u);
  EXPECT_EQ(c->notify.alertmanagers[0].name, "http://127.0.0.1:9093");
  EXPECT_EQ(c->limits.max_series, 10u);
  EXPECT_EQ(c->retention_ms, 2 * 86400000LL);
  EXPECT_EQ(c->snapshot_interval_ms, 90000);
}

TEST(ServeConfig, ErrorsNameKeyAndValue) {
  auto unknown = ParseServeConfig("detector: {windw: 5}");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown key \"detector.windw\""), std::string::npos)
      << unknown.status().message();
  auto bad = ParseServeConfig("detector: {window: many}");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("\"detector.window\" has an invalid value \"many\""), std::string::npos)
      << bad.status().message();
  auto dur = ParseServeConfig("incidents: {resolve_after: 5 minutes}");
  ASSERT_FALSE(dur.ok());
  EXPECT_NE(dur.status().message().find("incidents.resolve_after"), std::string::npos);
  auto yaml = ParseServeConfig("listen: [unclosed");
  ASSERT_FALSE(yaml.ok());
  EXPECT_NE(yaml.status().message().find("line 1"), std::string::npos);
  auto url = ParseServeConfig("notify: {webhooks: [{url: ftp://x}]}");
  ASSERT_FALSE(url.ok());
  EXPECT_NE(url.status().message().find("notify.webhooks[0].url"), std::string::npos);
  auto warm = ParseServeConfig("detector: {window: 10, warmup: 50}");
  ASSERT_FALSE(warm.ok());
}

TEST(ServeConfig, TracesSection) {
  auto c = ParseServeConfig(
      "traces: {queue_spans: 5000, recent_spans: 1000, recent_window: 5m, idle_timeout: 3s, idle_flush: 1s,\n"
      "  max_open_traces: 10, max_open_spans: 100, max_spans_per_trace: 50, graph_window: 30m, max_edges: 7,\n"
      "  bucket: 20s, z_threshold: 4.5, min_baseline_calls: 12, max_operations: 9, topology_to_alerts: false}");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const TraceSettings& t = c->traces;
  EXPECT_EQ(t.queue_spans, 5000u);
  EXPECT_EQ(t.recent_window_ms, 300'000);
  EXPECT_EQ(t.idle_timeout_ms, 3000);
  EXPECT_EQ(t.graph_window_ms, 1'800'000);
  EXPECT_EQ(t.bucket_ms, 20'000);
  EXPECT_DOUBLE_EQ(t.z_threshold, 4.5);
  EXPECT_EQ(t.min_baseline_calls, 12u);
  EXPECT_FALSE(t.topology_to_alerts);
  auto bad = ParseServeConfig("traces: {bucket: 10ms}");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bucket >= 1s"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(ParseServeConfig("traces: {idle_timeot: 3s}").ok());
}

TEST(Duration, Units) {
  EXPECT_EQ(*ParseDuration("500ms"), 500);
  EXPECT_EQ(*ParseDuration("30s"), 30000);
  EXPECT_EQ(*ParseDuration("1.5m"), 90000);
  EXPECT_EQ(*ParseDuration("2h"), 7200000);
  EXPECT_EQ(*ParseDuration("7d"), 604800000);
  EXPECT_EQ(*ParseDuration("10"), 10000);
  EXPECT_FALSE(ParseDuration("10 years").ok());
  EXPECT_FALSE(ParseDuration("-1s").ok());
}

}  // namespace
}  // namespace vigil
