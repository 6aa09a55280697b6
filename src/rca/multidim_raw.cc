#include "rca/multidim_raw.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <unordered_map>

#include "core/time_format.h"

namespace vigil::rca {

std::vector<std::string> SplitCsvRecord(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"' && out.back().empty()) {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

namespace {

std::string Trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

Result<TimestampMs> ParseRowTime(const std::string& text) {
  auto t = ParseTimeParam(text);
  if (t.ok()) return t;
  // "2023-01-29 09:03:53[.123]" without a zone: UTC.
  if (text.size() >= 19 && text[10] == ' ') {
    std::string iso = text;
    iso[10] = 'T';
    if (iso.back() != 'Z') iso += 'Z';
    return ParseRfc3339(iso);
  }
  return t;
}

double Median(std::vector<double>& v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Floor division for negative times too.
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

Result<RawAggregation> AggregateRawRows(std::string_view csv, const RawRowsSpec& spec) {
  // Lines.
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < csv.size();) {
    size_t nl = csv.find('\n', pos);
    if (nl == std::string_view::npos) nl = csv.size();
    lines.push_back(csv.substr(pos, nl - pos));
    pos = nl + 1;
  }
  if (lines.empty()) return Status::InvalidArgument("line 1: empty input, expected a header");
  auto header = SplitCsvRecord(lines[0]);
  for (auto& h : header) h = Trimmed(h);
  auto column = [&](const std::string& name) -> int {
    auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
  };
  if (spec.time_column.empty()) return Status::InvalidArgument("the time column is not named");
  const int time_col = column(spec.time_column);
  if (time_col < 0) return Status::InvalidArgument("line 1: no column \"" + spec.time_column + "\" in the header");
  int value_col = -1;
  if (!spec.value_column.empty()) {
    value_col = column(spec.value_column);
    if (value_col < 0) return Status::InvalidArgument("line 1: no column \"" + spec.value_column + "\" in the header");
  }
  std::vector<size_t> attr_cols;
  RawAggregation out;
  if (spec.attrs.empty()) {
    for (size_t c = 0; c < header.size(); ++c) {
      if (static_cast<int>(c) == time_col || static_cast<int>(c) == value_col) continue;
      attr_cols.push_back(c);
      out.table.attrs.push_back(header[c]);
    }
  } else {
    for (const auto& a : spec.attrs) {
      int c = column(a);
      if (c < 0) return Status::InvalidArgument("line 1: no attribute column \"" + a + "\" in the header");
      attr_cols.push_back(static_cast<size_t>(c));
      out.table.attrs.push_back(a);
    }
  }
  if (attr_cols.empty()) return Status::InvalidArgument("line 1: no attribute column besides time and value");

  struct Row {
    TimestampMs ts;
    uint32_t leaf;
    double value;
  };
  std::vector<Row> rows;
  std::unordered_map<std::string, uint32_t> leaf_ids;
  std::vector<std::vector<std::string>> leaf_values;
  for (size_t ln = 1; ln < lines.size(); ++ln) {
    if (lines[ln].empty() || lines[ln] == "\r") continue;
    auto f = SplitCsvRecord(lines[ln]);
    const std::string where = "line " + std::to_string(ln + 1) + ": ";
    if (f.size() != header.size()) {
      return Status::InvalidArgument(where + std::to_string(f.size()) + " fields, header has " +
                                     std::to_string(header.size()));
    }
    const std::string ts_text = Trimmed(f[static_cast<size_t>(time_col)]);
    auto ts = ParseRowTime(ts_text);
    if (!ts.ok()) {
      return Status::InvalidArgument(where + "column \"" + spec.time_column + "\": \"" + ts_text + "\" is not a time");
    }
    double v = 1;
    if (value_col >= 0) {
      const std::string vt = Trimmed(f[static_cast<size_t>(value_col)]);
      char* end = nullptr;
      v = std::strtod(vt.c_str(), &end);
      if (vt.empty() || end != vt.c_str() + vt.size() || !std::isfinite(v)) {
        return Status::InvalidArgument(where + "column \"" + spec.value_column + "\": \"" + vt + "\" is not a number");
      }
    }
    std::string key;
    std::vector<std::string> vals;
    for (size_t c : attr_cols) {
      vals.push_back(Trimmed(f[c]));
      key += vals.back();
      key += '\x1f';
    }
    auto [it, fresh] = leaf_ids.try_emplace(key, static_cast<uint32_t>(leaf_values.size()));
    if (fresh) leaf_values.push_back(std::move(vals));
    rows.push_back({*ts, it->second, v});
  }
  if (rows.empty()) return Status::InvalidArgument("no data rows after the header");
  out.rows = rows.size();

  // Interval width: given, or the smallest gap between distinct row times.
  std::vector<TimestampMs> times;
  times.reserve(rows.size());
  for (const auto& r : rows) times.push_back(r.ts);
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  int64_t interval = spec.interval_ms;
  if (interval <= 0) {
    for (size_t i = 1; i < times.size(); ++i) {
      int64_t gap = times[i] - times[i - 1];
      if (interval <= 0 || gap < interval) interval = gap;
    }
  }
  if (interval <= 0) return Status::InvalidArgument("all rows have one time: no earlier interval to forecast from");
  out.interval_ms = interval;
  const int64_t at_bucket = FloorDiv(spec.at_ms == INT64_MIN ? times.back() : spec.at_ms, interval);
  out.at_ms = at_bucket * interval;

  // Sums per (interval, leaf); intervals after the anomalous one are ignored.
  std::map<int64_t, std::unordered_map<uint32_t, double>> sums;  // bucket -> leaf -> sum
  for (const auto& r : rows) {
    int64_t b = FloorDiv(r.ts, interval);
    if (b <= at_bucket) sums[b][r.leaf] += r.value;
  }
  if (!sums.count(at_bucket)) {
    return Status::InvalidArgument("no row in the anomalous interval starting " + FormatRfc3339(out.at_ms));
  }
  std::vector<const std::unordered_map<uint32_t, double>*> baseline;
  for (auto it = sums.find(at_bucket); it != sums.begin() && baseline.size() < spec.baseline_intervals;) {
    --it;
    baseline.push_back(&it->second);
  }
  if (baseline.empty()) {
    return Status::InvalidArgument("no row before the anomalous interval starting " + FormatRfc3339(out.at_ms) +
                                   ": nothing to forecast from");
  }
  out.baseline_used = baseline.size();
  const auto& now = sums[at_bucket];
  std::vector<double> hist;
  for (uint32_t leaf = 0; leaf < leaf_values.size(); ++leaf) {
    auto r = now.find(leaf);
    double real = r == now.end() ? 0.0 : r->second;
    hist.clear();
    bool seen = r != now.end();
    for (const auto* b : baseline) {
      auto h = b->find(leaf);
      hist.push_back(h == b->end() ? 0.0 : h->second);
      seen = seen || h != b->end();
    }
    if (!seen) continue;  // only in older intervals: no evidence either way
    out.table.Add(leaf_values[leaf], real, Median(hist));
  }
  return out;
}

}  // namespace vigil::rca
