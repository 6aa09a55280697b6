// `vigil rca multidim FILE.csv`: multi-dimensional root-cause localization on
// leaf rows (rca/multidim.h) or raw detail rows (--time-column); `vigil eval multidim DIR`: F1 with exact
// element matching on RS / Squeeze-layout case sets (rca/multidim_data.h).
#include <chrono>
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/time_format.h"
#include "rca/multidim_raw.h"
#include "rca/multidim.h"
#include "rca/multidim_data.h"

namespace vigil {

void AddRcaSyntheticCommands(CommandContext& ctx, CLI::App* rca_cmd);  // rca_synthetic.cc
void AddRcaItemsetsCommand(CommandContext& ctx, CLI::App* rca_cmd);    // rca_itemsets.cc
bool ParseMultidimParams(const std::vector<std::string>& params, rca::MultidimConfig* cfg);  // rca_synthetic.cc

namespace {

using json = nlohmann::json;

// Raw detail rows (--time-column): aggregated into leaves first (rca/multidim_raw.h).
struct RawOptions {
  std::string time_column, value_column, at, attrs;
  double interval_s = 0;
  size_t baseline = 4;
};

Result<rca::LeafTable> LoadLeaves(const std::string& text, const RawOptions& raw) {
  if (raw.time_column.empty()) return rca::ParseLeafCsv(text);
  rca::RawRowsSpec spec;
  spec.time_column = raw.time_column;
  spec.value_column = raw.value_column;
  for (size_t b = 0; b < raw.attrs.size();) {
    size_t e = raw.attrs.find(',', b);
    if (e == std::string::npos) e = raw.attrs.size();
    if (e > b) spec.attrs.push_back(raw.attrs.substr(b, e - b));
    b = e + 1;
  }
  if (!raw.at.empty()) {
    auto at = ParseTimeParam(raw.at);
    if (!at.ok()) return Status::InvalidArgument("--at \"" + raw.at + "\" is not a time (RFC 3339 or epoch)");
    spec.at_ms = *at;
  }
  spec.interval_ms = static_cast<int64_t>(raw.interval_s * 1000);
  spec.baseline_intervals = raw.baseline;
  auto agg = rca::AggregateRawRows(text, spec);
  if (!agg.ok()) return agg.status();
  std::fprintf(stderr, "%zu rows -> %zu leaves; interval %s (%lld ms), forecast = median of %zu previous intervals\n",
               agg->rows, agg->table.leaves(), FormatRfc3339(agg->at_ms).c_str(),
               static_cast<long long>(agg->interval_ms), agg->baseline_used);
  return std::move(agg->table);
}

int RunRcaMultidim(const std::string& file, bool as_json, const RawOptions& raw) {
  auto text = rca::ReadMaybeGzip(file);
  if (!text.ok()) {
    std::fprintf(stderr, "error: %s\n", text.status().message().c_str());
    return 1;
  }
  auto table = LoadLeaves(*text, raw);
  if (!table.ok()) {
    std::fprintf(stderr, "error: %s: %s\n", file.c_str(), table.status().message().c_str());
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  auto elements = rca::LocalizeMultidim(*table);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (as_json) {
    json out = {{"leaves", table->leaves()}, {"search_ms", ms}, {"root_causes", json::array()}};
    for (const auto& e : elements) {
      out["root_causes"].push_back({{"element", rca::FormatElement(*table, e)},
                                    {"explanatory_power", e.explanatory_power},
                                    {"purity", e.purity}});
    }
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("%zu leaves, search %.1f ms\n", table->leaves(), ms);
    for (const auto& e : elements) {
      std::printf("%s\texplanatory_power=%.3f purity=%.3f\n", rca::FormatElement(*table, e).c_str(),
                  e.explanatory_power, e.purity);
    }
    if (elements.empty()) std::printf("no root-cause element (no leaf moved beyond the noise)\n");
  }
  return 0;
}

int RunEvalMultidim(const std::string& dir, bool as_json, size_t max_cases, const std::vector<std::string>& params) {
  rca::MultidimConfig cfg;
  if (!ParseMultidimParams(params, &cfg)) return 2;
  auto t0 = std::chrono::steady_clock::now();
  auto scores = rca::EvaluateMultidim(dir, cfg, max_cases);
  if (!scores.ok()) {
    std::fprintf(stderr, "error: %s\n", scores.status().message().c_str());
    return 1;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rca::MultidimScore total;
  json by_set = json::object();
  for (const auto& [name, s] : *scores) {
    total.Add(s);
    by_set[name] = {{"cases", s.cases}, {"precision", s.precision()}, {"recall", s.recall()}, {"f1", s.f1()},
                    {"tp", s.tp}, {"fp", s.fp}, {"fn", s.fn}};
  }
  if (as_json) {
    json out = {{"cases", total.cases}, {"precision", total.precision()}, {"recall", total.recall()},
                {"f1", total.f1()}, {"by_set", by_set}, {"seconds", secs}};
    std::printf("%s\n", out.dump().c_str());
  } else {
    for (const auto& [name, s] : *scores) {
      std::printf("%-40s cases=%-4zu P=%.3f R=%.3f F1=%.3f\n", name.c_str(), s.cases, s.precision(), s.recall(), s.f1());
    }
    std::printf("%-40s cases=%-4zu P=%.3f R=%.3f F1=%.3f (%.1f s)\n", "all", total.cases, total.precision(),
                total.recall(), total.f1(), secs);
  }
  return 0;
}

}  // namespace

void AddRcaCommand(CommandContext& ctx) {
  auto* rca_cmd = ctx.root->add_subcommand("rca", "Root-cause localization (see docs/rca.md)");
  rca_cmd->require_subcommand(0, 1);  // `vigil rca DIR` is rca_cases.cc's
  auto file = std::make_shared<std::string>();
  auto json_out = std::make_shared<bool>(false);
  auto* md = rca_cmd->add_subcommand("multidim", "Attribute combinations that explain a KPI anomaly, "
                                                 "from a CSV of leaf rows attr...,real,predict (.gz accepted)");
  md->add_option("FILE", *file, "Leaf CSV")->required();
  md->add_flag("--json", *json_out, "Print one JSON object");
  auto raw = std::make_shared<RawOptions>();
  md->add_option("--time-column", raw->time_column,
                 "FILE holds raw detail rows with this time column (RFC 3339, 'YYYY-MM-DD HH:MM:SS' UTC, or epoch)");
  md->add_option("--value-column", raw->value_column, "Raw rows: the value summed per leaf (default: count rows)");
  md->add_option("--attrs", raw->attrs, "Raw rows: attribute columns, comma-separated (default: all others)");
  md->add_option("--at", raw->at, "Raw rows: a time inside the anomalous interval (default: the last one)");
  md->add_option("--interval", raw->interval_s, "Raw rows: interval in seconds (default: smallest time gap)");
  md->add_option("--baseline", raw->baseline, "Raw rows: previous intervals whose per-leaf median is the forecast")
      ->default_val(4)
      ->check(CLI::Range(1, 1000));
  md->callback([file, json_out, raw, &ctx] { ctx.exit_code = RunRcaMultidim(*file, *json_out, *raw); });

  auto dir = std::make_shared<std::string>();
  auto eval_json = std::make_shared<bool>(false);
  auto max_cases = std::make_shared<size_t>(0);
  auto* ev = ctx.eval->add_subcommand("multidim", "F1 (exact element match) of multi-dimensional localization "
                                                  "on RS / Squeeze-layout case sets");
  ev->add_option("DIR", *dir, "A case set directory, or a directory of them")->required();
  ev->add_flag("--json", *eval_json, "Print one JSON object");
  ev->add_option("--max-cases", *max_cases, "Only the first N cases of each set (0 = all)");
  auto params = std::make_shared<std::vector<std::string>>();
  ev->add_option("--param", *params, "Override a MultidimConfig field: name=value (sensitivity studies)");
  ev->callback([dir, eval_json, max_cases, params, &ctx] {
    ctx.exit_code = RunEvalMultidim(*dir, *eval_json, *max_cases, *params);
  });
  AddRcaSyntheticCommands(ctx, rca_cmd);
  AddRcaItemsetsCommand(ctx, rca_cmd);
}

}  // namespace vigil
