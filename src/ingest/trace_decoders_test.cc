#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "ingest/jaeger_traces.h"
#include "ingest/otlp_traces.h"
#include "ingest/zipkin_spans.h"

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

std::string Attr(const Span& s, const std::string& key) {
  for (const auto& [k, v] : s.attributes) {
    if (k == key) return v;
  }
  return "";
}

// The captured trace: POST /checkout (server, HTTP 500) -> SELECT orders
// (client, status ERROR "deadline exceeded", peer.service postgres).
constexpr uint64_t kTraceHi = 0x90fc4f2ad61352feULL, kTraceLo = 0x83755b8bd7600704ULL;
constexpr uint64_t kParent = 0x3c2dae6739e0da49ULL, kChild = 0x88df9bb9bf7519c1ULL;

void ExpectChild(const Span& s) {
  EXPECT_EQ(s.trace_id.hi, kTraceHi);
  EXPECT_EQ(s.trace_id.lo, kTraceLo);
  EXPECT_EQ(s.span_id, kChild);
  EXPECT_EQ(s.parent_span_id, kParent);
  EXPECT_EQ(s.service, "checkout");
  EXPECT_EQ(s.instance, "host-a");
  EXPECT_EQ(s.operation, "SELECT orders");
  EXPECT_EQ(s.kind, SpanKind::kClient);
  EXPECT_EQ(s.start_us, 1795334457959000);
  EXPECT_NEAR(static_cast<double>(s.duration_us), 22885, 1);
  EXPECT_TRUE(s.error);
  EXPECT_EQ(Attr(s, "peer.service"), "postgres");
  EXPECT_EQ(Attr(s, "db.system"), "postgresql");
  EXPECT_EQ(Attr(s, "version"), "1.4.2");
  EXPECT_EQ(Attr(s, "host"), "host-a");
  EXPECT_EQ(Attr(s, "status.message"), "deadline exceeded");
}

void ExpectParent(const Span& s, bool has_method = true) {
  EXPECT_EQ(s.span_id, kParent);
  EXPECT_EQ(s.parent_span_id, 0u);
  EXPECT_EQ(s.operation, "POST /checkout");
  EXPECT_EQ(s.kind, SpanKind::kServer);
  EXPECT_EQ(s.http_status, 500);
  EXPECT_TRUE(s.error);
  EXPECT_EQ(s.duration_us, 31408);
  EXPECT_EQ(Attr(s, "http.route"), "/checkout");
  if (has_method) {  // (the Jaeger sample has no method tag)
    EXPECT_EQ(Attr(s, "http.method"), "POST");
  }
}

TEST(OtlpTracesTest, JsonCapturesFromOpenTelemetryJs) {
  SpanBatch b;
  Status st = DecodeOtlpTracesJson(Sample("otlp/otlp-http-json-traces-child-span.json"), &b);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(b.spans.size(), 1u);
  EXPECT_TRUE(b.rejected.empty());
  ExpectChild(b.spans[0]);
  st = DecodeOtlpTracesJson(Sample("otlp/otlp-http-json-traces-parent-span.json"), &b);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(b.spans.size(), 1u);
  ExpectParent(b.spans[0]);
}

TEST(OtlpTracesTest, ProtobufCapturesMatchJson) {
  for (const char* name : {"child", "parent"}) {
    SpanBatch pb, js;
    std::string body = Sample(std::string("otlp/otlp-http-protobuf-traces-") + name + "-span.bin");
    ASSERT_FALSE(body.empty());
    Status st = DecodeOtlpTracesProtobuf(body, &pb);
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_TRUE(DecodeOtlpTracesJson(Sample(std::string("otlp/otlp-http-json-traces-") + name + "-span.json"), &js).ok());
    ASSERT_EQ(pb.spans.size(), 1u);
    if (std::string(name) == "child") ExpectChild(pb.spans[0]);
    else ExpectParent(pb.spans[0]);
    EXPECT_EQ(pb.spans[0].attributes, js.spans[0].attributes);
  }
}

TEST(OtlpTracesTest, BadSpansAreRefusedByPathOthersKept) {
  std::string body = R"({"resourceSpans":[{"resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"cart"}},
      {"key":"k8s.pod.name","value":{"stringValue":"cart-7d9f-x1"}},
      {"key":"service.instance.id","value":{"stringValue":"i-1"}}]},
    "scopeSpans":[{"spans":[
      {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"GET /cart","kind":"SPAN_KIND_SERVER",
       "startTimeUnixNano":1700000000000000000,"endTimeUnixNano":"1700000000005000000",
       "attributes":[{"key":"http.status_code","value":{"intValue":"503"}}]},
      {"traceId":"xyz","spanId":"0102030405060708","startTimeUnixNano":"1","endTimeUnixNano":"2"},
      {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060709","startTimeUnixNano":"5","endTimeUnixNano":"2"},
      {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0000000000000000","startTimeUnixNano":"5","endTimeUnixNano":"6"}
    ]}]}]})";
  SpanBatch b;
  Status st = DecodeOtlpTracesJson(body, &b);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(b.spans.size(), 1u);
  EXPECT_EQ(b.spans[0].instance, "cart-7d9f-x1");  // the pod wins over service.instance.id
  EXPECT_EQ(b.spans[0].http_status, 503);
  EXPECT_TRUE(b.spans[0].error);
  EXPECT_EQ(b.spans[0].duration_us, 5000);
  ASSERT_EQ(b.rejected.size(), 3u);
  EXPECT_EQ(b.rejected[0], "resourceSpans[0].scopeSpans[0].spans[1].traceId: expected 32 hex digits");
  EXPECT_EQ(b.rejected[1], "resourceSpans[0].scopeSpans[0].spans[2].endTimeUnixNano: before startTimeUnixNano");
  EXPECT_EQ(b.rejected[2], "resourceSpans[0].scopeSpans[0].spans[3].spanId: missing or all zeros");
}

TEST(OtlpTracesTest, MalformedBodiesAreRefusedWhole) {
  SpanBatch b;
  Status st = DecodeOtlpTracesJson(R"({"resourceSpans": [1]})", &b);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "resourceSpans[0]: expected an object");
  st = DecodeOtlpTracesJson(R"({"resourceSpans": [)", &b);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("JSON syntax error"), std::string::npos) << st.message();
  std::string pb = Sample("otlp/otlp-http-protobuf-traces-child-span.bin");
  st = DecodeOtlpTracesProtobuf(pb.substr(0, pb.size() - 7), &b);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(b.spans.empty());
  EXPECT_NE(st.message().find("protobuf:"), std::string::npos) << st.message();
  EXPECT_TRUE(DecodeOtlpTracesJson("{}", &b).ok());
  EXPECT_TRUE(DecodeOtlpTracesProtobuf("", &b).ok());
  EXPECT_TRUE(b.spans.empty());
}

TEST(ZipkinSpansTest, CapturesFromExporterZipkin) {
  SpanBatch b;
  Status st = DecodeZipkinSpansJson(Sample("zipkin/zipkin-v2-spans-child.json"), &b);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(b.spans.size(), 1u);
  ExpectChild(b.spans[0]);
  st = DecodeZipkinSpansJson(Sample("zipkin/zipkin-v2-spans-parent.json"), &b);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(b.spans.size(), 1u);
  ExpectParent(b.spans[0]);
}

TEST(ZipkinSpansTest, SharedServerSpanEndpointsAndErrors) {
  std::string body = R"([
    {"traceId":"a1b2c3d4e5f60718","id":"0000000000000001","kind":"CLIENT","name":"get","timestamp":1700000000000000,
     "duration":900,"localEndpoint":{"serviceName":"web","ipv4":"10.0.0.1"},"remoteEndpoint":{"serviceName":"cart"}},
    {"traceId":"a1b2c3d4e5f60718","id":"0000000000000001","kind":"SERVER","name":"get /cart","shared":true,
     "timestamp":1700000000000100,"duration":700,"localEndpoint":{"serviceName":"cart","ipv4":"10.0.0.2"},
     "tags":{"error":"boom"}},
    {"traceId":"a1b2c3d4e5f60718","id":"0000000000000002","timestamp":"soon"},
    {"traceId":"a1b2c3d4e5f60718","id":"0000000000000003","timestamp":1,"tags":{"x":1}}
  ])";
  SpanBatch b;
  ASSERT_TRUE(DecodeZipkinSpansJson(body, &b).ok());
  ASSERT_EQ(b.spans.size(), 2u);
  EXPECT_EQ(b.spans[0].trace_id.hi, 0u);
  EXPECT_EQ(b.spans[0].trace_id.lo, 0xa1b2c3d4e5f60718ULL);
  EXPECT_EQ(b.spans[0].instance, "10.0.0.1");
  EXPECT_EQ(Attr(b.spans[0], "peer.service"), "cart");
  EXPECT_EQ(b.spans[1].parent_span_id, b.spans[1].span_id);  // shared: its parent is the client half
  EXPECT_TRUE(b.spans[1].error);
  EXPECT_EQ(Attr(b.spans[1], "status.message"), "boom");
  ASSERT_EQ(b.rejected.size(), 2u);
  EXPECT_EQ(b.rejected[0], "[2].timestamp: expected Unix microseconds (an integer)");
  EXPECT_EQ(b.rejected[1], "[3].tags.x: expected a string, got number");
  EXPECT_FALSE(DecodeZipkinSpansJson("{}", &b).ok());
}

TEST(JaegerTracesTest, QueryApiDocument) {
  SpanBatch b;
  Status st = DecodeJaegerTracesJson(Sample("jaeger/jaeger-query-api-trace-HANDWRITTEN.json"), &b);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(b.spans.size(), 2u);
  EXPECT_TRUE(b.rejected.empty());
  ExpectParent(b.spans[0], false);
  const Span& c = b.spans[1];
  EXPECT_EQ(c.parent_span_id, kParent);
  EXPECT_EQ(c.kind, SpanKind::kClient);
  EXPECT_TRUE(c.error);
  EXPECT_EQ(c.instance, "host-a");
  EXPECT_EQ(Attr(c, "peer.service"), "postgres");
  EXPECT_EQ(Attr(c, "status.message"), "deadline exceeded");
}

TEST(JaegerTracesTest, ShortIdsUnknownProcessAndBadShapes) {
  std::string body = R"({"data":[{"traceID":"abc","processes":{"p1":{"serviceName":"api","tags":[{"key":"ip","type":"string","value":"10.1.1.1"}]}},
    "spans":[{"traceID":"abc","spanID":"1f","operationName":"op","startTime":1700000000000000,"duration":10,"processID":"p1",
              "references":[{"refType":"FOLLOWS_FROM","traceID":"abc","spanID":"e"}],"tags":[{"key":"http.status_code","type":"int64","value":502}]},
             {"traceID":"abc","spanID":"20","operationName":"op","startTime":1700000000000000,"duration":10,"processID":"p9"}]}]})";
  SpanBatch b;
  ASSERT_TRUE(DecodeJaegerTracesJson(body, &b).ok());
  ASSERT_EQ(b.spans.size(), 1u);
  EXPECT_EQ(b.spans[0].trace_id.lo, 0xabcu);
  EXPECT_EQ(b.spans[0].span_id, 0x1fu);
  EXPECT_EQ(b.spans[0].parent_span_id, 0xeu);
  EXPECT_EQ(b.spans[0].instance, "10.1.1.1");
  EXPECT_TRUE(b.spans[0].error);
  ASSERT_EQ(b.rejected.size(), 1u);
  EXPECT_EQ(b.rejected[0], "data[0].spans[1].processID: names no process of the trace");
  Status st = DecodeJaegerTracesJson(R"({"data":[{"processes":{"p1":{}}}]})", &b);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "data[0].processes.p1.serviceName: expected a string");
  EXPECT_FALSE(DecodeJaegerTracesJson("3", &b).ok());
}

}  // namespace
}  // namespace vigil
