#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "logs/header.h"
#include "logs/masking.h"
#include "logs/parsing_metrics.h"
#include "logs/template_miner.h"

namespace vigil::logs {
namespace {

std::string MaskOf(std::string_view s) {
  VariableMasker m;
  MaskedLine out;
  m.Mask(s, &out);
  return out.text;
}

TEST(MaskingTest, GenericVariables) {
  EXPECT_EQ(MaskOf("Received block blk_-1608999687919862906 of size 91178 from /10.250.10.6"),
            "Received block <*> of size <*> from <*>");
  EXPECT_EQ(MaskOf("connect to 10.0.0.1:8080 (HWID=1973)"), "connect to <*>:<*> (HWID=<*>)");
  EXPECT_EQ(MaskOf("uuid 38101a0b-2096-447d-96ea-a692162415ae ok"), "uuid <*> ok");
  EXPECT_EQ(MaskOf("GET /v2/servers/detail HTTP/1.1\" 200"), "GET <*>\" <*>");
  EXPECT_EQ(MaskOf("open http://example.com/a?b=1 now"), "open http://<*> now");
  EXPECT_EQ(MaskOf("mail bob@example.com"), "mail <*>");
  EXPECT_EQ(MaskOf("addr fe80::1ff:fe23:4567:890a"), "addr <*>");
  EXPECT_EQ(MaskOf("interface eth1 on node-246"), "interface eth1 on node-<*>");
  EXPECT_EQ(MaskOf("at Sun Jul 10 03:55:15 2005"), "at <*> <*> <*> <*>:<*>:<*> <*>");
  EXPECT_EQ(MaskOf("resolve an14 an15 an16 done"), "resolve <*> done");
  EXPECT_EQ(MaskOf("took 250ms and 3.5s"), "took <*> and <*>");
  EXPECT_EQ(MaskOf("proxy.cse.cuhk.edu.hk:5070 open"), "<*>:<*> open");
  EXPECT_EQ(MaskOf("class org.apache.hadoop.Foo loaded"), "class org.apache.hadoop.Foo loaded");
  EXPECT_EQ(MaskOf("close, 1190 bytes (1.16 KB) sent, lifetime <1 sec"), "close, <*> bytes sent, lifetime <*>");
  EXPECT_EQ(MaskOf("setLightsOn(true) ok"), "setLightsOn(<*>) ok");
  EXPECT_EQ(MaskOf("file /a/b/part-00050. blk_123"), "file <*> <*>");
}

TEST(HeaderTest, LearnsSyslogLayout) {
  std::vector<std::string> lines = {
      "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
      "Dec 10 06:55:48 LabSZ sshd[24201]: Failed password for root from 1.2.3.4 port 22 ssh2",
      "Dec 10 07:02:47 LabSZ sshd[24203]: Connection closed by 5.6.7.8 [preauth]",
      "Dec 10 07:07:38 LabSZ sshd[24206]: pam_unix(sshd:auth): check pass; user unknown",
  };
  std::vector<std::string_view> sample;
  for (int i = 0; i < 5; ++i) sample.insert(sample.end(), lines.begin(), lines.end());
  HeaderSplitter s;
  s.Learn(sample);
  LogHeader h = s.Split(lines[1]);
  EXPECT_EQ(h.message, "Failed password for root from 1.2.3.4 port 22 ssh2");
  EXPECT_EQ(h.component, "sshd");
  EXPECT_EQ(h.pid, "24201");
  EXPECT_EQ(h.timestamp, "Dec 10 06:55:48");
  EXPECT_EQ(s.Split(lines[3]).message, "pam_unix(sshd:auth): check pass; user unknown");
}

TEST(HeaderTest, LearnsLevelLayout) {
  std::vector<std::string> lines = {
      "2015-10-18 18:01:47,978 INFO [main] org.apache.Foo: Created MRAppMaster for application x",
      "2015-10-18 18:01:48,963 WARN [IPC Server handler 5 on 62270] org.apache.Bar: Executing with tokens:",
      "2015-10-18 18:01:49,001 ERROR [main] org.apache.Foo: boom",
  };
  std::vector<std::string_view> sample;
  for (int i = 0; i < 6; ++i) sample.insert(sample.end(), lines.begin(), lines.end());
  HeaderSplitter s;
  s.Learn(sample);
  EXPECT_EQ(s.Split(lines[1]).message, "Executing with tokens:");
  EXPECT_EQ(s.Split(lines[1]).level, "WARN");
  EXPECT_EQ(s.Split(lines[2]).component, "org.apache.Foo");
  EXPECT_EQ(SeverityOf("ERROR"), 4);
}

TEST(HeaderTest, FewLinesOnlyTrustALeadingRun) {
  std::vector<std::string_view> one = {"user alice logged in from 10.0.1.1"};
  HeaderSplitter s;
  s.Learn(one);
  EXPECT_EQ(s.Split(one[0]).message, one[0]);
  auto restored = HeaderSplitter::Restore(s.Serialize());
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->Split(one[0]).message, one[0]);
  EXPECT_FALSE(HeaderSplitter::Restore("A 99 0 0 0").ok());
}

TEST(HeaderTest, FormatString) {
  auto s = HeaderSplitter::FromFormat("<Date> <Time> <Level> <Component>: <Content>");
  ASSERT_TRUE(s.ok());
  LogHeader h = s->Split("17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi");
  EXPECT_EQ(h.message, "Changing view acls to: yarn,curi");
  EXPECT_EQ(h.level, "INFO");
  EXPECT_EQ(h.component, "spark.SecurityManager");
  EXPECT_FALSE(HeaderSplitter::FromFormat("<Date> <Time>").ok());
  EXPECT_FALSE(HeaderSplitter::FromFormat("<Date><Content>").ok());
}

TEST(MinerTest, VariableLengthUserNamesShareATemplate) {
  TemplateMiner m;
  std::vector<TemplateId> ids;
  for (const char* u : {"webmaster", "test9", "boris zhang", "admin", "oracle db", "guest", "john smith jr"}) {
    ids.push_back(m.Add(std::string("Invalid user ") + u + " from 10.0.0.1").id);
  }
  TemplateId first = m.Resolve(ids[0]);
  for (TemplateId id : ids) EXPECT_EQ(m.Resolve(id), first);
  EXPECT_EQ(m.TemplateText(first), "Invalid user <*> from <*>");
}

TEST(MinerTest, EventWordsStayApart) {
  TemplateMiner m;
  TemplateId a = 0, f = 0;
  for (int i = 0; i < 20; ++i) {
    const char* user = i % 3 == 0 ? "root" : i % 3 == 1 ? "admin" : "bob";
    a = m.Add(std::string("Accepted password for ") + user + " from 1.2.3.4 port 22 ssh2").id;
    f = m.Add(std::string("Failed password for ") + user + " from 1.2.3.4 port 22 ssh2").id;
  }
  EXPECT_NE(m.Resolve(a), m.Resolve(f));
  EXPECT_EQ(m.TemplateText(a), "Accepted password for <*> from <*> port <*> ssh2");
  EXPECT_TRUE(m.Add("Accepted password for carol from 5.6.7.8 port 23 ssh2").id == m.Resolve(a));
}

TEST(MinerTest, FastPathAndOneTokenLines) {
  TemplateMiner m;
  MineResult r1 = m.Add("FOLLOWING");
  MineResult r2 = m.Add("FOLLOWING");
  MineResult r3 = m.Add("12345");
  EXPECT_TRUE(r1.new_template);
  EXPECT_FALSE(r2.new_template);
  EXPECT_EQ(r1.id, r2.id);
  EXPECT_EQ(m.TemplateText(r3.id), "<*>");
  EXPECT_EQ(m.stats().fast_path_hits, 1u);
}

TEST(MinerTest, StateRoundTripKeepsIds) {
  TemplateMiner m;
  TemplateId a = m.Add("Starting job 1 on host alpha").id;
  for (const char* h : {"beta", "gamma", "delta", "omega"}) m.Add(std::string("node up on host ") + h);
  TemplateId b = m.Add("node up on host kappa").id;
  std::string bytes = m.Serialize();
  auto restored = TemplateMiner::Restore(bytes);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->Add("Starting job 2 on host alpha").id, a);
  EXPECT_EQ(restored->Add("node up on host zeta").id, m.Resolve(b));
  EXPECT_EQ(restored->TemplateText(b), m.TemplateText(b));
  EXPECT_FALSE(TemplateMiner::Restore(bytes.substr(0, bytes.size() / 2)).ok());
  EXPECT_FALSE(TemplateMiner::Restore("\x07").ok());
}

TEST(MinerTest, BoundedTemplatesCountEvictions) {
  MinerOptions o;
  o.max_templates = 50;
  TemplateMiner m(o);
  static const char* kWords[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"};
  for (int i = 0; i < 300; ++i) {
    m.Add(std::string(kWords[i % 10]) + " " + kWords[(i / 10) % 10] + " " + kWords[(i / 100) % 10] + " event");
  }
  EXPECT_GT(m.stats().templates_evicted, 0u);
  EXPECT_LE(m.Templates().size(), 50u);
}

TEST(MetricsTest, GroupingAndParsingAccuracy) {
  std::vector<std::string> truth = {"a <*>", "a <*>", "b <*>", "c"};
  std::vector<std::string> pred = {"a <*>", "a <*>", "b x", "b x"};
  ParsingAccuracy a = ScoreParsing(truth, pred);
  EXPECT_DOUBLE_EQ(a.ga, 0.5);   // group "a" right, "b" and "c" merged
  EXPECT_DOUBLE_EQ(a.pa, 0.5);
  EXPECT_DOUBLE_EQ(a.fga, 2 * 0.5 * (1.0 / 3) / (0.5 + 1.0 / 3));
  auto rows = ParseCsv("a,\"b,\"\"c\"\"\"\n1,2\n");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0][1], "b,\"c\"");
  EXPECT_FALSE(ParseCsv("a,\"b\n").ok());
}

// A floor on real data (a subset of Loghub-2k; the full table comes from
// `vigil eval loghub`).
TEST(MinerTest, LoghubSubsetFloor) {
  const char* env = std::getenv("VIGIL_SHARED_DATA");
  std::string root = env ? env : VIGIL_SHARED_DATA;
  double ga_sum = 0;
  int n = 0;
  for (const char* sys : {"HDFS", "OpenSSH", "Zookeeper", "BGL"}) {
    std::string dir = root + "/loghub-2k/" + sys + "/" + sys + "_2k.log";
    std::ifstream raw(dir), csv(dir + "_structured.csv");
    if (!raw || !csv) GTEST_SKIP() << "no Loghub-2k data at " << root;
    std::stringstream ss;
    ss << csv.rdbuf();
    auto rows = ParseCsv(ss.str());
    ASSERT_TRUE(rows.ok());
    std::vector<std::string> lines, truth, pred;
    std::string line;
    while (std::getline(raw, line)) lines.push_back(line);
    size_t col = 0;
    while ((*rows)[0][col] != "EventTemplate") ++col;
    for (size_t r = 1; r < rows->size(); ++r) truth.push_back((*rows)[r][col]);
    HeaderSplitter s;
    s.Learn(std::vector<std::string_view>(lines.begin(), lines.begin() + 200));
    TemplateMiner m;
    std::vector<TemplateId> ids;
    for (const auto& l : lines) ids.push_back(m.Add(s.Split(l).message).id);
    for (TemplateId id : ids) pred.push_back(m.TemplateText(id));
    ga_sum += ScoreParsing(truth, pred).ga;
    ++n;
  }
  EXPECT_GE(ga_sum / n, 0.97);  // measured 0.997
}

}  // namespace
}  // namespace vigil::logs
