// `vigil eval storms`: alert-storm compression, purity, completeness and
// missed faults of the alert pipeline (docs/alerts.md).
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/time_format.h"
#include "incidents/storm_eval.h"

namespace vigil {

namespace {

struct StormFlags {
  int storms = 5;
  uint64_t seed = 1;
  int faults = 6;
  bool json = false;
  bool explain = false;
  bool score_shared = false;
  double dependency_labels = 0;
  bool ignore_dependency_labels = false;
  std::string dump_dir;
};

// Writes storm-<seed>.json (the sends, in order, as Prometheus would post
// them, with the truth) so that tests/alertmanager_storm.py can replay the
// same storm through a real Alertmanager.
void Dump(const Storm& storm, uint64_t seed, const std::string& dir) {
  std::filesystem::create_directories(dir);
  nlohmann::json j;
  j["seed"] = seed;
  j["alerts"] = storm.alert_episodes;
  auto& sends = j["sends"] = nlohmann::json::array();
  for (const auto& s : storm.sends) {
    nlohmann::json labels = nlohmann::json::object();
    for (const auto& l : s.alert.labels.items()) labels[l.name] = l.value;
    sends.push_back({{"at_ms", s.at},
                     {"labels", labels},
                     {"startsAt", FormatRfc3339(s.alert.starts_ms)},
                     {"endsAt", FormatRfc3339(s.alert.ends_ms)}});
  }
  auto& faults = j["faults"] = nlohmann::json::array();
  for (const auto& f : storm.faults) faults.push_back({{"id", f.id}, {"root", f.root_service}, {"alerts", f.alerts}});
  std::ofstream(dir + "/storm-" + std::to_string(seed) + ".json") << j.dump();
}

int Run(const StormFlags& f) {
  StormScore total;
  if (!f.json) std::printf("%-6s %7s %6s %9s %11s %7s %12s %6s\n", "seed", "alerts", "notif", "incidents", "compression", "purity", "completeness", "missed");
  for (int i = 0; i < f.storms; ++i) {
    StormConfig sc;
    sc.seed = f.seed + static_cast<uint64_t>(i);
    sc.faults = f.faults;
    sc.dependency_label_fraction = f.dependency_labels;
    Storm storm = GenerateStorm(sc);
    if (!f.dump_dir.empty()) Dump(storm, sc.seed, f.dump_dir);
    std::string explain;
    AlertingConfig cfg = StormAlertingConfig(storm);
    if (f.ignore_dependency_labels) cfg.correlation.dependency_labels.clear();
    StormScore s = RunStorm(storm, cfg, f.explain ? &explain : nullptr, f.score_shared);
    if (f.explain) std::fprintf(stderr, "seed %llu\n%s", static_cast<unsigned long long>(sc.seed), explain.c_str());
    total.Add(s);
    if (!f.json) {
      std::printf("%-6llu %7lld %6lld %9lld %11.4f %7.4f %12.4f %6lld\n", static_cast<unsigned long long>(sc.seed),
                  static_cast<long long>(s.alerts), static_cast<long long>(s.notifications),
                  static_cast<long long>(s.incidents), s.compression(), s.purity(), s.completeness(),
                  static_cast<long long>(s.missed_faults));
    }
  }
  if (f.json) {
    nlohmann::ordered_json j = {{"compression", total.compression()}, {"purity", total.purity()},
                        {"completeness", total.completeness()}, {"missed_faults", total.missed_faults},
                        {"alerts", total.alerts},           {"notifications", total.notifications},
                        {"all_clear_notifications", total.all_clears}, {"split_notices", total.split_notices},
                        {"incidents", total.incidents},
                        {"shared_alerts", total.shared_alerts}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%-6s %7lld %6lld %9lld %11.4f %7.4f %12.4f %6lld\n", "all", static_cast<long long>(total.alerts),
                static_cast<long long>(total.notifications), static_cast<long long>(total.incidents),
                total.compression(), total.purity(), total.completeness(), static_cast<long long>(total.missed_faults));
    std::printf("purity/completeness: pairwise precision/recall over alerts; %lld faults\n",
                static_cast<long long>(total.faults));
  }
  return 0;
}

}  // namespace

void AddEvalStormsCommand(CommandContext& ctx) {
  auto flags = std::make_shared<StormFlags>();
  auto* cmd = ctx.eval->add_subcommand("storms", "Alert storms: compression, purity, completeness, missed faults");
  cmd->add_option("--storms", flags->storms, "Number of storms (seeds seed..seed+n-1)")->check(CLI::Range(1, 1000));
  cmd->add_option("--seed", flags->seed, "First seed");
  cmd->add_option("--faults", flags->faults, "Concurrent faults per storm")->check(CLI::Range(1, 20));
  cmd->add_flag("--json", flags->json, "Print one JSON object");
  cmd->add_flag("--explain", flags->explain,
                "Print to stderr where each fault's alerts went and every alert in another fault's incident");
  cmd->add_flag("--score-shared", flags->score_shared,
                "Also score alerts two faults fired together, as the first fault's (left out by default)");
  cmd->add_option("--dependency-labels", flags->dependency_labels,
                  "Fraction of call-side rules (per caller service) whose alerts name the callee, as a mesh's do "
                  "(0: the storm suite)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--ignore-dependency-labels", flags->ignore_dependency_labels,
                "Correlate with correlation.dependency_labels empty (what the labels alone change)");
  cmd->add_option("--dump-dir", flags->dump_dir, "Also write each storm's sends as storm-<seed>.json here");
  cmd->callback([flags, &ctx] { ctx.exit_code = Run(*flags); });
}

}  // namespace vigil
