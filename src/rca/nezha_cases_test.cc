#include "rca/nezha_cases.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <gtest/gtest.h>

#include "rca/localize.h"

namespace vigil::rca {
namespace {

TEST(NezhaCases, ServiceOfPodDropsTheTwoHashes) {
  EXPECT_EQ(ServiceOfPod("ts-basic-service-5dc8d4f9fd-46997"), "ts-basic-service");
  EXPECT_EQ(ServiceOfPod("cartservice-6d8f7c9b5-x2k4p"), "cartservice");
  EXPECT_EQ(ServiceOfPod("redis-0"), "redis");
  EXPECT_EQ(ServiceOfPod("frontend"), "frontend");
}

TEST(NezhaCases, CsvQuotingKeepsCommasAndQuotes) {
  auto f = SplitCsvLine(R"(a,"b,c","say ""hi""",)");
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[1], "b,c");
  EXPECT_EQ(f[2], "say \"hi\"");
  EXPECT_EQ(f[3], "");
}

TEST(NezhaCases, FaultListTakesInjectTimeAsTruth) {
  auto r = ParseFaultList(R"({"9": [{"inject_time": "2023-01-29 09:03:53", "inject_timestamp": "1674954233",
      "inject_pod": "ts-basic-service-5dc8d4f9fd-46997", "inject_type": "cpu_contention"}],
      "10": [{"inject_time": "2023-01-29 10:00:00", "inject_pod": "ts-order-service-5dc8d4f9fd-aaaaa",
      "inject_type": "return", "inject_scope": "service"}]})",
                          "f.json");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].inject_ms, 1674983033000);  // 09:03:53 UTC, not the disagreeing timestamp
  EXPECT_EQ((*r)[0].service, "ts-basic-service");
  EXPECT_FALSE((*r)[0].whole_service);
  EXPECT_TRUE((*r)[1].whole_service);
  auto bad = ParseFaultList(R"({"9": [{"inject_time": "yesterday", "inject_pod": "p-1"}]})", "f.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("inject_time"), std::string::npos);
}

TEST(NezhaCases, MetricCsvEveryNumericColumnIsASeries) {
  const std::string csv =
      "Time,TimeStamp,PodName,CpuUsageRate(%),PodSuccessRate(%),Node\n"
      "2023-01-29 09:00:00,1674982800,cart-6d8f7c9b5-x2k4p,30.5,100,node-1\n"
      "2023-01-29 09:01:00,1674982860,cart-6d8f7c9b5-x2k4p,,99.5,node-1\n";
  auto r = ParseMetricCsv(csv, "m.csv", 0, INT64_MAX);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  const MetricSeries& cpu = (*r)[0];
  EXPECT_EQ(cpu.service, "cart");
  EXPECT_EQ(cpu.host, "node-1");
  EXPECT_EQ(cpu.indicator, "CpuUsageRate(%)");
  ASSERT_EQ(cpu.values.size(), 2u);
  EXPECT_TRUE(std::isnan(cpu.values[1]));
  EXPECT_EQ(cpu.ts_ms[1], 1674982860000);
  // outside the window too
  auto bad = ParseMetricCsv("Time,TimeStamp,PodName,Cpu\nx,1674982800,p-1,abc\n", "m.csv", 0, 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("m.csv:2"), std::string::npos);
  EXPECT_NE(bad.status().message().find("abc"), std::string::npos);
}

TEST(NezhaCases, FrontServiceEventsAndDependencies) {
  auto front = ParseMetricCsv("Time,TimeStamp,ServiceName,SuccessRate(%),LatencyP50(s)\n"
                              "2023-01-29 09:00:00,1674982800,frontend,99.5,0.02\n",
                              "front_service.csv", 0, INT64_MAX);
  ASSERT_TRUE(front.ok()) << front.status().message();
  ASSERT_EQ(front->size(), 2u);
  EXPECT_EQ((*front)[0].service, "frontend");
  EXPECT_EQ((*front)[0].instance, "");
  auto events = ParseEventCsv("Time,TimeStamp,Kind,ServiceName,PodName,Version,Text\n"
                              "2023-01-29 09:00:00,1674982800,deploy,cart,,v2,\"deploy cart v2, canary\"\n",
                              "events.csv");
  ASSERT_TRUE(events.ok()) << events.status().message();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kind, "deploy");
  EXPECT_EQ((*events)[0].labels.Get("service"), "cart");
  EXPECT_EQ((*events)[0].text, "deploy cart v2, canary");
  auto deps = ParseDependencyCsv("Source,Target,Weight\nfront-6d8f7c9b5-x2k4p,cart,3\n", "dependency.csv");
  ASSERT_TRUE(deps.ok());
  ASSERT_EQ(deps->size(), 1u);
  EXPECT_EQ((*deps)[0].first, "front");
  EXPECT_FALSE(ParseDependencyCsv("From,To\na,b\n", "dependency.csv").ok());
}

TEST(NezhaCases, TraceCsvBuildsSpans) {
  const std::string csv =
      "TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration,StatusCode\n"
      "0af7651916cd43dd8448eb211c80319c,b7ad6b7169203331,root,front-6d8f7c9b5-x2k4p,GET /,1674982800000000000,"
      "1674982800005000000,5000,200\n"
      "0af7651916cd43dd8448eb211c80319c,00f067aa0ba902b7,b7ad6b7169203331,cart-6d8f7c9b5-x2k4p,\"Get, cart\","
      "1674982800001000000,1674982800004000000,3000,503\n";
  auto r = ParseTraceCsv(csv, "t.csv", 0, INT64_MAX);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].parent_span_id, 0u);
  EXPECT_EQ((*r)[1].parent_span_id, (*r)[0].span_id);
  EXPECT_EQ((*r)[1].operation, "Get, cart");
  EXPECT_EQ((*r)[1].duration_us, 3000);
  EXPECT_TRUE((*r)[1].error);
  EXPECT_FALSE((*r)[0].error);
  EXPECT_TRUE((*r)[0].trace_id == (*r)[1].trace_id);
}

TEST(NezhaCases, LogCsvReadsTheContainerJsonLine) {
  const std::string csv =
      "Timestamp,TimeUnixNano,Node,PodName,Container,TraceID,SpanID,Log\n"
      "2023-01-29T09:00:00Z,1674982800000000000,node-1,cart-6d8f7c9b5-x2k4p,cart,,,"
      "\"{\"\"log\"\":\"\"ERROR write /data/1234: no space left\\n\"\",\"\"stream\"\":\"\"stdout\"\"}\"\n";
  auto r = ParseLogCsv(csv, "l.csv", 0, INT64_MAX);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_TRUE((*r)[0].error);
  EXPECT_EQ((*r)[0].service, "cart");
  EXPECT_EQ((*r)[0].host, "node-1");
  EXPECT_EQ((*r)[0].template_text, "ERROR write <*> no space left");
}

TEST(NezhaCases, LoadsADirectoryIntoCases) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("vigil-nezha-test-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "2023-01-29" / "metric");
  fs::create_directories(root / "2023-01-29" / "trace");
  std::ofstream(root / "2023-01-29" / "2023-01-29-fault_list.json")
      << R"({"9": [{"inject_time": "2023-01-29 09:30:00", "inject_pod": "db-6d8f7c9b5-x2k4p", "inject_type": "cpu"}]})";
  std::ofstream m(root / "2023-01-29" / "metric" / "db-6d8f7c9b5-x2k4p_metric.csv");
  m << "Time,TimeStamp,PodName,CpuUsageRate(%)\n";
  for (int i = 0; i < 40; ++i) {
    m << "t," << 1674984600 - 1800 + i * 60 << ",db-6d8f7c9b5-x2k4p," << (i >= 30 ? 95 : 30 + (i % 3)) << "\n";
  }
  m.close();
  std::ofstream(root / "2023-01-29" / "trace" / "09_00_trace.csv")
      << "TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration\n"
      << "1,2,root,db-6d8f7c9b5-x2k4p,q,1674984660000000000,1674984660001000000,1000\n";
  auto cases = LoadNezhaCases(root.string());
  ASSERT_TRUE(cases.ok()) << cases.status().message();
  ASSERT_EQ(cases->size(), 1u);
  const auto& c = (*cases)[0];
  EXPECT_EQ(c.truth.service, "db");
  EXPECT_EQ(c.data.metrics.size(), 1u);
  EXPECT_EQ(c.data.spans.size(), 1u);
  Ranking r = Localize(c.data);
  ASSERT_FALSE(r.causes.empty()) << RankingToJson(r, 0) << " incident " << c.data.incident_ms << " first "
                                 << c.data.metrics[0].ts_ms.front();
  EXPECT_EQ(r.causes[0].service, "db");
  fs::remove_all(root);
  EXPECT_FALSE(LoadNezhaCases(root.string()).ok());
}

}  // namespace
}  // namespace vigil::rca
