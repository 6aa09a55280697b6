#include "ingest/json_events.h"

#include <string>

#include <gtest/gtest.h>

#include "core/time_format.h"

namespace vigil {
namespace {

constexpr TimestampMs kNow = 1795334178810;

std::string ErrorOf(const std::string& body) {
  Result<std::vector<Event>> r = DecodeEvents(body, kNow);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(JsonEvents, ContractExample) {
  auto r = DecodeEvents(R"({"time": "2026-11-23T10:00:00Z", "kind": "deploy",
    "labels": {"service": "checkout", "version": "1.4.2"}, "text": "deploy 1.4.2"})", kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  const Event& e = (*r)[0];
  EXPECT_EQ(e.id, 0);
  EXPECT_EQ(e.ts_ms, *ParseRfc3339("2026-11-23T10:00:00Z"));
  EXPECT_EQ(e.kind, "deploy");
  EXPECT_EQ(e.labels.Get("service"), "checkout");
  EXPECT_EQ(e.labels.Get("version"), "1.4.2");
  EXPECT_EQ(e.text, "deploy 1.4.2");
}

TEST(JsonEvents, ArrayDefaultsAndAlternatives) {
  auto r = DecodeEvents(R"([
    {"kind": "config"},
    {"kind": "deploy", "time": 1700000000, "labels": {"a": "", "b": "x"}, "id": 99},
    {"kind": "k8s.rollout:v2-x", "ts_ms": 1700000000123, "time": null, "text": null, "labels": null},
    {"kind": "deploy", "time": 1700000000456}
  ])", kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].ts_ms, kNow);
  EXPECT_TRUE((*r)[0].labels.empty());
  EXPECT_EQ((*r)[0].text, "");
  EXPECT_EQ((*r)[1].ts_ms, 1700000000000);
  EXPECT_EQ((*r)[1].labels.size(), 1u);  // empty value dropped
  EXPECT_EQ((*r)[1].id, 0);              // ids are the store's
  EXPECT_EQ((*r)[2].kind, "k8s.rollout:v2-x");
  EXPECT_EQ((*r)[2].ts_ms, 1700000000123);
  EXPECT_EQ((*r)[3].ts_ms, 1700000000456);

  auto empty = DecodeEvents("[]", kNow);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(JsonEvents, AnyBadEventRefusesTheRequestNamingIt) {
  EXPECT_EQ(ErrorOf(R"([{"kind": "a"}, {"kind": "a"}, {"kind": "a"}, {"kind": "a", "time": "tomorrow"}])"),
            "events[3].time: invalid time \"tomorrow\": expected RFC 3339, Unix seconds or Unix milliseconds");
  EXPECT_EQ(ErrorOf(R"({"time": 1700000000000})"), "events[0].kind: missing (e.g. \"deploy\" or \"config\")");
  EXPECT_EQ(ErrorOf(R"({"kind": 7})"), "events[0].kind: expected a string, got number");
  EXPECT_EQ(ErrorOf(R"({"kind": ""})"), "events[0].kind: must be 1 to 64 characters, got 0");
  EXPECT_EQ(ErrorOf(R"({"kind": "two words"})"), "events[0].kind: \"two words\" is not a word ([A-Za-z0-9_.:-])");
  EXPECT_EQ(ErrorOf(R"({"kind": "deploy", "time": true})"),
            "events[0].time: expected a time (Unix ms, Unix s or RFC 3339), got boolean");
  EXPECT_EQ(ErrorOf(R"({"kind": "deploy", "ts_ms": -1})"),
            "events[0].ts_ms: time -1000 ms is outside 1970-01-01..9999-12-31");
  EXPECT_EQ(ErrorOf(R"({"kind": "deploy", "labels": {"bad-name": "x"}})"),
            "events[0].labels: invalid label name \"bad-name\" (value \"x\")");
  EXPECT_EQ(ErrorOf(R"({"kind": "deploy", "labels": {"ok": 1}})"), "events[0].labels.ok: expected a string, got number");
  EXPECT_EQ(ErrorOf(R"({"kind": "deploy", "labels": "service=x"})"),
            "events[0].labels: expected an object, got string");
  EXPECT_EQ(ErrorOf(R"({"kind": "deploy", "text": ["a"]})"), "events[0].text: expected a string, got array");
  EXPECT_EQ(ErrorOf(R"([{"kind": "deploy"}, 5])"), "events[1]: expected an event object, got number");
  EXPECT_EQ(ErrorOf(R"("deploy")"), "expected an event object or an array of events, got string");
  EXPECT_EQ(ErrorOf(R"([{"kind": "deploy"},])"),
            "JSON syntax error at byte 20 (line 1, column 21): unexpected character \"]\", expected a value");
}

TEST(JsonEvents, Limits) {
  const std::string max_text(kMaxEventTextBytes, 'x');
  auto ok = DecodeEvents(R"({"kind": "deploy", "text": ")" + max_text + "\"}", kNow);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)[0].text.size(), kMaxEventTextBytes);
  EXPECT_EQ(ErrorOf(R"({"kind": "deploy", "text": ")" + max_text + "y\"}"),
            "events[0].text: 65537 bytes, above the limit of 65536");
  EXPECT_EQ(ErrorOf(R"({"kind": ")" + std::string(65, 'k') + "\"}"), "events[0].kind: must be 1 to 64 characters, got 65");

  std::string many = "[";
  for (size_t i = 0; i < kMaxEventsPerRequest; ++i) many += "{\"kind\":\"a\"},";
  many.back() = ']';
  auto at_limit = DecodeEvents(many, kNow);
  ASSERT_TRUE(at_limit.ok());
  EXPECT_EQ(at_limit->size(), kMaxEventsPerRequest);
  many.back() = ',';
  many += "{\"kind\":\"a\"}]";
  EXPECT_EQ(ErrorOf(many), "too many events: 10001 (limit 10000 per request)");
}

}  // namespace
}  // namespace vigil
