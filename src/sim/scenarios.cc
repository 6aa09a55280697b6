#include "sim/scenarios.h"

namespace vigil::sim {

namespace {

constexpr int64_t kMin = 60000;
// Detectors need a lead-in of normal data for every new series (vigil's
// robust detector judges after 30 points and settles its spread over a few
// more); faults start at 30 minutes, 20 minutes of it count for false alarms
// from the 20th minute.
constexpr int64_t kLeadIn = 30 * kMin;
constexpr int64_t kLearn = 20 * kMin;
constexpr int64_t kFault = 10 * kMin;
constexpr int64_t kTail = 5 * kMin;

struct Target {
  FaultType type;
  const char* target;  // SERVICE[/INSTANCE][~PEER]
};

FaultSpec Spec(FaultType t, const std::string& target, int64_t start, int64_t duration) {
  FaultSpec f;
  f.type = t;
  std::string rest = target;
  size_t tilde = rest.find('~');
  if (tilde != std::string::npos) {
    f.peer = rest.substr(tilde + 1);
    rest.resize(tilde);
  }
  size_t slash = rest.find('/');
  f.service = rest.substr(0, slash);
  if (slash != std::string::npos) f.instance = std::stoi(rest.substr(slash + 1));
  f.start_offset_ms = start;
  f.duration_ms = duration;
  return f;
}

void AddTopology(std::vector<Scenario>* out, const std::string& topo, const std::vector<Target>& targets,
                 const std::vector<std::pair<Target, Target>>& overlaps, uint64_t seed_base) {
  uint64_t seed = seed_base;
  for (const auto& t : targets) {
    Scenario s;
    s.topology = topo;
    s.id = topo + "-" + FaultTypeName(t.type);
    s.faults.push_back(Spec(t.type, t.target, kLeadIn, kFault));
    s.duration_ms = kLeadIn + kFault + kTail;
    s.learn_ms = kLearn;
    s.seed = ++seed;
    s.description = std::string(FaultTypeName(t.type)) + " on " + t.target;
    out->push_back(std::move(s));
  }
  int n = 0;
  for (const auto& [a, b] : overlaps) {
    Scenario s;
    s.topology = topo;
    s.id = topo + "-overlap-" + std::to_string(++n);
    s.faults.push_back(Spec(a.type, a.target, kLeadIn, kFault));
    s.faults.push_back(Spec(b.type, b.target, kLeadIn + 4 * kMin, kFault));
    s.duration_ms = kLeadIn + 4 * kMin + kFault + kTail;
    s.learn_ms = kLearn;
    s.seed = ++seed;
    s.description = std::string(FaultTypeName(a.type)) + " on " + a.target + ", then " + FaultTypeName(b.type) +
                    " on " + b.target + " 4 minutes later";
    out->push_back(std::move(s));
  }
  Scenario quiet;
  quiet.topology = topo;
  quiet.id = topo + "-fault-free";
  quiet.duration_ms = 3 * 60 * kMin;
  quiet.learn_ms = kLearn;
  quiet.seed = ++seed;
  quiet.description = "no fault for three hours (false alarms)";
  out->push_back(std::move(quiet));
}

}  // namespace

std::vector<Scenario> ScenarioSuite() {
  using F = FaultType;
  std::vector<Scenario> out;
  AddTopology(&out, "ob",
              {{F::kCpuLoad, "cartservice/0"},
               {F::kCpuCreep, "productcatalogservice/1"},
               {F::kMemoryLeak, "recommendationservice/0"},
               {F::kNetworkDelay, "currencyservice/0"},
               {F::kPacketLoss, "productcatalogservice/0"},
               {F::kNetworkPartition, "checkoutservice~paymentservice"},
               {F::kDnsFailure, "checkoutservice/0"},
               {F::kDiskIo, "redis-cart/0"},
               {F::kDiskFull, "emailservice/0"},
               {F::kProcessKill, "cartservice/1"},
               {F::kProcessPause, "currencyservice/1"},
               {F::kGcStorm, "adservice/0"},
               {F::kExceptions, "productcatalogservice"},
               {F::kWrongCodes, "shippingservice/0"},
               {F::kSlowSql, "cartservice"},
               {F::kPoolExhaustion, "cartservice/0"},
               {F::kBadDeploy, "checkoutservice"},
               {F::kBadConfig, "cartservice"},
               {F::kTrafficSurge, "frontend"},
               {F::kDownstreamFailure, "redis-cart"}},
              {{{F::kCpuLoad, "productcatalogservice/0"}, {F::kMemoryLeak, "adservice/1"}},
               {{F::kNetworkDelay, "cartservice/0"}, {F::kExceptions, "currencyservice"}}},
              1000);
  AddTopology(&out, "sockshop",
              {{F::kCpuLoad, "catalogue/0"},
               {F::kCpuCreep, "carts/0"},
               {F::kMemoryLeak, "orders/0"},
               {F::kNetworkDelay, "user/0"},
               {F::kPacketLoss, "payment/0"},
               {F::kNetworkPartition, "orders~payment"},
               {F::kDnsFailure, "front-end/0"},
               {F::kDiskIo, "catalogue-db/0"},
               {F::kDiskFull, "orders-db/0"},
               {F::kProcessKill, "carts/1"},
               {F::kProcessPause, "user/1"},
               {F::kGcStorm, "carts/0"},
               {F::kExceptions, "orders"},
               {F::kWrongCodes, "catalogue/0"},
               {F::kSlowSql, "catalogue"},
               {F::kPoolExhaustion, "carts/0"},
               {F::kBadDeploy, "front-end"},
               {F::kBadConfig, "orders"},
               {F::kTrafficSurge, "front-end"},
               {F::kDownstreamFailure, "carts-db"}},
              {{{F::kCpuLoad, "user/0"}, {F::kSlowSql, "catalogue"}},
               {{F::kProcessPause, "payment/0"}, {F::kDiskFull, "carts-db/0"}}},
              2000);
  AddTopology(&out, "trainticket",
              {{F::kCpuLoad, "ts-travel-service/0"},
               {F::kCpuCreep, "ts-order-service/0"},
               {F::kMemoryLeak, "ts-seat-service/0"},
               {F::kNetworkDelay, "ts-route-service/0"},
               {F::kPacketLoss, "ts-station-service/0"},
               {F::kNetworkPartition, "ts-preserve-service~ts-order-service"},
               {F::kDnsFailure, "ts-basic-service/0"},
               {F::kDiskIo, "ts-order-service/0"},
               {F::kDiskFull, "ts-payment-service/0"},
               {F::kProcessKill, "ts-travel-service/1"},
               {F::kProcessPause, "ts-ticketinfo-service/0"},
               {F::kGcStorm, "ts-seat-service/0"},
               {F::kExceptions, "ts-price-service"},
               {F::kWrongCodes, "ts-train-service/0"},
               {F::kSlowSql, "ts-order-service"},
               {F::kPoolExhaustion, "ts-user-service/0"},
               {F::kBadDeploy, "ts-travel2-service"},
               {F::kBadConfig, "ts-basic-service"},
               {F::kTrafficSurge, "ts-gateway-service"},
               {F::kDownstreamFailure, "ts-config-service"}},
              {{{F::kCpuLoad, "ts-basic-service/0"}, {F::kGcStorm, "ts-order-service/0"}},
               {{F::kDnsFailure, "ts-security-service/0"}, {F::kNetworkDelay, "ts-station-service/0"}}},
              3000);
  return out;
}

const Scenario* FindScenario(const std::vector<Scenario>& suite, const std::string& id) {
  for (const auto& s : suite) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

}  // namespace vigil::sim
