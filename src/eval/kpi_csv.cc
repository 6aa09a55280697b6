#include "eval/kpi_csv.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <sstream>

namespace vigil {

namespace {

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream ss(line);
  while (std::getline(ss, cur, ',')) {
    while (!cur.empty() && (cur.back() == '\r' || cur.back() == ' ')) cur.pop_back();
    while (!cur.empty() && cur.front() == ' ') cur.erase(cur.begin());
    out.push_back(cur);
  }
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

bool ToDouble(const std::string& s, double* v) {
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size();
}

}  // namespace

Result<std::map<std::string, LabelledKpi>> ReadKpiCsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot open " + path);
  std::string line;
  if (!std::getline(in, line)) return Status::InvalidArgument(path + ": empty file");
  auto header = SplitCsv(line);
  int c_ts = -1, c_val = -1, c_label = -1, c_id = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string& h = header[i];
    if (h == "timestamp") c_ts = static_cast<int>(i);
    else if (h == "value") c_val = static_cast<int>(i);
    else if (h == "label") c_label = static_cast<int>(i);
    else if (h == "KPI ID" || h == "kpi_id" || h == "KPI_ID") c_id = static_cast<int>(i);
  }
  if (c_ts < 0 || c_val < 0 || c_label < 0) {
    return Status::InvalidArgument(path + ":1: header must name timestamp, value, label (and KPI ID)");
  }
  std::map<std::string, LabelledKpi> out;
  size_t lineno = 1;
  const int need = std::max({c_ts, c_val, c_label, c_id});
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line == "\r") continue;
    auto f = SplitCsv(line);
    const std::string where = path + ":" + std::to_string(lineno);
    if (static_cast<int>(f.size()) <= need) return Status::InvalidArgument(where + ": expected " + std::to_string(need + 1) + " fields");
    double ts, v, label;
    if (!ToDouble(f[static_cast<size_t>(c_ts)], &ts)) return Status::InvalidArgument(where + ": field \"timestamp\": \"" + f[static_cast<size_t>(c_ts)] + "\" is not a number");
    if (!ToDouble(f[static_cast<size_t>(c_val)], &v)) return Status::InvalidArgument(where + ": field \"value\": \"" + f[static_cast<size_t>(c_val)] + "\" is not a number");
    if (!ToDouble(f[static_cast<size_t>(c_label)], &label) || (label != 0 && label != 1)) {
      return Status::InvalidArgument(where + ": field \"label\": \"" + f[static_cast<size_t>(c_label)] + "\" is not 0 or 1");
    }
    LabelledKpi& k = out[c_id >= 0 ? f[static_cast<size_t>(c_id)] : std::string("kpi")];
    // Seconds (the challenge's unit) or milliseconds.
    k.ts.push_back(ts < 1e11 ? static_cast<TimestampMs>(ts * 1000) : static_cast<TimestampMs>(ts));
    k.values.push_back(v);
    k.labels.push_back(label == 1);
  }
  for (auto& [id, k] : out) {
    if (std::is_sorted(k.ts.begin(), k.ts.end())) continue;
    std::vector<size_t> idx(k.ts.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return k.ts[a] < k.ts[b]; });
    LabelledKpi s;
    for (size_t i : idx) {
      if (!s.ts.empty() && s.ts.back() == k.ts[i]) continue;
      s.ts.push_back(k.ts[i]);
      s.values.push_back(k.values[i]);
      s.labels.push_back(k.labels[i]);
    }
    k = std::move(s);
  }
  return out;
}

}  // namespace vigil
