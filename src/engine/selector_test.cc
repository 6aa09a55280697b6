#include "engine/selector.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

Labels L(std::vector<Label> v) { return *Labels::FromPairs(std::move(v)); }

TEST(SeriesSelector, MetricNameAndMatchers) {
  auto sel = SeriesSelector::Parse(R"(node_cpu_seconds_total{mode="user", cpu=~"0|1", job!="x", instance!~"bad.*"})");
  ASSERT_TRUE(sel.ok()) << sel.status().ToString();
  EXPECT_EQ(sel->matchers().size(), 5u);
  EXPECT_TRUE(sel->Matches(L({{"__name__", "node_cpu_seconds_total"}, {"mode", "user"}, {"cpu", "1"}, {"instance", "h"}})));
  EXPECT_FALSE(sel->Matches(L({{"__name__", "node_cpu_seconds_total"}, {"mode", "idle"}, {"cpu", "1"}})));
  EXPECT_FALSE(sel->Matches(L({{"__name__", "node_cpu_seconds_total"}, {"mode", "user"}, {"cpu", "10"}})));
  EXPECT_FALSE(sel->Matches(L({{"__name__", "node_cpu_seconds_total"}, {"mode", "user"}, {"cpu", "0"}, {"instance", "bad1"}})));
}

TEST(SeriesSelector, BracesOnlyAndNameOnly) {
  auto a = SeriesSelector::Parse(R"({__name__=~"node_load.*"})");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->Matches(L({{"__name__", "node_load1"}})));
  auto b = SeriesSelector::Parse("up");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->Matches(L({{"__name__", "up"}, {"job", "x"}})));
  EXPECT_FALSE(b->Matches(L({{"__name__", "upx"}})));
}

TEST(SeriesSelector, ErrorsNamePosition) {
  auto e1 = SeriesSelector::Parse(R"(up{job="x")");
  ASSERT_FALSE(e1.ok());
  EXPECT_NE(e1.status().message().find("expected ',' or '}'"), std::string::npos) << e1.status().message();
  auto e2 = SeriesSelector::Parse(R"(up{job~"x"})");
  ASSERT_FALSE(e2.ok());
  EXPECT_NE(e2.status().message().find("after label \"job\""), std::string::npos);
  auto e3 = SeriesSelector::Parse(R"(up{job=~"("})");
  ASSERT_FALSE(e3.ok());
  EXPECT_NE(e3.status().message().find("invalid regular expression"), std::string::npos);
  EXPECT_FALSE(SeriesSelector::Parse("").ok());
  EXPECT_FALSE(SeriesSelector::Parse("up}").ok());
}

}  // namespace
}  // namespace vigil
