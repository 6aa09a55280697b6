#include "engine/log_pipeline.h"

#include <filesystem>
#include <mutex>

#include <gtest/gtest.h>

#include "ingest/write_batch.h"

namespace vigil {
namespace {

struct Sinks {
  std::mutex mu;
  std::vector<Anomaly> anomalies;
  std::vector<TimeSeries> series;
};

class LogPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil-logpipe-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    settings_.learning_period_ms = 60'000;
    settings_.count_interval_ms = 10'000;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<LogPipeline> Open() {
    auto p = LogPipeline::Open(
        settings_, dir_.string(), &clock_,
        [this](WriteBatch* b) {
          std::lock_guard<std::mutex> lock(sinks_.mu);
          for (auto& s : b->series) sinks_.series.push_back(s);
          return Status::Ok();
        },
        [this](std::vector<Anomaly> a) {
          std::lock_guard<std::mutex> lock(sinks_.mu);
          for (auto& x : a) sinks_.anomalies.push_back(std::move(x));
          return Status::Ok();
        });
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return std::move(p).value();
  }

  static LogBatch Batch(const std::string& service, const std::vector<std::string>& lines) {
    LogBatch b;
    for (const auto& l : lines) {
      LogRecord r;
      r.labels = Labels::FromSorted({{"service", service}});
      r.line = l;
      b.records.push_back(std::move(r));
    }
    return b;
  }

  std::filesystem::path dir_;
  LogSettings settings_;
  SimulatedClock clock_{1'700'000'000'000};
  Sinks sinks_;
};

TEST_F(LogPipelineTest, MinesStoresSearchesAndKeepsIdsAcrossRestart) {
  uint32_t id_before = 0;
  {
    auto p = Open();
    p->Start();
    std::vector<std::string> lines;
    for (int i = 0; i < 30; ++i) lines.push_back("user u" + std::to_string(i * 37) + " logged in from 10.0.0." + std::to_string(i));
    lines.push_back("disk full on /var/lib");
    LogBatch b = Batch("api", lines);
    auto out = p->Ingest(&b);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->accepted, 31u);
    p->Flush();
    LogQuery q;
    q.text = "logged -u37";
    q.selector = "{service=\"api\"}";
    auto hits = p->Search(q);
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    EXPECT_EQ(hits->size(), 29u);
    id_before = (*hits)[0].template_id;
    EXPECT_EQ((*hits)[0].template_text, "user <*> logged in from <*>");
    // Context: the neighbours of the 5th line in stream order.
    auto all = p->Search(LogQuery{});
    ASSERT_TRUE(all.ok());
    int64_t fifth = 0;
    for (const auto& h : *all) {
      if (h.seq == 5) fifth = h.id;
    }
    auto ctx = p->Context(fifth, 2, 2);
    ASSERT_TRUE(ctx.ok());
    ASSERT_EQ(ctx->size(), 5u);
    for (size_t i = 0; i < ctx->size(); ++i) EXPECT_EQ((*ctx)[i].seq, static_cast<int64_t>(3 + i));
    // Stats by template.
    auto st = p->Stats(LogQuery{}, 60'000, "template");
    ASSERT_TRUE(st.ok());
    ASSERT_EQ(st->size(), 2u);
    EXPECT_EQ((*st)[0].total, 30u);
    EXPECT_FALSE(p->Stats(LogQuery{}, 60'000, "nonsense").ok());
    // Within the learning period: no new-template anomalies yet.
    std::lock_guard<std::mutex> lock(sinks_.mu);
    EXPECT_TRUE(sinks_.anomalies.empty());
    p->Stop();
  }
  {
    auto p = Open();
    p->Start();
    clock_.Advance(120'000);  // past the learning period (restored streams are learned)
    LogBatch b = Batch("api", {"user zed logged in from 10.9.9.9", "kernel panic on cpu 3"});
    ASSERT_TRUE(p->Ingest(&b).ok());
    p->Flush();
    LogQuery q;
    q.text = "zed";
    auto hits = p->Search(q);
    ASSERT_TRUE(hits.ok());
    ASSERT_EQ(hits->size(), 1u);
    EXPECT_EQ(hits->front().template_id, id_before);
    EXPECT_EQ(hits->front().seq, 32);
    std::lock_guard<std::mutex> lock(sinks_.mu);
    ASSERT_EQ(sinks_.anomalies.size(), 1u);
    EXPECT_EQ(sinks_.anomalies[0].labels.Get("example"), "kernel panic on cpu 3");
    EXPECT_EQ(sinks_.anomalies[0].labels.Get("__name__"), "vigil_log_new_template");
  }
}

TEST_F(LogPipelineTest, FullQueueRefusesTheWholeBatch) {
  settings_.queue_lines = 5;
  auto p = Open();  // not started: nothing drains the queue
  LogBatch b = Batch("api", {"a 1", "a 2", "a 3", "a 4"});
  ASSERT_TRUE(p->Ingest(&b).ok());
  LogBatch c = Batch("api", {"b 1", "b 2"});
  auto out = p->Ingest(&c);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(c.records.size(), 2u);  // nothing taken
  p->Start();
  p->Flush();
  EXPECT_EQ(p->stats().lines_stored, 4u);
}

TEST_F(LogPipelineTest, StreamLimitRefusesLinesOfNewStreamsOnly) {
  settings_.max_streams = 2;
  auto p = Open();
  p->Start();
  LogBatch a = Batch("a", {"one"});
  LogBatch b = Batch("b", {"two"});
  ASSERT_TRUE(p->Ingest(&a).ok());
  ASSERT_TRUE(p->Ingest(&b).ok());
  p->Flush();
  LogBatch c = Batch("c", {"three", "four"});
  LogBatch more_a = Batch("a", {"five"});
  c.records.push_back(std::move(more_a.records[0]));
  auto out = p->Ingest(&c);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->accepted, 1u);
  EXPECT_EQ(out->rejected, 2u);
  ASSERT_FALSE(out->reasons.empty());
  EXPECT_NE(out->reasons[0].find("logs.max_streams=2"), std::string::npos);
  p->Flush();
  EXPECT_EQ(p->stats().lines_stored, 3u);
  EXPECT_EQ(p->stats().streams, 2u);
}

TEST_F(LogPipelineTest, TemplateAndErrorCountsBecomeSeries) {
  auto p = Open();
  p->Start();
  LogBatch b = Batch("api", {"request 1 ok", "request 2 ok", "request 3 ok"});
  b.records[2].severity = 4;
  ASSERT_TRUE(p->Ingest(&b).ok());
  p->Flush();
  for (int i = 0; i < 3; ++i) {  // let two interval boundaries pass
    clock_.Advance(10'000);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  std::lock_guard<std::mutex> lock(sinks_.mu);
  bool template_count = false, errors = false;
  for (const auto& s : sinks_.series) {
    if (s.labels.Get("__name__") == "vigil_log_template_lines" && s.samples[0].value == 3) template_count = true;
    if (s.labels.Get("__name__") == "vigil_log_error_lines" && s.samples[0].value == 1) errors = true;
  }
  EXPECT_TRUE(template_count);
  EXPECT_TRUE(errors);
}

TEST(FtsQueryTest, TermsPhrasesAndNot) {
  std::string pos, neg;
  ASSERT_TRUE(BuildFtsQuery("error \"connection refused\" -timeout NOT retry", &pos, &neg).ok());
  EXPECT_EQ(pos, "\"error\" AND \"connection refused\"");
  EXPECT_EQ(neg, "\"timeout\" OR \"retry\"");
  ASSERT_TRUE(BuildFtsQuery("say \"\"", &pos, &neg).ok());
  EXPECT_FALSE(BuildFtsQuery("\"open", &pos, &neg).ok());
}

}  // namespace
}  // namespace vigil
