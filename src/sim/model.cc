#include "sim/model.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

#include "core/time_format.h"

namespace vigil::sim {

void StepOutput::Clear() {
  values.clear();
  logs.clear();
  spans.clear();
  events.clear();
}

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kCallTimeoutMs = 1000;
constexpr double kConfigTimeoutMs = 80;  // what the bad configuration sets
constexpr int64_t kRestartMs = 30000;    // a killed container is back after this
constexpr int64_t kKillEveryMs = 120000; // process-kill repeats while active
constexpr double kPoolSize = 20;

// xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number
// generators", 2018): fast, and the same sequence on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t z = seed;
    for (auto& w : s_) {
      z += 0x9E3779B97F4A7C15ULL;
      uint64_t x = z;
      x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
      x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
      w = x ^ (x >> 31);
    }
  }
  uint64_t Next() {
    const uint64_t r = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return r;
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Standard normal; a sum of uniforms (Irwin-Hall, 4 terms) is close
  // enough for measurement noise and cheaper than Box-Muller.
  double Normal() {
    double s = Uniform() + Uniform() + Uniform() + Uniform();
    return (s - 2.0) * 1.7320508075688772;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

uint64_t Mix(uint64_t a, const std::string& s) {
  uint64_t h = a ^ 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  h ^= h >> 29;
  return h * 0xBF58476D1CE4E5B9ULL;
}

std::string Suffix(uint64_t h, int n, const char* alphabet, int size) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    s.push_back(alphabet[h % static_cast<uint64_t>(size)]);
    h /= static_cast<uint64_t>(size);
  }
  return s;
}

struct Effects {
  double extra_cores = 0;
  double egress_delay_ms = 0;
  double loss = 0;
  double leak_mb_per_s = 0;
  bool dns = false;
  double io_util = 0;
  bool disk_full = false;
  bool kill_now = false;
  bool paused = false;
  bool gc_storm = false;
  double exception_rate = 0;
  int exception_endpoint = -1;  // -1 = all
  double wrong_rate = 0;
  double sql_mult = 1;
  bool pool_leak = false;
  double deploy_error = 0;
  int deploy_endpoint = 0;
  bool bad_config = false;
  bool fail_all = false;
  std::vector<int> unreachable;  // services this pod cannot reach
};

struct PodState {
  bool down = false;          // killed (or OOM killed), restarting
  TimestampMs up_at = 0;
  bool was_absent = false;    // missed the previous scrape
  TimestampMs replaced_until = 0;  // a rolling deploy replaces the pod: one scrape missed
  bool reset_pending = false;      // ... and the new process starts its counters from zero
  TimestampMs next_kill = 0;
  double mem_leak_mb = 0;
  double heap_phase = 0;
  double fs_gb = 0;
  double cpu_s = 0, rx = 0, tx = 0, retrans = 0, io_s = 0, restarts = 0, dns_fail = 0, gc_s = 0;
  std::vector<std::array<double, 3>> req;  // per endpoint 2xx, 4xx, 5xx
  std::vector<double> peer_req, peer_err;
  // this step
  double rps = 0, cores = 0, util = 0;
  std::vector<double> ep_rps, lat_ms, err, wrong;
  std::vector<double> peer_rps, peer_err_rate, peer_lat_ms;
  double pool_active = 0, pool_pending = 0, db_ms = 0, gc_frac = 0, heap = 0, mem_mb = 0;
  Effects fx;
};

struct ActiveFault {
  GroundTruthFault gt;
  int service = -1;
  int peer = -1;
  int endpoint = -1;  // exceptions, bad-deploy: the one method that fails
  bool announced = false;
};

}  // namespace

struct Simulator::Impl {
  Topology topo;
  SimOptions opt;
  Rng rng{1};
  TimestampMs now = 0;
  int64_t step_index = 0;
  std::vector<Pod> pods;
  std::vector<std::vector<int>> service_pods;
  std::vector<Labels> series;
  std::vector<std::array<int, kPodMetricCount>> pod_metric;
  std::vector<std::vector<EndpointSeries>> pod_endpoint;
  std::vector<std::vector<int>> pod_peer_series;   // per pod, per peer: req, err, p99 (3 consecutive)
  std::vector<std::vector<int>> service_peers;     // distinct callee services per service
  std::vector<int> order;                          // callees first
  std::vector<PodState> state;
  std::vector<ActiveFault> faults;
  // per service, per endpoint: what callers see this step
  std::vector<std::vector<double>> svc_lat, svc_err, svc_rate, prev_err;
  std::vector<int> entry_service;                  // per request type
  uint64_t trace_counter = 0;
  // Routine life of a production system, none of it a fault (see
  // SimOptions::routine): traffic bursts, rolling deploys, an hourly job.
  Rng routine_rng{2};
  TimestampMs burst_start = 0, burst_end = 0;
  double burst_gain = 0;
  TimestampMs next_deploy = 0;
  int deploy_service = -1, deploy_pod = 0;
  TimestampMs deploy_next_pod = 0;
  int deploy_version = 3;
  int cron_service = -1;
  std::vector<TimestampMs> warm_until;  // per pod: JIT warm-up after a restart
  void Routine(StepOutput* out);
  double Exp(double mean_ms) { return -std::log(1 - routine_rng.Uniform()) * mean_ms; }

  void Build();
  void AddSeries(std::vector<Label> labels) { series.push_back(Labels::FromSorted(SortLabels(std::move(labels)))); }
  static std::vector<Label> SortLabels(std::vector<Label> l) {
    std::sort(l.begin(), l.end(), [](const Label& a, const Label& b) { return a.name < b.name; });
    return l;
  }
  double TrafficMultiplier();
  void ApplyFaults();
  void Flow(double mult);
  // Requests per second each endpoint of a service gets at the daily mean
  // with no fault (the request types flowed down the call graph).
  std::vector<double> BaseEndpointRates(int service) const;
  void Compute(double dt_s);
  void Emit(double dt_s, StepOutput* out);
  void Logs(StepOutput* out);
  void Traces(StepOutput* out);
  void TraceCall(const CallRef& c, uint64_t hi, uint64_t lo, uint64_t parent, int64_t start_us, int depth,
                 StepOutput* out, int* budget);
  bool Applies(const ActiveFault& f, int pod) const {
    const Pod& p = pods[pod];
    return p.service == f.service && (f.gt.spec.instance < 0 || f.gt.spec.instance == p.index);
  }
  double Noisy(double v) { return v * (1 + opt.noise * rng.Normal()); }
  // Events counted in one step: Poisson, as requests and errors arrive
  // (Knuth's method for small means, a rounded normal beyond), scaled by the
  // measurement noise. Counters advance by whole events, as real ones do.
  double Count(double mean) {
    if (mean <= 0) return 0;
    mean = std::max(0.0, Noisy(mean));
    if (mean < 30) {
      const double limit = std::exp(-mean);
      double p = rng.Uniform();
      int k = 0;
      while (p > limit && k < 200) {
        p *= rng.Uniform();
        ++k;
      }
      return k;
    }
    return std::max(0.0, std::round(mean + std::sqrt(mean) * rng.Normal()));
  }
};

void Simulator::Impl::Build() {
  std::string salt = opt.name_salt.empty() ? Suffix(Mix(opt.seed, "salt"), 4, "bcdfghjklmnpqrstvwxz2456789", 27)
                                           : opt.name_salt;
  const size_t n_pods = topo.PodCount();
  const int n_hosts = std::max<int>(1, static_cast<int>((n_pods + topo.pods_per_host - 1) / topo.pods_per_host));
  service_pods.resize(topo.services.size());
  for (size_t s = 0; s < topo.services.size(); ++s) {
    const Service& svc = topo.services[s];
    const uint64_t rs = Mix(opt.seed, salt + svc.name);
    std::string rs_hex = Suffix(rs, 9, "0123456789abcdef", 16);
    for (int i = 0; i < svc.instances; ++i) {
      Pod p;
      p.service = static_cast<int>(s);
      p.index = i;
      p.name = svc.name + "-" + rs_hex + "-" + Suffix(Mix(rs, std::to_string(i)), 5, "bcdfghjklmnpqrstvwxz2456789", 27);
      const uint64_t h = Mix(opt.seed, p.name);
      // spread a service's pods over distinct hosts where possible
      int host = static_cast<int>((h % static_cast<uint64_t>(n_hosts) + static_cast<uint64_t>(i)) %
                                  static_cast<uint64_t>(n_hosts));
      p.host = "node-" + salt + "-" + std::to_string(host);
      service_pods[s].push_back(static_cast<int>(pods.size()));
      pods.push_back(std::move(p));
    }
  }
  service_peers.resize(topo.services.size());
  for (size_t s = 0; s < topo.services.size(); ++s) {
    for (const auto& e : topo.services[s].endpoints) {
      for (const auto& c : e.calls) {
        auto& v = service_peers[s];
        if (std::find(v.begin(), v.end(), c.service) == v.end()) v.push_back(c.service);
      }
    }
  }
  const char* names[kPodMetricCount] = {"up",
                                        "container_cpu_usage_seconds_total",
                                        "container_memory_working_set_bytes",
                                        "container_network_receive_bytes_total",
                                        "container_network_transmit_bytes_total",
                                        "container_network_tcp_retransmits_total",
                                        "container_fs_usage_bytes",
                                        "container_fs_io_time_seconds_total",
                                        "kube_pod_container_status_restarts_total",
                                        "dns_lookup_failures_total",
                                        "jvm_gc_pause_seconds_total",
                                        "jvm_memory_heap_used_bytes",
                                        "db_pool_active_connections",
                                        "db_pool_pending_requests",
                                        "db_query_duration_seconds"};
  static const char* kCodes[3] = {"2xx", "4xx", "5xx"};
  pod_metric.resize(pods.size());
  pod_endpoint.resize(pods.size());
  pod_peer_series.resize(pods.size());
  state.resize(pods.size());
  for (size_t p = 0; p < pods.size(); ++p) {
    const Pod& pod = pods[p];
    const Service& svc = topo.services[pod.service];
    auto base = [&](const char* name) {
      return std::vector<Label>{{"__name__", name}, {"host", pod.host}, {"instance", pod.name}, {"service", svc.name}};
    };
    for (int m = 0; m < kPodMetricCount; ++m) {
      bool has = true;
      if (m == kGcPauseSeconds || m == kHeapBytes) has = svc.runtime == Runtime::kJava;
      if (m == kPoolActive || m == kPoolPending || m == kDbQuerySeconds) has = svc.has_db_pool;
      pod_metric[p][m] = has ? static_cast<int>(series.size()) : -1;
      if (has) AddSeries(base(names[m]));
    }
    for (const auto& e : svc.endpoints) {
      EndpointSeries es{};
      for (int c = 0; c < 3; ++c) {
        es.req[c] = static_cast<int>(series.size());
        auto l = base("http_server_requests_total");
        l.push_back({"endpoint", e.name});
        l.push_back({"code", kCodes[c]});
        AddSeries(std::move(l));
      }
      for (int q = 0; q < 2; ++q) {
        (q == 0 ? es.p50 : es.p99) = static_cast<int>(series.size());
        auto l = base("http_server_request_duration_seconds");
        l.push_back({"endpoint", e.name});
        l.push_back({"quantile", q == 0 ? "0.5" : "0.99"});
        AddSeries(std::move(l));
      }
      pod_endpoint[p].push_back(es);
    }
    for (int peer : service_peers[pod.service]) {
      pod_peer_series[p].push_back(static_cast<int>(series.size()));
      for (const char* n : {"rpc_client_requests_total", "rpc_client_errors_total", "rpc_client_duration_seconds"}) {
        auto l = base(n);
        l.push_back({"peer", topo.services[peer].name});
        if (std::string(n) == "rpc_client_duration_seconds") l.push_back({"quantile", "0.99"});
        AddSeries(std::move(l));
      }
    }
    PodState& st = state[p];
    st.req.assign(svc.endpoints.size(), {0, 0, 0});
    st.peer_req.assign(service_peers[pod.service].size(), 0);
    st.peer_err.assign(service_peers[pod.service].size(), 0);
    st.fs_gb = 2 + static_cast<double>(Mix(opt.seed, pod.name) % 1000) / 200.0;
    st.heap_phase = static_cast<double>(p % 7) / 7.0;
  }
  svc_lat.resize(topo.services.size());
  svc_err.resize(topo.services.size());
  svc_rate.resize(topo.services.size());
  prev_err.resize(topo.services.size());
  for (size_t s = 0; s < topo.services.size(); ++s) {
    size_t n = topo.services[s].endpoints.size();
    svc_lat[s].assign(n, 0);
    svc_err[s].assign(n, 0);
    svc_rate[s].assign(n, 0);
    prev_err[s].assign(n, 0);
  }
}

double Simulator::Impl::TrafficMultiplier() {
  const double day = 86400000.0;
  const double t = static_cast<double>(now);
  const double hour = std::fmod(t / 3600000.0, 24.0);
  const double daily = 1 + opt.daily_amplitude * std::sin(2 * kPi * (hour - 9) / 24);
  // Unix day 0 was a Thursday: days since Monday, minimum late Sunday, smooth.
  const double dow = std::fmod(t / day + 3, 7.0);
  const double weekly = 1 - opt.weekly_amplitude * 0.5 * (1 + std::cos(2 * kPi * (dow - 6.0) / 7.0));
  const double trend = 1 + opt.trend_per_day * (t - static_cast<double>(opt.start_ms)) / day;
  double burst = 1;
  if (opt.routine) {
    if (now >= burst_end) {  // schedule the next burst
      burst_start = now + static_cast<TimestampMs>(Exp(6 * 3600000.0));
      burst_end = burst_start + 120000 + static_cast<TimestampMs>(routine_rng.Uniform() * 240000);
      burst_gain = 0.15 + 0.3 * routine_rng.Uniform();
    }
    if (now >= burst_start) {  // ramps up and down over a minute, as a campaign's traffic does
      const double in = std::min(1.0, static_cast<double>(now - burst_start) / 60000.0);
      const double out = std::min(1.0, static_cast<double>(burst_end - now) / 60000.0);
      burst = 1 + burst_gain * std::max(0.0, std::min(in, out));
    }
  }
  return daily * weekly * trend * burst * (1 + 0.5 * opt.noise * rng.Normal());
}

void Simulator::Impl::ApplyFaults() {
  for (auto& st : state) st.fx = Effects{};
  for (auto& f : faults) {
    if (now < f.gt.start_ms || now >= f.gt.end_ms) continue;
    const double k = f.gt.spec.intensity;
    const double progress = static_cast<double>(now - f.gt.start_ms) / static_cast<double>(f.gt.end_ms - f.gt.start_ms);
    for (size_t p = 0; p < pods.size(); ++p) {
      if (!Applies(f, static_cast<int>(p))) continue;
      PodState& st = state[p];
      Effects& fx = st.fx;
      const Service& svc = topo.services[pods[p].service];
      switch (f.gt.spec.type) {
        case FaultType::kCpuLoad: fx.extra_cores += 0.95 * k * svc.cpu_limit_cores; break;
        case FaultType::kCpuCreep: fx.extra_cores += 0.95 * k * svc.cpu_limit_cores * progress; break;
        case FaultType::kMemoryLeak:
          // reaches the limit in about a third of the fault
          fx.leak_mb_per_s += k * (svc.memory_limit_mb - svc.memory_mb) /
                              (static_cast<double>(f.gt.end_ms - f.gt.start_ms) / 3000.0);
          break;
        case FaultType::kNetworkDelay: fx.egress_delay_ms += 300 * k; break;
        case FaultType::kPacketLoss: fx.loss = std::min(0.9, fx.loss + 0.15 * k); break;
        case FaultType::kNetworkPartition: fx.unreachable.push_back(f.peer); break;
        case FaultType::kDnsFailure: fx.dns = true; break;
        case FaultType::kDiskIo: fx.io_util = std::min(1.0, fx.io_util + 0.97 * k); break;
        case FaultType::kDiskFull: fx.disk_full = true; break;
        case FaultType::kProcessKill:
          if (st.next_kill <= now && !st.down) {
            fx.kill_now = true;
            st.next_kill = now + kKillEveryMs;
          }
          break;
        case FaultType::kProcessPause: fx.paused = true; break;
        case FaultType::kGcStorm: fx.gc_storm = true; break;
        case FaultType::kExceptions:
          fx.exception_rate = std::min(1.0, fx.exception_rate + 0.35 * k);
          fx.exception_endpoint = f.endpoint;  // one method: the same endpoint on every pod of the service
          break;
        case FaultType::kWrongCodes: fx.wrong_rate = std::min(1.0, fx.wrong_rate + 0.4 * k); break;
        case FaultType::kSlowSql: fx.sql_mult *= 1 + 40 * k; break;
        case FaultType::kPoolExhaustion: fx.pool_leak = true; break;
        case FaultType::kBadDeploy:
          fx.deploy_error = std::min(1.0, 0.3 * k);
          fx.deploy_endpoint = f.endpoint;
          break;
        case FaultType::kBadConfig: fx.bad_config = true; break;
        case FaultType::kTrafficSurge: break;  // applied to traffic in Flow()
        case FaultType::kDownstreamFailure: fx.fail_all = true; break;
        case FaultType::kCount: break;
      }
    }
  }
}

namespace {

// Adds `rps` entering at `entry` and everything it calls, hop by hop, to
// rate[service][endpoint]. With retry_err, a callee that failed part of the
// calls last step gets that part again (one retry).
void FlowDown(const Topology& topo, CallRef entry, double rps, const std::vector<std::vector<double>>* retry_err,
              std::vector<std::vector<double>>* rate) {
  std::vector<std::pair<CallRef, double>> stack{{entry, rps}};
  while (!stack.empty()) {
    auto [c, r] = stack.back();
    stack.pop_back();
    (*rate)[c.service][c.endpoint] += r;
    for (const auto& d : topo.services[c.service].endpoints[c.endpoint].calls) {
      stack.push_back({d, retry_err ? r * (1 + std::min(1.0, (*retry_err)[d.service][d.endpoint])) : r});
    }
  }
}

}  // namespace

std::vector<double> Simulator::Impl::BaseEndpointRates(int service) const {
  std::vector<std::vector<double>> rate(topo.services.size());
  for (size_t s = 0; s < topo.services.size(); ++s) rate[s].assign(topo.services[s].endpoints.size(), 0.0);
  for (const auto& r : topo.requests) FlowDown(topo, r.entry, r.rps, nullptr, &rate);
  return rate[service];
}

void Simulator::Impl::Flow(double mult) {
  for (auto& v : svc_rate) std::fill(v.begin(), v.end(), 0.0);
  // Rates flow from each request type's entry down the graph; a callee that
  // failed part of the calls last step gets that part again (one retry).
  for (size_t r = 0; r < topo.requests.size(); ++r) {
    double surge = 1;
    for (const auto& f : faults) {
      if (f.gt.spec.type == FaultType::kTrafficSurge && now >= f.gt.start_ms && now < f.gt.end_ms &&
          f.service == topo.requests[r].entry.service) {
        surge *= 1 + 3 * f.gt.spec.intensity;
      }
    }
    FlowDown(topo, topo.requests[r].entry, topo.requests[r].rps * mult * surge, &prev_err, &svc_rate);
  }
}

void Simulator::Impl::Compute(double dt_s) {
  for (int s : order) {
    const Service& svc = topo.services[s];
    const auto& sp = service_pods[s];
    const size_t n_ep = svc.endpoints.size();
    // Live pods share the traffic; a paused pod still gets its share (and
    // times out), a killed one gets none once its endpoints are removed.
    int receiving = 0;
    for (int p : sp) receiving += state[p].down ? 0 : 1;
    std::vector<double> lat_sum(n_ep, 0), err_sum(n_ep, 0), w_sum(n_ep, 0);
    for (int p : sp) {
      PodState& st = state[p];
      Effects& fx = st.fx;
      if (fx.kill_now && !st.down) {
        st.down = true;
        st.up_at = now + kRestartMs;
        st.restarts += 1;
        st.mem_leak_mb = 0;
        warm_until[p] = st.up_at + 120000;
      }
      const double share = (st.down || receiving == 0) ? 0.0 : 1.0 / receiving;
      st.ep_rps.assign(n_ep, 0);
      st.lat_ms.assign(n_ep, 0);
      st.err.assign(n_ep, 0);
      st.wrong.assign(n_ep, 0);
      st.rps = 0;
      for (size_t e = 0; e < n_ep; ++e) {
        st.ep_rps[e] = svc_rate[s][e] * share;
        st.rps += st.ep_rps[e];
      }
      // GC: a JVM's heap saw-tooths between 35% and 75%; in a storm it sits
      // near the max and full collections take 40-60% of the time.
      const double heap_max = svc.memory_limit_mb * 0.7;
      st.heap_phase = std::fmod(st.heap_phase + dt_s * (0.004 + st.rps * 0.00005), 1.0);
      st.heap = heap_max * (fx.gc_storm ? 0.97 + 0.02 * rng.Uniform() : 0.35 + 0.4 * st.heap_phase);
      st.gc_frac = svc.runtime == Runtime::kJava ? (fx.gc_storm ? 0.5 : 0.01 + 0.002 * st.rps / 10) : 0;
      // CPU
      const double idle = 0.02 * svc.cpu_limit_cores;
      double cores = idle + svc.cpu_ms_per_request * st.rps / 1000.0 + fx.extra_cores +
                     (fx.gc_storm ? 0.6 * svc.cpu_limit_cores : 0);
      if (opt.routine) {
        if (now < warm_until[p]) cores *= svc.runtime == Runtime::kJava ? 1.6 : 1.15;  // JIT / cache warm-up
        if (s == cron_service && now % 3600000 < 60000) cores += 0.2 * svc.cpu_limit_cores;  // the hourly job
      }
      if (fx.paused) cores = 0;
      if (fx.fail_all) cores = idle + 0.2 * (cores - idle);
      st.cores = std::min(cores, svc.cpu_limit_cores * 1.0);
      st.util = cores / svc.cpu_limit_cores;
      const double u = std::min(st.util, 0.97);
      double mult = 1 / (1 - u * u * u);
      mult *= 1 + st.gc_frac * 3;
      mult *= 1 + fx.io_util * 2.5;
      // database time per request (services with a pool); Little's law for
      // the connections in use, a queue for the rest.
      double db_ms = 0, pool_wait_ms = 0, pool_err = 0;
      if (svc.has_db_pool) {
        db_ms = 2.0 * fx.sql_mult * (1 + fx.io_util);
        const double size = fx.bad_config ? 4 : kPoolSize;
        double active = st.rps * db_ms / 1000.0;
        if (fx.pool_leak) active = size;  // leaked connections hold the pool
        st.pool_active = std::min(active, size);
        double over = active - size * 0.9;
        if (fx.pool_leak) over = std::max(over, size * 0.5 + st.rps * 0.05);
        st.pool_pending = over > 0 ? over * 4 : 0;
        if (over > 0) {
          pool_wait_ms = std::min(30000.0, 50 * over);
          pool_err = std::min(0.9, fx.pool_leak ? 0.4 : over / (active + 1));
        }
        st.db_ms = db_ms;
      }
      const double timeout = fx.bad_config ? kConfigTimeoutMs : kCallTimeoutMs;
      // outbound calls
      const auto& peers = service_peers[s];
      st.peer_rps.assign(peers.size(), 0);
      st.peer_err_rate.assign(peers.size(), 0);
      st.peer_lat_ms.assign(peers.size(), 0);
      std::vector<double> peer_w(peers.size(), 0);
      for (size_t e = 0; e < n_ep; ++e) {
        const Endpoint& ep = svc.endpoints[e];
        double lat = ep.latency_ms * mult + db_ms + pool_wait_ms;
        double ok = (1 - ep.error_rate) * (1 - pool_err);
        for (const auto& c : ep.calls) {
          double cl = svc_lat[c.service][c.endpoint] + fx.egress_delay_ms;
          double ce = svc_err[c.service][c.endpoint];
          bool hard = false;
          if (fx.dns) {
            cl = 5;
            ce = 1;
            hard = true;
          } else if (std::find(fx.unreachable.begin(), fx.unreachable.end(), c.service) != fx.unreachable.end()) {
            cl = timeout;
            ce = 1;
            hard = true;
          }
          if (fx.loss > 0) {
            cl += fx.loss * 400;  // retransmission timeouts
            ce = 1 - (1 - ce) * (1 - fx.loss * 0.25);
          }
          // timeouts: the part of the latency distribution beyond the timeout
          if (!hard && cl > timeout * 0.3) {
            double to = 1 / (1 + std::exp(-(cl - timeout) / (0.15 * timeout)));
            ce = 1 - (1 - ce) * (1 - to);
            cl = std::min(cl, timeout);
          }
          // one retry: transient failures mostly succeed the second time
          double after = hard ? 1.0 : ce * ce;
          double call_lat = cl + ce * std::min(cl, timeout);
          lat += call_lat;
          ok *= 1 - after;
          size_t pi = static_cast<size_t>(std::find(peers.begin(), peers.end(), c.service) - peers.begin());
          double calls = st.ep_rps[e] * (1 + ce);
          st.peer_rps[pi] += calls;
          st.peer_err_rate[pi] += calls * ce;
          st.peer_lat_ms[pi] += st.ep_rps[e] * cl;
          peer_w[pi] += st.ep_rps[e];
        }
        double err = 1 - ok;
        if (fx.exception_rate > 0 && (fx.exception_endpoint < 0 || fx.exception_endpoint == static_cast<int>(e))) {
          err = 1 - (1 - err) * (1 - fx.exception_rate);
        }
        if (fx.deploy_error > 0 && fx.deploy_endpoint == static_cast<int>(e)) err = 1 - (1 - err) * (1 - fx.deploy_error);
        if (fx.disk_full) err = 1 - (1 - err) * 0.6;
        // the change also points a feature at a wrong backend URL
        if (fx.bad_config) err = 1 - (1 - err) * 0.8;
        if (fx.fail_all) {
          err = 1;
          lat = 2;
        }
        st.lat_ms[e] = lat;
        st.err[e] = std::min(1.0, err);
        st.wrong[e] = fx.wrong_rate;
      }
      for (size_t i = 0; i < peers.size(); ++i) {
        if (st.peer_rps[i] > 0) st.peer_err_rate[i] /= st.peer_rps[i];
        st.peer_lat_ms[i] = peer_w[i] > 0 ? st.peer_lat_ms[i] / peer_w[i] : 0;
      }
      // what callers see of this pod
      for (size_t e = 0; e < n_ep; ++e) {
        double w = st.ep_rps[e] + 1e-9;
        double seen_lat = st.lat_ms[e] + fx.egress_delay_ms;
        double seen_err = st.err[e];
        if (fx.paused) {
          seen_lat = timeout;
          seen_err = 1;
        }
        if (fx.kill_now) seen_err = 1;
        lat_sum[e] += w * seen_lat;
        err_sum[e] += w * seen_err;
        w_sum[e] += w;
      }
    }
    for (size_t e = 0; e < n_ep; ++e) {
      if (receiving == 0) {  // every pod down: connection refused
        svc_lat[s][e] = 1;
        svc_err[s][e] = 1;
      } else {
        svc_lat[s][e] = lat_sum[e] / w_sum[e];
        svc_err[s][e] = err_sum[e] / w_sum[e];
      }
      prev_err[s][e] = svc_err[s][e];
    }
  }
  (void)dt_s;  // rates are per second; the step length matters in Emit()
}

void Simulator::Impl::Emit(double dt_s, StepOutput* out) {
  out->values.assign(series.size(), kNaN);
  const double stale = StaleMarker();
  for (size_t p = 0; p < pods.size(); ++p) {
    PodState& st = state[p];
    const Pod& pod = pods[p];
    const Service& svc = topo.services[pod.service];
    const auto& pm = pod_metric[p];
    const bool absent = st.down || st.fx.paused || now < st.replaced_until;
    if ((st.down && now >= st.up_at) || (st.reset_pending && now >= st.replaced_until)) {
      st.down = false;
      st.reset_pending = false;
      // a restarted container starts its counters from zero
      st.cpu_s = st.rx = st.tx = st.retrans = st.io_s = st.dns_fail = st.gc_s = 0;
      for (auto& r : st.req) r = {0, 0, 0};
      std::fill(st.peer_req.begin(), st.peer_req.end(), 0);
      std::fill(st.peer_err.begin(), st.peer_err.end(), 0);
      out->logs.push_back({now, static_cast<int>(p), "INFO",
                           "Starting " + svc.name + " (" + RuntimeName(svc.runtime) + ") on port 8080"});
    }
    // Memory and disk evolve whether or not the pod is scraped.
    st.mem_leak_mb += st.fx.leak_mb_per_s * dt_s;
    st.mem_mb = svc.memory_mb * (1 + 0.02 * std::sin(static_cast<double>(now) / 3.6e6)) + 0.5 * st.rps + st.mem_leak_mb +
                (svc.runtime == Runtime::kJava ? st.heap * 0.3 : 0);
    if (!st.down && st.mem_mb >= svc.memory_limit_mb) {
      out->logs.push_back({now, static_cast<int>(p), "ERROR",
                           "fatal error: runtime: out of memory (container " + svc.name + " OOMKilled, limit " +
                               std::to_string(static_cast<int>(svc.memory_limit_mb)) + "Mi)"});
      st.down = true;
      st.up_at = now + kRestartMs;
      st.restarts += 1;
      st.mem_leak_mb = 0;
      warm_until[p] = st.up_at + 120000;
    }
    st.fs_gb += dt_s * 1e-6 * (1 + st.rps * 0.01);
    if (absent || st.down) {
      if (pm[kUp] >= 0) out->values[pm[kUp]] = st.fx.paused && !st.down ? 0 : (st.down ? 0 : 1);
      if (!st.was_absent) {
        for (int m = 1; m < kPodMetricCount; ++m) {
          if (pm[m] >= 0) out->values[pm[m]] = stale;
        }
        for (const auto& es : pod_endpoint[p]) {
          for (int c = 0; c < 3; ++c) out->values[es.req[c]] = stale;
          out->values[es.p50] = out->values[es.p99] = stale;
        }
        for (int first : pod_peer_series[p]) {
          for (int k = 0; k < 3; ++k) out->values[first + k] = stale;
        }
      }
      st.was_absent = true;
      continue;
    }
    st.was_absent = false;
    const double cores = st.cores * (1 + opt.noise * rng.Normal());
    st.cpu_s += std::max(0.0, cores) * dt_s;
    st.rx += Noisy(st.rps * 1800 + 2000) * dt_s;
    st.tx += Noisy(st.rps * 4200 + 1500) * dt_s;
    st.retrans += Count((0.002 * st.rps + 0.05 + st.fx.loss * st.rps * 3) * dt_s);
    st.io_s += std::clamp(Noisy(0.02 + 0.002 * st.rps) + st.fx.io_util, 0.0, 1.0) * dt_s;
    st.gc_s += std::max(0.0, Noisy(st.gc_frac)) * dt_s;
    st.dns_fail += st.fx.dns ? Count(st.rps * 2 * dt_s) : 0;
    double fs = st.fx.disk_full ? 20.0 : std::min(st.fs_gb, 19.0);
    auto set = [&](PodMetric m, double v) {
      if (pm[m] >= 0) out->values[pm[m]] = v;
    };
    set(kUp, 1);
    set(kCpuSeconds, st.cpu_s);
    set(kMemoryBytes, Noisy(st.mem_mb) * 1048576.0);
    set(kRxBytes, st.rx);
    set(kTxBytes, st.tx);
    set(kRetransmits, st.retrans);
    set(kFsUsage, fs * 1073741824.0);
    set(kFsIoSeconds, st.io_s);
    set(kRestarts, st.restarts);
    set(kDnsFailures, st.dns_fail);
    set(kGcPauseSeconds, st.gc_s);
    set(kHeapBytes, Noisy(st.heap) * 1048576.0);
    set(kPoolActive, std::max(0.0, Noisy(st.pool_active)));
    set(kPoolPending, std::max(0.0, st.pool_pending * (1 + opt.noise * rng.Normal())));
    set(kDbQuerySeconds, Noisy(st.db_ms) / 1000.0);
    for (size_t e = 0; e < pod_endpoint[p].size(); ++e) {
      const auto& es = pod_endpoint[p][e];
      const double n = st.ep_rps[e] * dt_s;
      const double bad = std::min(1.0, st.err[e]);
      const double wrong = st.wrong[e] * (1 - bad);
      st.req[e][0] += Count(n * (1 - bad - wrong) * 0.995);
      st.req[e][1] += Count(n * (0.005 + wrong));  // a trickle of 404s is normal
      st.req[e][2] += Count(n * bad);
      for (int c = 0; c < 3; ++c) out->values[es.req[c]] = st.req[e][c];
      const double lat = st.lat_ms[e];
      out->values[es.p50] = std::max(0.0, Noisy(lat)) / 1000.0;
      // tail latency is noisier than the median, with the odd lone spike
      double p99 = (lat * 2.6 + (st.fx.loss > 0 ? 200 : 0)) * std::exp(2 * opt.noise * rng.Normal());
      if (opt.routine && rng.Uniform() < 0.001) p99 *= 2 + 2 * rng.Uniform();
      out->values[es.p99] = p99 / 1000.0;
    }
    for (size_t i = 0; i < pod_peer_series[p].size(); ++i) {
      const int first = pod_peer_series[p][i];
      st.peer_req[i] += Count(st.peer_rps[i] * dt_s);
      st.peer_err[i] += Count(st.peer_rps[i] * st.peer_err_rate[i] * dt_s);
      out->values[first] = st.peer_req[i];
      out->values[first + 1] = st.peer_err[i];
      out->values[first + 2] = std::max(0.0, Noisy(st.peer_lat_ms[i] * 2.6)) / 1000.0;
    }
  }
}

void Simulator::Impl::Logs(StepOutput* out) {
  char buf[512];
  for (size_t p = 0; p < pods.size(); ++p) {
    PodState& st = state[p];
    if (st.down || st.fx.paused) continue;
    const Pod& pod = pods[p];
    const Service& svc = topo.services[pod.service];
    const int ip = static_cast<int>(p);
    const bool java = svc.runtime == Runtime::kJava;
    // one access-log line per pod and step (sampled), rotating endpoints
    size_t e = static_cast<size_t>(step_index) % svc.endpoints.size();
    const int code = rng.Uniform() < st.err[e] ? 500 : (rng.Uniform() < st.wrong[e] ? 404 : 200);
    std::snprintf(buf, sizeof buf, "%s %s %d %.0fms request_id=%016llx", java ? "INFO  [http-nio-8080-exec-4]" : "info",
                  svc.endpoints[e].name.c_str(), code, st.lat_ms[e], static_cast<unsigned long long>(rng.Next()));
    out->logs.push_back({now, ip, "INFO", buf});
    const Effects& fx = st.fx;
    auto error = [&](const std::string& text) { out->logs.push_back({now, ip, "ERROR", text}); };
    auto warn = [&](const std::string& text) { out->logs.push_back({now, ip, "WARN", text}); };
    if (fx.exception_rate > 0 || fx.deploy_error > 0) {
      size_t xe = fx.exception_rate > 0 ? static_cast<size_t>(std::max(0, fx.exception_endpoint)) : static_cast<size_t>(fx.deploy_endpoint);
      const std::string& m = svc.endpoints[xe % svc.endpoints.size()].method;
      if (java) {
        error("ERROR [http-nio-8080-exec-7] Unhandled exception in " + m +
              ": java.lang.NullPointerException: Cannot invoke \"Item.getPrice()\" because \"item\" is null\n\tat " + m +
              "(" + svc.name + ".java:142)\n\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883)\n\tat "
              "org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:166)");
      } else {
        error("ERROR Unhandled exception in " + m + ": TypeError: Cannot read properties of undefined (reading 'price')\n"
              "    at " + m + " (/app/server.js:142:17)\n    at processTicksAndRejections (node:internal/process/task_queues:95:5)");
      }
    }
    if (fx.wrong_rate > 0) {
      warn("WARN " + svc.endpoints[0].name + " returned 404 Not Found for an existing resource id=" +
           std::to_string(rng.Next() % 100000));
    }
    if (fx.dns) {
      const auto& peers = service_peers[pod.service];
      std::string peer = peers.empty() ? std::string("db") : topo.services[peers[rng.Next() % peers.size()]].name;
      error("ERROR dial tcp: lookup " + peer + " on 10.96.0.10:53: no such host");
    }
    for (int u : fx.unreachable) {
      error("ERROR rpc error: code = Unavailable desc = connection error: dial tcp " + topo.services[u].name +
            ":8080: i/o timeout");
    }
    if (fx.loss > 0 && rng.Uniform() < 0.5) warn("WARN upstream request timeout, retrying (attempt 2 of 2)");
    if (fx.disk_full) error("ERROR write /var/lib/" + svc.name + "/data.log: no space left on device");
    if (fx.io_util > 0.5 && rng.Uniform() < 0.5) warn("WARN slow disk: fsync took 1840ms");
    if (fx.gc_storm) {
      warn("[gc] Pause Full (G1 Compaction Pause) 1482M->1461M(1536M) 912.331ms");
      error("ERROR java.lang.OutOfMemoryError: Java heap space\n\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)");
    }
    if (fx.sql_mult > 1) {
      std::snprintf(buf, sizeof buf, "WARN slow query (%.0f ms): SELECT * FROM orders WHERE account_id = ? ORDER BY created_at", st.db_ms);
      warn(buf);
    }
    if (st.pool_pending > 1) {
      error("ERROR HikariPool-1 - Connection is not available, request timed out after 30000ms.");
    }
    if (fx.bad_config) {
      error("ERROR context deadline exceeded (timeout 80ms) calling downstream");
      error("ERROR config: feature \"recommendations.v2\" backend http://reco-v2.internal:8080 refused the connection");
    }
    if (fx.fail_all) error("ERROR internal: backend unavailable (all requests failing)");
    double max_err = 0, max_lat = 0;
    for (size_t i = 0; i < svc.endpoints.size(); ++i) {
      max_err = std::max(max_err, st.err[i]);
      max_lat = std::max(max_lat, st.lat_ms[i]);
    }
    if (max_lat > 800) {
      std::snprintf(buf, sizeof buf, "WARN request took %.0fms, above the 800ms budget", max_lat);
      warn(buf);
    }
    if (max_err > 0.05 && fx.exception_rate == 0 && fx.deploy_error == 0 && !fx.fail_all) {
      error("ERROR request failed: upstream returned 503 Service Unavailable");
    }
  }
}

void Simulator::Impl::TraceCall(const CallRef& c, uint64_t hi, uint64_t lo, uint64_t parent, int64_t start_us,
                                int depth, StepOutput* out, int* budget) {
  if (*budget <= 0 || depth > 12) return;
  --*budget;
  const auto& sp = service_pods[c.service];
  int pod = sp[rng.Next() % sp.size()];
  const PodState& st = state[pod];
  SpanRecord s;
  s.trace_hi = hi;
  s.trace_lo = lo;
  s.span_id = rng.Next() | 1;
  s.parent_span_id = parent;
  s.pod = pod;
  s.name = topo.services[c.service].endpoints[c.endpoint].name;
  s.start_us = start_us;
  double lat = st.down ? 1 : st.lat_ms[c.endpoint];
  if (st.fx.paused) lat = kCallTimeoutMs;
  s.duration_us = static_cast<int64_t>(std::max(0.05, lat * (0.7 + 0.6 * rng.Uniform())) * 1000);
  double err = (st.down || st.fx.paused) ? 1 : st.err[c.endpoint];
  s.error = rng.Uniform() < err;
  s.http_status = s.error ? 500 : 200;
  const uint64_t id = s.span_id;
  out->spans.push_back(std::move(s));
  int64_t t = start_us + 200;
  for (const auto& d : topo.services[c.service].endpoints[c.endpoint].calls) {
    if (*budget <= 0 || depth >= 12) break;
    // the caller's client span around the callee's server span: the gap
    // between them is the network (and the caller's egress delay)
    SpanRecord client;
    client.trace_hi = hi;
    client.trace_lo = lo;
    client.span_id = rng.Next() | 1;
    client.parent_span_id = id;
    client.pod = pod;
    client.server = false;
    client.name = topo.services[d.service].name + "/" + topo.services[d.service].endpoints[d.endpoint].name;
    client.start_us = t;
    const double seen_ms = svc_lat[d.service][d.endpoint] + st.fx.egress_delay_ms;
    client.duration_us = static_cast<int64_t>(std::max(0.1, seen_ms) * 1000) + 300;
    client.error = rng.Uniform() < svc_err[d.service][d.endpoint];
    client.http_status = client.error ? 503 : 200;
    const uint64_t client_id = client.span_id;
    out->spans.push_back(std::move(client));
    TraceCall(d, hi, lo, client_id, t + 150 + static_cast<int64_t>(st.fx.egress_delay_ms * 500), depth + 1, out,
              budget);
    t += static_cast<int64_t>(seen_ms * 1000) + 400;
  }
}

void Simulator::Impl::Traces(StepOutput* out) {
  for (int i = 0; i < opt.traces_per_step && !topo.requests.empty(); ++i) {
    const auto& r = topo.requests[(static_cast<size_t>(step_index) * opt.traces_per_step + i) % topo.requests.size()];
    int budget = 200;
    const uint64_t hi = rng.Next(), lo = rng.Next();
    const int64_t start = now * 1000 + static_cast<int64_t>(rng.Uniform() * static_cast<double>(opt.step_ms) * 1000);
    TraceCall(r.entry, hi, lo, 0, start, 0, out, &budget);
  }
}

void Simulator::Impl::Routine(StepOutput* out) {
  // A rolling deploy every few hours: one pod of the service at a time is
  // replaced (a missed scrape, counters from zero, a warm-up), announced by
  // a deploy event like any CI pipeline would.
  if (deploy_service < 0 && now >= next_deploy) {
    deploy_service = static_cast<int>(routine_rng.Next() % topo.services.size());
    deploy_pod = 0;
    deploy_next_pod = now;
    ++deploy_version;
    const std::string v = "v1." + std::to_string(deploy_version) + ".0";
    out->events.push_back({now, "deploy", topo.services[deploy_service].name, "", v,
                           "deploy " + topo.services[deploy_service].name + " " + v + " (rolling update)"});
  }
  if (deploy_service >= 0 && now >= deploy_next_pod) {
    const auto& sp = service_pods[deploy_service];
    if (deploy_pod < static_cast<int>(sp.size())) {
      // maxSurge: the new pod is up before the old one goes, so capacity
      // never drops; what shows is the replacement itself
      PodState& st = state[sp[deploy_pod]];
      if (!st.down) {
        st.replaced_until = now + opt.step_ms;
        st.reset_pending = true;
        warm_until[sp[deploy_pod]] = now + 130000;
      }
      ++deploy_pod;
      deploy_next_pod = now + 40000;
    } else {
      deploy_service = -1;
      next_deploy = now + 1800000 + static_cast<TimestampMs>(Exp(3 * 3600000.0));
    }
  }
}

Simulator::Simulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Simulator::~Simulator() = default;

Result<std::unique_ptr<Simulator>> Simulator::Create(Topology topology, SimOptions options) {
  Status st = topology.Validate();
  if (!st.ok()) return st;
  if (options.step_ms <= 0) return Status::InvalidArgument("step must be positive");
  auto impl = std::make_unique<Impl>();
  impl->topo = std::move(topology);
  impl->opt = options;
  impl->rng = Rng(options.seed);
  impl->now = options.start_ms;
  impl->routine_rng = Rng(options.seed ^ 0x5EEDF00DULL);
  auto order = impl->topo.CalleesFirst();
  if (!order.ok()) return order.status();
  impl->order = std::move(*order);
  impl->Build();
  impl->warm_until.assign(impl->pods.size(), 0);
  impl->next_deploy = options.start_ms + 1800000 + static_cast<TimestampMs>(impl->Exp(3 * 3600000.0));
  impl->cron_service = static_cast<int>(Mix(options.seed, "cron") % impl->topo.services.size());
  return std::unique_ptr<Simulator>(new Simulator(std::move(impl)));
}

Status Simulator::AddFault(const FaultSpec& f) {
  Impl& d = *impl_;
  ActiveFault a;
  a.service = d.topo.FindService(f.service);
  const std::string what = std::string("fault ") + FaultTypeName(f.type) + " on \"" + f.service + "\"";
  if (a.service < 0) return Status::InvalidArgument(what + ": no such service in topology " + d.topo.name);
  const Service& svc = d.topo.services[a.service];
  if (f.instance >= svc.instances) {
    return Status::InvalidArgument(what + ": instance " + std::to_string(f.instance) + " does not exist (the service has " +
                                   std::to_string(svc.instances) + ")");
  }
  if (f.type == FaultType::kGcStorm && svc.runtime != Runtime::kJava) {
    return Status::InvalidArgument(what + ": gc-storm needs a JVM service (runtime java)");
  }
  if ((f.type == FaultType::kSlowSql || f.type == FaultType::kPoolExhaustion) && !svc.has_db_pool) {
    return Status::InvalidArgument(what + ": the service has no database connection pool");
  }
  if (f.type == FaultType::kNetworkPartition) {
    a.peer = d.topo.FindService(f.peer);
    if (a.peer < 0) return Status::InvalidArgument(what + ": unknown peer \"" + f.peer + "\"");
    const auto& peers = d.service_peers[a.service];
    if (std::find(peers.begin(), peers.end(), a.peer) == peers.end()) {
      return Status::InvalidArgument(what + ": it never calls \"" + f.peer + "\"");
    }
  }
  a.gt.spec = f;
  a.gt.start_ms = d.opt.start_ms + f.start_offset_ms;
  a.gt.end_ms = a.gt.start_ms + f.duration_ms;
  a.gt.type = FaultTypeName(f.type);
  a.gt.service = f.service;
  a.gt.peer = f.peer;
  a.gt.indicator = FaultIndicator(f.type);
  if (f.type == FaultType::kExceptions || f.type == FaultType::kBadDeploy) {
    // One method of the service fails, picked by the start time, but only
    // among the methods some request reaches: a method nobody calls would
    // fail no call, yet its stack traces would be logged (the suite's
    // exceptions on Online Boutique's SearchProducts, which no request
    // type calls, did that).
    const std::vector<double> rate = d.BaseEndpointRates(a.service);
    const size_t n = svc.endpoints.size();
    const size_t first = Mix(static_cast<uint64_t>(a.gt.start_ms), f.type == FaultType::kExceptions ? svc.name : svc.name + "deploy") % n;
    a.endpoint = static_cast<int>(first);
    for (size_t k = 0; k < n; ++k) {
      if (rate[(first + k) % n] > 0) {
        a.endpoint = static_cast<int>((first + k) % n);
        break;
      }
    }
  }
  if (f.instance >= 0) {
    const Pod& p = d.pods[d.service_pods[a.service][f.instance]];
    a.gt.instance = p.name;
    a.gt.host = p.host;
  }
  d.faults.push_back(std::move(a));
  return Status::Ok();
}

void Simulator::Step(StepOutput* out) {
  Impl& d = *impl_;
  out->Clear();
  out->ts_ms = d.now;
  const double dt_s = static_cast<double>(d.opt.step_ms) / 1000.0;
  for (auto& f : d.faults) {
    // deploy and config events at the change that causes the fault
    if (!f.announced && d.now >= f.gt.start_ms && d.now < f.gt.end_ms) {
      f.announced = true;
      if (f.gt.spec.type == FaultType::kBadDeploy) {
        out->events.push_back({d.now, "deploy", f.gt.service, f.gt.instance, "v2.14.0",
                               "deploy " + f.gt.service + " v2.14.0 (rolling update)"});
      } else if (f.gt.spec.type == FaultType::kBadConfig) {
        out->events.push_back({d.now, "config", f.gt.service, f.gt.instance, "",
                               "config change " + f.gt.service + ": client.timeout 1s -> 80ms, db.pool.max 20 -> 4"});
      }
    }
  }
  d.ApplyFaults();
  if (d.opt.routine) d.Routine(out);
  d.Flow(d.TrafficMultiplier());
  d.Compute(dt_s);
  d.Emit(dt_s, out);
  if (d.opt.logs) d.Logs(out);
  if (d.opt.traces) d.Traces(out);
  d.now += d.opt.step_ms;
  ++d.step_index;
}

TimestampMs Simulator::now_ms() const { return impl_->now; }
const SimOptions& Simulator::options() const { return impl_->opt; }
const Topology& Simulator::topology() const { return impl_->topo; }
const std::vector<Pod>& Simulator::pods() const { return impl_->pods; }
const std::vector<Labels>& Simulator::series() const { return impl_->series; }
int Simulator::PodSeries(int pod, PodMetric m) const { return impl_->pod_metric[pod][m]; }
const std::vector<Simulator::EndpointSeries>& Simulator::PodEndpointSeries(int pod) const {
  return impl_->pod_endpoint[pod];
}
std::vector<GroundTruthFault> Simulator::ground_truth() const {
  std::vector<GroundTruthFault> v;
  for (const auto& f : impl_->faults) v.push_back(f.gt);
  return v;
}

std::string GroundTruthJson(const Simulator& sim) {
  nlohmann::json j;
  j["topology"] = sim.topology().name;
  j["seed"] = sim.options().seed;
  j["start_ms"] = sim.options().start_ms;
  j["step_ms"] = sim.options().step_ms;
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& f : sim.ground_truth()) {
    arr.push_back({{"type", f.type},
                   {"start_ms", f.start_ms},
                   {"end_ms", f.end_ms},
                   {"start", FormatRfc3339(f.start_ms)},
                   {"end", FormatRfc3339(f.end_ms)},
                   {"service", f.service},
                   {"instance", f.instance},
                   {"host", f.host},
                   {"peer", f.peer},
                   {"indicator", f.indicator}});
  }
  j["faults"] = arr;
  return j.dump(2);
}

}  // namespace vigil::sim
