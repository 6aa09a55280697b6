#include "ingest/series_key_cache.h"

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ingest/protobuf_test_bytes.h"

#include "ingest/remote_write.h"

namespace vigil {
namespace {

using ingest_internal::SeriesKeyCache;

// --- The cache alone ---

TEST(SeriesKeyCache, FindsWhatWasInsertedAndNothingElse) {
  SeriesKeyCache cache(100);
  SeriesId id = 0;
  EXPECT_FALSE(cache.Find("abc", SeriesKeyCache::HashKey("abc"), &id));
  cache.Insert("abc", SeriesKeyCache::HashKey("abc"), 42);
  cache.Insert("abd", SeriesKeyCache::HashKey("abd"), 43);
  ASSERT_TRUE(cache.Find("abc", SeriesKeyCache::HashKey("abc"), &id));
  EXPECT_EQ(id, 42u);
  ASSERT_TRUE(cache.Find("abd", SeriesKeyCache::HashKey("abd"), &id));
  EXPECT_EQ(id, 43u);
  EXPECT_FALSE(cache.Find("ab", SeriesKeyCache::HashKey("ab"), &id));
  EXPECT_FALSE(cache.Find("abcd", SeriesKeyCache::HashKey("abcd"), &id));
  EXPECT_EQ(cache.size(), 2u);
}

TEST(SeriesKeyCache, CollidingHashesAreTellApartByTheirBytes) {
  // Every key under one hash: the tag and the hash match for all of them,
  // only the bytes differ (and a key that is a prefix of another).
  SeriesKeyCache cache(100);
  const uint64_t h = 0x1234567890abcdefULL;
  const std::vector<std::string> keys = {"a", "b", "ab", "abc", std::string("a\0c", 3), ""};
  for (size_t i = 0; i + 1 < keys.size(); ++i) cache.Insert(keys[i], h, 100 + i);
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    SeriesId id = 0;
    ASSERT_TRUE(cache.Find(keys[i], h, &id)) << i;
    EXPECT_EQ(id, 100 + i);
  }
  SeriesId id = 0;
  EXPECT_FALSE(cache.Find("", h, &id));
  EXPECT_FALSE(cache.Find("abcd", h, &id));
  EXPECT_FALSE(cache.Find(std::string("a\0d", 3), h, &id));
  // Same low bits (same home slot), other tag.
  EXPECT_FALSE(cache.Find("a", h ^ (uint64_t{1} << 40), &id));
}

TEST(SeriesKeyCache, GrowsAndKeepsEverything) {
  SeriesKeyCache cache(100000);
  for (uint64_t i = 0; i < 20000; ++i) {
    const std::string key = "series-" + std::to_string(i);
    cache.Insert(key, SeriesKeyCache::HashKey(key), i * 7);
  }
  EXPECT_EQ(cache.size(), 20000u);
  EXPECT_EQ(cache.resets(), 0u);
  for (uint64_t i = 0; i < 20000; ++i) {
    const std::string key = "series-" + std::to_string(i);
    SeriesId id = 0;
    ASSERT_TRUE(cache.Find(key, SeriesKeyCache::HashKey(key), &id)) << i;
    EXPECT_EQ(id, i * 7);
  }
}

TEST(SeriesKeyCache, BoundedInEntriesAndBytes) {
  SeriesKeyCache by_count(8);
  for (uint64_t i = 0; i < 100; ++i) {
    const std::string key = "k" + std::to_string(i);
    by_count.Insert(key, SeriesKeyCache::HashKey(key), i);
    ASSERT_LE(by_count.size(), 8u);
    SeriesId id = 0;
    ASSERT_TRUE(by_count.Find(key, SeriesKeyCache::HashKey(key), &id));  // the newest is always there
    EXPECT_EQ(id, i);
  }
  EXPECT_EQ(by_count.resets(), 12u);  // 100 = 12 * 8 + 4

  SeriesKeyCache by_bytes(1000, 200);
  const std::string big(60, 'x');
  for (int i = 0; i < 50; ++i) {
    const std::string key = big + std::to_string(i);
    by_bytes.Insert(key, SeriesKeyCache::HashKey(key), static_cast<SeriesId>(i));
    ASSERT_LE(by_bytes.bytes(), 200u);
  }
  EXPECT_GT(by_bytes.resets(), 0u);

  // Keys above kMaxKeyBytes and a zero bound keep nothing.
  SeriesKeyCache cache(10);
  const std::string huge(SeriesKeyCache::kMaxKeyBytes + 1, 'y');
  cache.Insert(huge, SeriesKeyCache::HashKey(huge), 1);
  EXPECT_EQ(cache.size(), 0u);
  SeriesKeyCache off(0);
  off.Insert("a", SeriesKeyCache::HashKey("a"), 1);
  SeriesId id = 0;
  EXPECT_FALSE(off.Find("a", SeriesKeyCache::HashKey("a"), &id));
}

// --- The decoder with the cache on, against the decoder without it ---

using test_bytes::Field;
using test_bytes::Varint;

std::string LabelField(const std::string& name, const std::string& value) {
  return Field(1, Field(1, name) + Field(2, value));
}
std::string SampleField(double value, int64_t ts) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  std::string s = "\x09";
  for (int i = 0; i < 8; ++i) s += static_cast<char>((bits >> (8 * i)) & 0xff);
  return Field(2, s + "\x10" + Varint(static_cast<uint64_t>(ts)));
}
uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// Decodes `pb` with `cached` (cache on, reused across calls) and a fresh
// decoder without the cache, and requires the same outcome: status and
// message, series, labels (through LabelsOf), ids, samples bit for bit,
// rejections. Returns the cached decoder's batch.
void ExpectSameAsUncached(RemoteWriteDecoder& cached, const std::string& pb, WriteBatch* got,
                          const std::string& what) {
  SCOPED_TRACE(what);
  RemoteWriteDecoder plain;
  WriteBatch want;
  const Status ws = plain.DecodeUncompressed(pb, &want);
  const Status gs = cached.DecodeUncompressed(pb, got);
  ASSERT_EQ(gs.ok(), ws.ok()) << gs.ToString() << " vs " << ws.ToString();
  EXPECT_EQ(gs.message(), ws.message());
  ASSERT_EQ(got->series.size(), want.series.size());
  if (ws.ok()) {
    ASSERT_EQ(got->keys.size(), got->series.size());
  }
  for (size_t i = 0; i < want.series.size(); ++i) {
    EXPECT_EQ(got->LabelsOf(i), want.series[i].labels) << "series " << i;
    EXPECT_EQ(got->IdOf(i), SeriesIdOf(want.series[i].labels)) << "series " << i;
    EXPECT_EQ(got->LabelsElsewhere(i), got->series[i].labels.empty());
    ASSERT_EQ(got->series[i].samples.size(), want.series[i].samples.size());
    for (size_t j = 0; j < want.series[i].samples.size(); ++j) {
      EXPECT_EQ(got->series[i].samples[j].ts_ms, want.series[i].samples[j].ts_ms);
      EXPECT_EQ(Bits(got->series[i].samples[j].value), Bits(want.series[i].samples[j].value));
    }
  }
  EXPECT_EQ(got->sample_count, want.sample_count);
  EXPECT_EQ(got->metadata_count, want.metadata_count);
  EXPECT_EQ(got->rejected_samples, want.rejected_samples);
  ASSERT_EQ(got->rejected.size(), want.rejected.size());
  for (size_t i = 0; i < want.rejected.size(); ++i) {
    EXPECT_EQ(got->rejected[i].series_index, want.rejected[i].series_index);
    EXPECT_EQ(got->rejected[i].reason, want.rejected[i].reason);
  }
}

TEST(RemoteWriteSeriesCache, SecondRequestHitsWithTheSameIdsAndStaleMarkers) {
  RemoteWriteDecoder decoder;
  decoder.EnableSeriesCache(1000);
  auto request = [](int64_t ts) {
    std::string pb;
    for (int i = 0; i < 50; ++i) {
      std::string ts_pb = LabelField("__name__", "node_cpu_seconds_total") + LabelField("cpu", std::to_string(i)) +
                          LabelField("instance", "host-1:9100") + LabelField("mode", "idle");
      ts_pb += SampleField(i == 7 ? StaleMarker() : 1.5 * i, ts);
      pb += Field(1, ts_pb);
    }
    return pb;
  };
  WriteBatch batch;
  ExpectSameAsUncached(decoder, request(1000), &batch, "first");
  EXPECT_EQ(decoder.cache_stats().misses, 50u);
  EXPECT_EQ(decoder.cache_stats().hits, 0u);
  EXPECT_EQ(decoder.cache_stats().entries, 50u);
  for (size_t i = 0; i < batch.series.size(); ++i) EXPECT_FALSE(batch.LabelsElsewhere(i));

  ExpectSameAsUncached(decoder, request(2000), &batch, "second");
  EXPECT_EQ(decoder.cache_stats().hits, 50u);
  EXPECT_EQ(decoder.cache_stats().misses, 50u);
  for (size_t i = 0; i < batch.series.size(); ++i) {
    EXPECT_TRUE(batch.LabelsElsewhere(i));
    EXPECT_TRUE(batch.series[i].labels.empty());
  }
  EXPECT_TRUE(IsStaleMarker(batch.series[7].samples[0].value));
  EXPECT_EQ(Bits(batch.series[7].samples[0].value), kStaleNaNBits);
}

TEST(RemoteWriteSeriesCache, LabelOrderVariantsAreSeparateEntriesWithOneId) {
  RemoteWriteDecoder decoder;
  decoder.EnableSeriesCache(1000);
  const std::string sorted = LabelField("__name__", "up") + LabelField("job", "node") + LabelField("zone", "eu");
  const std::string unsorted = LabelField("zone", "eu") + LabelField("__name__", "up") + LabelField("job", "node");
  const std::string with_empty = sorted + LabelField("empty", "");
  const std::string pb = Field(1, sorted + SampleField(1, 1)) + Field(1, unsorted + SampleField(2, 1)) +
                         Field(1, with_empty + SampleField(3, 1));
  WriteBatch batch;
  for (int round = 0; round < 3; ++round) {
    ExpectSameAsUncached(decoder, pb, &batch, "round " + std::to_string(round));
    ASSERT_EQ(batch.series.size(), 3u);
    EXPECT_EQ(batch.IdOf(0), batch.IdOf(1));
    EXPECT_EQ(batch.IdOf(0), batch.IdOf(2));
  }
  EXPECT_EQ(decoder.cache_stats().entries, 3u);
  EXPECT_EQ(decoder.cache_stats().hits, 6u);
}

TEST(RemoteWriteSeriesCache, LabelFieldsSplitBySamplesAreNotCached) {
  // Labels that are not one run of bytes take the full path every time.
  RemoteWriteDecoder decoder;
  decoder.EnableSeriesCache(1000);
  const std::string pb = Field(1, LabelField("__name__", "up") + SampleField(1, 1) + LabelField("job", "x"));
  WriteBatch batch;
  ExpectSameAsUncached(decoder, pb, &batch, "first");
  ExpectSameAsUncached(decoder, pb, &batch, "second");
  EXPECT_EQ(decoder.cache_stats().hits, 0u);
  EXPECT_EQ(decoder.cache_stats().entries, 0u);
  EXPECT_EQ(batch.series[0].labels.Get("job"), "x");
}

TEST(RemoteWriteSeriesCache, RefusedSeriesAreNeverCachedAndKeepTheirReasons) {
  RemoteWriteDecoder decoder;
  decoder.EnableSeriesCache(1000);
  std::string pb = Field(1, LabelField("__name__", "m") + LabelField("bad-name", "x") + SampleField(1, 1));
  pb += Field(1, LabelField("__name__", "m") + LabelField("job", "a") + LabelField("job", "b") + SampleField(1, 1));
  pb += Field(1, LabelField("__name__", "no_samples"));
  pb += Field(1, LabelField("__name__", "ok") + SampleField(1, 1));
  WriteBatch batch;
  for (int round = 0; round < 2; ++round) {
    ExpectSameAsUncached(decoder, pb, &batch, "round " + std::to_string(round));
    EXPECT_EQ(batch.rejected.size(), 2u);
    EXPECT_EQ(batch.series.size(), 1u);
  }
  EXPECT_EQ(decoder.cache_stats().entries, 1u);
  EXPECT_EQ(decoder.cache_stats().hits, 1u);
}

TEST(RemoteWriteSeriesCache, MalformedSeriesGiveTheSameErrorsAfterAHit) {
  // A cached label run followed by a broken sample, a broken label after a
  // valid one, and both: the error is the one the plain decoder reports
  // (the first in byte order), not the one the cached walk meets first.
  RemoteWriteDecoder decoder;
  decoder.EnableSeriesCache(1000);
  const std::string labels = LabelField("__name__", "up") + LabelField("job", "x");
  WriteBatch batch;
  ExpectSameAsUncached(decoder, Field(1, labels + SampleField(1, 1)), &batch, "warm");
  const std::string bad_sample = Field(2, "\x09" "1234");                  // truncated fixed64
  const std::string bad_label = Field(1, std::string("\x0a\x09") + "ab");  // name runs past the label
  const std::vector<std::string> cases = {
      Field(1, labels + bad_sample),
      Field(1, labels + bad_label + SampleField(1, 2)),
      Field(1, labels + bad_label + bad_sample),
      Field(1, labels + SampleField(1, 2)) + "\x0a",
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    ExpectSameAsUncached(decoder, cases[i], &batch, "case " + std::to_string(i));
    EXPECT_TRUE(batch.series.empty());
  }
}

TEST(RemoteWriteSeriesCache, SmallBoundStaysBoundedAndCorrect) {
  RemoteWriteDecoder decoder;
  decoder.EnableSeriesCache(16);
  std::string pb;
  for (int i = 0; i < 100; ++i) {
    pb += Field(1, LabelField("__name__", "m") + LabelField("i", std::to_string(i)) + SampleField(i, 5));
  }
  WriteBatch batch;
  for (int round = 0; round < 3; ++round) {
    ExpectSameAsUncached(decoder, pb, &batch, "round " + std::to_string(round));
    EXPECT_LE(decoder.cache_stats().entries, 16u);
  }
  EXPECT_GT(decoder.cache_stats().resets, 0u);
}

TEST(RemoteWriteSeriesCache, RandomRequestsAndCorruptionsMatchTheUncachedDecoder) {
  // Requests drawn from a small pool of label sets (so series repeat across
  // requests: hits), some unsorted, some invalid, some with empty values or
  // no samples, stale markers; every other request cut or with one byte
  // changed. A small bound makes the cache reset now and then.
  std::mt19937_64 rng(7);
  std::vector<std::string> pool;
  for (int i = 0; i < 60; ++i) {
    std::vector<std::pair<std::string, std::string>> l = {
        {"__name__", i % 17 == 0 ? "1bad" : "metric_" + std::to_string(i % 7)},
        {"instance", "h" + std::to_string(i % 5)},
        {"job", i % 11 == 0 ? "" : "node"},
        {"le", std::to_string(i)}};
    if (i % 3 == 0) std::swap(l[0], l[2]);
    if (i % 13 == 0) l.push_back({"job", "dup"});
    std::string run;
    for (const auto& [n, v] : l) run += LabelField(n, v);
    pool.push_back(run);
  }
  RemoteWriteDecoder decoder;
  decoder.EnableSeriesCache(40);
  WriteBatch batch;
  for (int req = 0; req < 400; ++req) {
    std::string pb;
    const int n = 1 + static_cast<int>(rng() % 20);
    for (int k = 0; k < n; ++k) {
      std::string ts = pool[rng() % pool.size()];
      const int samples = static_cast<int>(rng() % 3);
      for (int s = 0; s < samples; ++s) {
        ts += SampleField(rng() % 5 == 0 ? StaleMarker() : static_cast<double>(rng() % 1000), 1000 * req + s);
      }
      pb += Field(1, ts);
    }
    if (req % 2 == 1 && !pb.empty()) {
      if (rng() % 2 == 0) {
        pb.resize(rng() % pb.size());
      } else {
        pb[rng() % pb.size()] = static_cast<char>(rng());
      }
    }
    ExpectSameAsUncached(decoder, pb, &batch, "request " + std::to_string(req));
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(decoder.cache_stats().hits, 500u);  // 765 with this seed
  EXPECT_GT(decoder.cache_stats().resets, 0u);
}

TEST(RemoteWriteSeriesCache, LabelsFromRemoteWriteFields) {
  auto l = LabelsFromRemoteWriteFields(LabelField("zone", "eu") + LabelField("__name__", "up") + LabelField("x", ""));
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->ToString(), "up{zone=\"eu\"}");
  EXPECT_FALSE(LabelsFromRemoteWriteFields(LabelField("job", "x")).ok());
  EXPECT_FALSE(LabelsFromRemoteWriteFields(std::string("\x0a\x09") + "ab").ok());
}

}  // namespace
}  // namespace vigil
