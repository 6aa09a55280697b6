#include "ingest/remote_write.h"

#include "ingest/remote_write_internal.h"

#include <snappy.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ingest/protobuf_test_bytes.h"

namespace vigil {
namespace {

std::string SamplesDir() {
  const char* env = std::getenv("VIGIL_SHARED_DATA");
  std::string base = (env != nullptr && *env != '\0') ? env : VIGIL_SHARED_DATA;
  return base + "/protocol-samples/prometheus-remote-write/";
}

std::string ReadFile(const std::string& name) {
  std::ifstream in(SamplesDir() + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << SamplesDir() + name;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// --- The protoc text form (*.decoded.txt), read independently of protobuf. ---

struct TextSample {
  double value = 0;
  int64_t ts = 0;
};
struct TextSeries {
  std::vector<Label> labels;
  std::vector<TextSample> samples;
};
struct TextRequest {
  std::vector<TextSeries> series;
  size_t metadata = 0;
};

// Undoes protoc's C-style escaping of a quoted string ("..." with \" \\ \' \n \NNN).
std::string Unquote(const std::string& q) {
  std::string out;
  for (size_t i = 1; i + 1 < q.size(); ++i) {
    if (q[i] != '\\') {
      out += q[i];
      continue;
    }
    const char c = q[++i];
    if (c >= '0' && c <= '7') {
      int v = 0;
      for (int k = 0; k < 3 && q[i] >= '0' && q[i] <= '7'; ++k) v = v * 8 + (q[i++] - '0');
      --i;
      out += static_cast<char>(v);
    } else if (c == 'n') {
      out += '\n';
    } else if (c == 't') {
      out += '\t';
    } else if (c == 'r') {
      out += '\r';
    } else {
      out += c;
    }
  }
  return out;
}

TextRequest ParseDecodedText(const std::string& text) {
  TextRequest req;
  std::istringstream in(text);
  std::string line;
  enum { kNone, kLabel, kSample } block = kNone;
  while (std::getline(in, line)) {
    const size_t indent = line.find_first_not_of(' ');
    if (indent == std::string::npos) continue;
    const std::string body = line.substr(indent);
    if (indent == 0 && body == "timeseries {") {
      req.series.emplace_back();
    } else if (indent == 0 && body == "metadata {") {
      ++req.metadata;
    } else if (indent == 2 && body == "labels {") {
      req.series.back().labels.emplace_back();
      block = kLabel;
    } else if (indent == 2 && body == "samples {") {
      req.series.back().samples.emplace_back();
      block = kSample;
    } else if (indent == 4 && block == kLabel && body.rfind("name: ", 0) == 0) {
      req.series.back().labels.back().name = Unquote(body.substr(6));
    } else if (indent == 4 && block == kLabel && body.rfind("value: ", 0) == 0) {
      req.series.back().labels.back().value = Unquote(body.substr(7));
    } else if (indent == 4 && block == kSample && body.rfind("value: ", 0) == 0) {
      const std::string v = body.substr(7);
      req.series.back().samples.back().value =
          v == "nan" ? std::numeric_limits<double>::quiet_NaN() : v == "inf" ? INFINITY : v == "-inf" ? -INFINITY
                                                                                                        : std::stod(v);
    } else if (indent == 4 && block == kSample && body.rfind("timestamp: ", 0) == 0) {
      req.series.back().samples.back().ts = std::stoll(body.substr(11));
    }
  }
  return req;
}

// Decodes capture `stem` both from its snappy body and from its .pb and
// checks the result against protoc's decoding, series by series.
WriteBatch CheckCapture(const std::string& stem) {
  SCOPED_TRACE(stem);
  const TextRequest want = ParseDecodedText(ReadFile(stem + ".decoded.txt"));
  RemoteWriteDecoder decoder;
  WriteBatch from_pb;
  EXPECT_TRUE(decoder.DecodeUncompressed(ReadFile(stem + ".pb"), &from_pb).ok());
  WriteBatch got;
  Status st = decoder.Decode(ReadFile(stem + ".snappy.bin"), &got);
  EXPECT_TRUE(st.ok()) << st.ToString();
  WriteBatch reference;
  EXPECT_TRUE(ingest_internal::DecodeWithProtobufMessage(ReadFile(stem + ".pb"), &reference).ok());
  EXPECT_EQ(reference.series.size(), got.series.size());
  EXPECT_EQ(reference.metadata_count, got.metadata_count);
  for (size_t i = 0; i < reference.series.size() && i < got.series.size(); ++i) {
    EXPECT_EQ(reference.series[i].labels, got.series[i].labels);
  }

  EXPECT_TRUE(got.rejected.empty());
  EXPECT_EQ(got.metadata_count, want.metadata);
  EXPECT_EQ(from_pb.metadata_count, want.metadata);
  EXPECT_EQ(got.series.size(), want.series.size());
  EXPECT_EQ(from_pb.series.size(), want.series.size());
  size_t want_samples = 0;
  for (size_t i = 0; i < want.series.size() && i < got.series.size(); ++i) {
    const TextSeries& w = want.series[i];
    const TimeSeries& g = got.series[i];
    EXPECT_EQ(g.labels.items(), w.labels) << "series " << i;
    EXPECT_EQ(from_pb.series[i].labels, g.labels);
    EXPECT_EQ(g.samples.size(), w.samples.size()) << "series " << i;
    if (g.samples.size() != w.samples.size()) continue;
    for (size_t j = 0; j < w.samples.size(); ++j) {
      EXPECT_EQ(g.samples[j].ts_ms, w.samples[j].ts);
      if (std::isnan(w.samples[j].value)) {
        EXPECT_TRUE(std::isnan(g.samples[j].value));
      } else {
        EXPECT_EQ(g.samples[j].value, w.samples[j].value);
      }
    }
    want_samples += w.samples.size();
  }
  EXPECT_EQ(got.sample_count, want_samples);
  EXPECT_EQ(got.rejected_samples, 0u);
  return got;
}

TEST(RemoteWrite, Tiny1Exactly) {
  const std::string body = ReadFile("prom2.42-tiny1.snappy.bin");
  ASSERT_EQ(body.size(), 112u);
  RemoteWriteDecoder decoder;
  WriteBatch batch;
  ASSERT_TRUE(decoder.Decode(body, &batch).ok());
  ASSERT_EQ(batch.series.size(), 1u);
  const std::vector<Label> want = {{"__name__", "up"},
                                   {"instance", "127.0.0.1:19090"},
                                   {"job", "prometheus"},
                                   {"replica", "capture-test"}};
  EXPECT_EQ(batch.series[0].labels.items(), want);
  ASSERT_EQ(batch.series[0].samples.size(), 1u);
  EXPECT_EQ(batch.series[0].samples[0].ts_ms, 1795334178810);
  EXPECT_EQ(batch.series[0].samples[0].value, 1.0);
  EXPECT_EQ(batch.sample_count, 1u);
  EXPECT_EQ(batch.metadata_count, 0u);
  EXPECT_TRUE(batch.rejected.empty());
  CheckCapture("prom2.42-tiny1");
}

TEST(RemoteWrite, Small19MatchesProtoc) {
  WriteBatch b = CheckCapture("prom2.42-small19");
  EXPECT_EQ(b.series.size(), 19u);
}

TEST(RemoteWrite, Batch500MatchesProtoc) {
  WriteBatch b = CheckCapture("prom2.42-batch500");
  EXPECT_EQ(b.series.size(), 500u);
  EXPECT_EQ(b.sample_count, 500u);
}

TEST(RemoteWrite, ReusedBatchGivesTheSameSeries) {
  // One decoder and one batch per HTTP thread, request after request: the
  // recycled series memory must never leak stale labels or samples.
  RemoteWriteDecoder decoder;
  WriteBatch reused, fresh;
  for (const char* name : {"prom2.42-batch500", "prom2.42-tiny1", "prom2.42-small19", "prom2.42-batch500"}) {
    const std::string body = ReadFile(std::string(name) + ".snappy.bin");
    ASSERT_TRUE(decoder.Decode(body, &reused).ok()) << name;
    RemoteWriteDecoder other;
    fresh = WriteBatch();
    ASSERT_TRUE(other.Decode(body, &fresh).ok()) << name;
    ASSERT_EQ(reused.series.size(), fresh.series.size()) << name;
    for (size_t i = 0; i < fresh.series.size(); ++i) {
      EXPECT_EQ(reused.series[i].labels, fresh.series[i].labels) << name << " series " << i;
      ASSERT_EQ(reused.series[i].samples.size(), fresh.series[i].samples.size());
      EXPECT_EQ(Bits(reused.series[i].samples[0].value), Bits(fresh.series[i].samples[0].value));
    }
    EXPECT_EQ(reused.sample_count, fresh.sample_count);
  }
}

TEST(RemoteWrite, MetadataOnlyHasNoSeries) {
  WriteBatch b = CheckCapture("prom2.42-metadata-only");
  EXPECT_EQ(b.series.size(), 0u);
  EXPECT_EQ(b.sample_count, 0u);
  EXPECT_EQ(b.metadata_count, 448u);
}

TEST(RemoteWrite, StaleMarkersPassThroughBitForBit) {
  WriteBatch b = CheckCapture("prom2.42-stale-markers");
  size_t stale = 0;
  for (const TimeSeries& s : b.series) {
    for (const Sample& p : s.samples) {
      if (IsStaleMarker(p.value)) {
        ++stale;
        EXPECT_EQ(Bits(p.value), kStaleNaNBits);
      }
    }
  }
  EXPECT_EQ(stale, 17u);
  EXPECT_EQ(b.series.size(), 18u);
}

TEST(RemoteWrite, DecoderIsReusableAcrossRequests) {
  RemoteWriteDecoder decoder;
  WriteBatch batch;
  const std::string big = ReadFile("prom2.42-batch500.snappy.bin");
  const std::string tiny = ReadFile("prom2.42-tiny1.snappy.bin");
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(decoder.Decode(big, &batch).ok());
    EXPECT_EQ(batch.series.size(), 500u);
    ASSERT_TRUE(decoder.Decode(tiny, &batch).ok());
    ASSERT_EQ(batch.series.size(), 1u);
    EXPECT_EQ(batch.series[0].labels.MetricName(), "up");
    ASSERT_FALSE(decoder.Decode("garbage", &batch).ok());
    EXPECT_TRUE(batch.series.empty());
  }
}

TEST(RemoteWrite, RoundTripThroughEncoder) {
  std::vector<TimeSeries> in(3);
  in[0].labels = *Labels::FromPairs({{"__name__", "http_requests_total"}, {"code", "200"}, {"path", "/api/ü"}});
  in[0].samples = {{1700000000000, 1.5}, {1700000015000, 2.5}, {1700000030000, StaleMarker()}};
  in[1].labels = *Labels::FromPairs({{"__name__", "job:rate5m"}, {"job", "x"}});
  in[1].samples = {{-5, -0.0}, {std::numeric_limits<int64_t>::max(), INFINITY},
                   {std::numeric_limits<int64_t>::min(), std::numeric_limits<double>::quiet_NaN()}};
  in[2].labels = *Labels::FromPairs({{"__name__", "up"}});
  in[2].samples = {{0, 0}};
  RemoteWriteDecoder decoder;
  WriteBatch out;
  ASSERT_TRUE(decoder.Decode(EncodeRemoteWrite(in), &out).ok());
  ASSERT_EQ(out.series.size(), in.size());
  EXPECT_EQ(out.sample_count, 7u);
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out.series[i].labels, in[i].labels);
    EXPECT_EQ(SeriesIdOf(out.series[i].labels), SeriesIdOf(in[i].labels));
    ASSERT_EQ(out.series[i].samples.size(), in[i].samples.size());
    for (size_t j = 0; j < in[i].samples.size(); ++j) {
      EXPECT_EQ(out.series[i].samples[j].ts_ms, in[i].samples[j].ts_ms);
      EXPECT_EQ(Bits(out.series[i].samples[j].value), Bits(in[i].samples[j].value));
    }
  }
  // An empty request is a valid (empty) body.
  ASSERT_TRUE(decoder.Decode(EncodeRemoteWrite({}), &out).ok());
  EXPECT_TRUE(out.series.empty());
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

TEST(RemoteWrite, TruncatedBodiesAreRefusedWhole) {
  RemoteWriteDecoder decoder;
  WriteBatch out;
  const std::string body = ReadFile("prom2.42-tiny1.snappy.bin");
  for (size_t n = 0; n < body.size(); ++n) {
    Status st = decoder.Decode(std::string_view(body).substr(0, n), &out);
    ASSERT_FALSE(st.ok()) << "prefix " << n;
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(StartsWith(st.message(), "snappy: ")) << st.message();
    EXPECT_TRUE(out.series.empty());
  }
  const std::string pb = ReadFile("prom2.42-tiny1.pb");
  for (size_t n = 1; n < pb.size(); ++n) {
    Status st = decoder.DecodeUncompressed(std::string_view(pb).substr(0, n), &out);
    ASSERT_FALSE(st.ok()) << "prefix " << n;
    EXPECT_TRUE(StartsWith(st.message(), "protobuf: ")) << st.message();
  }
  // A truncated protobuf inside a perfectly good snappy block.
  std::string compressed;
  snappy::Compress(pb.data(), pb.size() - 10, &compressed);
  Status st = decoder.Decode(compressed, &out);
  EXPECT_TRUE(StartsWith(st.message(), "protobuf: ")) << st.message();
  EXPECT_NE(st.message().find("prometheus.WriteRequest"), std::string::npos);
}

TEST(RemoteWrite, GarbageIsRefusedWithTheLayerNamed) {
  RemoteWriteDecoder decoder;
  WriteBatch out;
  Status st = decoder.Decode("", &out);
  EXPECT_EQ(st.message(), "snappy: empty body");
  st = decoder.Decode(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11), &out);
  EXPECT_TRUE(StartsWith(st.message(), "snappy: ")) << st.message();
  EXPECT_NE(st.message().find("block length"), std::string::npos) << st.message();
  // A framed-format stream (what some clients wrongly send) is not a block.
  st = decoder.Decode(std::string("\xff\x06\x00\x00sNaPpY", 10), &out);
  EXPECT_TRUE(StartsWith(st.message(), "snappy: ")) << st.message();
  // Plain protobuf sent without compression.
  st = decoder.Decode(ReadFile("prom2.42-small19.pb"), &out);
  EXPECT_TRUE(StartsWith(st.message(), "snappy: ")) << st.message();
  // Valid snappy around bytes that are not protobuf (field 0 / bad wire type).
  std::string compressed;
  const std::string junk = "\x07\x07 this is not a write request";
  snappy::Compress(junk.data(), junk.size(), &compressed);
  st = decoder.Decode(compressed, &out);
  EXPECT_TRUE(StartsWith(st.message(), "protobuf: ")) << st.message();
  EXPECT_TRUE(out.series.empty());
}

TEST(RemoteWrite, OversizedPayloadsAreRefusedBeforeDecompressing) {
  RemoteWriteDecoder decoder;
  decoder.max_decompressed_bytes = 100;  // tiny1 decompresses to 109 bytes
  WriteBatch out;
  Status st = decoder.Decode(ReadFile("prom2.42-tiny1.snappy.bin"), &out);
  EXPECT_EQ(st.message(), "snappy: body decompresses to 109 bytes, above the limit of 100");
  st = decoder.DecodeUncompressed(ReadFile("prom2.42-tiny1.pb"), &out);
  EXPECT_EQ(st.message(), "protobuf: payload of 109 bytes is above the limit of 100");

  // A 5-byte body announcing 2 GiB must not allocate it.
  RemoteWriteDecoder defaults;
  st = defaults.Decode(std::string("\x80\x80\x80\x80\x08", 5), &out);
  EXPECT_EQ(st.message(), "snappy: body decompresses to 2147483648 bytes, above the limit of 67108864");
}

// --- Hand-built protobuf, for label sets EncodeRemoteWrite cannot produce. ---

using test_bytes::Field;
using test_bytes::Varint;

std::string PbSeries(const std::vector<Label>& labels, int n_samples) {
  std::string ts;
  for (const Label& l : labels) ts += Field(1, Field(1, l.name) + Field(2, l.value));
  for (int i = 0; i < n_samples; ++i) {
    std::string sample = "\x09" + std::string(8, '\0');  // value = 0.0 (field 1, fixed64)
    sample += "\x10" + Varint(1700000000000 + i);        // timestamp (field 2, varint)
    ts += Field(2, sample);
  }
  return Field(1, ts);
}

TEST(RemoteWrite, BadLabelsRejectOnlyTheirSeries) {
  std::string pb;
  pb += PbSeries({{"__name__", "ok_metric"}, {"job", "a"}}, 2);                  // 0 ok
  pb += PbSeries({{"job", "a"}}, 3);                                             // 1 no __name__
  pb += PbSeries({{"__name__", "m"}, {"bad-name", "x"}}, 1);                     // 2 bad label name
  pb += PbSeries({{"__name__", "1abc"}}, 1);                                     // 3 bad metric name
  pb += PbSeries({{"__name__", "m"}, {"job", "a"}, {"job", "b"}}, 4);            // 4 duplicate
  pb += PbSeries({{"__name__", "m"}, {"path", std::string("\xff\xfe", 2)}}, 1);  // 5 bad UTF-8
  pb += PbSeries({{"zone", "eu"}, {"__name__", "job:rate5m"}, {"empty", ""}}, 1);  // 6 ok: unsorted, colon, empty
  pb += PbSeries({{"__name__", "no_samples"}}, 0);                               // 7 skipped
  pb += PbSeries({{"__name__", ""}, {"job", "a"}}, 1);                            // 8 empty name = missing
  pb += PbSeries({{"__name__", "m"}, {"", "v"}}, 1);                              // 9 empty label name
  RemoteWriteDecoder decoder;
  WriteBatch out;
  ASSERT_TRUE(decoder.DecodeUncompressed(pb, &out).ok());

  ASSERT_EQ(out.series.size(), 2u);
  EXPECT_EQ(out.series[0].labels.MetricName(), "ok_metric");
  EXPECT_EQ(out.series[0].samples.size(), 2u);
  const std::vector<Label> want6 = {{"__name__", "job:rate5m"}, {"zone", "eu"}};
  EXPECT_EQ(out.series[1].labels.items(), want6);
  EXPECT_EQ(out.sample_count, 3u);

  ASSERT_EQ(out.rejected.size(), 7u);
  const std::vector<std::pair<size_t, std::string>> want = {
      {1, "series[1]: missing metric name (label __name__)"},
      {2, "series[2]: invalid label name \"bad-name\" (value \"x\")"},
      {3, "series[3]: invalid metric name \"1abc\""},
      {4, "series[4]: duplicate label name \"job\" (values \"a\" and \"b\")"},
      {5, "series[5]: label \"path\" has a value that is not valid UTF-8: \"\\xff\\xfe\""},
      {8, "series[8]: missing metric name (label __name__)"},
      {9, "series[9]: invalid label name \"\" (value \"v\")"},
  };
  size_t rejected_samples = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(out.rejected[i].series_index, want[i].first);
    EXPECT_EQ(out.rejected[i].reason, want[i].second);
    rejected_samples += out.rejected[i].samples;
  }
  EXPECT_EQ(out.rejected[1].samples, 1u);
  EXPECT_EQ(out.rejected[0].samples, 3u);
  EXPECT_EQ(out.rejected[3].samples, 4u);
  EXPECT_EQ(out.rejected_samples, rejected_samples);
  EXPECT_EQ(out.rejected_samples, 12u);
}

TEST(RemoteWrite, LongValuesAreCutInReasons) {
  const std::string name(1000, 'x');
  std::string pb = PbSeries({{"__name__", "m"}, {name + "-", "v"}}, 1);
  RemoteWriteDecoder decoder;
  WriteBatch out;
  ASSERT_TRUE(decoder.DecodeUncompressed(pb, &out).ok());
  ASSERT_EQ(out.rejected.size(), 1u);
  EXPECT_LT(out.rejected[0].reason.size(), 200u);
  EXPECT_NE(out.rejected[0].reason.find("xxx\"..."), std::string::npos);
}

std::string Fixed64(uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}
std::string Key(int number, int wire) { return Varint(static_cast<uint64_t>(number) << 3 | static_cast<uint64_t>(wire)); }

// Decodes `pb` directly and through the generated message; both must agree
// on success, and on the labels and samples of the result.
WriteBatch DecodeBoth(const std::string& pb, Status* st) {
  RemoteWriteDecoder decoder;
  WriteBatch direct, reference;
  *st = decoder.DecodeUncompressed(pb, &direct);
  Status ref = ingest_internal::DecodeWithProtobufMessage(pb, &reference);
  EXPECT_EQ(st->ok(), ref.ok()) << st->ToString() << " vs " << ref.ToString();
  if (st->ok() && ref.ok()) {
    EXPECT_EQ(direct.series.size(), reference.series.size());
    for (size_t i = 0; i < direct.series.size() && i < reference.series.size(); ++i) {
      EXPECT_EQ(direct.series[i].labels, reference.series[i].labels);
      EXPECT_EQ(direct.series[i].samples.size(), reference.series[i].samples.size());
      for (size_t j = 0; j < direct.series[i].samples.size() && j < reference.series[i].samples.size(); ++j) {
        EXPECT_EQ(direct.series[i].samples[j].ts_ms, reference.series[i].samples[j].ts_ms);
        EXPECT_EQ(Bits(direct.series[i].samples[j].value), Bits(reference.series[i].samples[j].value));
      }
    }
    EXPECT_EQ(direct.metadata_count, reference.metadata_count);
    EXPECT_EQ(direct.rejected.size(), reference.rejected.size());
  }
  return direct;
}

TEST(RemoteWriteWire, UnknownFieldsWrongWireTypesAndRepeatsFollowProtobuf) {
  std::string label = Field(1, "job") + Field(2, "old") + Field(2, "new");  // last value wins
  label += Key(7, 0) + Varint(12345) + Key(8, 5) + "abcd" + Key(9, 1) + Fixed64(1);  // unknown fields
  label += Key(1, 0) + Varint(5);  // name with the wrong wire type: skipped as unknown
  std::string sample = Key(1, 1) + Fixed64(0x4000000000000000ULL) + Key(2, 0) + Varint(1000);
  sample += Key(2, 0) + Varint(uint64_t{0} - 1);  // timestamp repeated: -1 wins
  sample += Key(1, 0) + Varint(3);                // value as varint: unknown, skipped
  std::string series = Field(1, Field(1, "__name__") + Field(2, "m")) + Field(1, label) + Field(2, sample);
  series += Field(3, "exemplar bytes, not read") + Key(5, 0) + Varint(1);
  std::string pb = Field(1, series) + Key(2, 2) + Varint(3) + "xyz" + Field(3, Key(1, 0) + Varint(2) + Field(2, "m"));
  pb += Key(1, 0) + Varint(9);  // timeseries with the wrong wire type: skipped
  // A 5-byte key whose bits above 32 are dropped (as protobuf does): field 9, varint.
  pb += std::string("\xc8\x80\x80\x80\x70", 5) + Varint(1);
  Status st;
  WriteBatch out = DecodeBoth(pb, &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(out.series.size(), 1u);
  EXPECT_EQ(out.series[0].labels.Get("job"), "new");
  ASSERT_EQ(out.series[0].samples.size(), 1u);
  EXPECT_EQ(out.series[0].samples[0].value, 2.0);
  EXPECT_EQ(out.series[0].samples[0].ts_ms, -1);
  EXPECT_EQ(out.metadata_count, 1u);
}

TEST(RemoteWriteWire, MalformedWireNamesOffsetAndMessage) {
  const std::string good = PbSeries({{"__name__", "m"}}, 1);
  struct Case {
    std::string pb;
    std::string message;
  };
  const std::vector<Case> cases = {
      {good + "\x0a", "truncated varint at byte 36 of 36 (in prometheus.WriteRequest)"},
      {good + "\x0a\x05" "ab", "length-delimited field runs past its message at byte 36 of 39 (in prometheus.WriteRequest)"},
      {good + Key(0, 0) + Varint(1), "field number 0 at byte 35 of 37 (in prometheus.WriteRequest)"},
      {good + Key(4, 7), "invalid wire type at byte 35 of 36 (in prometheus.WriteRequest)"},
      {good + Key(4, 0) + std::string(10, '\x80') + "\x01", "varint longer than 10 bytes at byte 36 of 47 (in prometheus.WriteRequest)"},
      {good + Field(1, Field(2, Key(2, 0))), "truncated varint at byte 40 of 40 (in prometheus.Sample)"},
      {good + Field(1, Field(1, Key(1, 2) + Varint(9))), "length-delimited field runs past its message at byte 40 of 41 (in prometheus.Label)"},
      {good + Field(1, Field(2, Key(1, 1) + "1234")), "truncated fixed64 field at byte 40 of 44 (in prometheus.Sample)"},
      {good + Field(3, Key(2, 2) + "\x05" "ab"), "length-delimited field runs past its message at byte 38 of 41 (in prometheus.MetricMetadata)"},
      {good + "\x0a\xff\xff\xff\xff\x0f", "length of 2 GiB or more at byte 36 of 41 (in prometheus.WriteRequest)"},
  };
  for (const Case& c : cases) {
    Status st;
    DecodeBoth(c.pb, &st);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.message(), "protobuf: malformed prometheus.WriteRequest: " + c.message);
  }
}

TEST(RemoteWriteWire, GroupsAreRefused) {
  // The protobuf runtime skips an unknown group; Prometheus never sends one
  // and the direct decoder refuses it.
  const std::string pb = PbSeries({{"__name__", "m"}}, 1) + Key(9, 3) + Key(1, 0) + Varint(1) + Key(9, 4);
  RemoteWriteDecoder decoder;
  WriteBatch out;
  Status st = decoder.DecodeUncompressed(pb, &out);
  EXPECT_EQ(st.message(),
            "protobuf: malformed prometheus.WriteRequest: groups (wire types 3 and 4) are not supported at byte 35 of "
            "39 (in prometheus.WriteRequest)");
  EXPECT_TRUE(out.series.empty());
}

TEST(RemoteWriteWire, ErrorAfterGoodSeriesLeavesNothing) {
  std::string pb;
  for (int i = 0; i < 10; ++i) pb += PbSeries({{"__name__", "m"}, {"i", std::to_string(i)}}, 1);
  pb += PbSeries({{"job", "no name"}}, 2);
  pb += "\x0a\x7f";
  RemoteWriteDecoder decoder;
  WriteBatch out;
  ASSERT_FALSE(decoder.DecodeUncompressed(pb, &out).ok());
  EXPECT_TRUE(out.series.empty());
  EXPECT_TRUE(out.rejected.empty());
  EXPECT_EQ(out.sample_count, 0u);
  EXPECT_EQ(out.rejected_samples, 0u);
}

// Not a benchmark (bench/ has those), but prints the decode rate so a
// regression is visible in the test log.
TEST(RemoteWrite, DecodeRateOnBatch500) {
  const std::string body = ReadFile("prom2.42-batch500.snappy.bin");
  RemoteWriteDecoder decoder;
  WriteBatch out;
  const int kRounds = 400;
  const auto start = std::chrono::steady_clock::now();
  size_t samples = 0;
  for (int i = 0; i < kRounds; ++i) {
    ASSERT_TRUE(decoder.Decode(body, &out).ok());
    samples += out.sample_count;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(samples, 500u * kRounds);
  std::printf("remote_write decode, batch500: %.2f M samples/s (%.1f us per request)\n", samples / secs / 1e6,
              secs / kRounds * 1e6);
}

}  // namespace
}  // namespace vigil
