#include "rca/scope.h"

#include <gtest/gtest.h>

namespace vigil::rca {
namespace {

MetricSeries M(const std::string& svc, const std::string& pod, const std::string& host) {
  return MetricSeries{svc, pod, host, "cpu", {1, 2, 3}, {1, 1, 1}};
}

Span S(uint64_t trace, uint64_t id, uint64_t parent, const std::string& svc) {
  Span s;
  s.trace_id = TraceId{0, trace};
  s.span_id = id;
  s.parent_span_id = parent;
  s.service = svc;
  return s;
}

// Two applications (shop: web -> cart -> db; blog: front -> posts) on their
// own hosts, a loner service nobody is seen calling, and a pod of "batch" on
// cart's host.
CaseData TwoApps() {
  CaseData d;
  d.spans = {S(1, 1, 0, "web"), S(1, 2, 1, "cart"), S(1, 3, 2, "db"), S(2, 4, 0, "front"), S(2, 5, 4, "posts")};
  d.metrics = {M("web", "web-1", "h1"),     M("cart", "cart-1", "h2"),   M("db", "db-1", "h2"),
               M("front", "front-1", "h9"), M("posts", "posts-1", "h9"), M("loner", "loner-1", "h7"),
               M("batch", "batch-1", "h2")};
  d.dependencies = {{"batch", "queue"}};
  LogRecord l;
  l.service = "posts";
  d.logs = {l};
  Event e;
  e.labels = Labels::FromSorted({{"service", "front"}});
  d.events = {e};
  return d;
}

TEST(Scope, KeepsTheIncidentsComponentAndDropsAnotherApplication) {
  CaseData d = TwoApps();
  Scope s = ScopeToIncident(&d, {"db"}, {"db-1"});
  EXPECT_EQ(s.dropped, (std::vector<std::string>{"front", "posts", "queue"}));
  // batch shares db's host (h2): a noisy neighbour stays a candidate; loner has no known calls.
  EXPECT_EQ(s.kept, (std::vector<std::string>{"batch", "cart", "db", "loner", "web"}));
  ASSERT_EQ(d.metrics.size(), 5u);
  for (const auto& m : d.metrics) EXPECT_NE(m.service, "posts");
  EXPECT_EQ(d.spans.size(), 3u);
  EXPECT_TRUE(d.logs.empty());
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.dependencies.empty());
}

TEST(Scope, NeighbourIsOneHopOnly) {
  CaseData d = TwoApps();
  // From the blog's side: batch is on h2, not on a blog host; the shop goes.
  Scope s = ScopeToIncident(&d, {"posts"}, {});
  EXPECT_EQ(s.kept, (std::vector<std::string>{"front", "loner", "posts"}));
}

TEST(Scope, NoServicesOrNoCallsLeaveTheCaseWhole) {
  CaseData d = TwoApps();
  Scope s = ScopeToIncident(&d, {}, {});
  EXPECT_TRUE(s.dropped.empty());
  EXPECT_EQ(d.metrics.size(), 7u);
  CaseData flat;
  flat.metrics = {M("a", "a-1", "h1"), M("b", "b-1", "h2")};
  s = ScopeToIncident(&flat, {"a"}, {"a-1"});
  EXPECT_TRUE(s.dropped.empty());
  EXPECT_EQ(flat.metrics.size(), 2u);
}

TEST(Scope, AnIncidentOutsideEveryKnownCallLeavesTheCaseWhole) {
  CaseData d = TwoApps();
  // A host's incident (job="node") or the loner's: no call tells which
  // application it belongs to, so no application is dropped.
  for (const char* svc : {"node", "loner"}) {
    CaseData c = d;
    Scope s = ScopeToIncident(&c, {svc}, {});
    EXPECT_TRUE(s.dropped.empty()) << svc;
    EXPECT_EQ(c.metrics.size(), 7u) << svc;
  }
}

}  // namespace
}  // namespace vigil::rca
