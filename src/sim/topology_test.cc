#include "sim/topology.h"

#include <gtest/gtest.h>

#include "sim/faults.h"
#include "sim/scenarios.h"

namespace vigil::sim {
namespace {

TEST(TopologyTest, BuiltinsAreValidAndAcyclic) {
  for (const char* n : {"ob", "sockshop", "trainticket"}) {
    auto t = BuiltinTopology(n);
    ASSERT_TRUE(t.ok()) << n;
    EXPECT_TRUE(t->Validate().ok()) << n << ": " << t->Validate().message();
  }
  auto ob = OnlineBoutique();
  EXPECT_EQ(ob.services.size(), 11u);  // 10 application services + redis-cart
  // frontend -> checkout -> payment, as in the real demo
  const int fe = ob.FindService("frontend"), co = ob.FindService("checkoutservice");
  bool calls = false;
  for (const auto& e : ob.services[fe].endpoints) {
    for (const auto& c : e.calls) calls = calls || c.service == co;
  }
  EXPECT_TRUE(calls);
  EXPECT_GE(TrainTicket().services.size(), 41u);
  EXPECT_FALSE(BuiltinTopology("nope").ok());
}

TEST(TopologyTest, YamlTopology) {
  auto t = ParseTopologyYaml(R"(
name: shop
services:
  - name: web
    instances: 2
    endpoints:
      - {name: "GET /", latency_ms: 3, calls: ["db:query"]}
  - name: db
    runtime: database
    endpoints: [{name: query}]
requests:
  - {name: home, entry: "web:GET /", rps: 20}
)");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->services.size(), 2u);
  EXPECT_EQ(t->services[0].endpoints[0].calls[0].service, 1);
  auto bad = ParseTopologyYaml("services:\n  - name: a\n    endpoints: [{name: x, calls: [\"b\"]}]\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("services[0].endpoints[0].calls"), std::string::npos) << bad.status().message();
  auto cycle = ParseTopologyYaml(
      "services:\n  - {name: a, endpoints: [{name: x, calls: [b]}]}\n  - {name: b, endpoints: [{name: y, calls: [a]}]}\n"
      "requests: [{entry: a}]\n");
  ASSERT_FALSE(cycle.ok());
  EXPECT_NE(cycle.status().message().find("cycle"), std::string::npos);
  auto rt = ParseTopologyYaml("services:\n  - {name: a, runtime: cobol, endpoints: [{name: x}]}\n");
  ASSERT_FALSE(rt.ok());
  EXPECT_NE(rt.status().message().find("services[0].runtime"), std::string::npos);
}

TEST(FaultSpecTest, Parses) {
  auto f = ParseFaultSpec("cpu-load:cartservice/1@30m+10m*2");
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->type, FaultType::kCpuLoad);
  EXPECT_EQ(f->service, "cartservice");
  EXPECT_EQ(f->instance, 1);
  EXPECT_EQ(f->start_offset_ms, 1800000);
  EXPECT_EQ(f->duration_ms, 600000);
  EXPECT_EQ(f->intensity, 2);
  auto p = ParseFaultSpec("network-partition:frontend~cartservice@1h");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->peer, "cartservice");
  EXPECT_EQ(p->instance, -1);
  EXPECT_FALSE(ParseFaultSpec("network-partition:frontend").ok());
  EXPECT_FALSE(ParseFaultSpec("cpu-lod:x").ok());
  EXPECT_FALSE(ParseFaultSpec("cpu-load:x/a").ok());
  EXPECT_FALSE(ParseFaultSpec("cpu-load:x@5q").ok());
  auto list = ParseFaultList("cpu-load:a,memory-leak:b/0@1m");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);
}

TEST(ScenarioSuiteTest, CoversEveryFaultOnEveryBuiltin) {
  auto suite = ScenarioSuite();
  EXPECT_GE(suite.size(), 60u);
  for (const char* topo : {"ob", "sockshop", "trainticket"}) {
    int quiet = 0;
    for (FaultType t : AllFaultTypes()) {
      bool found = false;
      for (const auto& s : suite) {
        for (const auto& f : s.faults) found = found || (s.topology == topo && f.type == t);
      }
      EXPECT_TRUE(found) << topo << " " << FaultTypeName(t);
    }
    for (const auto& s : suite) quiet += s.topology == topo && s.faults.empty();
    EXPECT_GE(quiet, 1) << topo;
  }
  // ids are unique and seeds differ (so pod names never repeat across scenarios)
  for (size_t i = 0; i < suite.size(); ++i) {
    for (size_t j = i + 1; j < suite.size(); ++j) {
      EXPECT_NE(suite[i].id, suite[j].id);
      EXPECT_NE(suite[i].seed, suite[j].seed);
    }
  }
}

}  // namespace
}  // namespace vigil::sim
