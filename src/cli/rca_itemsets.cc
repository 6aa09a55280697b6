// `vigil rca itemsets FILE.csv --failure-column C`: attribute-value sets
// over-represented among failing records (rca/diff_itemsets.h).
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "rca/diff_itemsets.h"
#include "rca/multidim_data.h"

namespace vigil {

namespace {

int RunItemsets(const std::string& file, const std::string& failure_column, const rca::DiffItemsetConfig& cfg,
                bool as_json) {
  auto text = rca::ReadMaybeGzip(file);
  if (!text.ok()) {
    std::fprintf(stderr, "error: %s\n", text.status().message().c_str());
    return 1;
  }
  auto records = rca::ParseItemsetCsv(*text, failure_column);
  if (!records.ok()) {
    std::fprintf(stderr, "error: %s: %s\n", file.c_str(), records.status().message().c_str());
    return 1;
  }
  size_t failing = 0;
  for (const auto& r : *records) failing += r.failed ? 1 : 0;
  auto found = rca::FindDiffItemsets(*records, cfg);
  if (as_json) {
    nlohmann::json sets = nlohmann::json::array();
    for (const auto& d : found) {
      sets.push_back({{"itemset", d.ToString()}, {"failing", d.failing}, {"succeeding", d.succeeding},
                      {"support", d.support}, {"risk_ratio", d.risk_ratio}, {"lift", d.lift}});
    }
    std::printf("%s\n", nlohmann::json{{"records", records->size()}, {"failing", failing}, {"itemsets", sets}}
                            .dump()
                            .c_str());
    return 0;
  }
  std::printf("%zu records, %zu failing\n", records->size(), failing);
  for (const auto& d : found) {
    std::printf("%s\tfailing=%zu succeeding=%zu support=%.3f risk_ratio=%.2f lift=%.2f\n", d.ToString().c_str(),
                d.failing, d.succeeding, d.support, d.risk_ratio, d.lift);
  }
  if (found.empty()) std::printf("no itemset is over-represented among the failures\n");
  return 0;
}

}  // namespace

// Called by AddRcaCommand (rca.cc) with its `rca` subcommand.
void AddRcaItemsetsCommand(CommandContext& ctx, CLI::App* rca_cmd) {
  struct Opts {
    std::string file, failure_column = "failed";
    rca::DiffItemsetConfig cfg;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = rca_cmd->add_subcommand("itemsets", "Attribute-value sets over-represented in failing records "
                                                  "(CSV with a failure flag column, .gz accepted)");
  cmd->add_option("FILE", o->file, "Records CSV")->required();
  cmd->add_option("--failure-column", o->failure_column, "Column with the failure flag (1/0, true/false, ...)")
      ->default_val("failed");
  cmd->add_option("--min-support", o->cfg.min_support, "Share of failing records an itemset must hold")
      ->default_val(o->cfg.min_support);
  cmd->add_option("--min-risk-ratio", o->cfg.min_risk_ratio, "P(fail | set) / P(fail | not set) at least")
      ->default_val(o->cfg.min_risk_ratio);
  cmd->add_option("--max-length", o->cfg.max_length, "Attribute-value pairs per itemset")->default_val(o->cfg.max_length);
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o, &ctx] { ctx.exit_code = RunItemsets(o->file, o->failure_column, o->cfg, o->json); });
}

}  // namespace vigil
