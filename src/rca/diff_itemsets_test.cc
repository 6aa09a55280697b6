#include "rca/diff_itemsets.h"

#include <random>

#include <gtest/gtest.h>

namespace vigil::rca {
namespace {

// 5 hosts x 3 versions x 4 endpoints; requests on host=h3 running version 2.1
// fail 60% of the time, everything else 2%.
std::vector<LabeledRecord> Requests(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<LabeledRecord> out;
  const char* versions[] = {"2.0", "2.1", "2.2"};
  for (int n = 0; n < 6000; ++n) {
    LabeledRecord r;
    std::string host = "h" + std::to_string(n % 5);
    std::string version = versions[(n / 5) % 3];
    std::string endpoint = "/api/" + std::to_string((n / 15) % 4);
    r.attrs = {{"host", host}, {"version", version}, {"endpoint", endpoint}};
    double p = (host == "h3" && version == "2.1") ? 0.6 : 0.02;
    r.failed = u(rng) < p;
    out.push_back(std::move(r));
  }
  return out;
}

TEST(DiffItemsets, FindsHostAndVersionTogether) {
  auto found = FindDiffItemsets(Requests(7));
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found[0].ToString(), "host=h3&version=2.1");
  EXPECT_GT(found[0].risk_ratio, 10.0);
  EXPECT_GT(found[0].support, 0.7);
  EXPECT_GT(found[0].lift, 3.0);
  // The parents alone are weaker proxies and must not outrank the pair, and
  // the endpoint (unrelated) must not appear at all.
  for (const auto& d : found) {
    EXPECT_EQ(d.ToString().find("endpoint"), std::string::npos) << d.ToString();
  }
}

TEST(DiffItemsets, NothingWhenFailuresAreUniform) {
  auto recs = Requests(8);
  std::mt19937 rng(9);
  std::uniform_real_distribution<double> u(0, 1);
  for (auto& r : recs) r.failed = u(rng) < 0.05;
  EXPECT_TRUE(FindDiffItemsets(recs).empty());
}

TEST(DiffItemsets, SingleAttributeCauseStaysSingle) {
  std::vector<LabeledRecord> recs;
  for (int n = 0; n < 400; ++n) {
    LabeledRecord r;
    r.attrs = {{"host", "h" + std::to_string(n % 4)}, {"zone", "z" + std::to_string(n % 3)}};
    r.failed = (n % 4 == 1) ? (n % 5 != 0) : (n % 50 == 0);
    recs.push_back(r);
  }
  auto found = FindDiffItemsets(recs);
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found[0].ToString(), "host=h1");
  for (const auto& d : found) EXPECT_NE(d.ToString().find("host=h1"), std::string::npos) << d.ToString();
}

TEST(DiffItemsets, EmptyOrOneClassInput) {
  EXPECT_TRUE(FindDiffItemsets({}).empty());
  std::vector<LabeledRecord> all_ok(10);
  EXPECT_TRUE(FindDiffItemsets(all_ok).empty());
}

}  // namespace
}  // namespace vigil::rca

namespace vigil::rca {
namespace {

TEST(DiffItemsets, ParsesCsvWithFailureColumn) {
  auto recs = ParseItemsetCsv("host,version,status\nh1,2.0,ok\nh3,\"2,1\",FAILED\nh2,,0\n", "status");
  ASSERT_TRUE(recs.ok()) << recs.status().message();
  ASSERT_EQ(recs->size(), 3u);
  EXPECT_FALSE((*recs)[0].failed);
  EXPECT_TRUE((*recs)[1].failed);
  EXPECT_EQ((*recs)[1].attrs[1], (std::pair<std::string, std::string>{"version", "2,1"}));
  EXPECT_EQ((*recs)[2].attrs.size(), 1u);  // empty version left out
  auto bad = ParseItemsetCsv("host,status\nh1,maybe\n", "status");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos);
  EXPECT_NE(bad.status().message().find("maybe"), std::string::npos);
  EXPECT_FALSE(ParseItemsetCsv("host,ok\nh1,1\n", "status").ok());
}

}  // namespace
}  // namespace vigil::rca
