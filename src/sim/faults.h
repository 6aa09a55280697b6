// The fault catalogue: what the simulator can break, after the
// chaos-engineering tables AIOps live benchmarks use (ChaosMesh /
// ChaosBlade kinds), and how a fault is written on the command line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/sample.h"
#include "core/status.h"

namespace vigil::sim {

enum class FaultType {
  kCpuLoad,            // a CPU hog beside the process
  kCpuCreep,           // CPU use rising slowly over the fault
  kMemoryLeak,         // working set grows until OOM kill and restart
  kNetworkDelay,       // egress delay on the pod's interface
  kPacketLoss,         // retransmissions, timeouts
  kNetworkPartition,   // service -> peer unreachable
  kDnsFailure,         // the pod cannot resolve its dependencies
  kDiskIo,             // disk I/O saturation
  kDiskFull,           // no space left on device
  kProcessKill,        // process killed (restarted by the orchestrator)
  kProcessPause,       // process stopped (SIGSTOP): a hang
  kGcStorm,            // JVM heap exhaustion, back-to-back full GCs
  kExceptions,         // one method throws: error logs with stack traces, 5xx
  kWrongCodes,         // an API answers with wrong status codes (4xx)
  kSlowSql,            // slow queries on the service's database
  kPoolExhaustion,     // database connection pool exhausted
  kBadDeploy,          // new version raises one endpoint's error rate (deploy event)
  kBadConfig,          // configuration change shrinks timeouts and pool (config event)
  kTrafficSurge,       // entry traffic multiplied
  kDownstreamFailure,  // a dependency fails every call
  kCount
};

const char* FaultTypeName(FaultType t);  // "cpu-load", "memory-leak", ...
Result<FaultType> FaultTypeFromName(const std::string& name);
std::vector<FaultType> AllFaultTypes();
// The metric (or log template) that shows the fault best at its root cause.
std::string FaultIndicator(FaultType t);

struct FaultSpec {
  FaultType type = FaultType::kCpuLoad;
  std::string service;
  int instance = -1;       // pod index within the service; -1 = every pod
  std::string peer;        // network-partition: the unreachable service
  int64_t start_offset_ms = 0;  // from the simulation's start
  int64_t duration_ms = 600000;
  double intensity = 1.0;  // scales the symptoms (1 = the catalogue's default)
};

// Parses TYPE:SERVICE[/INSTANCE][~PEER][@START][+DURATION][*INTENSITY],
// e.g. "cpu-load:cartservice/0@30m+10m" or
// "network-partition:frontend~cartservice@1h+5m". START and DURATION take
// s, m, h or d suffixes (default seconds). Errors name the part at fault.
Result<FaultSpec> ParseFaultSpec(const std::string& text);
// Several specs separated by commas.
Result<std::vector<FaultSpec>> ParseFaultList(const std::string& text);
// "90s", "10m", "1.5h", "2d" -> milliseconds.
Result<int64_t> ParseDurationMs(const std::string& text);

}  // namespace vigil::sim
