#include <cmath>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/hash.h"
#include "core/labels.h"
#include "core/sample.h"
#include "core/time_format.h"

namespace vigil {
namespace {

TEST(Labels, SortsAndValidates) {
  auto l = Labels::FromPairs({{"job", "node"}, {"__name__", "up"}, {"instance", "h:9100"}});
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->items()[0].name, "__name__");
  EXPECT_EQ(l->MetricName(), "up");
  EXPECT_EQ(l->Get("job"), "node");
  EXPECT_EQ(l->Get("missing"), "");
  EXPECT_EQ(l->ToString(), "up{instance=\"h:9100\",job=\"node\"}");
}

TEST(Labels, RejectsDuplicatesAndEmptyNames) {
  auto dup = Labels::FromPairs({{"a", "1"}, {"a", "2"}});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("duplicate label name \"a\""), std::string::npos);
  auto empty = Labels::FromPairs({{"", "x"}});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("empty name"), std::string::npos);
}

TEST(Labels, DropsEmptyValues) {
  auto l = Labels::FromPairs({{"a", ""}, {"b", "1"}});
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->size(), 1u);
}

TEST(SeriesId, IndependentOfInputOrder) {
  auto a = Labels::FromPairs({{"__name__", "up"}, {"job", "node"}});
  auto b = Labels::FromPairs({{"job", "node"}, {"__name__", "up"}});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(SeriesIdOf(*a), SeriesIdOf(*b));
  EXPECT_NE(StableHash64("a"), StableHash64("b"));
  EXPECT_NE(SeriesIdOf(*a), SeriesIdOf(*Labels::FromPairs({{"__name__", "up"}, {"job", "nodf"}})));
}

TEST(SeriesId, HexRoundTrip) {
  SeriesId id = 0x0123456789abcdefULL;
  EXPECT_EQ(SeriesIdToHex(id), "0123456789abcdef");
  auto back = SeriesIdFromHex("0123456789abcdef");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, id);
  EXPECT_FALSE(SeriesIdFromHex("xyz").ok());
  EXPECT_FALSE(SeriesIdFromHex("").ok());
}

TEST(Hash, KnownValuesStayFixed) {
  // Pin the function: if this fails, every stored series id changes.
  EXPECT_EQ(StableHash64("node_cpu_seconds_total"), 0x4c693f55b1b2d380ULL);
  EXPECT_EQ(SeriesIdOf(*Labels::FromPairs({{"__name__", "up"}, {"job", "node"}})), 0x9bf833e2d694a45bULL);
}

// The function as first written (bytes read one by one into words): the
// word loads may be done any way that gives these values, at every length
// and alignment.
uint64_t ByteWiseHash64(std::string_view data, uint64_t seed) {
  constexpr uint64_t kA = 0x9e3779b97f4a7c15ULL, kB = 0xbf58476d1ce4e5b9ULL;
  auto word = [](const unsigned char* p, size_t n) {
    uint64_t w = 0;
    for (size_t i = 0; i < n; ++i) w |= static_cast<uint64_t>(p[i]) << (8 * i);
    return w;
  };
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  uint64_t h = seed ^ (n * kA);
  for (; n >= 8; p += 8, n -= 8) {
    h = (h ^ Mix64(word(p, 8) + kB)) * kA;
    h ^= h >> 29;
  }
  if (n > 0) {
    h = (h ^ Mix64((word(p, n) | (static_cast<uint64_t>(n) << 56)) + kB)) * kA;
    h ^= h >> 29;
  }
  return Mix64(h);
}

TEST(Hash, SameAsByteWiseReadingAtEveryLengthAndAlignment) {
  std::string bytes;
  for (int i = 0; i < 80; ++i) bytes += static_cast<char>((i * 151 + 7) & 0xff);
  for (size_t off = 0; off < 8; ++off) {
    for (size_t len = 0; off + len <= bytes.size(); ++len) {
      std::string_view d(bytes.data() + off, len);
      ASSERT_EQ(StableHash64(d, 42), ByteWiseHash64(d, 42)) << off << " " << len;
    }
  }
}

TEST(Sample, StaleMarker) {
  EXPECT_TRUE(IsStaleMarker(StaleMarker()));
  EXPECT_FALSE(IsStaleMarker(std::nan("")));
  EXPECT_FALSE(IsStaleMarker(1.0));
}

TEST(Time, Rfc3339RoundTrip) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000Z");
  auto t = ParseRfc3339("2026-11-22T10:15:30.123Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatRfc3339(*t), "2026-11-22T10:15:30.123Z");
  auto z = ParseRfc3339("2026-11-22T12:15:30+02:00");
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(FormatRfc3339(*z), "2026-11-22T10:15:30.000Z");
  auto nano = ParseRfc3339("2026-11-22T10:15:30.123456789Z");
  ASSERT_TRUE(nano.ok());
  EXPECT_EQ(*nano % 1000, 123);
  auto go_zero = ParseRfc3339("0001-01-01T00:00:00Z");
  ASSERT_TRUE(go_zero.ok());
  EXPECT_LT(*go_zero, 0);
  auto bad = ParseRfc3339("2026-13-01T00:00:00Z");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("2026-13-01"), std::string::npos);
}

TEST(Time, ParseTimeParam) {
  EXPECT_EQ(*ParseTimeParam("1700000000"), 1700000000000);
  EXPECT_EQ(*ParseTimeParam("1700000000.5"), 1700000000500);
  EXPECT_EQ(*ParseTimeParam("1700000000123"), 1700000000123);
  EXPECT_FALSE(ParseTimeParam("soon").ok());
}

TEST(Clock, Simulated) {
  SimulatedClock c(1000);
  EXPECT_EQ(c.NowMs(), 1000);
  c.Advance(500);
  EXPECT_EQ(c.NowMs(), 1500);
  RealClock r;
  EXPECT_GT(r.NowMs(), 1700000000000);
}

}  // namespace
}  // namespace vigil

#include "core/byte_codec.h"

namespace vigil {
namespace {

TEST(ByteCodec, RoundTrip) {
  std::string b;
  bytes::PutU8(&b, 7);
  bytes::PutFixed32(&b, 0xdeadbeef);
  bytes::PutFixed64(&b, 0x0123456789abcdefULL);
  bytes::PutVarint64(&b, 300);
  bytes::PutVarint64(&b, UINT64_MAX);
  bytes::PutDouble(&b, -2.5);
  bytes::PutLengthPrefixed(&b, std::string("a\0b", 3));
  bytes::PutLabels(&b, *Labels::FromPairs({{"__name__", "up"}, {"job", "node"}}));
  std::string_view in = b;
  uint8_t u8;
  uint32_t u32;
  uint64_t u64, v1, v2;
  double d;
  std::string_view s;
  Labels l;
  ASSERT_TRUE(bytes::GetU8(&in, &u8));
  ASSERT_TRUE(bytes::GetFixed32(&in, &u32));
  ASSERT_TRUE(bytes::GetFixed64(&in, &u64));
  ASSERT_TRUE(bytes::GetVarint64(&in, &v1));
  ASSERT_TRUE(bytes::GetVarint64(&in, &v2));
  ASSERT_TRUE(bytes::GetDouble(&in, &d));
  ASSERT_TRUE(bytes::GetLengthPrefixed(&in, &s));
  ASSERT_TRUE(bytes::GetLabels(&in, &l));
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(u8, 7);
  EXPECT_EQ(u32, 0xdeadbeefu);
  EXPECT_EQ(u64, 0x0123456789abcdefULL);
  EXPECT_EQ(v1, 300u);
  EXPECT_EQ(v2, UINT64_MAX);
  EXPECT_EQ(d, -2.5);
  EXPECT_EQ(s, std::string_view("a\0b", 3));
  EXPECT_EQ(l.ToString(), "up{job=\"node\"}");
}

TEST(ByteCodec, TruncationIsDetected) {
  std::string b;
  bytes::PutLabels(&b, *Labels::FromPairs({{"a", "1"}}));
  for (size_t cut = 0; cut < b.size(); ++cut) {
    std::string_view in(b.data(), cut);
    Labels l;
    EXPECT_FALSE(bytes::GetLabels(&in, &l)) << cut;
  }
  std::string_view bad("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
  uint64_t v;
  EXPECT_FALSE(bytes::GetVarint64(&bad, &v));
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

TEST(ValueInEntityKey, ReadsAnEntityKeysLabels) {
  const std::string key = R"(host="n,1",instance="a\"b",service="cart")";
  EXPECT_EQ(ValueInEntityKey(key, "service"), "cart");
  EXPECT_EQ(ValueInEntityKey(key, "instance"), "a\"b");
  EXPECT_EQ(ValueInEntityKey(key, "host"), "n,1");
  EXPECT_EQ(ValueInEntityKey(key, "pod"), "");
  EXPECT_EQ(ValueInEntityKey("", "service"), "");
}

}  // namespace
}  // namespace vigil
