#include "sim/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>

#include "sim/baseline.h"
#include "sim/scenarios.h"

namespace vigil::sim {
namespace {

constexpr int64_t kMin = 60000;

std::unique_ptr<Simulator> Make(const std::string& topo, uint64_t seed, std::vector<std::string> faults = {}) {
  SimOptions o;
  o.seed = seed;
  o.start_ms = 1'700'000'000'000;
  o.routine = false;  // the symptoms alone (the suite test below keeps routine life on)
  auto t = BuiltinTopology(topo);
  EXPECT_TRUE(t.ok());
  auto s = Simulator::Create(std::move(*t), o);
  EXPECT_TRUE(s.ok()) << s.status().message();
  for (const auto& f : faults) {
    auto spec = ParseFaultSpec(f);
    EXPECT_TRUE(spec.ok()) << spec.status().message();
    Status st = (*s)->AddFault(*spec);
    EXPECT_TRUE(st.ok()) << st.message();
  }
  return std::move(*s);
}

// Runs the simulator and keeps every step.
std::vector<StepOutput> RunSteps(Simulator& s, int steps) {
  std::vector<StepOutput> out(static_cast<size_t>(steps));
  for (auto& o : out) s.Step(&o);
  return out;
}

bool Same(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

int PodOf(const Simulator& s, const std::string& service, int index) {
  for (size_t p = 0; p < s.pods().size(); ++p) {
    const Pod& pod = s.pods()[p];
    if (s.topology().services[pod.service].name == service && pod.index == index) return static_cast<int>(p);
  }
  return -1;
}

// Mean per-second rate (counters) or mean value (gauges) of one series over
// steps [from, to), skipping absent samples.
double Mean(const std::vector<StepOutput>& steps, int series, size_t from, size_t to, bool counter) {
  double sum = 0;
  int n = 0;
  for (size_t i = from; i < to; ++i) {
    double v = steps[i].values[series];
    if (std::isnan(v)) continue;
    if (counter) {
      if (i == 0 || std::isnan(steps[i - 1].values[series]) || v < steps[i - 1].values[series]) continue;
      v = (v - steps[i - 1].values[series]) / 10.0;
    }
    sum += v;
    ++n;
  }
  return n ? sum / n : NAN;
}

int SeriesOf(const Simulator& s, const std::string& name, const std::map<std::string, std::string>& match) {
  for (size_t i = 0; i < s.series().size(); ++i) {
    const Labels& l = s.series()[i];
    if (l.MetricName() != name) continue;
    bool ok = true;
    for (const auto& [k, v] : match) ok = ok && l.Get(k) == v;
    if (ok) return static_cast<int>(i);
  }
  return -1;
}

TEST(SimulatorTest, SameSeedSameOutput) {
  auto a = Make("ob", 7, {"memory-leak:cartservice/0@5m+10m"});
  auto b = Make("ob", 7, {"memory-leak:cartservice/0@5m+10m"});
  auto c = Make("ob", 8, {"memory-leak:cartservice/0@5m+10m"});
  auto sa = RunSteps(*a, 120), sb = RunSteps(*b, 120), sc = RunSteps(*c, 120);
  bool differs = false;
  for (size_t i = 0; i < sa.size(); ++i) {
    ASSERT_EQ(sa[i].values.size(), sb[i].values.size());
    for (size_t k = 0; k < sa[i].values.size(); ++k) ASSERT_TRUE(Same(sa[i].values[k], sb[i].values[k])) << i << " " << k;
    ASSERT_EQ(sa[i].logs.size(), sb[i].logs.size());
    for (size_t k = 0; k < sa[i].logs.size(); ++k) ASSERT_EQ(sa[i].logs[k].text, sb[i].logs[k].text);
    ASSERT_EQ(sa[i].spans.size(), sb[i].spans.size());
    for (size_t k = 0; k < sa[i].values.size() && k < sc[i].values.size(); ++k) {
      differs = differs || !Same(sa[i].values[k], sc[i].values[k]);
    }
  }
  EXPECT_TRUE(differs);
  // another seed names pods differently (scenarios never share entities)
  EXPECT_NE(a->pods()[0].name, c->pods()[0].name);
}

TEST(SimulatorTest, CpuLoadShowsOnThePodAndPropagatesToCallers) {
  auto s = Make("ob", 1, {"cpu-load:cartservice/0@20m+10m"});
  auto steps = RunSteps(*s, 180);  // 30 minutes
  const int pod0 = PodOf(*s, "cartservice", 0), pod1 = PodOf(*s, "cartservice", 1);
  const int cpu0 = s->PodSeries(pod0, kCpuSeconds), cpu1 = s->PodSeries(pod1, kCpuSeconds);
  const double before0 = Mean(steps, cpu0, 60, 120, true), during0 = Mean(steps, cpu0, 122, 180, true);
  EXPECT_GT(during0, 0.9);  // a whole core
  EXPECT_GT(during0, 2.5 * before0);
  EXPECT_NEAR(Mean(steps, cpu1, 122, 180, true), Mean(steps, cpu1, 60, 120, true),
              0.3 * Mean(steps, cpu1, 60, 120, true));
  // the pod's latency rises, and so does what its callers see of it
  const auto& ep = s->PodEndpointSeries(pod0)[0];
  EXPECT_GT(Mean(steps, ep.p99, 122, 180, false), 3 * Mean(steps, ep.p99, 60, 120, false));
  const int fe = PodOf(*s, "frontend", 0);
  const int client = SeriesOf(*s, "rpc_client_duration_seconds",
                              {{"instance", s->pods()[fe].name}, {"peer", "cartservice"}});
  ASSERT_GE(client, 0);
  EXPECT_GT(Mean(steps, client, 122, 180, false), 1.5 * Mean(steps, client, 60, 120, false));
}

TEST(SimulatorTest, DownstreamFailurePropagatesErrorsUpTheGraph) {
  auto s = Make("ob", 2, {"downstream-failure:redis-cart@20m+10m"});
  auto steps = RunSteps(*s, 180);
  auto errors = [&](const std::string& service, size_t from, size_t to) {
    double bad = 0;
    for (size_t p = 0; p < s->pods().size(); ++p) {
      if (s->topology().services[s->pods()[p].service].name != service) continue;
      for (const auto& es : s->PodEndpointSeries(static_cast<int>(p))) bad += Mean(steps, es.req[2], from, to, true);
    }
    return bad;
  };
  EXPECT_GT(errors("cartservice", 122, 180), 20 * (errors("cartservice", 60, 120) + 0.01));
  EXPECT_GT(errors("frontend", 122, 180), 20 * (errors("frontend", 60, 120) + 0.01));
  EXPECT_NEAR(errors("currencyservice", 122, 180), errors("currencyservice", 60, 120), 0.5);
}

TEST(SimulatorTest, MemoryLeakEndsInOomKillAndRestart) {
  auto s = Make("ob", 3, {"memory-leak:recommendationservice/0@10m+15m"});
  auto steps = RunSteps(*s, 180);
  const int pod = PodOf(*s, "recommendationservice", 0);
  const int up = s->PodSeries(pod, kUp), restarts = s->PodSeries(pod, kRestarts);
  bool down = false, oom_log = false;
  for (size_t i = 60; i < 150; ++i) {
    down = down || steps[i].values[up] == 0;
    for (const auto& l : steps[i].logs) oom_log = oom_log || (l.pod == pod && l.text.find("OOMKilled") != std::string::npos);
  }
  EXPECT_TRUE(down);
  EXPECT_TRUE(oom_log);
  EXPECT_GE(steps[170].values[restarts], 1);
  EXPECT_EQ(steps[50].values[restarts], 0);
}

TEST(SimulatorTest, EveryFaultOfTheSuiteMovesItsIndicator) {
  // For each single-fault scenario: the indicator of the ground truth moves
  // by at least 30% between the ten minutes before and the fault, on the
  // root-cause pod(s), on their callers (rpc_client_* by peer), or shows up
  // as its log template.
  for (const auto& sc : ScenarioSuite()) {
    if (sc.faults.size() != 1) continue;
    SimOptions o;
    o.seed = sc.seed;
    o.start_ms = 1'700'000'000'000;
    auto sim = Simulator::Create(*BuiltinTopology(sc.topology), o);
    ASSERT_TRUE(sim.ok());
    Simulator& s = **sim;
    ASSERT_TRUE(s.AddFault(sc.faults[0]).ok()) << sc.id;
    const auto gt = s.ground_truth()[0];
    auto steps = RunSteps(s, static_cast<int>(sc.duration_ms / 10000));
    const size_t f0 = static_cast<size_t>((gt.start_ms - o.start_ms) / 10000);
    const size_t f1 = static_cast<size_t>((gt.end_ms - o.start_ms) / 10000);
    std::string name = gt.indicator;
    if (name.rfind("log:", 0) == 0) {
      int hits = 0;
      for (size_t i = f0; i < f1; ++i) {
        for (const auto& l : steps[i].logs) hits += l.text.find("Unhandled exception in") != std::string::npos;
      }
      int before = 0;
      for (size_t i = 0; i < f0; ++i) {
        for (const auto& l : steps[i].logs) before += l.text.find("Unhandled exception in") != std::string::npos;
      }
      EXPECT_GT(hits, 10) << sc.id;
      EXPECT_EQ(before, 0) << sc.id;
      continue;
    }
    std::string code;
    if (size_t b = name.find('{'); b != std::string::npos) {
      code = name.substr(name.find('"') + 1, 3);
      name.resize(b);
    }
    const bool counter = name.size() > 6 && name.substr(name.size() - 6) == "_total";
    bool moved = false;
    std::string seen;
    for (size_t i = 0; i < s.series().size() && !moved; ++i) {
      const Labels& l = s.series()[i];
      if (l.MetricName() != name) continue;
      if (!code.empty() && l.Get("code") != code) continue;
      const bool at_root = l.Get("service") == gt.service && (gt.instance.empty() || l.Get("instance") == gt.instance);
      const bool caller = l.Get("peer") == gt.service;
      if (!at_root && !caller) continue;
      if (name == "up") {
        for (size_t k = f0; k < f1; ++k) moved = moved || std::isnan(steps[k].values[i]) || steps[k].values[i] == 0;
        continue;
      }
      const double before = Mean(steps, static_cast<int>(i), f0 - 60, f0, counter);
      const double during = Mean(steps, static_cast<int>(i), f0 + 2, f1, counter);
      seen += " " + std::to_string(before) + "->" + std::to_string(during);
      moved = std::isnan(during) || std::fabs(during - before) > 0.3 * std::fabs(before) + 1e-9;
      if (name == "kube_pod_container_status_restarts_total") {  // steps up while the pod is away
        moved = steps[f1 - 1].values[i] > steps[f0 - 1].values[i];
      }
    }
    EXPECT_TRUE(moved) << sc.id << ": " << gt.indicator << seen;
  }
}

TEST(SimulatorTest, ExceptionsAndBadDeploysFailAMethodThatIsCalled) {
  // The failing method is picked by the fault's start time; whatever the
  // time, it must be one that requests reach: the service's 5xx rate rises.
  // (Online Boutique's productcatalogservice has a method no request type
  // calls, SearchProducts: the suite's exceptions landed on it once, logged
  // stack traces and failed no call.)
  for (const char* type : {"exceptions", "bad-deploy"}) {
    for (int h = 0; h < 12; ++h) {
      SimOptions o;
      o.seed = 7;
      o.start_ms = 1'700'000'000'000 + h * 3'600'000LL;
      o.routine = false;
      auto sim = Simulator::Create(*BuiltinTopology("ob"), o);
      ASSERT_TRUE(sim.ok());
      Simulator& s = **sim;
      auto spec = ParseFaultSpec(std::string(type) + ":productcatalogservice@10m+10m");
      ASSERT_TRUE(spec.ok()) << spec.status().message();
      ASSERT_TRUE(s.AddFault(*spec).ok());
      auto steps = RunSteps(s, 120);
      double before = 0, during = 0;
      for (size_t i = 0; i < s.series().size(); ++i) {
        const Labels& l = s.series()[i];
        if (l.MetricName() != "http_server_requests_total" || l.Get("service") != "productcatalogservice" ||
            l.Get("code") != "5xx") {
          continue;
        }
        before += Mean(steps, static_cast<int>(i), 30, 60, true);
        during += Mean(steps, static_cast<int>(i), 62, 120, true);
      }
      EXPECT_GT(during, 5 * before + 0.5) << type << " starting at hour " << h << ": 5xx/s " << before << " -> " << during;
    }
  }
}

TEST(SimulatorTest, DeployAndConfigFaultsEmitTheirEvents) {
  auto s = Make("ob", 4, {"bad-deploy:checkoutservice@5m+5m", "bad-config:cartservice/1@6m+5m"});
  auto steps = RunSteps(*s, 80);
  std::vector<SimEvent> events;
  for (const auto& st : steps) events.insert(events.end(), st.events.begin(), st.events.end());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, "deploy");
  EXPECT_EQ(events[0].service, "checkoutservice");
  EXPECT_EQ(events[0].ts_ms, 1'700'000'000'000 + 5 * kMin);
  EXPECT_EQ(events[1].kind, "config");
  EXPECT_EQ(events[1].instance, s->pods()[PodOf(*s, "cartservice", 1)].name);
}

TEST(SimulatorTest, GroundTruthNamesTheFault) {
  auto s = Make("sockshop", 5, {"network-partition:orders~payment@30m+10m", "cpu-load:catalogue/1@40m+5m"});
  const std::string j = GroundTruthJson(*s);
  EXPECT_NE(j.find("\"type\": \"network-partition\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"peer\": \"payment\""), std::string::npos);
  EXPECT_NE(j.find("\"indicator\": \"container_cpu_usage_seconds_total\""), std::string::npos);
  const auto gt = s->ground_truth();
  ASSERT_EQ(gt.size(), 2u);
  EXPECT_EQ(gt[1].instance, s->pods()[PodOf(*s, "catalogue", 1)].name);
  EXPECT_EQ(gt[1].host, s->pods()[PodOf(*s, "catalogue", 1)].host);
  EXPECT_EQ(gt[1].start_ms, 1'700'000'000'000 + 40 * kMin);
  EXPECT_EQ(gt[1].end_ms, gt[1].start_ms + 5 * kMin);
}

TEST(SimulatorTest, RefusesFaultsThatDoNotApply) {
  auto s = Make("ob", 1);
  EXPECT_FALSE(s->AddFault(*ParseFaultSpec("gc-storm:frontend")).ok());           // not a JVM
  EXPECT_FALSE(s->AddFault(*ParseFaultSpec("slow-sql:currencyservice")).ok());     // no database
  EXPECT_FALSE(s->AddFault(*ParseFaultSpec("cpu-load:cartservice/5")).ok());      // two pods
  EXPECT_FALSE(s->AddFault(*ParseFaultSpec("cpu-load:nosuch")).ok());
  EXPECT_FALSE(s->AddFault(*ParseFaultSpec("network-partition:frontend~emailservice")).ok());  // never calls it
  EXPECT_TRUE(s->AddFault(*ParseFaultSpec("network-partition:frontend~cartservice")).ok());
}

TEST(SimulatorTest, StaticBaselineAlertsOnCpu) {
  auto s = Make("ob", 6, {"cpu-load:cartservice/0@20m+5m"});
  StaticThresholdAlerter baseline(*s);
  StepOutput out;
  for (int i = 0; i < 180; ++i) {
    s->Step(&out);
    baseline.Observe(out);
  }
  const int pod = PodOf(*s, "cartservice", 0);
  bool cpu = false;
  for (const auto& a : baseline.alerts()) {
    if (a.pod == pod && a.rule == "cpu > 90%") {
      cpu = true;
      EXPECT_GE(a.opened_ms, 1'700'000'000'000 + 20 * kMin);
      EXPECT_LE(a.opened_ms, 1'700'000'000'000 + 21 * kMin);
    }
  }
  EXPECT_TRUE(cpu);
}

TEST(SimulatorTest, RoutineLifeHasDeploysButNoFaultSymptoms) {
  SimOptions o;
  o.seed = 11;
  o.start_ms = 1'700'000'000'000;
  auto s = Simulator::Create(OnlineBoutique(), o);
  ASSERT_TRUE(s.ok());
  int deploys = 0, errors = 0;
  StepOutput out;
  for (int i = 0; i < 6 * 360; ++i) {  // six hours
    (*s)->Step(&out);
    for (const auto& e : out.events) deploys += e.kind == "deploy";
    for (const auto& l : out.logs) errors += std::string(l.level) == "ERROR";
  }
  EXPECT_GE(deploys, 1);
  EXPECT_EQ(errors, 0);
  EXPECT_TRUE((*s)->ground_truth().empty());
}

TEST(SimulatorTest, GeneratedTopologyScales) {
  auto t = Generated(300, 3, 1);
  ASSERT_TRUE(t.Validate().ok());
  SimOptions o;
  auto s = Simulator::Create(std::move(t), o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->pods().size(), 900u);
  StepOutput out;
  (*s)->Step(&out);
  size_t present = 0;
  for (double v : out.values) present += !std::isnan(v);
  EXPECT_EQ(present, (*s)->series().size());
}

}  // namespace
}  // namespace vigil::sim
