#include "cli/sim_export.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/time_format.h"
#include "sim/model.h"
#include "sim/scenarios.h"
#include "sim/topology.h"

namespace vigil {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kHour = 3600000, kMinute = 60000, kDay = 24 * kHour;

// The Nezha metric columns, then vigil's extensions.
const char* kMetricHeader =
    "Time,TimeStamp,PodName,CpuUsage(m),CpuUsageRate(%),MemoryUsage(Mi),MemoryUsageRate(%),SyscallRead,SyscallWrite,"
    "NetworkReceiveBytes,NetworkTransmitBytes,PodClientLatencyP90(s),PodServerLatencyP90(s),PodClientLatencyP95(s),"
    "PodServerLatencyP95(s),PodClientLatencyP99(s),PodServerLatencyP99(s),PodWorkload(Ops),PodSuccessRate(%),"
    "NodeCpuUsageRate(%),NodeMemoryUsageRate(%),NodeNetworkReceiveBytes,"
    "Node,Up,Restarts,TcpRetransmits,FsUsage(Mi),FsIoTime(s),DnsLookupFailures,GcPause(s),HeapUsed(Mi),DbPoolActive,"
    "DbPoolPending,DbQueryDuration(s),PodServerLatencyP50(s),Http4xxRate(%),Http5xxRate(%),ClientErrorRate(%),"
    "ClientRequests(Ops)\n";

std::string Day(TimestampMs t) { return FormatRfc3339(t).substr(0, 10); }
std::string Clock(TimestampMs t) { return FormatRfc3339(t).substr(11, 8); }  // HH:MM:SS

std::string Num(double v) {
  if (!std::isfinite(v)) return "";
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

std::string CsvQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Hex(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016" PRIx64, v);
  return b;
}

// Appends to DIR/<path>, writing `header` first when the file is new.
class Files {
 public:
  explicit Files(fs::path root) : root_(std::move(root)) {}
  std::string& At(const std::string& rel, const char* header) {
    auto [it, fresh] = buf_.try_emplace(rel);
    if (fresh && !fs::exists(root_ / rel)) it->second = header;
    return it->second;
  }
  Status Flush() {
    for (auto& [rel, text] : buf_) {
      fs::path p = root_ / rel;
      std::error_code ec;
      fs::create_directories(p.parent_path(), ec);
      std::ofstream f(p, std::ios::app | std::ios::binary);
      f << text;
      if (!f) return Status::IOError("cannot write " + p.string());
    }
    buf_.clear();
    return Status::Ok();
  }

 private:
  fs::path root_;
  std::map<std::string, std::string> buf_;
};

// Per pod and minute: counter increases and gauge means.
struct MinuteAcc {
  std::unordered_map<int, double> inc;                // series -> increase in the minute
  std::unordered_map<int, std::pair<double, int>> g;  // series -> (sum, n)
  int steps = 0, up = 0;  // up: scrapes that found the target up (Prometheus' up == 1)
};

struct PodSeriesMap {
  std::vector<int> counters, gauges;  // all series of the pod, by kind
  std::vector<int> peer_req, peer_err, peer_lat;
};

bool IsCounter(std::string_view name) { return name.size() > 6 && name.substr(name.size() - 6) == "_total"; }

Status ExportScenario(const sim::Scenario& s, TimestampMs start, const ExportCasesOptions& o, Files* files,
                      ExportSummary* sum, nlohmann::json* fault_lists) {
  auto topo = sim::BuiltinTopology(s.topology);
  if (!topo.ok()) return topo.status();
  sim::SimOptions so;
  so.seed = s.seed + o.seed_offset;
  so.start_ms = start;
  so.traces_per_step = o.traces_per_step;
  auto created = sim::Simulator::Create(std::move(*topo), so);
  if (!created.ok()) return created.status();
  sim::Simulator& simr = **created;
  for (const auto& f : s.faults) {
    Status st = simr.AddFault(f);
    if (!st.ok()) return Status::InvalidArgument(s.id + ": " + st.message());
  }
  const auto& pods = simr.pods();
  const auto& series = simr.series();
  const auto& services = simr.topology().services;
  std::unordered_map<std::string, int> pod_index;
  for (size_t p = 0; p < pods.size(); ++p) pod_index[pods[p].name] = static_cast<int>(p);
  std::vector<PodSeriesMap> pm(pods.size());
  for (size_t i = 0; i < series.size(); ++i) {
    auto it = pod_index.find(std::string(series[i].Get("instance")));
    if (it == pod_index.end()) continue;
    const std::string_view name = series[i].MetricName();
    PodSeriesMap& m = pm[static_cast<size_t>(it->second)];
    (IsCounter(name) ? m.counters : m.gauges).push_back(static_cast<int>(i));
    if (name == "rpc_client_requests_total") m.peer_req.push_back(static_cast<int>(i));
    if (name == "rpc_client_errors_total") m.peer_err.push_back(static_cast<int>(i));
    if (name == "rpc_client_duration_seconds") m.peer_lat.push_back(static_cast<int>(i));
  }

  std::map<TimestampMs, std::vector<MinuteAcc>> minutes;
  std::vector<double> prev(series.size(), NAN);
  sim::StepOutput out;
  const int64_t steps = s.duration_ms / so.step_ms;
  for (int64_t k = 0; k < steps; ++k) {
    simr.Step(&out);
    const TimestampMs minute = out.ts_ms / kMinute * kMinute;
    auto& acc = minutes[minute];
    if (acc.empty()) acc.resize(pods.size());
    for (size_t p = 0; p < pods.size(); ++p) {
      MinuteAcc& a = acc[p];
      ++a.steps;
      const int up = simr.PodSeries(static_cast<int>(p), sim::kUp);
      if (up >= 0 && out.values[static_cast<size_t>(up)] >= 0.5) ++a.up;
      for (int i : pm[p].counters) {
        const double v = out.values[static_cast<size_t>(i)];
        if (!std::isfinite(v)) continue;
        double& pv = prev[static_cast<size_t>(i)];
        if (std::isfinite(pv)) a.inc[i] += v >= pv ? v - pv : v;  // a reset starts from zero
        pv = v;
      }
      for (int i : pm[p].gauges) {
        const double v = out.values[static_cast<size_t>(i)];
        if (!std::isfinite(v)) continue;
        auto& g = a.g[i];
        g.first += v;
        ++g.second;
      }
    }
    for (const auto& sp : out.spans) {
      const TimestampMs t = sp.start_us / 1000;
      std::string& f = files->At(Day(t) + "/trace/" + Clock(t / kHour * kHour).substr(0, 2) + "_00_trace.csv",
                                 "TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,"
                                 "Duration,StatusCode\n");
      f += Hex(sp.trace_hi) + Hex(sp.trace_lo) + ',' + Hex(sp.span_id) + ',' +
           (sp.parent_span_id ? Hex(sp.parent_span_id) : std::string("root")) + ',' + pods[static_cast<size_t>(sp.pod)].name +
           ',' + CsvQuote(sp.name) + ',' + std::to_string(sp.start_us * 1000) + ',' +
           std::to_string((sp.start_us + sp.duration_us) * 1000) + ',' + std::to_string(sp.duration_us) + ',' +
           std::to_string(sp.http_status) + '\n';
      ++sum->spans;
    }
    for (const auto& l : out.logs) {
      const auto& pod = pods[static_cast<size_t>(l.pod)];
      std::string& f = files->At(Day(l.ts_ms) + "/log/" + Clock(l.ts_ms / kHour * kHour).substr(0, 2) + "_00_log.csv",
                                 "Timestamp,TimeUnixNano,Node,PodName,Container,TraceID,SpanID,Log\n");
      nlohmann::json line = {{"log", l.text + "\n"}, {"stream", "stdout"}, {"time", FormatRfc3339(l.ts_ms)}};
      f += FormatRfc3339(l.ts_ms) + ',' + std::to_string(l.ts_ms * 1000000) + ',' + pod.host + ',' + pod.name + ',' +
           services[static_cast<size_t>(pod.service)].name + ",,," +
           CsvQuote(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) + '\n';
      ++sum->log_lines;
    }
    for (const auto& e : out.events) {
      std::string& f = files->At(Day(e.ts_ms) + "/event/events.csv", "Time,TimeStamp,Kind,ServiceName,PodName,Version,Text\n");
      f += Day(e.ts_ms) + ' ' + Clock(e.ts_ms) + ',' + std::to_string(e.ts_ms / 1000) + ',' + e.kind + ',' + e.service +
           ',' + e.instance + ',' + e.version + ',' + CsvQuote(e.text) + '\n';
    }
  }

  // One metric row per pod and minute.
  for (auto& [minute, acc] : minutes) {
    struct NodeAcc {
      double cpu = 0, cpu_limit = 0, mem = 0, mem_limit = 0, rx = 0;
    };
    std::map<std::string, NodeAcc> nodes;
    struct Row {
      double cpu_m = NAN, mem_mi = NAN, rx = NAN;
    };
    std::vector<Row> rows(pods.size());
    auto gauge = [&](const MinuteAcc& a, int i) {
      auto it = a.g.find(i);
      return it == a.g.end() || it->second.second == 0 ? NAN : it->second.first / it->second.second;
    };
    auto rate = [&](const MinuteAcc& a, int i) {
      auto it = a.inc.find(i);
      return it == a.inc.end() ? NAN : it->second / 60.0;
    };
    for (size_t p = 0; p < pods.size(); ++p) {
      const MinuteAcc& a = acc[p];
      const auto& svc = services[static_cast<size_t>(pods[p].service)];
      rows[p].cpu_m = rate(a, simr.PodSeries(static_cast<int>(p), sim::kCpuSeconds)) * 1000;
      rows[p].mem_mi = gauge(a, simr.PodSeries(static_cast<int>(p), sim::kMemoryBytes)) / 1048576.0;
      rows[p].rx = rate(a, simr.PodSeries(static_cast<int>(p), sim::kRxBytes));
      NodeAcc& n = nodes[pods[p].host];
      if (std::isfinite(rows[p].cpu_m)) n.cpu += rows[p].cpu_m;
      if (std::isfinite(rows[p].mem_mi)) n.mem += rows[p].mem_mi;
      if (std::isfinite(rows[p].rx)) n.rx += rows[p].rx;
      n.cpu_limit += svc.cpu_limit_cores * 1000;
      n.mem_limit += svc.memory_limit_mb;
    }
    for (size_t p = 0; p < pods.size(); ++p) {
      const MinuteAcc& a = acc[p];
      const int ip = static_cast<int>(p);
      const auto& pod = pods[p];
      const auto& svc = services[static_cast<size_t>(pod.service)];
      const NodeAcc& n = nodes[pod.host];
      auto pod_rate = [&](sim::PodMetric m) {
        int i = simr.PodSeries(ip, m);
        return i < 0 ? NAN : rate(a, i);
      };
      auto pod_gauge = [&](sim::PodMetric m) {
        int i = simr.PodSeries(ip, m);
        return i < 0 ? NAN : gauge(a, i);
      };
      // The pod's latency quantiles: its endpoints' weighted by their
      // traffic (an endpoint nobody called has no latency to report).
      double req[3] = {0, 0, 0}, w99 = 0, w50 = 0, wsum = 0;
      bool any_req = false;
      for (const auto& es : simr.PodEndpointSeries(ip)) {
        double ep_total = 0;
        for (int c = 0; c < 3; ++c) {
          double r = rate(a, es.req[c]);
          if (std::isfinite(r)) {
            req[c] += r;
            ep_total += r;
            any_req = true;
          }
        }
        double q99 = gauge(a, es.p99), q50 = gauge(a, es.p50);
        if (ep_total > 0 && std::isfinite(q99) && std::isfinite(q50)) {
          w99 += ep_total * q99;
          w50 += ep_total * q50;
          wsum += ep_total;
        }
      }
      const double p99 = wsum > 0 ? w99 / wsum : NAN, p50 = wsum > 0 ? w50 / wsum : NAN;
      double creq = 0, cerr = 0, clat = NAN;
      for (int i : pm[p].peer_req) creq += std::isfinite(rate(a, i)) ? rate(a, i) : 0;
      for (int i : pm[p].peer_err) cerr += std::isfinite(rate(a, i)) ? rate(a, i) : 0;
      for (int i : pm[p].peer_lat) {
        double v = gauge(a, i);
        if (std::isfinite(v)) clat = std::isfinite(clat) ? std::max(clat, v) : v;
      }
      const double total = req[0] + req[1] + req[2];
      const double up = a.steps ? static_cast<double>(a.up) / a.steps : NAN;
      const bool down = a.up == 0;
      auto d = [&](double v) { return down ? std::string() : Num(v); };
      std::string row = Day(minute) + ' ' + Clock(minute) + ',' + std::to_string(minute / 1000) + ',' + pod.name + ',';
      row += d(rows[p].cpu_m) + ',' + d(rows[p].cpu_m / (svc.cpu_limit_cores * 10)) + ',' + d(rows[p].mem_mi) + ',' +
             d(rows[p].mem_mi / svc.memory_limit_mb * 100) + ",,," + d(rows[p].rx) + ',' + d(pod_rate(sim::kTxBytes)) +
             ",,,,," + d(clat) + ',' + d(p99) + ',' + d(any_req ? total : NAN) + ',' +
             d(total > 0 ? 100 * req[0] / total : NAN) + ',' + Num(n.cpu / n.cpu_limit * 100) + ',' +
             Num(n.mem / n.mem_limit * 100) + ',' + Num(n.rx) + ',';
      row += pod.host + ',' + Num(up) + ',' + d(pod_rate(sim::kRestarts) * 60) + ',' + d(pod_rate(sim::kRetransmits)) +
             ',' + d(pod_gauge(sim::kFsUsage) / 1048576.0) + ',' + d(pod_rate(sim::kFsIoSeconds)) + ',' +
             d(pod_rate(sim::kDnsFailures)) + ',' + d(pod_rate(sim::kGcPauseSeconds)) + ',' +
             d(pod_gauge(sim::kHeapBytes) / 1048576.0) + ',' + d(pod_gauge(sim::kPoolActive)) + ',' +
             d(pod_gauge(sim::kPoolPending)) + ',' + d(pod_gauge(sim::kDbQuerySeconds)) + ',' + d(p50) + ',' +
             d(total > 0 ? 100 * req[1] / total : NAN) + ',' + d(total > 0 ? 100 * req[2] / total : NAN) + ',' +
             d(creq > 0 ? 100 * cerr / creq : NAN) + ',' + d(pm[p].peer_req.empty() ? NAN : creq) + '\n';
      files->At(Day(minute) + "/metric/" + pod.name + "_metric.csv", kMetricHeader) += row;
      ++sum->metric_rows;
    }
  }

  // dependency.csv: the service call graph (Source calls Target).
  {
    std::string& dep = files->At(Day(start) + "/metric/dependency.csv", "Source,Target,Weight\n");
    for (const auto& svc : services) {
      std::map<int, int> callees;
      for (const auto& e : svc.endpoints) {
        for (const auto& c : e.calls) ++callees[c.service];
      }
      for (const auto& [callee, n] : callees) {
        dep += svc.name + ',' + services[static_cast<size_t>(callee)].name + ',' + std::to_string(n) + '\n';
      }
    }
  }

  // The fault list: one entry per fault, keyed by the hour of injection.
  for (const auto& gt : simr.ground_truth()) {
    const std::string day = Day(gt.start_ms);
    std::string pod = gt.instance;
    if (pod.empty()) {
      for (const auto& p : pods) {
        if (services[static_cast<size_t>(p.service)].name == gt.service) {
          pod = p.name;
          break;
        }
      }
    }
    const std::string hour = std::to_string(std::stoi(Clock(gt.start_ms).substr(0, 2)));
    (*fault_lists)[day][hour].push_back({{"inject_time", day + " " + Clock(gt.start_ms)},
                                         {"inject_timestamp", std::to_string(gt.start_ms / 1000)},
                                         {"inject_pod", pod},
                                         {"inject_type", gt.type},
                                         {"inject_service", gt.service},
                                         {"inject_scope", gt.instance.empty() ? "service" : "pod"},
                                         {"scenario", s.id}});
  }
  return files->Flush();
}

}  // namespace

Result<ExportSummary> ExportSimCases(const ExportCasesOptions& o) {
  ExportSummary sum;
  std::error_code ec;
  fs::create_directories(o.dir, ec);
  if (ec) return Status::IOError(o.dir + ": " + ec.message());
  if (!fs::is_empty(o.dir, ec)) return Status::InvalidArgument(o.dir + ": not empty (the export appends to files)");
  Files files(o.dir);
  nlohmann::json fault_lists = nlohmann::json::object();
  // Day 0: the fault-free stretches (the normal period), then one fault
  // scenario per hour from day 1 on. Scenarios with several faults are left
  // out: a case has one root cause.
  TimestampMs quiet = o.start_ms, slot = o.start_ms + kDay;
  std::map<std::string, bool> days;
  for (const auto& s : sim::ScenarioSuite()) {
    if (!o.only.empty()) {
      // comma-separated id prefixes
      bool keep = false;
      size_t start = 0;
      while (start <= o.only.size() && !keep) {
        size_t end = o.only.find(',', start);
        if (end == std::string::npos) end = o.only.size();
        const std::string prefix = o.only.substr(start, end - start);
        keep = !prefix.empty() && s.id.rfind(prefix, 0) == 0;
        start = end + 1;
      }
      if (!keep) continue;
    }
    if (s.faults.size() > 1) continue;
    TimestampMs start;
    if (s.faults.empty()) {
      start = quiet;
      quiet += (s.duration_ms + kHour - 1) / kHour * kHour;
      if (quiet > o.start_ms + kDay) continue;  // day 0 holds at most 24 h of normal period
      ++sum.fault_free;
    } else {
      start = slot;
      slot += (s.duration_ms + kHour - 1) / kHour * kHour;
      ++sum.cases;
    }
    days[Day(start)] = true;
    Status st = ExportScenario(s, start, o, &files, &sum, &fault_lists);
    if (!st.ok()) return st;
  }
  for (const auto& [day, unused] : days) {
    fs::create_directories(fs::path(o.dir) / day, ec);
    std::ofstream f(fs::path(o.dir) / day / (day + "-fault_list.json"));
    f << (fault_lists.contains(day) ? fault_lists[day] : nlohmann::json::object()).dump(2) << '\n';
    if (!f) return Status::IOError("cannot write the fault list of " + day);
  }
  sum.days = static_cast<int>(days.size());
  return sum;
}

int RunExportCases(const std::string& dir) {
  ExportCasesOptions o;
  o.dir = dir;
  auto s = ExportSimCases(o);
  if (!s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.status().message().c_str());
    return 1;
  }
  std::printf("%d fault cases and %d fault-free stretches over %d days in %s: %zu spans, %zu log lines, %zu metric rows\n",
              s->cases, s->fault_free, s->days, dir.c_str(), s->spans, s->log_lines, s->metric_rows);
  return 0;
}

}  // namespace vigil
