// Routes of offline root-cause localization on data sent in the request
// (docs/api-contract.md, docs/rca.md):
//   POST /api/v1/rca/multidim   CSV of leaf rows (attr...,real,predict), or raw
//        detail rows with ?time_column=ts[&value_column=v][&attrs=a,b][&at=T]
//        [&interval=60][&baseline=4]: the attribute combinations that explain
//        the KPI anomaly (rca/multidim.h, rca/multidim_raw.h)
//   POST /api/v1/rca/itemsets   CSV or JSON records with a failure flag
//        (?failure_column=failed): attribute-value sets over-represented among
//        the failures (rca/diff_itemsets.h)
// Both are bounded: a body over kMaxRcaBodyBytes or more than kMaxRcaRows rows
// is answered 413 (the search is CPU work on the I/O thread).
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "core/time_format.h"
#include "rca/diff_itemsets.h"
#include "rca/multidim.h"
#include "rca/multidim_data.h"
#include "rca/multidim_raw.h"
#include "server/api.h"
#include "server/api_json.h"

namespace vigil {

namespace {

using json = nlohmann::json;

constexpr size_t kMaxRcaBodyBytes = 16 << 20;
constexpr size_t kMaxRcaRows = 200'000;

bool TooBig(const HttpRequest& req, HttpResponse& res) {
  if (req.body.size() > kMaxRcaBodyBytes) {
    JsonError(res, 413, "body of " + std::to_string(req.body.size()) + " bytes exceeds the limit of " +
                            std::to_string(kMaxRcaBodyBytes) + " bytes");
    return true;
  }
  size_t rows = 0;
  for (char c : req.body) rows += c == '\n';
  if (rows > kMaxRcaRows + 1) {
    JsonError(res, 413, "body has " + std::to_string(rows) + " lines; the limit is " + std::to_string(kMaxRcaRows) +
                            " rows");
    return true;
  }
  return false;
}

// A numeric query parameter; false (and a 400 naming it) when present but bad.
bool NumberParam(const HttpRequest& req, HttpResponse& res, const char* name, double lo, double hi, double* out) {
  std::string v = req.QueryParam(name);
  if (v.empty()) return true;
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (end != v.c_str() + v.size() || !std::isfinite(x) || x < lo || x > hi) {
    JsonError(res, 400, std::string("query parameter ") + name + ": \"" + v + "\" is not a number in [" +
                            std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return false;
  }
  *out = x;
  return true;
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t b = 0;
  while (b <= s.size()) {
    size_t e = s.find(',', b);
    if (e == std::string::npos) e = s.size();
    if (e > b) out.push_back(s.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

void ServeMultidim(const HttpRequest& req, HttpResponse& res) {
  if (TooBig(req, res)) return;
  json out = json::object();
  rca::LeafTable table;
  const std::string time_column = req.QueryParam("time_column");
  if (time_column.empty()) {
    auto t = rca::ParseLeafCsv(req.body);
    if (!t.ok()) return JsonError(res, 400, t.status().message());
    table = std::move(*t);
    out["input"] = "leaves";
  } else {
    rca::RawRowsSpec spec;
    spec.time_column = time_column;
    spec.value_column = req.QueryParam("value_column");
    spec.attrs = SplitComma(req.QueryParam("attrs"));
    if (std::string at = req.QueryParam("at"); !at.empty()) {
      auto ts = ParseTimeParam(at);
      if (!ts.ok()) return JsonError(res, 400, "query parameter at: \"" + at + "\" is not a time (RFC 3339 or epoch)");
      spec.at_ms = *ts;
    }
    double interval_s = 0, baseline = 4;
    if (!NumberParam(req, res, "interval", 0, 1e9, &interval_s)) return;
    if (!NumberParam(req, res, "baseline", 1, 1000, &baseline)) return;
    spec.interval_ms = static_cast<int64_t>(interval_s * 1000);
    spec.baseline_intervals = static_cast<size_t>(baseline);
    auto agg = rca::AggregateRawRows(req.body, spec);
    if (!agg.ok()) return JsonError(res, 400, agg.status().message());
    out["input"] = "raw";
    out["rows"] = agg->rows;
    out["interval_start"] = FormatRfc3339(agg->at_ms);
    out["interval_ms"] = agg->interval_ms;
    out["baseline_intervals"] = agg->baseline_used;
    table = std::move(agg->table);
  }
  auto t0 = std::chrono::steady_clock::now();
  auto elements = rca::LocalizeMultidim(table);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  json causes = json::array();
  for (const auto& e : elements) {
    json items = json::object();
    for (const auto& [a, v] : e.items) items[table.attrs[a]] = table.values[a][v];
    causes.push_back({{"element", rca::FormatElement(table, e)},
                      {"attributes", items},
                      {"explanatory_power", e.explanatory_power},
                      {"purity", e.purity}});
  }
  out["leaves"] = table.leaves();
  out["search_ms"] = ms;
  out["root_causes"] = causes;
  JsonOk(res, out);
}

std::string ScalarText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_null()) return "";
  return v.dump();
}

// JSON records: [{"host": "h1", "failed": true}, ...] or {"records": [...]}.
Result<std::vector<rca::LabeledRecord>> ParseItemsetJson(const std::string& body, const std::string& failure_column) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) return Status::InvalidArgument("body is not valid JSON");
  const json* arr = &doc;
  if (doc.is_object()) {
    if (!doc.contains("records")) return Status::InvalidArgument("body: expected an array of records or {\"records\": [...]}");
    arr = &doc["records"];
  }
  if (!arr->is_array()) return Status::InvalidArgument("records: expected an array");
  std::vector<rca::LabeledRecord> out;
  for (size_t i = 0; i < arr->size(); ++i) {
    const json& r = (*arr)[i];
    const std::string where = "records[" + std::to_string(i) + "]";
    if (!r.is_object()) return Status::InvalidArgument(where + ": expected an object");
    if (!r.contains(failure_column)) return Status::InvalidArgument(where + ": no field \"" + failure_column + "\"");
    rca::LabeledRecord rec;
    const json& f = r[failure_column];
    if (f.is_boolean()) {
      rec.failed = f.get<bool>();
    } else if (!(f.is_string() || f.is_number()) || !rca::ParseFailureFlag(ScalarText(f), &rec.failed)) {
      return Status::InvalidArgument(where + "." + failure_column + ": " + f.dump() +
                                     " is not a failure flag (true/false, 1/0)");
    }
    for (const auto& [k, v] : r.items()) {
      if (k == failure_column) continue;
      if (v.is_object() || v.is_array()) {
        return Status::InvalidArgument(where + "." + k + ": expected a string, number or boolean");
      }
      std::string text = ScalarText(v);
      if (!text.empty()) rec.attrs.emplace_back(k, text);
    }
    out.push_back(std::move(rec));
  }
  return out;
}

void ServeItemsets(const HttpRequest& req, HttpResponse& res) {
  if (TooBig(req, res)) return;
  std::string failure_column = req.QueryParam("failure_column");
  if (failure_column.empty()) failure_column = "failed";
  rca::DiffItemsetConfig cfg;
  double max_length = static_cast<double>(cfg.max_length), max_results = static_cast<double>(cfg.max_results);
  if (!NumberParam(req, res, "min_support", 0, 1, &cfg.min_support) ||
      !NumberParam(req, res, "min_risk_ratio", 0, 1e9, &cfg.min_risk_ratio) ||
      !NumberParam(req, res, "max_length", 1, 5, &max_length) ||
      !NumberParam(req, res, "max_results", 1, 1000, &max_results)) {
    return;
  }
  cfg.max_length = static_cast<size_t>(max_length);
  cfg.max_results = static_cast<size_t>(max_results);
  size_t first = req.body.find_first_not_of(" \t\r\n");
  bool is_json = req.Header("content-type").find("json") != std::string_view::npos ||
                 (first != std::string::npos && (req.body[first] == '[' || req.body[first] == '{'));
  auto records = is_json ? ParseItemsetJson(req.body, failure_column) : rca::ParseItemsetCsv(req.body, failure_column);
  if (!records.ok()) return JsonError(res, 400, records.status().message());
  if (records->size() > kMaxRcaRows) {
    return JsonError(res, 413, std::to_string(records->size()) + " records; the limit is " + std::to_string(kMaxRcaRows));
  }
  size_t failing = 0;
  for (const auto& r : *records) failing += r.failed ? 1 : 0;
  auto t0 = std::chrono::steady_clock::now();
  auto found = rca::FindDiffItemsets(*records, cfg);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  json sets = json::array();
  for (const auto& d : found) {
    json items = json::object();
    for (const auto& [a, v] : d.items) items[a] = v;
    sets.push_back({{"itemset", d.ToString()},
                    {"attributes", items},
                    {"failing", d.failing},
                    {"succeeding", d.succeeding},
                    {"support", d.support},
                    {"risk_ratio", d.risk_ratio},
                    {"lift", d.lift}});
  }
  JsonOk(res, {{"records", records->size()}, {"failing", failing}, {"search_ms", ms}, {"itemsets", sets}});
}

}  // namespace

bool RcaRoutes(Engine& /*engine*/, const HttpRequest& req, HttpResponse& res) {
  const bool multidim = req.path == "/api/v1/rca/multidim";
  const bool itemsets = req.path == "/api/v1/rca/itemsets";
  if (!multidim && !itemsets) return false;
  if (req.method != "POST") {
    JsonError(res, 405, "use POST with the data in the body");
    return true;
  }
  if (multidim) {
    ServeMultidim(req, res);
  } else {
    ServeItemsets(req, res);
  }
  return true;
}

}  // namespace vigil
