// Topology: the shape of a simulated microservice application.
//
// A topology is a set of services; each service runs `instances` pods and
// exposes endpoints. An endpoint calls other services' endpoints in order
// (the call graph, which must be acyclic); request types enter the system at
// one endpoint with a base rate. Pods are placed on hosts. Built-ins:
//   ob           Online Boutique (Google's demo: 11 services + redis-cart),
//                with its real call graph;
//   sockshop     Sock Shop sized (Weaveworks' demo: 8 services, 5 stores);
//   trainticket  Train Ticket sized (FudanSELab: 41 Java services + DBs);
//   Generated(N) a layered graph of N services for scale tests.
// Custom topologies come from YAML (see docs/simulator.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace vigil::sim {

enum class Runtime { kGo, kJava, kNode, kPython, kDotnet, kCache, kDatabase };
const char* RuntimeName(Runtime r);

struct CallRef {
  int service = 0;
  int endpoint = 0;
};

struct Endpoint {
  std::string name;             // "GET /cart", "GetQuote", "SELECT"
  std::string method;           // code location for stack traces, e.g. "CartController.getCart"
  double latency_ms = 5;        // own processing time at low load
  double error_rate = 0.001;    // background share of 5xx
  std::vector<CallRef> calls;   // downstream calls, made one after another
};

struct Service {
  std::string name;
  Runtime runtime = Runtime::kGo;
  int instances = 1;
  double cpu_ms_per_request = 2;  // CPU time per request
  double cpu_limit_cores = 1;
  double memory_mb = 256;         // working set at rest
  double memory_limit_mb = 1024;
  bool has_db_pool = false;       // talks to a SQL database through a pool
  std::vector<Endpoint> endpoints;
};

// Traffic entering the system.
struct RequestType {
  std::string name;
  CallRef entry;
  double rps = 10;  // at the daily mean
};

struct Topology {
  std::string name;
  std::vector<Service> services;
  std::vector<RequestType> requests;
  int pods_per_host = 8;

  // -1 when absent.
  int FindService(const std::string& name) const;
  // Services ordered callees first (a reverse topological order of the call
  // graph). InvalidArgument naming a cycle's service when there is one.
  Result<std::vector<int>> CalleesFirst() const;
  // Checks references, counts and acyclicity; the message names the field.
  Status Validate() const;
  size_t PodCount() const;
};

Topology OnlineBoutique();
Topology SockShop();
Topology TrainTicket();
// `services` services in layers (1 entry, then fan-out 2-3 downstream calls
// per endpoint to the next layers), `instances` pods each.
Topology Generated(int services, int instances, uint64_t seed);

// "ob" (or "online-boutique"), "sockshop", "trainticket"; NotFound otherwise.
Result<Topology> BuiltinTopology(const std::string& name);
// Parses a YAML topology; errors name the field and value.
Result<Topology> ParseTopologyYaml(const std::string& text);
Result<Topology> LoadTopologyFile(const std::string& path);

}  // namespace vigil::sim
