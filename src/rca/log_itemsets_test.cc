#include "rca/log_itemsets.h"

#include <gtest/gtest.h>

namespace vigil::rca {
namespace {

MinedLogLine Line(TimestampMs ts, const std::string& host, const std::string& version, uint32_t tmpl, int severity) {
  MinedLogLine l;
  l.ts_ms = ts;
  l.labels = Labels::FromSorted({{"host", host}, {"pod", host + "-pod"}, {"version", version}});
  l.template_id = tmpl;
  l.severity = severity;
  return l;
}

// Four hosts log info lines; in the window, host h3 (the only one on 2.1)
// logs most of the errors, and a few errors are spread everywhere.
std::vector<MinedLogLine> Window() {
  std::vector<MinedLogLine> lines;
  const char* hosts[] = {"h1", "h2", "h3", "h4"};
  for (int i = 0; i < 400; ++i) {
    std::string host = hosts[i % 4];
    std::string version = host == "h3" ? "2.1" : "2.0";
    int severity = 2;
    if (host == "h3" && i % 3 == 0) severity = 4;
    if (i % 50 == 1) severity = 4;  // background errors
    lines.push_back(Line(1000 + i, host, version, severity >= 4 ? 7 : 1, severity));
  }
  // Outside the window: errors on h1 that must not count.
  for (int i = 0; i < 100; ++i) lines.push_back(Line(5000 + i, "h1", "2.0", 7, 5));
  return lines;
}

TEST(LogItemsets, ErrorsGoWithTheBadHost) {
  LogItemsetQuery q;
  q.from_ms = 1000;
  q.to_ms = 2000;
  q.ignore_labels = {"pod"};
  auto found = LogDiffItemsets(Window(), q);
  ASSERT_FALSE(found.empty());
  // h3 and version 2.1 are the same set of lines: either names the cause.
  const std::string top = found[0].ToString();
  EXPECT_TRUE(top == "host=h3" || top == "version=2.1" || top == "host=h3&version=2.1") << top;
  for (const auto& d : found) EXPECT_EQ(d.ToString().find("h1"), std::string::npos) << d.ToString();
}

TEST(LogItemsets, LabelsSeverityTemplatesAndWindow) {
  LogItemsetQuery q;
  q.from_ms = 1000;
  q.to_ms = 1004;
  auto recs = LabelLogLines(Window(), q);
  ASSERT_EQ(recs.size(), 4u);  // ts 1000..1003
  EXPECT_TRUE(recs[1].failed);   // i = 1: background error
  EXPECT_FALSE(recs[0].failed);  // h1 info
  EXPECT_EQ(recs[0].attrs.size(), 3u);
  // A template named as the symptom fails even at info level.
  q.failing_templates = {1};
  q.template_as_item = true;
  q.ignore_labels = {"pod", "version"};
  recs = LabelLogLines(Window(), q);
  EXPECT_TRUE(recs[0].failed);
  ASSERT_EQ(recs[0].attrs.size(), 2u);
  EXPECT_EQ(recs[0].attrs[1], (std::pair<std::string, std::string>{"template", "1"}));
  // Nothing to compare: every line fails.
  q.min_failing_severity = 0;
  EXPECT_TRUE(LogDiffItemsets(Window(), q).empty());
}

}  // namespace
}  // namespace vigil::rca
