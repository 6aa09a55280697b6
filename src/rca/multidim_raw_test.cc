#include "rca/multidim_raw.h"

#include <gtest/gtest.h>

namespace vigil::rca {
namespace {

// Requests per minute by province and isp for 5 minutes; at minute 4 the
// (p2, cmcc) leaf drops from ~100 to 10. Minute 1 has an odd spike on
// (p1, ctcc), which the median keeps out of the forecast.
std::string Rows() {
  std::string csv = "ts,province,isp,requests\n";
  const char* provinces[] = {"p1", "p2", "p3"};
  const char* isps[] = {"cmcc", "ctcc"};
  for (int minute = 0; minute < 5; ++minute) {
    for (const char* p : provinces) {
      for (const char* i : isps) {
        double v = 100 + minute;
        if (minute == 1 && std::string(p) == "p1" && std::string(i) == "ctcc") v = 1000;
        if (minute == 4 && std::string(p) == "p2" && std::string(i) == "cmcc") v = 10;
        // Two rows per leaf and minute (detail rows), 20 s apart.
        csv += std::to_string(1700000000 + minute * 60) + "," + p + "," + i + "," + std::to_string(v / 2) + "\n";
        csv += std::to_string(1700000000 + minute * 60 + 20) + "," + p + "," + i + "," + std::to_string(v / 2) + "\n";
      }
    }
  }
  return csv;
}

TEST(MultidimRaw, AggregatesIntervalsWithMedianForecast) {
  RawRowsSpec spec;
  spec.time_column = "ts";
  spec.value_column = "requests";
  spec.interval_ms = 60000;
  auto agg = AggregateRawRows(Rows(), spec);
  ASSERT_TRUE(agg.ok()) << agg.status().message();
  EXPECT_EQ(agg->rows, 60u);
  EXPECT_EQ(agg->at_ms, 1700000000LL * 1000 + 4 * 60000 - (1700000000LL * 1000) % 60000);
  EXPECT_EQ(agg->baseline_used, 4u);
  ASSERT_EQ(agg->table.leaves(), 6u);
  EXPECT_EQ(agg->table.attrs, (std::vector<std::string>{"province", "isp"}));
  for (size_t i = 0; i < 6; ++i) {
    std::string p = agg->table.values[0][agg->table.codes[i * 2]];
    std::string isp = agg->table.values[1][agg->table.codes[i * 2 + 1]];
    // Median of minutes 0..3 = (101 + 102) / 2; with the spike (100, 1000,
    // 102, 103) it is 102.5, where a mean would say 326.
    EXPECT_DOUBLE_EQ(agg->table.predict[i], p == "p1" && isp == "ctcc" ? 102.5 : 101.5) << p << isp;
    EXPECT_DOUBLE_EQ(agg->table.real[i], p == "p2" && isp == "cmcc" ? 10.0 : 104.0);
  }
  auto found = LocalizeMultidim(agg->table);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(FormatElement(agg->table, found[0]), "province=p2&isp=cmcc");
}

TEST(MultidimRaw, InfersIntervalCountsRowsAndHonoursAt) {
  // No value column: each row counts 1; the interval is inferred (20 s here,
  // the smallest gap), and --at picks an earlier interval.
  RawRowsSpec spec;
  spec.time_column = "ts";
  spec.attrs = {"isp"};
  spec.at_ms = (1700000000LL + 60) * 1000;
  spec.baseline_intervals = 1;
  auto agg = AggregateRawRows(Rows(), spec);
  ASSERT_TRUE(agg.ok()) << agg.status().message();
  EXPECT_EQ(agg->interval_ms, 20000);
  EXPECT_EQ(agg->at_ms, (1700000000LL + 60) * 1000);
  ASSERT_EQ(agg->table.leaves(), 2u);
  // isp leaves: 3 rows (one per province) at that instant; the previous
  // interval with rows is minute 0 + 20 s, also 3 rows each.
  EXPECT_DOUBLE_EQ(agg->table.real[0], 3.0);
  EXPECT_DOUBLE_EQ(agg->table.predict[0], 3.0);
}

TEST(MultidimRaw, ErrorsNameLineColumnAndValue) {
  RawRowsSpec spec;
  spec.time_column = "ts";
  spec.value_column = "v";
  auto bad_time = AggregateRawRows("ts,a,v\n1700000000,x,1\nyesterday,x,2\n", spec);
  ASSERT_FALSE(bad_time.ok());
  EXPECT_NE(bad_time.status().message().find("line 3"), std::string::npos);
  EXPECT_NE(bad_time.status().message().find("yesterday"), std::string::npos);
  auto bad_value = AggregateRawRows("ts,a,v\n1700000000,x,abc\n", spec);
  ASSERT_FALSE(bad_value.ok());
  EXPECT_NE(bad_value.status().message().find("\"v\""), std::string::npos);
  EXPECT_NE(bad_value.status().message().find("abc"), std::string::npos);
  EXPECT_FALSE(AggregateRawRows("ts,a\n", spec).ok());  // no column v
  spec.value_column.clear();
  auto one_time = AggregateRawRows("ts,a\n2026-01-01 10:00:00,x\n2026-01-01T10:00:00Z,y\n", spec);
  ASSERT_FALSE(one_time.ok());  // both rows at one instant: nothing to forecast from
  EXPECT_EQ(SplitCsvRecord("a,\"b,c\",\"d\"\"e\"\r"), (std::vector<std::string>{"a", "b,c", "d\"e"}));
}

}  // namespace
}  // namespace vigil::rca
