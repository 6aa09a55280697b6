#include "sim/faults.h"

#include <cstdlib>

namespace vigil::sim {

namespace {
struct FaultInfo {
  const char* name;
  const char* indicator;
};
// Indexed by FaultType.
constexpr FaultInfo kFaults[] = {
    {"cpu-load", "container_cpu_usage_seconds_total"},
    {"cpu-creep", "container_cpu_usage_seconds_total"},
    {"memory-leak", "container_memory_working_set_bytes"},
    {"network-delay", "rpc_client_duration_seconds"},
    {"packet-loss", "container_network_tcp_retransmits_total"},
    {"network-partition", "rpc_client_errors_total"},
    {"dns-failure", "dns_lookup_failures_total"},
    {"disk-io", "container_fs_io_time_seconds_total"},
    {"disk-full", "container_fs_usage_bytes"},
    {"process-kill", "kube_pod_container_status_restarts_total"},
    {"process-pause", "up"},
    {"gc-storm", "jvm_gc_pause_seconds_total"},
    {"exceptions", "log:ERROR <*> Unhandled exception in <*>"},
    {"wrong-codes", "http_server_requests_total{code=\"4xx\"}"},
    {"slow-sql", "db_query_duration_seconds"},
    {"pool-exhaustion", "db_pool_pending_requests"},
    {"bad-deploy", "http_server_requests_total{code=\"5xx\"}"},
    {"bad-config", "http_server_requests_total{code=\"5xx\"}"},
    {"traffic-surge", "http_server_requests_total{code=\"2xx\"}"},
    {"downstream-failure", "rpc_client_errors_total"},
};
static_assert(sizeof(kFaults) / sizeof(kFaults[0]) == static_cast<size_t>(FaultType::kCount));
}  // namespace

const char* FaultTypeName(FaultType t) { return kFaults[static_cast<int>(t)].name; }

std::string FaultIndicator(FaultType t) { return kFaults[static_cast<int>(t)].indicator; }

std::vector<FaultType> AllFaultTypes() {
  std::vector<FaultType> v;
  for (int i = 0; i < static_cast<int>(FaultType::kCount); ++i) v.push_back(static_cast<FaultType>(i));
  return v;
}

Result<FaultType> FaultTypeFromName(const std::string& name) {
  for (FaultType t : AllFaultTypes()) {
    if (name == FaultTypeName(t)) return t;
  }
  std::string known;
  for (FaultType t : AllFaultTypes()) known += std::string(known.empty() ? "" : ", ") + FaultTypeName(t);
  return Status::InvalidArgument("unknown fault type \"" + name + "\" (known: " + known + ")");
}

Result<int64_t> ParseDurationMs(const std::string& text) {
  if (text.empty()) return Status::InvalidArgument("empty duration");
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  std::string unit(end);
  double mult = 1000;
  if (unit == "ms") mult = 1;
  else if (unit.empty() || unit == "s") mult = 1000;
  else if (unit == "m") mult = 60000;
  else if (unit == "h") mult = 3600000;
  else if (unit == "d") mult = 86400000;
  else return Status::InvalidArgument("duration \"" + text + "\": unit must be ms, s, m, h or d");
  if (end == text.c_str() || v < 0) return Status::InvalidArgument("duration \"" + text + "\": not a non-negative number");
  return static_cast<int64_t>(v * mult);
}

Result<FaultSpec> ParseFaultSpec(const std::string& text) {
  FaultSpec f;
  size_t colon = text.find(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("fault \"" + text + "\": expected TYPE:SERVICE[/INSTANCE][~PEER][@START][+DURATION]");
  }
  auto type = FaultTypeFromName(text.substr(0, colon));
  if (!type.ok()) return Status::InvalidArgument("fault \"" + text + "\": " + type.status().message());
  f.type = *type;
  std::string rest = text.substr(colon + 1);
  // Split off the suffixes from the right: *INTENSITY, +DURATION, @START.
  auto take = [&](char mark, std::string* out) {
    size_t p = rest.rfind(mark);
    if (p == std::string::npos) return;
    *out = rest.substr(p + 1);
    rest.resize(p);
  };
  std::string intensity, duration, start, peer;
  take('*', &intensity);
  take('+', &duration);
  take('@', &start);
  take('~', &peer);
  size_t slash = rest.find('/');
  f.service = rest.substr(0, slash);
  if (f.service.empty()) return Status::InvalidArgument("fault \"" + text + "\": no service");
  if (slash != std::string::npos) {
    char* end = nullptr;
    long i = std::strtol(rest.c_str() + slash + 1, &end, 10);
    if (*end != 0 || i < 0) {
      return Status::InvalidArgument("fault \"" + text + "\": instance \"" + rest.substr(slash + 1) +
                                     "\" is not a pod index (0, 1, ...)");
    }
    f.instance = static_cast<int>(i);
  }
  f.peer = peer;
  if (f.type == FaultType::kNetworkPartition && f.peer.empty()) {
    return Status::InvalidArgument("fault \"" + text + "\": network-partition needs ~PEER (the unreachable service)");
  }
  if (!start.empty()) {
    auto v = ParseDurationMs(start);
    if (!v.ok()) return Status::InvalidArgument("fault \"" + text + "\": start " + v.status().message());
    f.start_offset_ms = *v;
  }
  if (!duration.empty()) {
    auto v = ParseDurationMs(duration);
    if (!v.ok() || *v <= 0) return Status::InvalidArgument("fault \"" + text + "\": bad duration \"" + duration + "\"");
    f.duration_ms = *v;
  }
  if (!intensity.empty()) {
    char* end = nullptr;
    f.intensity = std::strtod(intensity.c_str(), &end);
    if (*end != 0 || f.intensity <= 0) {
      return Status::InvalidArgument("fault \"" + text + "\": intensity \"" + intensity + "\" must be a positive number");
    }
  }
  return f;
}

Result<std::vector<FaultSpec>> ParseFaultList(const std::string& text) {
  std::vector<FaultSpec> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string one = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!one.empty()) {
      auto f = ParseFaultSpec(one);
      if (!f.ok()) return f.status();
      out.push_back(*f);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace vigil::sim
