#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <snappy.h>

#include "ingest/json_logs.h"
#include "ingest/loki_push.h"
#include "ingest/otlp_logs.h"
#include "ingest/syslog.h"

namespace vigil {
namespace {

std::string Sample(const std::string& rel) {
  const char* env = std::getenv("VIGIL_SHARED_DATA");
  std::string root = env ? env : VIGIL_SHARED_DATA;
  std::ifstream in(root + "/protocol-samples/" + rel, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Protobuf wire writer for hand-built payloads.
void Varint(std::string* o, uint64_t v) {
  while (v >= 0x80) {
    o->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  o->push_back(static_cast<char>(v));
}
void Len(std::string* o, uint32_t field, const std::string& b) {
  Varint(o, field << 3 | 2);
  Varint(o, b.size());
  o->append(b);
}
void Fixed64(std::string* o, uint32_t field, uint64_t v) {
  Varint(o, field << 3 | 1);
  for (int i = 0; i < 8; ++i) o->push_back(static_cast<char>(v >> (8 * i)));
}

TEST(LokiPushTest, JsonSamplesFromWinstonAndPino) {
  LogBatch b;
  ASSERT_TRUE(DecodeLokiPushJson(Sample("loki/loki-push-json-winston-loki.json"), &b).ok());
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(b.records[0].line, "payment gateway timeout after 3000ms {\"order\":\"o-123\",\"level\":\"error\"}");
  EXPECT_EQ(b.records[0].ts_ms, 1795334483377);
  EXPECT_EQ(b.records[0].labels.Get("app"), "checkout");
  ASSERT_TRUE(DecodeLokiPushJson(Sample("loki/loki-push-json-pino-loki.json"), &b).ok());
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(b.records[0].labels.Get("via"), "pino");
}

TEST(LokiPushTest, SnappyProtobufWithoutContentEncoding) {
  std::string body = Sample("loki/loki-push-protobuf-snappy-winston-loki.bin");
  ASSERT_FALSE(body.empty());
  LogBatch b;
  Status st = DecodeLokiPushProtobuf(body, &b);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(b.records[0].ts_ms, 1795334483935);
  EXPECT_EQ(b.records[0].labels.Get("level_hint"), "err");
  EXPECT_EQ(b.records[0].line, "payment gateway timeout after 3000ms {\"order\":\"o-123\",\"level\":\"error\"}");
  // The same request uncompressed is accepted as well.
  ASSERT_TRUE(DecodeLokiPushProtobuf(Sample("loki/loki-push-protobuf-snappy-winston-loki.pb"), &b).ok());
  EXPECT_EQ(b.records.size(), 1u);
  // Truncated: a precise error.
  std::string pb = Sample("loki/loki-push-protobuf-snappy-winston-loki.pb");
  st = DecodeLokiPushProtobuf(pb.substr(0, pb.size() - 5), &b);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("at byte"), std::string::npos) << st.message();
}

TEST(LokiPushTest, BadLinesAreRefusedAlone) {
  std::string body = R"({"streams":[{"stream":{"app":"a"},"values":[["1","ok"],["2","bad \u0000 nul"],[3,"x"],["4",5],["5","fine"]]}]})";
  LogBatch b;
  ASSERT_TRUE(DecodeLokiPushJson(body, &b).ok());
  EXPECT_EQ(b.records.size(), 2u);
  ASSERT_EQ(b.rejected.size(), 3u);
  EXPECT_EQ(b.rejected[0], "streams[0].values[1]: NUL byte at offset 4");
  EXPECT_EQ(b.rejected[1], "streams[0].values[2][0]: expected Unix nanoseconds as a string of digits");
  EXPECT_EQ(b.rejected[2], "streams[0].values[3][1]: expected a string, got number");
  EXPECT_FALSE(DecodeLokiPushJson(R"({"streams":{}})", &b).ok());
  EXPECT_FALSE(DecodeLokiPushJson("{\"streams\":[", &b).ok());
  // Invalid UTF-8 inside a protobuf line, and a 1 MiB line.
  std::string entry, stream, req;
  Len(&entry, 2, "bad \xff byte");
  Len(&stream, 1, "{app=\"x\"}");
  Len(&stream, 2, entry);
  std::string big_entry;
  Len(&big_entry, 2, std::string(1 << 20, 'a'));
  Len(&stream, 2, big_entry);
  Len(&req, 1, stream);
  ASSERT_TRUE(DecodeLokiPushProtobuf(req, &b).ok());
  EXPECT_TRUE(b.records.empty());
  ASSERT_EQ(b.rejected.size(), 2u);
  EXPECT_EQ(b.rejected[0], "streams[0].entries[0]: invalid UTF-8 at byte 4");
  EXPECT_NE(b.rejected[1].find("exceeds the limit"), std::string::npos);
}

TEST(LokiPushTest, SelectorLabels) {
  auto l = ParseLokiLabels(R"({a="b", c="quote \" and \\"})");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->Get("c"), "quote \" and \\");
  EXPECT_FALSE(ParseLokiLabels("{a=b}").ok());
  EXPECT_FALSE(ParseLokiLabels("{a=\"b\"").ok());
}

TEST(OtlpLogsTest, JsonSample) {
  LogBatch b;
  Status st = DecodeOtlpLogsJson(Sample("otlp/otlp-http-json-logs.json"), &b);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(b.records[0].line, "payment gateway timeout after 3000ms");
  EXPECT_EQ(b.records[0].labels.Get("service"), "checkout");
  EXPECT_EQ(b.records[0].labels.Get("host_name"), "host-a");
  EXPECT_EQ(b.records[0].severity, 4);
  EXPECT_EQ(b.records[0].ts_ms, 1795334550071);
  ASSERT_TRUE(DecodeOtlpLogsJson(R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":7},{"severityNumber":"x"}]}]}]})", &b).ok());
  ASSERT_EQ(b.rejected.size(), 2u);
  EXPECT_EQ(b.rejected[0], "resourceLogs[0].scopeLogs[0].logRecords[0].body: expected an AnyValue object, got number");
}

TEST(OtlpLogsTest, Protobuf) {
  std::string any, kv, resource, body, record, scope, rl, req;
  Len(&any, 1, "checkout");
  Len(&kv, 1, "service.name");
  Len(&kv, 2, any);
  Len(&resource, 1, kv);
  Len(&body, 1, "disk full on /var");
  Fixed64(&record, 1, 1795334550071000000ULL);
  Varint(&record, 2 << 3 | 0);
  Varint(&record, 17);
  Len(&record, 5, body);
  Len(&scope, 2, record);
  Len(&rl, 1, resource);
  Len(&rl, 2, scope);
  Len(&req, 1, rl);
  LogBatch b;
  Status st = DecodeOtlpLogsProtobuf(req, &b);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(b.records[0].line, "disk full on /var");
  EXPECT_EQ(b.records[0].labels.Get("service"), "checkout");
  EXPECT_EQ(b.records[0].severity, 4);
  EXPECT_EQ(b.records[0].ts_ms, 1795334550071);
  st = DecodeOtlpLogsProtobuf(req.substr(0, req.size() - 3), &b);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("runs past"), std::string::npos) << st.message();
}

TEST(SyslogTest, CapturedLoggerMessages) {
  auto r = ParseSyslogMessage(
      "<131>1 2026-11-22T08:03:44.594210+00:00 vm checkout 4242 - [timeQuality tzKnown=\"1\" isSynced=\"0\"]"
      "[exampleSDID@32473 order=\"o-123\"] payment gateway timeout after 3000ms",
      5);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->line, "payment gateway timeout after 3000ms");
  EXPECT_EQ(r->labels.Get("app"), "checkout");
  EXPECT_EQ(r->labels.Get("host"), "vm");
  EXPECT_EQ(r->labels.Get("facility"), "local0");
  EXPECT_EQ(r->severity, 4);
  EXPECT_GT(r->ts_ms, 1795000000000);
  auto b = ParseSyslogMessage("<26>Nov 22 08:03:44 vm checkout: bsd style message", 42);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->line, "bsd style message");
  EXPECT_EQ(b->labels.Get("app"), "checkout");
  EXPECT_EQ(b->labels.Get("facility"), "daemon");
  EXPECT_EQ(b->ts_ms, 42);
  EXPECT_FALSE(ParseSyslogMessage("<999>1 - - - - - - x", 0).ok());
  EXPECT_FALSE(ParseSyslogMessage("no pri", 0).ok());
}

TEST(SyslogTest, FramingBothKinds) {
  SyslogFramer f;
  std::vector<std::string> m;
  std::string octet = "<134>1 - vm app - - - octet counted frame";
  std::string stream = std::to_string(octet.size()) + " " + octet + "<13>1 - vm app - - - line one\n<13>1 - vm app - - - li";
  ASSERT_TRUE(f.Feed(stream.substr(0, 10), &m).ok());
  EXPECT_TRUE(m.empty());
  ASSERT_TRUE(f.Feed(stream.substr(10), &m).ok());
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0], octet);
  EXPECT_EQ(m[1], "<13>1 - vm app - - - line one");
  ASSERT_TRUE(f.Feed("ne two\n", &m).ok());
  EXPECT_EQ(m.back(), "<13>1 - vm app - - - line two");
  SyslogFramer small(100);
  EXPECT_FALSE(small.Feed("5000 <13>", &m).ok());
}

TEST(JsonLogsTest, LinesAndRawText) {
  Labels base = Labels::FromSorted({{"service", "api"}});
  LogBatch b;
  ASSERT_TRUE(DecodeLogLines("{\"line\":\"a\",\"ts\":1700000000000,\"labels\":{\"pod\":\"p1\"},\"level\":\"ERROR\"}\n"
                             "{\"msg\":\"b\"}\n[1]\n{\"line\":5}\n\n",
                             true, base, 99, &b)
                  .ok());
  ASSERT_EQ(b.records.size(), 2u);
  EXPECT_EQ(b.records[0].labels.Get("pod"), "p1");
  EXPECT_EQ(b.records[0].labels.Get("service"), "api");
  EXPECT_EQ(b.records[0].severity, 4);
  EXPECT_EQ(b.records[1].ts_ms, 99);
  ASSERT_EQ(b.rejected.size(), 2u);
  EXPECT_EQ(b.rejected[0], "line 3: expected an object, got array");
  EXPECT_EQ(b.rejected[1], "line 4.line: expected a string, got number");
  ASSERT_TRUE(DecodeLogLines("one\r\ntwo\n\nthree", false, base, 7, &b).ok());
  EXPECT_EQ(b.records.size(), 3u);
}

}  // namespace
}  // namespace vigil
