#include "ingest/json_samples.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "ingest/json_text.h"

namespace vigil {
namespace {

constexpr TimestampMs kNow = 1795334178810;

WriteBatch MustDecode(const std::string& body) {
  WriteBatch out;
  Status st = DecodeJsonSamples(body, kNow, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

std::string ErrorOf(const std::string& body) {
  WriteBatch out;
  Status st = DecodeJsonSamples(body, kNow, &out);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(out.series.empty());
  return st.message();
}

// The single reason a one-series body is refused for.
std::string ReasonOf(const std::string& series_json) {
  WriteBatch out = MustDecode("{\"series\": [" + series_json + "]}");
  EXPECT_TRUE(out.series.empty());
  if (out.rejected.size() != 1) return "<" + std::to_string(out.rejected.size()) + " rejections>";
  return out.rejected[0].reason;
}

TEST(JsonSamples, ContractExample) {
  WriteBatch out = MustDecode(R"({"series": [
    {"labels": {"__name__": "checkout_latency_ms", "service": "checkout"},
     "samples": [[1700000000000, 12.5], ["2026-11-23T10:00:00Z", 13.0]]}
  ]})");
  ASSERT_EQ(out.series.size(), 1u);
  EXPECT_EQ(out.series[0].labels.ToString(), "checkout_latency_ms{service=\"checkout\"}");
  ASSERT_EQ(out.series[0].samples.size(), 2u);
  EXPECT_EQ(out.series[0].samples[0].ts_ms, 1700000000000);
  EXPECT_EQ(out.series[0].samples[0].value, 12.5);
  EXPECT_EQ(out.series[0].samples[1].ts_ms, *ParseRfc3339("2026-11-23T10:00:00Z"));
  EXPECT_EQ(out.series[0].samples[1].value, 13.0);
  EXPECT_EQ(out.sample_count, 2u);
  EXPECT_TRUE(out.rejected.empty());
}

TEST(JsonSamples, TopLevelArrayAndMultipleSeries) {
  WriteBatch out = MustDecode(R"([
    {"labels": {"__name__": "a"}, "samples": [[1700000000000, 1]]},
    {"labels": {"__name__": "b", "x": "y"}, "samples": [[1700000000000, 2], [1700000001000, 3]], "extra": true}
  ])");
  ASSERT_EQ(out.series.size(), 2u);
  EXPECT_EQ(out.series[1].labels.Get("x"), "y");
  EXPECT_EQ(out.sample_count, 3u);
}

TEST(JsonSamples, TimeForms) {
  WriteBatch out = MustDecode(R"([{"labels": {"__name__": "t"}, "samples": [
    [1700000000000, 0], [1700000000, 0], [1700000000.25, 0], ["2023-11-14T22:13:20.5+01:00", 0],
    ["1700000000000", 0], ["1700000000", 0], [1700000000000.0, 0]]}])");
  ASSERT_EQ(out.series.size(), 1u);
  const auto& s = out.series[0].samples;
  ASSERT_EQ(s.size(), 7u);
  EXPECT_EQ(s[0].ts_ms, 1700000000000);
  EXPECT_EQ(s[1].ts_ms, 1700000000000);
  EXPECT_EQ(s[2].ts_ms, 1700000000250);
  EXPECT_EQ(s[3].ts_ms, 1700000000000 - 3600000 + 500);
  EXPECT_EQ(s[4].ts_ms, 1700000000000);
  EXPECT_EQ(s[5].ts_ms, 1700000000000);
  EXPECT_EQ(s[6].ts_ms, 1700000000000);
}

TEST(JsonSamples, ValueForms) {
  WriteBatch out = MustDecode(R"([{"labels": {"__name__": "v"}, "samples": [
    [1, "NaN"], [1, "+Inf"], [1, "-Inf"], [1, "1.5"], [1, "-2e3"], [1, 7], [1, 18446744073709551615],
    [1, -0.25], [1, "Inf"], [1, "+3"], 42.5, "NaN"]}])");
  ASSERT_EQ(out.series.size(), 1u);
  const auto& s = out.series[0].samples;
  ASSERT_EQ(s.size(), 12u);
  EXPECT_TRUE(std::isnan(s[0].value));
  EXPECT_FALSE(IsStaleMarker(s[0].value));
  EXPECT_EQ(s[1].value, INFINITY);
  EXPECT_EQ(s[2].value, -INFINITY);
  EXPECT_EQ(s[3].value, 1.5);
  EXPECT_EQ(s[4].value, -2000);
  EXPECT_EQ(s[5].value, 7);
  EXPECT_EQ(s[6].value, 18446744073709551615.0);
  EXPECT_EQ(s[7].value, -0.25);
  EXPECT_EQ(s[8].value, INFINITY);
  EXPECT_EQ(s[9].value, 3);
  EXPECT_EQ(s[0].ts_ms, 1000);  // 1 is Unix seconds
  // A bare value is a sample at now.
  EXPECT_EQ(s[10].ts_ms, kNow);
  EXPECT_EQ(s[10].value, 42.5);
  EXPECT_EQ(s[11].ts_ms, kNow);
}

TEST(JsonSamples, PerSeriesProblemsNameTheirPath) {
  const std::string ok = R"({"labels": {"__name__": "ok"}, "samples": [[1700000000000, 1]]})";
  WriteBatch out = MustDecode("{\"series\": [" + ok + "," + ok + R"(,
    {"labels": {"__name__": "m"}, "samples": [[1,1],[1,1],[1,1],[1,1],[1,1],[1700000000000, "abc"],[1,1]]},
    )" + ok + "]}");
  ASSERT_EQ(out.series.size(), 3u);
  ASSERT_EQ(out.rejected.size(), 1u);
  EXPECT_EQ(out.rejected[0].series_index, 2u);
  EXPECT_EQ(out.rejected[0].samples, 7u);
  EXPECT_EQ(out.rejected[0].reason, "series[2].samples[5][1]: expected a number, got string \"abc\"");
  EXPECT_EQ(out.rejected_samples, 7u);
  EXPECT_EQ(out.sample_count, 3u);

  EXPECT_EQ(ReasonOf(R"({"samples": [[1, 1]]})"), "series[0].labels: missing");
  EXPECT_EQ(ReasonOf(R"({"labels": {"__name__": "m"}})"), "series[0].samples: missing");
  EXPECT_EQ(ReasonOf(R"({"labels": {"__name__": "m"}, "samples": {}})"),
            "series[0].samples: expected an array, got object");
  EXPECT_EQ(ReasonOf(R"({"labels": [], "samples": []})"), "series[0].labels: expected an object, got array");
  EXPECT_EQ(ReasonOf(R"({"labels": {"__name__": "m", "job": 3}, "samples": []})"),
            "series[0].labels.job: expected a string, got number");
  EXPECT_EQ(ReasonOf(R"({"labels": {"__name__": "m", "a b": null}, "samples": []})"),
            "series[0].labels[\"a b\"]: expected a string, got null");
  EXPECT_EQ(ReasonOf(R"({"labels": {"job": "x"}, "samples": [[1, 1]]})"),
            "series[0].labels: missing metric name (label __name__)");
  EXPECT_EQ(ReasonOf(R"({"labels": {"__name__": "m", "a-b": "x"}, "samples": [[1, 1]]})"),
            "series[0].labels: invalid label name \"a-b\" (value \"x\")");
  EXPECT_EQ(ReasonOf(R"({"labels": {"__name__": "m", "a": "x", "a": "y"}, "samples": [[1, 1]]})"),
            "series[0].labels: duplicate label name \"a\" (values \"x\" and \"y\")");
  EXPECT_EQ(ReasonOf(R"({"labels": {"__name__": "m"}, "samples": [[1, 1, 1]]})"),
            "series[0].samples[0]: expected a [time, value] pair, got an array of 3");
  EXPECT_EQ(ReasonOf(R"({"labels": {"__name__": "m"}, "samples": [[1, 1], {"t": 1}]})"),
            "series[0].samples[1]: expected a [time, value] pair, got object");
  EXPECT_EQ(ReasonOf(R"({"labels": {"__name__": "m"}, "samples": [[true, 1]]})"),
            "series[0].samples[0][0]: expected a time (Unix ms, Unix s or RFC 3339), got boolean");
  EXPECT_EQ(ReasonOf(R"({"labels": {"__name__": "m"}, "samples": [["yesterday", 1]]})"),
            "series[0].samples[0][0]: invalid time \"yesterday\": expected RFC 3339, Unix seconds or Unix milliseconds");
  EXPECT_EQ(ReasonOf("{\"labels\": {\"__name__\": \"m\"}, \"samples\": [[\"20\x7f" "6-11-23T10:00:00Z\", 1]]}"),
            "series[0].samples[0][0]: invalid time \"20\\x7f6-11-23T10:00:00Z\": expected RFC 3339, Unix seconds or "
            "Unix milliseconds");
  EXPECT_EQ(ReasonOf(R"({"labels": {"__name__": "m"}, "samples": [["2026-13-01T00:00:00Z", 1]]})"),
            "series[0].samples[0][0]: invalid RFC 3339 time \"2026-13-01T00:00:00Z\": field out of range");
  EXPECT_EQ(ReasonOf(R"({"labels": {"__name__": "m"}, "samples": [[-5, 1]]})"),
            "series[0].samples[0][0]: time -5000 ms is outside 1970-01-01..9999-12-31");
  EXPECT_EQ(ReasonOf(R"({"labels": {"__name__": "m"}, "samples": [[18446744073709551615, 1]]})"),
            "series[0].samples[0][0]: time 18446744073709551615 is outside 1970-01-01..9999-12-31");
  EXPECT_EQ(ReasonOf(R"({"labels": {"__name__": "m"}, "samples": [[1e300, 1]]})").rfind(
                "series[0].samples[0][0]: time 1", 0),
            0u);
  EXPECT_EQ(ReasonOf(R"({"labels": {"__name__": "m"}, "samples": [[1, null]]})"),
            "series[0].samples[0][1]: expected a number, got null");
  EXPECT_EQ(ReasonOf(R"({"labels": {"__name__": "m"}, "samples": [[1, "1e999"]]})"),
            "series[0].samples[0][1]: expected a number, got string \"1e999\" (out of range)");
  EXPECT_EQ(ReasonOf(R"({"labels": {"__name__": "m"}, "samples": [[1, ""]]})"),
            "series[0].samples[0][1]: expected a number, got string \"\"");
  EXPECT_EQ(ReasonOf(R"("not a series")"), "series[0]: expected an object, got string");
}

TEST(JsonSamples, EmptySamplesAreSkippedNotRejected) {
  WriteBatch out = MustDecode(R"({"series": [{"labels": {"__name__": "m"}, "samples": []}]})");
  EXPECT_TRUE(out.series.empty());
  EXPECT_TRUE(out.rejected.empty());
  out = MustDecode(R"({"series": []})");
  EXPECT_TRUE(out.series.empty());
}

TEST(JsonSamples, MalformedJsonNamesTheLocation) {
  EXPECT_EQ(ErrorOf(""), "JSON syntax error at byte 0 (line 1, column 1): unexpected end of input, expected a value");
  EXPECT_EQ(ErrorOf(R"({"series": [})"), "JSON syntax error at byte 12 (line 1, column 13): unexpected character \"}\", expected a value");
  EXPECT_EQ(ErrorOf("{\"series\": [\n  {\"labels\" {}}\n]}"),
            "JSON syntax error at byte 25 (line 2, column 13): expected ':' after an object key");
  EXPECT_EQ(ErrorOf(R"({"series": []} x)"), "JSON syntax error at byte 15 (line 1, column 16): unexpected content after the JSON value");
  EXPECT_EQ(ErrorOf(R"({"series": ["abc)"), "JSON syntax error at byte 12 (line 1, column 13): unterminated string");
  EXPECT_EQ(ErrorOf("{\"series\": [\"\xff\"]}"), "JSON syntax error at byte 13 (line 1, column 14): invalid UTF-8 in a string");
  EXPECT_EQ(ErrorOf(R"({"series": [1,]})"), "JSON syntax error at byte 14 (line 1, column 15): unexpected character \"]\", expected a value");
  EXPECT_EQ(ErrorOf(R"({"series": [01]})"), "JSON syntax error at byte 13 (line 1, column 14): expected ',' or ']' in an array");
  EXPECT_EQ(ErrorOf(R"({"series": ["\x"]})"), "JSON syntax error at byte 13 (line 1, column 14): invalid escape sequence");
  EXPECT_EQ(ErrorOf(R"({"series": ["\ud800"]})"),
            "JSON syntax error at byte 19 (line 1, column 20): invalid \\u escape: high surrogate without a low one");
  EXPECT_EQ(ErrorOf(R"({"series": [1e400]})"), "JSON syntax error at byte 12 (line 1, column 13): number too large for a double");
  EXPECT_EQ(ErrorOf(R"({"series": [-9223372036854775809]})"),
            "JSON syntax error at byte 12 (line 1, column 13): integer outside the 64-bit range");
  EXPECT_EQ(ErrorOf(std::string(2000, '[') + std::string(2000, ']')).rfind("JSON syntax error at byte 1024", 0), 0u);
}

// The checker that locates syntax errors must accept every real document.
TEST(JsonSamples, SyntaxCheckerAcceptsCapturedJson) {
  const char* env = std::getenv("VIGIL_SHARED_DATA");
  const std::filesystem::path dir =
      std::filesystem::path((env != nullptr && *env != '\0') ? env : VIGIL_SHARED_DATA) / "protocol-samples";
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    size_t offset = 0;
    std::string what;
    EXPECT_FALSE(ingest_internal::FindJsonSyntaxError(text.str(), &offset, &what))
        << entry.path() << ": " << what << " at " << offset;
    ++files;
  }
  EXPECT_GE(files, 10u);
}

TEST(JsonSamples, DocumentShapeErrors) {
  EXPECT_EQ(ErrorOf(R"({"data": []})"), "\"series\": missing (expected {\"series\": [...]} or an array of series)");
  EXPECT_EQ(ErrorOf(R"({"series": {}})"), "\"series\": expected an array, got object");
  EXPECT_EQ(ErrorOf("42"), "expected {\"series\": [...]} or an array of series, got number");
}

TEST(JsonSamples, ReasonsStayPrintableAscii) {
  WriteBatch out = MustDecode(R"([{"labels": {"__name__": "m", "b\u00e4d": "v\n"}, "samples": [[1, 1]]}])");
  ASSERT_EQ(out.rejected.size(), 1u);
  EXPECT_EQ(out.rejected[0].reason,
            "series[0].labels: invalid label name \"b\\xc3\\xa4d\" (value \"v\\x0a\")");
}

}  // namespace
}  // namespace vigil
