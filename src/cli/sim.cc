// `vigil sim`: the fault-injection microservice simulator as a client of a
// running vigil (or any receiver of the same protocols), and
// `vigil sim scenarios`: the labelled scenario suite.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/sim_export.h"
#include "cli/sim_runner.h"
#include "core/clock.h"
#include "core/time_format.h"
#include "sim/scenarios.h"

namespace vigil {

namespace {

struct SimFlags {
  std::string topology = "ob";
  int services = 0;
  int instances = 2;
  std::string target = "http://127.0.0.1:8080";
  double speed = 1;
  uint64_t seed = 1;
  std::string faults;
  std::string ground_truth;
  std::string duration = "1h";
  std::string step = "10s";
  std::string start;  // RFC 3339 or Unix time; default now
  bool dry_run = false;
  bool no_logs = false, no_traces = false;
};

Result<sim::Topology> ResolveTopology(const std::string& name, int services, int instances, uint64_t seed) {
  if (services > 0) return sim::Generated(services, instances, seed);
  if (name.size() > 5 && (name.ends_with(".yaml") || name.ends_with(".yml"))) return sim::LoadTopologyFile(name);
  return sim::BuiltinTopology(name);
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

void PrintStats(const SimRunStats& s, const sim::Simulator& simulator, bool dry) {
  const double sim_s = static_cast<double>(s.steps * simulator.options().step_ms) / 1000.0;
  std::printf("steps %zu (%.0f simulated s), series %zu, samples %zu, log lines %zu, spans %zu, events %zu\n", s.steps,
              sim_s, simulator.series().size(), s.samples, s.log_lines, s.spans, s.events);
  std::printf("generate+encode: %.2f s on one thread = %.0f samples/s (%.0f samples per simulated second)\n",
              s.encode_s, s.encode_s > 0 ? static_cast<double>(s.samples) / s.encode_s : 0.0,
              sim_s > 0 ? static_cast<double>(s.samples) / sim_s : 0.0);
  if (dry) return;
  std::printf("sent: %zu remote_write requests (%.1f MB, %zu refused), backpressure retries %ld\n", s.metric_requests,
              static_cast<double>(s.metric_bytes) / 1e6, s.metric_failures, s.backoffs);
  std::printf("logs: %zu requests answered 404 (no Loki endpoint), %zu failed; traces: %zu answered 404, %zu failed; "
              "events: %zu failed\n",
              s.log_404, s.log_failures, s.trace_404, s.trace_failures, s.event_failures);
  if (!s.first_error.empty()) std::printf("first error: %s\n", s.first_error.c_str());
}

// --start: RFC 3339 or Unix time; when empty, now on the step grid.
Result<int64_t> StartMs(const std::string& start, int64_t step_ms) {
  if (start.empty()) return RealClock().NowMs() / step_ms * step_ms;
  return ParseTimeParam(start);
}

int RunSim(const SimFlags& f) {
  auto topo = ResolveTopology(f.topology, f.services, f.instances, f.seed);
  if (!topo.ok()) {
    std::fprintf(stderr, "vigil sim: %s\n", topo.status().message().c_str());
    return 2;
  }
  auto duration = sim::ParseDurationMs(f.duration);
  auto step = sim::ParseDurationMs(f.step);
  if (!duration.ok() || !step.ok() || *step <= 0) {
    std::fprintf(stderr, "vigil sim: bad --duration or --step (e.g. 1h, 10s)\n");
    return 2;
  }
  sim::SimOptions so;
  so.seed = f.seed;
  so.step_ms = *step;
  so.logs = !f.no_logs;
  so.traces = !f.no_traces;
  auto start = StartMs(f.start, so.step_ms);
  if (!start.ok()) {
    std::fprintf(stderr, "vigil sim: --start: %s\n", start.status().message().c_str());
    return 2;
  }
  so.start_ms = *start;
  auto simulator = sim::Simulator::Create(std::move(*topo), so);
  if (!simulator.ok()) {
    std::fprintf(stderr, "vigil sim: %s\n", simulator.status().message().c_str());
    return 2;
  }
  auto faults = sim::ParseFaultList(f.faults);
  if (!faults.ok()) {
    std::fprintf(stderr, "vigil sim: --faults: %s\n", faults.status().message().c_str());
    return 2;
  }
  for (const auto& fs : *faults) {
    Status s = (*simulator)->AddFault(fs);
    if (!s.ok()) {
      std::fprintf(stderr, "vigil sim: %s\n", s.message().c_str());
      return 2;
    }
  }
  if (!f.ground_truth.empty() && !WriteFile(f.ground_truth, sim::GroundTruthJson(**simulator))) {
    std::fprintf(stderr, "vigil sim: cannot write %s\n", f.ground_truth.c_str());
    return 1;
  }
  const auto& sm = **simulator;
  std::printf("vigil sim: topology %s, %zu services, %zu pods, %zu series, step %lld ms, seed %llu, speed %s\n",
              sm.topology().name.c_str(), sm.topology().services.size(), sm.pods().size(), sm.series().size(),
              static_cast<long long>(so.step_ms), static_cast<unsigned long long>(so.seed),
              f.speed <= 0 ? "max" : std::to_string(f.speed).c_str());
  std::printf("simulated time %s .. %s%s\n", FormatRfc3339(so.start_ms).c_str(),
              FormatRfc3339(so.start_ms + *duration).c_str(), f.dry_run ? " (dry run: nothing sent)" : "");
  std::fflush(stdout);
  std::unique_ptr<HttpClient> client;
  if (!f.dry_run) client = std::make_unique<HttpClient>(f.target);
  SimRunOptions ro;
  ro.duration_ms = *duration;
  ro.speed = f.speed;
  ro.client = client.get();
  ro.send_logs = !f.no_logs;
  ro.send_traces = !f.no_traces;
  ro.say = [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  auto stats = RunSimulation(**simulator, ro);
  if (!stats.ok()) {
    std::fprintf(stderr, "vigil sim: %s\n", stats.status().message().c_str());
    return 1;
  }
  PrintStats(*stats, sm, f.dry_run);
  return stats->metric_failures > 0 ? 1 : 0;
}

struct ScenarioFlags {
  std::string run;
  std::string target = "http://127.0.0.1:8080";
  double speed = 0;
  std::string ground_truth_dir;
  std::string start;  // RFC 3339 or Unix time; default now
};

int RunScenarios(const ScenarioFlags& f) {
  const auto suite = sim::ScenarioSuite();
  if (f.run.empty()) {
    std::printf("scenario suite %s: %zu scenarios (run one with --run ID, all with --run all)\n", sim::kSuiteVersion,
                suite.size());
    for (const auto& s : suite) {
      std::printf("  %-32s %-12s %5.0f min  %s\n", s.id.c_str(), s.topology.c_str(),
                  static_cast<double>(s.duration_ms) / 60000.0, s.description.c_str());
    }
    return 0;
  }
  if (auto start = StartMs(f.start, sim::SimOptions{}.step_ms); !start.ok()) {
    std::fprintf(stderr, "vigil sim scenarios: --start: %s\n", start.status().message().c_str());
    return 2;
  }
  HttpClient client(f.target);
  int failures = 0;
  for (const auto& s : suite) {
    if (f.run != "all" && f.run != s.id) continue;
    auto topo = sim::BuiltinTopology(s.topology);
    sim::SimOptions so;
    so.seed = s.seed;
    so.start_ms = *StartMs(f.start, so.step_ms);  // checked above (now, when not given, moves on)
    auto simulator = sim::Simulator::Create(std::move(*topo), so);
    if (!simulator.ok()) return 2;
    for (const auto& fs : s.faults) {
      Status st = (*simulator)->AddFault(fs);
      if (!st.ok()) {
        std::fprintf(stderr, "scenario %s: %s\n", s.id.c_str(), st.message().c_str());
        return 2;
      }
    }
    std::printf("scenario %s (%s)\n", s.id.c_str(), s.description.c_str());
    if (!f.ground_truth_dir.empty()) WriteFile(f.ground_truth_dir + "/" + s.id + ".json", sim::GroundTruthJson(**simulator));
    SimRunOptions ro;
    ro.duration_ms = s.duration_ms;
    ro.speed = f.speed;
    ro.client = &client;
    ro.say = [](const std::string& line) { std::printf("  %s\n", line.c_str()); };
    auto stats = RunSimulation(**simulator, ro);
    if (!stats.ok()) {
      std::fprintf(stderr, "scenario %s: %s\n", s.id.c_str(), stats.status().message().c_str());
      return 1;
    }
    PrintStats(*stats, **simulator, false);
    failures += stats->metric_failures > 0;
  }
  return failures ? 1 : 0;
}

}  // namespace

void AddSimCommand(CommandContext& ctx) {
  auto flags = std::make_shared<SimFlags>();
  auto* cmd = ctx.root->add_subcommand(
      "sim", "Simulate a microservice system with injected faults and send its metrics, logs, traces and events to vigil");
  cmd->add_option("--topology", flags->topology, "ob, sockshop, trainticket, or a topology FILE.yaml")->default_val("ob");
  cmd->add_option("--services", flags->services, "Generate a topology of N services instead (scale tests)");
  cmd->add_option("--instances", flags->instances, "Pods per generated service")->default_val(2);
  cmd->add_option("--target", flags->target, "Receiver base URL")->default_val("http://127.0.0.1:8080");
  cmd->add_option("--speed", flags->speed, "Simulated seconds per wall second (1 = real time, 60 = an hour a minute, 0 = max)")
      ->default_val(1);
  cmd->add_option("--seed", flags->seed, "Random seed (the run is deterministic for a seed)")->default_val(1);
  cmd->add_option("--faults", flags->faults,
                  "Comma-separated TYPE:SERVICE[/POD][~PEER][@START][+DURATION][*INTENSITY], "
                  "e.g. cpu-load:cartservice/0@20m+10m");
  cmd->add_option("--ground-truth", flags->ground_truth, "Write the injected faults as JSON to this file");
  cmd->add_option("--duration", flags->duration, "Simulated time to run (s, m, h, d)")->default_val("1h");
  cmd->add_option("--step", flags->step, "Scrape interval of the simulated Prometheus")->default_val("10s");
  cmd->add_option("--start", flags->start, "Simulated start time (RFC 3339 or Unix); default now");
  cmd->add_flag("--dry-run", flags->dry_run, "Generate and encode only; print the throughput");
  cmd->add_flag("--no-logs", flags->no_logs, "Do not send logs");
  cmd->add_flag("--no-traces", flags->no_traces, "Do not send traces");
  auto export_dir = std::make_shared<std::string>();
  cmd->add_option("--export-cases", *export_dir,
                  "Write the scenario suite as Nezha-layout case directories here (see docs/rca.md) instead of sending");
  cmd->callback([flags, export_dir, &ctx, cmd] {
    if (!export_dir->empty()) {
      ctx.exit_code = RunExportCases(*export_dir);
    } else if (cmd->get_subcommands().empty()) {
      ctx.exit_code = RunSim(*flags);
    }
  });

  auto sflags = std::make_shared<ScenarioFlags>();
  auto* sc = cmd->add_subcommand("scenarios", "List the labelled scenario suite, or run scenarios against a receiver");
  sc->add_option("--run", sflags->run, "Scenario id to run, or all");
  sc->add_option("--target", sflags->target, "Receiver base URL")->default_val("http://127.0.0.1:8080");
  sc->add_option("--speed", sflags->speed, "Simulated seconds per wall second (0 = max)")->default_val(0);
  sc->add_option("--ground-truth-dir", sflags->ground_truth_dir, "Write each scenario's ground truth here");
  sc->add_option("--start", sflags->start,
                 "Simulated start time (RFC 3339 or Unix; replays a run exactly); default now");
  sc->callback([sflags, &ctx] { ctx.exit_code = RunScenarios(*sflags); });
}

}  // namespace vigil
