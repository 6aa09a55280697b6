#include "sim/scorecard.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sim/topology.h"

namespace vigil::sim {
namespace {

GroundTruthFault Fault(const std::string& type, const std::string& svc, TimestampMs start, TimestampMs end) {
  GroundTruthFault f;
  f.type = type;
  f.service = svc;
  f.start_ms = start;
  f.end_ms = end;
  return f;
}

TEST(ScorecardTest, RecallDelayAndFalseAlarms) {
  const TimestampMs day = 86400000;
  ScenarioResult a;
  a.faults = {Fault("cpu-load", "cart", 1000000, 1600000)};
  a.scored_from_ms = 0;
  a.end_ms = day;  // one day minus the fault window (+2 min grace) is fault-free
  a.incidents = {{1030000, "frontend", "fe-1", {}, 0, 0, {}},  // detected after 30 s
                 {1040000, "cart", "cart-0", {}, 0, 0, {}},
                 {5000000, "cart", "cart-0", {}, 0, 0, {}}};  // a false alarm
  ScenarioResult b;
  b.faults = {Fault("memory-leak", "ad", 1000000, 1600000)};
  b.scored_from_ms = 0;
  b.end_ms = day;
  b.incidents = {{900000, "ad", "ad-0", {}, 0, 0, {}}};  // before the fault: false alarm, fault missed
  Scorecard sc = Score({a, b});
  EXPECT_EQ(sc.overall.faults, 2);
  EXPECT_EQ(sc.overall.detected, 1);
  EXPECT_DOUBLE_EQ(*sc.overall.detection_recall, 0.5);
  EXPECT_DOUBLE_EQ(*sc.overall.detect_delay_p50_s, 30);
  // Dated by its first evidence, decided later: the delay runs to the decision.
  a.incidents[0].declared_ms = 1035000;
  EXPECT_DOUBLE_EQ(*Score({a, b}).overall.detect_delay_p50_s, 35);
  // Decided after cart's own incident: that one was the first anyone knew of.
  a.incidents[0].declared_ms = 1045000;
  EXPECT_DOUBLE_EQ(*Score({a, b}).overall.detect_delay_p50_s, 40);
  EXPECT_EQ(sc.overall.false_alarms, 2);
  const double free_days = 2 * (day - 720000.0) / day;
  EXPECT_NEAR(*sc.overall.false_alarms_per_day, 2 / free_days, 1e-9);
  EXPECT_EQ(sc.overall.entity_hits, 1);
  // nothing carries a ranking or a remediation: those columns are null
  EXPECT_FALSE(sc.overall.ac1.has_value());
  EXPECT_FALSE(sc.overall.recover_p50_s.has_value());
  EXPECT_FALSE(sc.overall.within_1_5_10.has_value());
  EXPECT_DOUBLE_EQ(*sc.by_fault["cpu-load"].detection_recall, 1.0);
  EXPECT_DOUBLE_EQ(*sc.by_fault["memory-leak"].detection_recall, 0.0);
  const std::string j = ScoreRowJson(sc.overall);
  EXPECT_NE(j.find("\"ac1\":null"), std::string::npos) << j;
  EXPECT_NE(j.find("\"detection_recall\":0.5"), std::string::npos) << j;
}

// An incident is judged by when vigil decided to open it: one whose
// evidence began with a stray anomaly a minute before the fault, decided
// after the fault began, did not exist when the fault began. It is the
// fault's detection, not a false alarm; decided before the fault, it
// stays a false alarm that the fault cannot count.
TEST(ScorecardTest, AnIncidentIsJudgedByWhenItWasDecided) {
  ScenarioResult a;
  a.faults = {Fault("network-delay", "user", 1000000, 1600000)};
  a.end_ms = 4000000;
  a.incidents = {{940000, "user", "user-0", {}, 0, 0, {}}};
  a.incidents[0].declared_ms = 1000000;
  Scorecard sc = Score({a});
  EXPECT_EQ(sc.overall.detected, 1);
  EXPECT_EQ(sc.overall.false_alarms, 0);
  EXPECT_DOUBLE_EQ(*sc.overall.detect_delay_p50_s, 0);
  a.incidents[0].declared_ms = 990000;
  sc = Score({a});
  EXPECT_EQ(sc.overall.detected, 0);
  EXPECT_EQ(sc.overall.false_alarms, 1);
}

TEST(ScorecardTest, RankingGivesAcAtK) {
  ScenarioResult a;
  a.faults = {Fault("cpu-load", "cart", 1000000, 1600000), Fault("slow-sql", "db", 3000000, 3600000)};
  a.end_ms = 4000000;
  a.incidents = {{1010000, "frontend", "fe", {"frontend", "cart", "redis"}, 1020000, 1100000, {}},
                 {3010000, "db", "db-0", {"db"}, 3015000, 0, {}}};
  Scorecard sc = Score({a});
  EXPECT_DOUBLE_EQ(*sc.overall.ac1, 0.5);
  EXPECT_DOUBLE_EQ(*sc.overall.ac3, 1.0);
  EXPECT_DOUBLE_EQ(*sc.overall.avg5, (0.5 + 1 + 1 + 1 + 1) / 5);
  EXPECT_DOUBLE_EQ(*sc.overall.localize_p50_s, 15);  // nearest rank of {20, 15}
  EXPECT_DOUBLE_EQ(*sc.overall.recover_p50_s, 100);
  // only the db fault was found within 1 min AND ranked first within 5 -- but not recovered
  EXPECT_DOUBLE_EQ(*sc.overall.within_1_5_10, 0.0);
}

}  // namespace
}  // namespace vigil::sim

namespace vigil::sim {
namespace {

TEST(ScorecardTest, RelatedServicesAreTheRootItsCallersAndThePeer) {
  const Topology ob = OnlineBoutique();
  auto has = [](const std::vector<std::string>& v, const char* s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  GroundTruthFault f = Fault("cpu-load", "redis-cart", 0, 1);
  auto r = RelatedServices(ob, f);
  EXPECT_TRUE(has(r, "redis-cart"));
  EXPECT_TRUE(has(r, "cartservice"));
  EXPECT_TRUE(has(r, "checkoutservice"));
  EXPECT_TRUE(has(r, "frontend"));
  EXPECT_FALSE(has(r, "currencyservice"));  // never calls the cart
  f = Fault("network-partition", "checkoutservice", 0, 1);
  f.peer = "paymentservice";
  r = RelatedServices(ob, f);
  EXPECT_TRUE(has(r, "paymentservice"));
  EXPECT_FALSE(has(r, "emailservice"));
  // an incident on an unrelated service in the window is not a detection (nor,
  // inside the window, a false alarm)
  ScenarioResult run;
  run.faults = {Fault("cpu-load", "redis-cart", 1000000, 1600000)};
  run.related = {RelatedServices(ob, run.faults[0])};
  run.end_ms = 4000000;
  run.incidents = {{1010000, "currencyservice", "c-0", {}, 0, 0, {}}};
  Scorecard sc = Score({run});
  EXPECT_EQ(sc.overall.detected, 0);
  EXPECT_EQ(sc.overall.false_alarms, 0);
}

}  // namespace
}  // namespace vigil::sim
