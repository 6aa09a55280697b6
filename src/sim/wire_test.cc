#include "sim/wire.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "ingest/json_events.h"
#include "ingest/remote_write.h"
#include "ingest/write_batch.h"

namespace vigil::sim {
namespace {

std::unique_ptr<Simulator> Ob(const std::string& fault = "") {
  SimOptions o;
  o.start_ms = 1'700'000'000'000;
  auto s = Simulator::Create(OnlineBoutique(), o);
  EXPECT_TRUE(s.ok());
  if (!fault.empty()) {
    EXPECT_TRUE((*s)->AddFault(*ParseFaultSpec(fault)).ok());
  }
  return std::move(*s);
}

TEST(WireTest, RemoteWriteRoundTripsThroughVigilsDecoder) {
  auto s = Ob("process-kill:cartservice/0@20s+5m");
  std::vector<StepOutput> steps(6);
  std::vector<const StepOutput*> ptrs;
  for (auto& st : steps) {
    s->Step(&st);
    ptrs.push_back(&st);
  }
  RemoteWriteEncoder enc(s->series());
  size_t samples = 0;
  std::string body = enc.Encode(ptrs, 0, s->series().size(), &samples);
  RemoteWriteDecoder dec;
  WriteBatch batch;
  ASSERT_TRUE(dec.Decode(body, &batch).ok());
  EXPECT_TRUE(batch.rejected.empty());
  EXPECT_EQ(batch.sample_count, samples);
  size_t expected = 0;
  for (const auto& st : steps) {
    for (double v : st.values) expected += !std::isnan(v) || IsStaleMarker(v);
  }
  EXPECT_EQ(samples, expected);
  // every series decodes to the labels and values it was encoded from
  size_t checked = 0, stale = 0;
  size_t next = 0;
  for (const auto& ts : batch.series) {
    while (next < s->series().size() && !(s->series()[next] == ts.labels)) ++next;
    ASSERT_LT(next, s->series().size()) << ts.labels.ToString();
    size_t k = 0;
    for (const auto& st : steps) {
      double v = st.values[next];
      if (std::isnan(v) && !IsStaleMarker(v)) continue;
      ASSERT_LT(k, ts.samples.size());
      EXPECT_EQ(ts.samples[k].ts_ms, st.ts_ms);
      if (IsStaleMarker(v)) {
        EXPECT_TRUE(IsStaleMarker(ts.samples[k].value));
        ++stale;
      } else {
        EXPECT_EQ(ts.samples[k].value, v);
      }
      ++k;
      ++checked;
    }
    EXPECT_EQ(k, ts.samples.size());
  }
  EXPECT_EQ(checked, samples);
  EXPECT_GT(stale, 0u);  // the killed pod's series went stale
}

TEST(WireTest, EventsDecodeWithVigilsDecoder) {
  std::vector<SimEvent> ev = {{1'700'000'000'000, "deploy", "checkoutservice", "", "v2.14.0", "deploy \"x\"\n"},
                              {1'700'000'060'000, "config", "cartservice", "cartservice-abc", "", "timeout 1s -> 80ms"}};
  auto decoded = DecodeEvents(EncodeEvents(ev), 0);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ((*decoded)[0].ts_ms, 1'700'000'000'000);
  EXPECT_EQ((*decoded)[0].kind, "deploy");
  EXPECT_EQ((*decoded)[0].labels.Get("service"), "checkoutservice");
  EXPECT_EQ((*decoded)[0].labels.Get("version"), "v2.14.0");
  EXPECT_EQ((*decoded)[0].text, "deploy \"x\"\n");
  EXPECT_EQ((*decoded)[1].labels.Get("instance"), "cartservice-abc");
}

TEST(WireTest, LokiPushAndOtlpAreWellFormed) {
  auto s = Ob("exceptions:productcatalogservice@0s+5m");
  StepOutput st;
  s->Step(&st);
  ASSERT_FALSE(st.logs.empty());
  auto loki = nlohmann::json::parse(EncodeLokiPush(*s, st.logs));
  size_t lines = 0;
  bool stack = false;
  for (const auto& stream : loki["streams"]) {
    EXPECT_TRUE(stream["stream"].contains("service"));
    EXPECT_TRUE(stream["stream"].contains("instance"));
    for (const auto& v : stream["values"]) {
      ++lines;
      EXPECT_EQ(v[0].get<std::string>().size(), 19u);  // nanoseconds
      stack = stack || v[1].get<std::string>().find("\n    at ") != std::string::npos;
    }
  }
  EXPECT_EQ(lines, st.logs.size());
  EXPECT_TRUE(stack);
  ASSERT_FALSE(st.spans.empty());
  auto otlp = nlohmann::json::parse(EncodeOtlpTraces(*s, st.spans));
  size_t spans = 0, roots = 0, clients = 0;
  for (const auto& rs : otlp["resourceSpans"]) {
    EXPECT_EQ(rs["resource"]["attributes"][0]["key"], "service.name");
    for (const auto& sp : rs["scopeSpans"][0]["spans"]) {
      ++spans;
      EXPECT_EQ(sp["traceId"].get<std::string>().size(), 32u);
      EXPECT_EQ(sp["spanId"].get<std::string>().size(), 16u);
      roots += !sp.contains("parentSpanId");
      clients += sp["kind"] == 3;
    }
  }
  EXPECT_EQ(spans, st.spans.size());
  EXPECT_EQ(roots, static_cast<size_t>(s->options().traces_per_step));
  EXPECT_GT(clients, 0u);  // each call: the caller's client span, then the callee's server span
  EXPECT_EQ(spans, roots + 2 * clients);
}

}  // namespace
}  // namespace vigil::sim
