#include "store/series_window.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace vigil {
namespace {

std::vector<TimestampMs> Times(const std::vector<Sample>& v) {
  std::vector<TimestampMs> out;
  for (const Sample& s : v) out.push_back(s.ts_ms);
  return out;
}

TEST(SeriesWindow, StartsEmptyWithoutStorage) {
  SeriesWindow w(720);
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(w.capacity(), 720u);
  EXPECT_EQ(w.MemoryBytes(), sizeof(SeriesWindow));
  EXPECT_TRUE(w.Range(INT64_MIN, INT64_MAX).empty());
}

TEST(SeriesWindow, GrowsByDoublingUpToCapacity) {
  SeriesWindow w(720);
  w.Append({1, 1});
  EXPECT_LE(w.MemoryBytes(), sizeof(SeriesWindow) + 8 * sizeof(Sample));
  for (int i = 2; i <= 100; ++i) w.Append({i, 1});
  EXPECT_LE(w.MemoryBytes(), sizeof(SeriesWindow) + 128 * sizeof(Sample));
  for (int i = 101; i <= 5000; ++i) w.Append({i, 1});
  // Never more than the capacity, even though 720 is not a power of two.
  EXPECT_EQ(w.MemoryBytes(), sizeof(SeriesWindow) + 720 * sizeof(Sample));
  EXPECT_EQ(w.size(), 720u);
}

TEST(SeriesWindow, EvictsOldestWhenFull) {
  SeriesWindow w(4);
  for (int i = 1; i <= 6; ++i) EXPECT_TRUE(w.Append({i * 10, static_cast<double>(i)}));
  EXPECT_EQ(w.size(), 4u);
  EXPECT_EQ(Times(w.Range(INT64_MIN, INT64_MAX)), (std::vector<TimestampMs>{30, 40, 50, 60}));
  EXPECT_EQ(w.at(0).ts_ms, 30);
  EXPECT_EQ(w.back().ts_ms, 60);
  EXPECT_EQ(w.back().value, 6.0);
}

TEST(SeriesWindow, RangeIsInclusiveAcrossTheWrap) {
  SeriesWindow w(5);
  for (int i = 1; i <= 8; ++i) w.Append({i * 10, 0});  // holds 40..80, wrapped
  EXPECT_EQ(Times(w.Range(40, 80)), (std::vector<TimestampMs>{40, 50, 60, 70, 80}));
  EXPECT_EQ(Times(w.Range(45, 70)), (std::vector<TimestampMs>{50, 60, 70}));
  EXPECT_EQ(Times(w.Range(60, 60)), (std::vector<TimestampMs>{60}));
  EXPECT_TRUE(w.Range(61, 69).empty());
  EXPECT_TRUE(w.Range(0, 39).empty());
  EXPECT_TRUE(w.Range(81, INT64_MAX).empty());
  EXPECT_TRUE(w.Range(70, 50).empty());
  EXPECT_EQ(Times(w.Range(INT64_MIN, 50)), (std::vector<TimestampMs>{40, 50}));
}

TEST(SeriesWindow, DropsOutOfOrderAndRepeatedTimestamps) {
  SeriesWindow w(10);
  EXPECT_TRUE(w.Append({100, 1}));
  EXPECT_FALSE(w.Append({100, 2}));
  EXPECT_FALSE(w.Append({50, 3}));
  EXPECT_TRUE(w.Append({101, 4}));
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(w.at(0).value, 1.0);
  EXPECT_EQ(w.back().value, 4.0);
}

TEST(SeriesWindow, ClearReleasesStorage) {
  SeriesWindow w(16);
  for (int i = 0; i < 20; ++i) w.Append({i, 0});
  w.Clear();
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.capacity(), 16u);
  EXPECT_EQ(w.MemoryBytes(), sizeof(SeriesWindow));
  // Usable again, including an earlier timestamp than before the Clear.
  EXPECT_TRUE(w.Append({3, 1}));
  EXPECT_EQ(w.size(), 1u);
}

TEST(SeriesWindow, ZeroCapacityIsClampedToOne) {
  SeriesWindow w(0);
  EXPECT_EQ(w.capacity(), 1u);
  w.Append({1, 1});
  w.Append({2, 2});
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.back().ts_ms, 2);
}

void ExpectSameWindow(const SeriesWindow& a, const SeriesWindow& b) {
  ASSERT_EQ(a.capacity(), b.capacity());
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a.at(i).ts_ms, b.at(i).ts_ms) << i;
    // Bit-exact: NaN payloads (Prometheus stale markers) must survive.
    EXPECT_EQ(std::bit_cast<uint64_t>(a.at(i).value), std::bit_cast<uint64_t>(b.at(i).value)) << i;
  }
}

TEST(SeriesWindow, SerializationRoundTripsWrappedWindowBitExactly) {
  SeriesWindow w(6);
  const double values[] = {1.5, -0.0, std::numeric_limits<double>::infinity(), StaleMarker(),
                           std::numeric_limits<double>::quiet_NaN(), 1e-300, 42, 43, 44};
  TimestampMs t = 1'700'000'000'000;
  for (double v : values) w.Append({t += 15'000, v});
  std::string blob;
  w.AppendTo(&blob);
  std::string_view in = blob;
  auto back = SeriesWindow::Parse(&in);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(in.empty());
  ExpectSameWindow(w, *back);
  EXPECT_TRUE(IsStaleMarker(back->at(0).value));
  // The parsed window keeps working as a ring.
  back->Append({t + 1, 7});
  EXPECT_EQ(back->size(), 6u);
  EXPECT_EQ(back->back().value, 7.0);
}

TEST(SeriesWindow, SerializationHandlesExtremeTimestampsAndEmptyWindows) {
  SeriesWindow w(3);
  w.Append({INT64_MIN, 1});
  w.Append({0, 2});
  w.Append({INT64_MAX, 3});
  SeriesWindow empty(9);
  std::string blob;
  w.AppendTo(&blob);
  empty.AppendTo(&blob);
  w.AppendTo(&blob);
  std::string_view in = blob;
  for (const SeriesWindow* expected : {&w, &empty, &w}) {
    auto got = SeriesWindow::Parse(&in);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ExpectSameWindow(*expected, *got);
  }
  EXPECT_TRUE(in.empty());
}

TEST(SeriesWindow, ParseRejectsEveryTruncationAndLeavesInputAlone) {
  SeriesWindow w(8);
  for (int i = 0; i < 5; ++i) w.Append({1000 + i * 300, i * 1.25});
  std::string blob;
  w.AppendTo(&blob);
  for (size_t n = 0; n < blob.size(); ++n) {
    std::string_view in(blob.data(), n);
    auto got = SeriesWindow::Parse(&in);
    ASSERT_FALSE(got.ok()) << "prefix of " << n << " bytes parsed";
    EXPECT_EQ(got.status().code(), StatusCode::kCorruption);
    EXPECT_EQ(in.size(), n);
  }
}

TEST(SeriesWindow, ParseRejectsBadHeadersAndOrder) {
  auto parse = [](const std::string& bytes) {
    std::string_view in = bytes;
    return SeriesWindow::Parse(&in).status();
  };
  EXPECT_NE(parse(std::string("\x02\x04\x00", 3)).message().find("format version"), std::string::npos);
  EXPECT_NE(parse(std::string("\x01\x00\x00", 3)).message().find("capacity 0"), std::string::npos);
  // capacity 2, count 3.
  EXPECT_NE(parse(std::string("\x01\x02\x03", 3)).message().find("exceed capacity"), std::string::npos);
  // Huge capacity must be refused, not allocated.
  EXPECT_NE(parse(std::string("\x01\xff\xff\xff\xff\x0f\x00", 7)).message().find("out of range"),
            std::string::npos);
  // Two samples with a zero delta: not increasing.
  std::string dup("\x01\x04\x02\x05\x00", 5);
  dup += std::string(16, '\0');
  EXPECT_NE(parse(dup).message().find("not increasing"), std::string::npos);
}

}  // namespace
}  // namespace vigil
