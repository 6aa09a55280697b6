// `vigil bench e2e`: the 1-5-10 scorecard. Starts a `vigil serve` of its own
// on loopback (fresh data dir, free port), plays the scenario suite into it
// as fast as it ingests, reads the incidents back from the API and scores
// them against the ground truth, beside a static-threshold baseline scored
// on the very samples that were sent.
//
// Time. The first scenario is stamped from 10:00 UTC on the next Wednesday and
// each next one from the hour after the previous one ends: ahead of the wall
// clock (a scenario's 45 simulated minutes take about a second), the same
// weekdays and times of day in every run.
// vigil takes incident times from the samples, but ages evidence and resolves
// incidents by its clock; the bench therefore runs `vigil serve --clock data`,
// whose clock is the newest sample time when that is ahead of the wall clock,
// so incidents resolve after two *simulated* minutes of quiet as they would
// in real time. Scenarios never share a pod or host name (names carry a
// per-scenario suffix, as Kubernetes pod names do), so every scenario has its
// own series, its own detector warm-up and its own incidents. Samples go one
// scrape per request: vigil's detector shards drain independently, and a
// batch of many scrapes would let one shard's anomalies run minutes ahead of
// another's.
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <memory>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/sim_runner.h"
#include "engine/config.h"
#include "core/clock.h"
#include "sim/baseline.h"
#include "sim/scenarios.h"
#include "sim/scorecard.h"

namespace vigil {

namespace {


struct BenchFlags {
  bool json = false;
  std::string only;       // scenario id prefix
  std::string vigil;      // binary; default this one
  std::string config;     // passed to vigil serve
  std::string json_out;   // also write the JSON scorecard here
  bool keep = false;
  bool quiet = false;
};

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

// Sum of a metric's samples in the Prometheus text format.
double MetricSum(const std::string& text, const std::string& name) {
  double sum = 0;
  size_t pos = 0;
  while ((pos = text.find(name, pos)) != std::string::npos) {
    if ((pos == 0 || text[pos - 1] == '\n') && (text[pos + name.size()] == ' ' || text[pos + name.size()] == '{')) {
      size_t sp = text.find(' ', text.find('}', pos) != std::string::npos && text[pos + name.size()] == '{'
                                     ? text.find('}', pos)
                                     : pos);
      sum += std::strtod(text.c_str() + sp + 1, nullptr);
    }
    pos += name.size();
  }
  return sum;
}

std::string Fmt(const std::optional<double>& v, const char* f = "%.2f") {
  if (!v) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, f, *v);
  return b;
}

void PrintRow(const std::string& name, const sim::ScoreRow& r, bool with_fa) {
  std::printf("%-20s %4d %6s %7s %7s %7s %5s %5s %5s %6s %6s %6s %6s %5d/%-3d\n", name.c_str(), r.faults,
              Fmt(r.detection_recall).c_str(), with_fa ? Fmt(r.false_alarms_per_day, "%.1f").c_str() : "",
              Fmt(r.detect_delay_p50_s, "%.0f").c_str(), Fmt(r.detect_delay_p95_s, "%.0f").c_str(), Fmt(r.ac1).c_str(),
              Fmt(r.ac3).c_str(), Fmt(r.avg5).c_str(), Fmt(r.localize_p50_s, "%.0f").c_str(),
              Fmt(r.recover_p50_s, "%.0f").c_str(), Fmt(r.within_1_5_10).c_str(), Fmt(r.found_within_1m).c_str(),
              r.entity_hits, r.detected);
}

int RunBench(const BenchFlags& f) {
  auto log = [&](const char* fmt, auto... args) {
    if (f.quiet) return;
    std::fprintf(stderr, fmt, args...);
    std::fflush(stderr);
  };
  std::vector<sim::Scenario> suite;
  for (auto& s : sim::ScenarioSuite()) {
    if (f.only.empty() || s.id.rfind(f.only, 0) == 0) suite.push_back(std::move(s));
  }
  if (suite.empty()) {
    std::fprintf(stderr, "vigil bench e2e: no scenario id starts with \"%s\"\n", f.only.c_str());
    return 2;
  }
  // vigil ranks an open incident once it is rca.first_rank_after old (data
  // time): the bench waits for that ranking before it sends more data. Read
  // from the config the daemon under test gets (the default otherwise).
  int64_t first_rank_after_ms = RcaSettings{}.first_rank_after_ms;
  bool ranks = true;
  if (!f.config.empty()) {
    auto c = LoadServeConfig(f.config);
    if (!c.ok()) {
      std::fprintf(stderr, "vigil bench e2e: %s\n", c.status().ToString().c_str());
      return 2;
    }
    first_rank_after_ms = c->rca.first_rank_after_ms;
    ranks = c->rca.enabled;
  }
  // ---- start vigil
  std::string exe = f.vigil.empty() ? std::filesystem::read_symlink("/proc/self/exe").string() : f.vigil;
  char tmpl[] = "/tmp/vigil-bench-e2e-XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = tmpl;
  const int port = FreePort();
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  pid_t pid = fork();
  if (pid == 0) {
    std::string logf = dir + "/vigil.log";
    FILE* lf = std::freopen(logf.c_str(), "w", stdout);
    if (lf) dup2(fileno(stdout), 2);
    // --clock data: incidents resolve on the simulated time of the samples
    // (2 simulated minutes of quiet), as they would had the scenario run in
    // real time; with the wall clock they never would during the bench.
    std::vector<std::string> args = {exe,        "serve", "--listen",  listen, "--data-dir",
                                     dir + "/data", "--log-level", "warn", "--clock", "data"};
    // The suite spans a few simulated days: keep everything it produces
    // (retention runs on the data clock too).
    std::string config = f.config;
    if (config.empty()) {
      config = dir + "/vigil.yaml";
      FILE* cf = std::fopen(config.c_str(), "w");
      if (cf) {
        // Rankings are checked for as soon as an incident opens (see below).
        std::fputs(("retention: 365d\nrca:\n  poll: 100ms\n  first_rank_after: " +
                    std::to_string(first_rank_after_ms / 1000) + "s\n").c_str(), cf);
        std::fclose(cf);
      }
    }
    args.push_back("--config");
    args.push_back(config);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  auto stop_vigil = [&] {
    kill(pid, SIGTERM);
    int st = 0;
    for (int i = 0; i < 100 && waitpid(pid, &st, WNOHANG) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (waitpid(pid, &st, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
    }
    if (!f.keep) std::filesystem::remove_all(dir);
  };
  const std::string base = "http://" + listen;
  HttpClient client(base);
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    auto r = client.Get("/healthz");
    up = r.ok() && r->status == 200;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!up) {
    std::fprintf(stderr, "vigil bench e2e: vigil serve did not come up on %s (log in %s/vigil.log)\n", listen.c_str(),
                 dir.c_str());
    stop_vigil();
    return 1;
  }
  log("vigil serve on %s (data in %s); %zu scenarios of suite %s\n", base.c_str(), dir.c_str(), suite.size(),
      sim::kSuiteVersion);

  // ---- play the scenarios
  std::vector<sim::ScenarioResult> vigil_runs(suite.size()), base_runs(suite.size());
  std::map<std::string, size_t> pod_scenario;  // pod name -> scenario
  std::map<std::string, std::string> pod_service;
  const auto t0 = std::chrono::steady_clock::now();
  constexpr int64_t kHour = 3600000, kDay = 24 * kHour;
  // The first Wednesday after today (day 0 of the Unix epoch was a Thursday):
  // the simulator's traffic has a weekly shape, so the weekday is fixed too.
  int64_t first_day = RealClock().NowMs() / kDay + 1;
  while ((first_day + 3) % 7 != 2) ++first_day;
  int64_t next_start = first_day * kDay + 10 * kHour;
  size_t samples = 0;
  long backoffs = 0;
  size_t log404 = 0, trace404 = 0, failures = 0;
  for (size_t i = 0; i < suite.size(); ++i) {
    const auto& s = suite[i];
    sim::SimOptions so;
    so.seed = s.seed;
    // The first scenario starts at 10:00 UTC on the next Wednesday, each next
    // one on the hour after the previous one ends: the same weekdays and
    // times of day (seasonality, the hourly job) in every run, always ahead
    // of vigil's wall clock, and the data clock only moves forward.
    so.start_ms = next_start;
    next_start += (s.duration_ms + kHour - 1) / kHour * kHour;
    auto simulator = sim::Simulator::Create(*sim::BuiltinTopology(s.topology), so);
    if (!simulator.ok()) {
      stop_vigil();
      return 2;
    }
    for (const auto& fs : s.faults) {
      Status st = (*simulator)->AddFault(fs);
      if (!st.ok()) {
        std::fprintf(stderr, "scenario %s: %s\n", s.id.c_str(), st.message().c_str());
        stop_vigil();
        return 2;
      }
    }
    sim::Simulator& sm = **simulator;
    for (const auto& p : sm.pods()) {
      pod_scenario[p.name] = i;
      pod_service[p.name] = sm.topology().services[p.service].name;
    }
    sim::StaticThresholdAlerter baseline(sm);
    SimRunOptions ro;
    ro.duration_ms = s.duration_ms;
    ro.speed = 0;
    ro.client = &client;
    ro.observe = [&baseline](const sim::StepOutput& out) { baseline.Observe(out); };
    // Replays run far faster than real time; in real time an open incident
    // gets its ranking while the next seconds of data arrive. So after each
    // batch (at most 30 s of data), wait until every open incident has a
    // ranking before sending more: ranked_ms then says how much data time
    // passed between the fault and its ranking, not how fast the replay went.
    ro.after_batch = [&client, first_rank_after_ms, ranks](TimestampMs data_now) {
      // First let vigil judge what it was sent (detector and anomaly queues
      // empty), so incidents open at the data time they would in real time.
      for (int attempt = 0; attempt < 200; ++attempt) {
        auto m = client.Get("/metrics");
        if (!m.ok() || m->status != 200) break;
        if (MetricSum(m->body, "vigil_queue_depth_samples") + MetricSum(m->body, "vigil_anomaly_queue_depth") == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      for (int attempt = 0; attempt < 300; ++attempt) {
        auto r = client.Get("/api/v1/incidents?state=open&limit=200");
        if (!r.ok() || r->status != 200) return;
        bool pending = false;
        try {
          const nlohmann::json page = nlohmann::json::parse(r->body);  // named: the range below points into it
          // vigil ranks an incident once it is first_rank_after old (in data time).
          for (const auto& inc : page["incidents"]) {
            pending = pending || (ranks && !inc.contains("ranked_ms") &&
                                  data_now - inc["opened_ms"].get<int64_t>() >= first_rank_after_ms);
          }
        } catch (const std::exception&) {
          return;
        }
        if (!pending) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    };
    auto stats = RunSimulation(sm, ro);
    if (!stats.ok()) {
      std::fprintf(stderr, "scenario %s: %s\n", s.id.c_str(), stats.status().message().c_str());
      stop_vigil();
      return 1;
    }
    samples += stats->samples;
    backoffs = stats->backoffs;
    log404 += stats->log_404;
    trace404 += stats->trace_404;
    failures += stats->metric_failures;
    if (stats->metric_failures) log("  %s: %s\n", s.id.c_str(), stats->first_error.c_str());
    for (auto* run : {&vigil_runs[i], &base_runs[i]}) {
      run->scenario = s.id;
      run->faults = sm.ground_truth();
      run->related.clear();
      for (const auto& g : run->faults) run->related.push_back(sim::RelatedServices(sm.topology(), g));
      run->scored_from_ms = so.start_ms + s.learn_ms;
      run->end_ms = so.start_ms + s.duration_ms;
    }
    for (const auto& a : baseline.alerts()) {
      sim::ScoredIncident inc;
      inc.opened_ms = a.opened_ms;
      inc.instance = sm.pods()[a.pod].name;
      inc.service = sm.topology().services[sm.pods()[a.pod].service].name;
      base_runs[i].incidents.push_back(inc);
    }
    log("  [%2zu/%zu] %-30s %8zu samples  %5.1f s\n", i + 1, suite.size(), s.id.c_str(), stats->samples,
        stats->wall_s);
  }
  // ---- wait until vigil has judged everything
  double last_anomalies = -1;
  for (int i = 0; i < 600; ++i) {
    auto m = client.Get("/metrics");
    if (m.ok() && m->status == 200) {
      double queued = MetricSum(m->body, "vigil_queue_depth_samples") + MetricSum(m->body, "vigil_anomaly_queue_depth");
      double anomalies = MetricSum(m->body, "vigil_anomalies_total");
      if (queued == 0 && anomalies == last_anomalies) break;
      last_anomalies = anomalies;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // One query per scenario's time range (the API returns at most 10000).
  std::string incidents_json = "[";
  for (size_t i = 0; i < suite.size(); ++i) {
    auto r = client.Get("/api/v1/incidents?limit=10000&start=" + std::to_string(vigil_runs[i].end_ms - suite[i].duration_ms) +
                        "&end=" + std::to_string(vigil_runs[i].end_ms));
    if (!r.ok() || r->status != 200) {
      std::fprintf(stderr, "vigil bench e2e: cannot read incidents: %s\n",
                   r.ok() ? r->body.c_str() : r.status().message().c_str());
      stop_vigil();
      return 1;
    }
    incidents_json += (i ? "," : "") + r->body;
  }
  incidents_json += "]";
  size_t total_incidents = 0, unmatched = 0;
  try {
    std::set<int64_t> seen;
    for (const auto& page : nlohmann::json::parse(incidents_json))
    for (const auto& inc : page["incidents"]) {
      if (!seen.insert(inc["id"].get<int64_t>()).second) continue;
      ++total_incidents;
      std::string instance;
      if (inc.contains("entity_labels") && inc["entity_labels"].contains("instance")) {
        instance = inc["entity_labels"]["instance"].get<std::string>();
      }
      auto it = pod_scenario.find(instance);
      if (it == pod_scenario.end()) {
        ++unmatched;
        continue;
      }
      sim::ScoredIncident s;
      s.opened_ms = inc["opened_ms"].get<int64_t>();
      // The incident is dated by its first evidence, which can precede the
      // moment vigil decided (by up to the evidence window); the delay is
      // scored to the decision, read from the "opened" timeline line.
      if (auto d = client.Get("/api/v1/incidents/" + std::to_string(inc["id"].get<int64_t>()));
          d.ok() && d->status == 200) {
        const nlohmann::json detail = nlohmann::json::parse(d->body);
        for (const auto& e : detail.value("timeline", nlohmann::json::array())) {
          if (e.value("kind", "") == "opened") {
            s.declared_ms = e.value("ts_ms", int64_t{0});
            break;
          }
        }
      }
      s.instance = instance;
      s.service = pod_service[instance];
      // Entities that joined the incident (entity keys: ...,instance="pod",...).
      if (inc.contains("members") && inc["members"].is_array()) {
        for (const auto& m : inc["members"]) {
          const std::string key = m.get<std::string>();
          const size_t at = key.find("instance=\"");
          if (at == std::string::npos) continue;
          const size_t from = at + 10, to = key.find('"', from);
          auto ps = pod_service.find(key.substr(from, to == std::string::npos ? std::string::npos : to - from));
          if (ps != pod_service.end()) s.member_services.push_back(ps->second);
        }
      }
      // A root-cause ranking, once vigil has one: [{"service": ...}, ...]
      // best first, made at "ranked_ms"; a remediation at "remediated_ms".
      // Scored on the FIRST ranking vigil made for the incident and the
      // time it made it (later rankings, with more evidence, are on the
      // incident too, but the clock of "locate" stops at the first answer).
      if (inc.contains("first_ranking") && inc["first_ranking"].is_array()) {
        for (const auto& c : inc["first_ranking"]) {
          if (c.contains("service")) s.ranking.push_back(c["service"].get<std::string>());
        }
        if (inc.contains("first_ranked_ms")) s.ranked_ms = inc["first_ranked_ms"].get<int64_t>();
      }
      if (inc.contains("remediated_ms") && inc["remediated_ms"].is_number()) s.remediated_ms = inc["remediated_ms"].get<int64_t>();
      vigil_runs[it->second].incidents.push_back(s);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vigil bench e2e: bad incidents JSON: %s\n", e.what());
    stop_vigil();
    return 1;
  }
  stop_vigil();

  const sim::Scorecard vs = sim::Score(vigil_runs);
  const sim::Scorecard bs = sim::Score(base_runs);
  std::string json = "{\"overall\":" + sim::ScoreRowJson(vs.overall) + ",\"by_fault\":{";
  bool first = true;
  for (const auto& [k, row] : vs.by_fault) {
    json += std::string(first ? "" : ",") + "\"" + k + "\":" + sim::ScoreRowJson(row);
    first = false;
  }
  json += "},\"baseline\":" + sim::ScoreRowJson(bs.overall) + "}";
  if (!f.json_out.empty()) {
    FILE* jf = std::fopen(f.json_out.c_str(), "w");
    if (!jf || std::fputs((json + "\n").c_str(), jf) < 0) std::fprintf(stderr, "vigil bench e2e: cannot write %s\n", f.json_out.c_str());
    if (jf) std::fclose(jf);
  }
  if (f.json) {
    std::printf("%s\n", json.c_str());
  } else {
    std::printf("vigil bench e2e: suite %s, %zu scenarios, %zu samples sent in %.0f s (%.0f samples/s), "
                "%ld backpressure retries, %zu refused requests\n",
                sim::kSuiteVersion, suite.size(), samples, wall, static_cast<double>(samples) / wall, backoffs, failures);
    std::printf("logs: %zu pushes answered 404, traces: %zu answered 404 (endpoints not in this vigil)\n", log404,
                trace404);
    std::printf("incidents: %zu (%zu not from the simulator); fault-free time scored: %.2f simulated days\n\n",
                total_incidents, unmatched, vs.overall.fault_free_days);
    std::printf("%-20s %4s %6s %7s %7s %7s %5s %5s %5s %6s %6s %6s %6s %9s\n", "fault", "n", "recall", "FA/day",
                "p50 s", "p95 s", "AC@1", "AC@3", "Avg@5", "loc s", "rec s", "1-5-10", "<=1min", "entity");
    for (const auto& [k, row] : vs.by_fault) PrintRow(k, row, false);
    PrintRow("OVERALL vigil", vs.overall, true);
    PrintRow("BASELINE static", bs.overall, true);
    std::printf("\nbaseline by fault (static thresholds: cpu > 90%%, 5xx > 5%%, p99 > 1 s, target down; for 2 scrapes)\n");
    for (const auto& [k, row] : bs.by_fault) PrintRow(k, row, false);
    std::printf("\nper scenario: detected/faults and false alarms, vigil | baseline\n");
    for (size_t i = 0; i < suite.size(); ++i) {
      const sim::Scorecard v1 = sim::Score({vigil_runs[i]}), b1 = sim::Score({base_runs[i]});
      std::printf("  %-32s %d/%d %4d | %d/%d %4d\n", suite[i].id.c_str(), v1.overall.detected, v1.overall.faults,
                  v1.overall.false_alarms, b1.overall.detected, b1.overall.faults, b1.overall.false_alarms);
    }
    std::printf("\nentity = detected faults with an incident on the root-cause service (its entity or a member) in the\n"
                "fault window; not AC@1, which reads the ranking of the fault's first incident.\n");
  }
  return 0;
}

}  // namespace

void AddBenchCommand(CommandContext& ctx) {
  auto* bench = ctx.root->add_subcommand("bench", "End-to-end benchmarks of vigil");
  bench->require_subcommand(1);
  auto flags = std::make_shared<BenchFlags>();
  auto* e2e = bench->add_subcommand("e2e", "Scorecard: play the simulator's scenario suite into a fresh vigil serve");
  e2e->add_flag("--json", flags->json, "Print the scorecard as one JSON object");
  e2e->add_option("--only", flags->only, "Run only scenarios whose id starts with this (e.g. ob-)");
  e2e->add_option("--vigil", flags->vigil, "vigil binary to start (default: this one)");
  e2e->add_option("--config", flags->config, "Config file for the vigil serve under test");
  e2e->add_option("--json-out", flags->json_out, "Also write the JSON scorecard to this file");
  e2e->add_flag("--keep", flags->keep, "Keep the data dir and vigil's log");
  e2e->add_flag("--quiet", flags->quiet, "No progress lines on stderr");
  e2e->callback([flags, &ctx] { ctx.exit_code = RunBench(*flags); });
}

}  // namespace vigil
