#include "detect/kpi_parts.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>

namespace vigil {
namespace {

double Wave(int i) { return 10 + 3 * std::sin(i * 0.1) + ((i * 7919) % 13) * 0.1; }

std::string NoveltyBytes(const KnnNovelty& n) {
  std::string out;
  n.AppendTo(&out);
  return out;
}

bool Inside(const void* p, size_t n, const KpiParts& parts) {
  const auto* b = reinterpret_cast<const unsigned char*>(parts.block());
  const auto* q = static_cast<const unsigned char*>(p);
  return q >= b && q + n <= b + parts.bytes();
}

// Every part of every profile's set lies in the one block, in the order
// the header gives, without gaps but for alignment, and the novelty rings
// end the block: one prefetch of [block, block + bytes) covers them all.
TEST(KpiParts, EveryPartLiesInOneBlockAtAFixedOffset) {
  const size_t ring = KnnNovelty::RingBytes(KnnNoveltyConfig{});
  for (uint8_t mask = 0; mask < 8; ++mask) {
    KpiParts parts;
    EXPECT_EQ(parts.Reshape(mask), mask);
    EXPECT_EQ(parts.mask(), mask);
    EXPECT_EQ(parts.bytes(), KpiParts::BytesFor(mask));
    if (mask == 0) {
      EXPECT_EQ(parts.block(), nullptr);
      continue;
    }
    size_t sum = 0;
    const auto* base = reinterpret_cast<const unsigned char*>(parts.block());
    const unsigned char* after = base;  // end of the previous part
    if (KnnNovelty* n = parts.novelty()) {
      EXPECT_EQ(reinterpret_cast<const unsigned char*>(n), base);
      EXPECT_TRUE(Inside(n, sizeof(KnnNovelty), parts));
      EXPECT_TRUE(Inside(n->ring(), ring, parts));
      EXPECT_EQ(reinterpret_cast<const unsigned char*>(n->ring()) + ring, base + parts.bytes());  // the rings end it
      sum += sizeof(KnnNovelty) + ring;
      after = base + sizeof(KnnNovelty);
    } else {
      EXPECT_TRUE((mask & KpiParts::kNovelty) == 0);
    }
    if (Bocpd* b = parts.bocpd()) {
      const auto* p = reinterpret_cast<const unsigned char*>(b);
      EXPECT_GE(p, after);
      EXPECT_LT(p - after, static_cast<std::ptrdiff_t>(alignof(Bocpd)));
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % alignof(Bocpd), 0u);
      EXPECT_TRUE(Inside(b, sizeof(Bocpd), parts));
      sum += sizeof(Bocpd);
      after = p + sizeof(Bocpd);
    }
    if (SpectralResidual* s = parts.sr()) {
      const auto* p = reinterpret_cast<const unsigned char*>(s);
      EXPECT_GE(p, after);
      EXPECT_LT(p - after, static_cast<std::ptrdiff_t>(alignof(SpectralResidual)));
      EXPECT_TRUE(Inside(s, sizeof(SpectralResidual), parts));
      sum += sizeof(SpectralResidual);
    }
    EXPECT_GE(parts.bytes(), sum);
    EXPECT_LT(parts.bytes(), sum + 16);  // alignment padding only
    parts.Prefetch();                    // (reads nothing)
  }
}

// Re-profiling changes the set: the parts kept keep their state (the
// novelty view's rings too, in the new block), new ones start fresh, and a
// placed novelty view then judges exactly as one with its own rings.
TEST(KpiParts, ReshapeKeepsThePartsItKeeps) {
  KpiParts parts;
  parts.Reshape(KpiParts::kNovelty | KpiParts::kBocpd);
  KnnNovelty alone;
  Bocpd bocpd_alone;
  for (int i = 0; i < 3000; ++i) {
    EXPECT_EQ(parts.novelty()->Update(Wave(i), i % 5 == 0), alone.Update(Wave(i), i % 5 == 0));
    if (i % 4 == 0) {
      parts.bocpd()->Update(Wave(i) - 10);
      bocpd_alone.Update(Wave(i) - 10);
    }
  }
  const std::string before = NoveltyBytes(*parts.novelty());
  EXPECT_EQ(before, NoveltyBytes(alone));
  const std::byte* old_block = parts.block();
  EXPECT_EQ(parts.Reshape(KpiParts::kNovelty | KpiParts::kBocpd | KpiParts::kSpectral), KpiParts::kSpectral);
  EXPECT_NE(parts.block(), old_block);
  EXPECT_TRUE(Inside(parts.novelty()->ring(), KnnNovelty::RingBytes(KnnNoveltyConfig{}), parts));
  EXPECT_EQ(NoveltyBytes(*parts.novelty()), before);
  EXPECT_EQ(parts.bocpd()->MapRunLength(), bocpd_alone.MapRunLength());
  EXPECT_EQ(parts.bocpd()->MapMean(), bocpd_alone.MapMean());
  EXPECT_EQ(parts.sr()->Score(), SpectralResidual().Score());
  for (int i = 3000; i < 4000; ++i) {
    const double x = Wave(i) + (i == 3500 ? 20 : 0);
    ASSERT_EQ(parts.novelty()->Update(x, true), alone.Update(x, true)) << i;
  }
  // Dropping BOCPD and the spectral residual keeps the novelty view too.
  EXPECT_EQ(parts.Reshape(KpiParts::kNovelty), 0);
  EXPECT_EQ(parts.bocpd(), nullptr);
  EXPECT_EQ(parts.sr(), nullptr);
  EXPECT_EQ(NoveltyBytes(*parts.novelty()), NoveltyBytes(alone));
  EXPECT_EQ(parts.Reshape(0), 0);
  EXPECT_EQ(parts.block(), nullptr);
  EXPECT_EQ(parts.bytes(), 0u);
}

TEST(KpiParts, AMoveTakesTheBlock) {
  KpiParts a;
  a.Reshape(KpiParts::kNovelty);
  for (int i = 0; i < 700; ++i) a.novelty()->Update(Wave(i));
  const std::string state = NoveltyBytes(*a.novelty());
  const std::byte* block = a.block();
  KpiParts b(std::move(a));
  EXPECT_EQ(b.block(), block);
  EXPECT_EQ(a.block(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(a.novelty(), nullptr);
  KpiParts c;
  c.Reshape(KpiParts::kBocpd);
  c = std::move(b);
  EXPECT_EQ(c.block(), block);
  EXPECT_EQ(NoveltyBytes(*c.novelty()), state);
}

// A snapshot parsed into a placed novelty view stays in the block's rings.
TEST(KpiParts, ParsingIntoAPlacedNoveltyViewKeepsItsRingsInTheBlock) {
  KnnNovelty alone;
  for (int i = 0; i < 1500; ++i) alone.Update(Wave(i));
  const std::string blob = NoveltyBytes(alone);
  KpiParts parts;
  parts.Reshape(KpiParts::kNovelty);
  const int8_t* ring = parts.novelty()->ring();
  std::string_view in = blob;
  ASSERT_TRUE(parts.novelty()->ParseFrom(&in).ok());
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(parts.novelty()->ring(), ring);
  EXPECT_EQ(NoveltyBytes(*parts.novelty()), blob);
  for (int i = 1500; i < 2500; ++i) ASSERT_EQ(parts.novelty()->Update(Wave(i), true), alone.Update(Wave(i), true)) << i;
}

}  // namespace
}  // namespace vigil
