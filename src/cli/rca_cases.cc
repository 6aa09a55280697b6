// `vigil rca DIR`: the root-cause ensemble (rca/localize.h) on Nezha-layout
// case directories, printing each case's ranking with its evidence;
// `vigil eval rca DIR | --sim`: AC@1, AC@3, Avg@5 of the root-cause service
// (and instance) per fault type, beside the rank-by-score baseline.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/sim_export.h"
#include "rca/localize.h"
#include "rca/nezha_cases.h"
#include "rca/rca_eval.h"

namespace vigil {

namespace {

using json = nlohmann::json;

struct RcaFlags {
  std::string dir;
  bool json_out = false;
  std::string only_case;
  std::string method = "graph";
  std::string localizers = "metrics,traces,logs,changes,hosts";
  size_t top = 5;
};

bool LocalizersOf(const std::string& list, rca::LocalizeOptions* o) {
  o->use_metrics = o->use_traces = o->use_logs = o->use_changes = o->use_hosts = false;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    const std::string name = list.substr(start, end - start);
    if (name == "metrics") o->use_metrics = true;
    else if (name == "traces") o->use_traces = true;
    else if (name == "logs") o->use_logs = true;
    else if (name == "changes") o->use_changes = true;
    else if (name == "hosts") o->use_hosts = true;
    else if (!name.empty()) {
      std::fprintf(stderr, "error: --localizers: unknown \"%s\" (metrics, traces, logs, changes, hosts)\n", name.c_str());
      return false;
    }
    start = end + 1;
  }
  return true;
}

bool MethodOf(const std::string& name, rca::LocalizeOptions* o) {
  if (name == "graph") {
    o->metric_method = rca::LocalizeOptions::MetricMethod::kGraph;
  } else if (name == "score") {
    o->metric_method = rca::LocalizeOptions::MetricMethod::kScore;
  } else {
    std::fprintf(stderr, "error: --method: expected graph or score, got \"%s\"\n", name.c_str());
    return false;
  }
  return true;
}

double Ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

int RunRcaDir(const RcaFlags& f) {
  rca::LocalizeOptions lo;
  if (!MethodOf(f.method, &lo) || !LocalizersOf(f.localizers, &lo)) return 2;
  json all = json::array();
  Status st = rca::ForEachNezhaCase(f.dir, {}, [&](rca::NezhaCase&& c) {
    if (!f.only_case.empty() && c.data.id.find(f.only_case) == std::string::npos && c.truth.type != f.only_case) {
      return;
    }
    auto t0 = std::chrono::steady_clock::now();
    rca::Ranking r = rca::Localize(c.data, lo);
    const double ms = Ms(t0);
    if (f.json_out) {
      json j = json::parse(rca::RankingToJson(r, ms));
      j["case"] = c.data.id;
      j["inject_type"] = c.truth.type;
      all.push_back(std::move(j));
      return;
    }
    std::printf("case %s (%s on %s): %zu spans, %zu series, %zu log lines, ranked in %.1f ms\n", c.data.id.c_str(),
                c.truth.type.c_str(), c.truth.pod.c_str(), c.data.spans.size(), c.data.metrics.size(),
                c.data.logs.size(), ms);
    for (size_t i = 0; i < r.causes.size() && i < f.top; ++i) {
      const auto& rc = r.causes[i];
      std::printf("  %zu. %s %s  score %.2f  [%s]\n", i + 1, rc.service.c_str(), rc.instance.c_str(), rc.score,
                  rc.indicator.c_str());
      for (size_t e = 0; e < rc.evidence.size() && e < 4; ++e) {
        std::printf("       %-8s %s\n", rc.evidence[e].localizer.c_str(), rc.evidence[e].text.c_str());
      }
    }
    std::printf("  baseline (rank by score):");
    for (size_t i = 0; i < r.baseline.size() && i < f.top; ++i) std::printf(" %s", r.baseline[i].service.c_str());
    std::printf("\n");
    for (const auto& n : r.notes) std::printf("  note: %s\n", n.c_str());
  });
  if (!st.ok()) {
    std::fprintf(stderr, "error: %s\n", st.message().c_str());
    return 1;
  }
  if (f.json_out) std::printf("%s\n", all.dump().c_str());
  return 0;
}

struct EvalFlags {
  std::string dir;
  bool sim = false;
  std::string only;
  std::string keep;
  bool json_out = false;
  bool verbose = false;
  std::string method = "graph";
  int traces_per_step = 3;
  uint64_t seed_offset = 0;
};

json ScoreJson(const rca::TopKScore& s) {
  return {{"cases", s.cases}, {"AC@1", s.Ac(1)}, {"AC@3", s.Ac(3)}, {"Avg@5", s.Avg5()}};
}

struct Tally {
  rca::TopKScore all, instance;
  std::map<std::string, rca::TopKScore> by_fault;
  json ToJson() const {
    json j = ScoreJson(all);
    json bf = json::object();
    for (const auto& [k, s] : by_fault) bf[k] = ScoreJson(s);
    j["by_fault"] = bf;
    j["instance"] = ScoreJson(instance);
    return j;
  }
  void Add(const rca::NezhaCase& c, const std::vector<rca::RankedCause>& causes) {
    const int rank = rca::RankOfService(causes, c.truth.service);
    all.Add(rank);
    by_fault[c.truth.type].Add(rank);
    if (!c.truth.whole_service) instance.Add(rca::RankOfInstance(causes, c.truth.pod));
  }
};

int RunEvalRca(const EvalFlags& f) {
  rca::LocalizeOptions lo;
  if (!MethodOf(f.method, &lo)) return 2;
  std::string dir = f.dir;
  std::string temp;
  const auto t_start = std::chrono::steady_clock::now();
  if (f.sim) {
    ExportCasesOptions eo;
    if (!f.keep.empty()) {
      dir = f.keep;
    } else {
      temp = (std::filesystem::temp_directory_path() / ("vigil-rca-sim-" + std::to_string(::getpid()))).string();
      dir = temp;
    }
    eo.dir = dir;
    eo.only = f.only;
    eo.traces_per_step = f.traces_per_step;
    eo.seed_offset = f.seed_offset;
    auto s = ExportSimCases(eo);
    if (!s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.status().message().c_str());
      return 1;
    }
  } else if (dir.empty()) {
    std::fprintf(stderr, "error: give a case directory, or --sim\n");
    return 2;
  }
  Tally ensemble, baseline, graph_only, microrank_only;
  std::vector<double> times, base_times;
  rca::LocalizeOptions metrics_only = lo;
  metrics_only.use_traces = metrics_only.use_logs = metrics_only.use_changes = metrics_only.use_hosts = false;
  metrics_only.metric_method = rca::LocalizeOptions::MetricMethod::kGraph;
  rca::LocalizeOptions traces_only = metrics_only;
  traces_only.use_metrics = false;
  traces_only.use_traces = true;
  traces_only.use_call_gaps = false;
  rca::LocalizeOptions score_only = metrics_only;
  score_only.metric_method = rca::LocalizeOptions::MetricMethod::kScore;
  // One case in memory at a time.
  Status st = rca::ForEachNezhaCase(dir, {}, [&](rca::NezhaCase&& c) {
    if (!f.sim && !f.only.empty() && c.data.id.find(f.only) == std::string::npos) return;
    auto t0 = std::chrono::steady_clock::now();
    rca::Ranking r = rca::Localize(c.data, lo);
    times.push_back(Ms(t0));
    t0 = std::chrono::steady_clock::now();
    rca::Ranking b = rca::Localize(c.data, score_only);
    base_times.push_back(Ms(t0));
    rca::Ranking g = rca::Localize(c.data, metrics_only);
    ensemble.Add(c, r.causes);
    baseline.Add(c, b.baseline);
    graph_only.Add(c, g.causes);
    microrank_only.Add(c, rca::Localize(c.data, traces_only).causes);
    if (f.verbose) {
      std::printf("%-60s %-20s truth=%-28s rank=%d baseline=%d graph=%d top=%s/%s\n", c.data.id.c_str(),
                  c.truth.type.c_str(), c.truth.service.c_str(), rca::RankOfService(r.causes, c.truth.service),
                  rca::RankOfService(b.baseline, c.truth.service), rca::RankOfService(g.causes, c.truth.service),
                  r.causes.empty() ? "-" : r.causes[0].service.c_str(),
                  r.causes.empty() ? "-" : r.causes[0].indicator.c_str());
    }
  });
  if (!temp.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp, ec);
  }
  if (!st.ok()) {
    std::fprintf(stderr, "error: %s\n", st.message().c_str());
    return 1;
  }
  auto p50 = [](std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double secs = Ms(t_start) / 1000;
  if (f.json_out) {
    json out = ensemble.ToJson();
    out["baseline_rank_by_score"] = baseline.ToJson();
    out["metrics_graph_only"] = graph_only.ToJson();
    out["microrank_only"] = microrank_only.ToJson();
    out["compute_ms_p50"] = p50(times);
    out["compute_ms_max"] = times.empty() ? 0 : *std::max_element(times.begin(), times.end());
    out["baseline_compute_ms_p50"] = p50(base_times);
    out["seconds"] = secs;
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  std::printf("%-22s %6s %6s %6s %6s   %-18s   %-18s\n", "fault", "cases", "AC@1", "AC@3", "Avg@5", "baseline AC@1/3",
              "graph-only AC@1/3");
  for (const auto& [k, s] : ensemble.by_fault) {
    const auto& b = baseline.by_fault[k];
    const auto& g = graph_only.by_fault[k];
    std::printf("%-22s %6d %6.3f %6.3f %6.3f   %.3f / %.3f      %.3f / %.3f\n", k.c_str(), s.cases, s.Ac(1), s.Ac(3),
                s.Avg5(), b.Ac(1), b.Ac(3), g.Ac(1), g.Ac(3));
  }
  const auto& s = ensemble.all;
  std::printf("%-22s %6d %6.3f %6.3f %6.3f   %.3f / %.3f      %.3f / %.3f\n", "all (service)", s.cases, s.Ac(1),
              s.Ac(3), s.Avg5(), baseline.all.Ac(1), baseline.all.Ac(3), graph_only.all.Ac(1), graph_only.all.Ac(3));
  const auto& in = ensemble.instance;
  std::printf("%-22s %6d %6.3f %6.3f %6.3f   %.3f / %.3f      %.3f / %.3f\n", "all (instance)", in.cases, in.Ac(1),
              in.Ac(3), in.Avg5(), baseline.instance.Ac(1), baseline.instance.Ac(3), graph_only.instance.Ac(1),
              graph_only.instance.Ac(3));
  std::printf("MicroRank alone: AC@1 %.3f AC@3 %.3f Avg@5 %.3f\n", microrank_only.all.Ac(1), microrank_only.all.Ac(3),
              microrank_only.all.Avg5());
  std::printf("ranking time p50 %.1f ms (rank-by-score alone %.1f ms); %.1f s in all\n", p50(times), p50(base_times),
              secs);
  return 0;
}

}  // namespace

void AddRcaCasesCommands(CommandContext& ctx) {
  auto* rca_cmd = ctx.root->get_subcommand("rca");
  auto f = std::make_shared<RcaFlags>();
  rca_cmd->add_option("DIR", f->dir, "Nezha-layout case directory (DIR/<day>/<day>-fault_list.json, metric/, trace/, log/)");
  rca_cmd->add_flag("--json", f->json_out, "Print one JSON array of rankings");
  rca_cmd->add_option("--case", f->only_case, "Only cases whose id contains this text, or of this inject_type");
  rca_cmd->add_option("--method", f->method, "Metric localizer: graph (CIRCA-style) or score (rank by robust change)")
      ->default_val("graph");
  rca_cmd->add_option("--top", f->top, "Entries printed per case")->default_val(5);
  rca_cmd->add_option("--localizers", f->localizers, "Comma-separated: metrics, traces, logs, changes, hosts")
      ->default_val("metrics,traces,logs,changes,hosts");
  rca_cmd->callback([f, rca_cmd, &ctx] {
    if (!rca_cmd->get_subcommands().empty()) return;
    if (f->dir.empty()) {
      std::fprintf(stderr, "error: vigil rca DIR, or vigil rca multidim FILE (see --help)\n");
      ctx.exit_code = 2;
      return;
    }
    ctx.exit_code = RunRcaDir(*f);
  });

  auto e = std::make_shared<EvalFlags>();
  auto* ev = ctx.eval->add_subcommand("rca", "AC@1/AC@3/Avg@5 of root-cause localization on Nezha-layout cases "
                                             "or on the simulator's scenario suite (--sim)");
  ev->add_option("DIR", e->dir, "Nezha-layout case directory");
  ev->add_flag("--sim", e->sim, "Export the simulator's scenario suite to a temporary directory and score it");
  ev->add_option("--only", e->only, "With --sim: scenario id prefixes, comma-separated (e.g. ob-); else: case id substring");
  ev->add_option("--keep", e->keep, "With --sim: export to this (empty) directory and keep it");
  ev->add_option("--traces-per-step", e->traces_per_step, "With --sim: sampled traces per 10 s step")->default_val(3);
  ev->add_option("--seed-offset", e->seed_offset, "With --sim: added to every scenario's seed (another draw of the suite)")
      ->default_val(0);
  ev->add_option("--method", e->method, "Metric localizer: graph or score")->default_val("graph");
  ev->add_flag("--json", e->json_out, "Print one JSON object");
  ev->add_flag("-v,--verbose", e->verbose, "One line per case");
  ev->callback([e, &ctx] { ctx.exit_code = RunEvalRca(*e); });
}

}  // namespace vigil
