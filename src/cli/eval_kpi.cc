// `vigil eval nab DIR` and `vigil eval kpi FILE`: the KPI detector suite on
// labelled corpora, one configuration for every file.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/kpi_runs.h"

namespace vigil {

namespace {

nlohmann::json KpiScoreJson(const KpiScore& s) {
  nlohmann::json pak = nlohmann::json::object();
  for (auto& [k, f] : s.pa_k) pak[std::to_string(k)] = f;
  return {{"best_f1_pa", s.best_f1_pa}, {"best_threshold", s.best_threshold}, {"f1_pa", s.f1_pa},
          {"f1", s.f1},                 {"pa_k", pak},                        {"event_f1", s.event_f1},
          {"points", s.points},         {"anomalous_points", s.anomalous_points}, {"segments", s.segments}};
}

struct NabFlags {
  std::string dir;
  std::vector<std::string> only;
  std::string dump;
  bool json = false;
};

struct KpiFlags {
  std::string file;
  std::string dump;
  bool json = false;
};

int RunEvalNab(const NabFlags& flags) {
  auto run = RunNab(flags.dir, flags.only, KpiDetectorConfig{}, flags.dump);
  if (!run.ok()) {
    std::fprintf(stderr, "vigil eval nab: %s\n", run.status().message().c_str());
    return 2;
  }
  const auto& p = run->profiles;
  if (flags.json) {
    nlohmann::json files = nlohmann::json::object();
    for (size_t f = 0; f < run->files.size(); ++f) {
      files[run->files[f]] = {{"windows", run->windows[f]},
                              {"alarms", run->alarms[f]},
                              {"standard", p[0].file_raw[f]},
                              {"reward_low_FP_rate", p[1].file_raw[f]},
                              {"reward_low_FN_rate", p[2].file_raw[f]}};
    }
    nlohmann::json out = {{"standard", p[0].normalized},
                          {"reward_low_FP_rate", p[1].normalized},
                          {"reward_low_FN_rate", p[2].normalized},
                          {"thresholds", {{"standard", p[0].threshold},
                                          {"reward_low_FP_rate", p[1].threshold},
                                          {"reward_low_FN_rate", p[2].threshold}}},
                          {"files", files}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%-60s %4s %6s %9s %9s %9s\n", "file", "win", "alarms", "standard", "low_FP", "low_FN");
  for (size_t f = 0; f < run->files.size(); ++f) {
    std::printf("%-60s %4zu %6zu %9.3f %9.3f %9.3f\n", run->files[f].c_str(), run->windows[f], run->alarms[f],
                p[0].file_raw[f], p[1].file_raw[f], p[2].file_raw[f]);
  }
  std::printf("\n%-22s %10s %10s %10s\n", "profile", "score", "raw", "threshold");
  for (const auto& r : p) {
    std::printf("%-22s %10.2f %10.2f %10.4f\n", r.profile.c_str(), r.normalized, r.raw, r.threshold);
  }
  return 0;
}

int RunEvalKpi(const KpiFlags& flags) {
  auto run = RunKpi(flags.file, KpiDetectorConfig{}, flags.dump);
  if (!run.ok()) {
    std::fprintf(stderr, "vigil eval kpi: %s\n", run.status().message().c_str());
    return 2;
  }
  if (flags.json) {
    nlohmann::json series = nlohmann::json::object();
    for (auto& [id, s] : run->series) series[id] = KpiScoreJson(s);
    nlohmann::json out = {{"overall", KpiScoreJson(run->overall)}, {"series", series}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  auto row = [](const std::string& name, const KpiScore& s) {
    std::printf("%-40s %8lld %6lld %10.3f %7.3f %7.3f %7.3f %7.3f %8.3f\n", name.c_str(),
                static_cast<long long>(s.points), static_cast<long long>(s.segments), s.best_f1_pa, s.f1_pa, s.f1,
                s.pa_k.count(20) ? s.pa_k.at(20) : 0.0, s.pa_k.count(50) ? s.pa_k.at(50) : 0.0, s.event_f1);
  };
  std::printf("%-40s %8s %6s %10s %7s %7s %7s %7s %8s\n", "kpi", "points", "segs", "bestF1-PA", "F1-PA", "F1",
              "PA%20", "PA%50", "eventF1");
  for (auto& [id, s] : run->series) row(id, s);
  row("overall", run->overall);
  return 0;
}

}  // namespace

void AddEvalKpiCommands(CommandContext& ctx) {
  auto nab_flags = std::make_shared<NabFlags>();
  auto* nab = ctx.eval->add_subcommand("nab", "NAB score (standard / reward low FP / reward low FN) of vigil's KPI detectors");
  nab->add_option("dir", nab_flags->dir, "NAB data directory (holds labels/ and the category folders)")->required();
  nab->add_option("--only", nab_flags->only, "Score only files whose name contains one of these strings");
  nab->add_flag("--json", nab_flags->json, "Print one JSON object");
  nab->add_option("--dump-scores", nab_flags->dump, "Write each file's per-row scores into this directory");
  nab->callback([&ctx, nab_flags] { ctx.exit_code = RunEvalNab(*nab_flags); });

  auto kpi_flags = std::make_shared<KpiFlags>();
  auto* kpi = ctx.eval->add_subcommand("kpi", "Point-adjusted F1 on labelled KPIs (AIOps Challenge 2018 CSV)");
  kpi->add_option("file", kpi_flags->file, "CSV with timestamp,value,label,KPI ID")->required();
  kpi->add_flag("--json", kpi_flags->json, "Print one JSON object");
  kpi->add_option("--dump-scores", kpi_flags->dump, "Write each KPI's per-point scores and alarms into this directory");
  kpi->callback([&ctx, kpi_flags] { ctx.exit_code = RunEvalKpi(*kpi_flags); });
}

}  // namespace vigil
