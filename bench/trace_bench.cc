// trace_bench: spans/s on one core for vigil's trace path, decode +
// assembly + dependency graph + per-operation baselines, on an OTLP/HTTP
// JSON body shaped like a real export (bench/trace_bench.sh runs it beside
// a Python peer on the same file and prints the ratio).
//
// The body: `--traces` traces of a 12-service call tree (8 spans each:
// frontend -> checkout -> {cart, payments, shipping}, payments -> fraud,
// cart -> redis peer), one ResourceSpans per service instance as the OTel
// SDK batches them, ids random, a few attributes per span.
// Usage: trace_bench [--traces N] [--repeat R] [--write FILE]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "ingest/otlp_traces.h"
#include "traces/assembler.h"
#include "traces/operation_baselines.h"
#include "traces/service_graph.h"

namespace {

struct PlanSpan {
  int parent;
  const char* service;
  const char* op;
  int kind;
  double ms;
};

const PlanSpan kTree[] = {
    {-1, "frontend", "GET /checkout", 2, 40}, {0, "frontend", "POST checkout", 3, 35},
    {1, "checkout", "PlaceOrder", 2, 33},     {2, "cart", "GetCart", 2, 4},
    {2, "payments", "Charge", 2, 12},         {4, "fraud", "Score", 2, 5},
    {2, "shipping", "GetQuote", 2, 3},        {3, "cart", "HGET", 3, 1},
};

std::string Hex(uint64_t v, int digits) {
  char b[33];
  std::snprintf(b, sizeof b, "%0*llx", digits, static_cast<unsigned long long>(v));
  return b;
}

std::string MakeBody(int traces, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int64_t t0 = 1'795'000'000'000'000'000LL;
  // (service, pod) -> spans JSON
  std::map<std::pair<std::string, int>, std::string> by_resource;
  for (int t = 0; t < traces; ++t) {
    const uint64_t hi = rng(), lo = rng();
    uint64_t ids[8];
    for (auto& id : ids) id = rng() | 1;
    const int64_t start = t0 + static_cast<int64_t>(t) * 2'000'000;  // 500 traces/s
    for (int i = 0; i < 8; ++i) {
      const PlanSpan& p = kTree[i];
      const int pod = static_cast<int>(rng() % 3);
      std::string& out = by_resource[{p.service, pod}];
      if (!out.empty()) out += ',';
      const int64_t s = start + i * 100'000;
      const int64_t e = s + static_cast<int64_t>(p.ms * 1e6 * (0.8 + 0.4 * (rng() % 1000) / 1000.0));
      out += "{\"traceId\":\"" + Hex(hi, 16) + Hex(lo, 16) + "\",\"spanId\":\"" + Hex(ids[i], 16) + "\"";
      if (p.parent >= 0) out += ",\"parentSpanId\":\"" + Hex(ids[p.parent], 16) + "\"";
      out += ",\"name\":\"" + std::string(p.op) + "\",\"kind\":" + std::to_string(p.kind);
      out += ",\"startTimeUnixNano\":\"" + std::to_string(s) + "\",\"endTimeUnixNano\":\"" + std::to_string(e) + "\"";
      out += ",\"attributes\":[{\"key\":\"http.route\",\"value\":{\"stringValue\":\"/" + std::string(p.op) +
             "\"}},{\"key\":\"http.response.status_code\",\"value\":{\"intValue\":200}}";
      if (i == 7) out += ",{\"key\":\"peer.service\",\"value\":{\"stringValue\":\"redis\"}}";
      out += "],\"status\":{\"code\":" + std::string(rng() % 200 == 0 ? "2" : "0") + "}}";
    }
  }
  std::string body = "{\"resourceSpans\":[";
  bool first = true;
  for (const auto& [key, spans] : by_resource) {
    if (!first) body += ',';
    first = false;
    body += "{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"" + key.first +
            "\"}},{\"key\":\"k8s.pod.name\",\"value\":{\"stringValue\":\"" + key.first + "-" + std::to_string(key.second) +
            "\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"bench\"},\"spans\":[" + spans + "]}]}";
  }
  return body + "]}";
}

double Seconds(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

}  // namespace

int main(int argc, char** argv) {
  int traces = 20000, repeat = 5;
  std::string write;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--traces")) traces = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--repeat")) repeat = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--write")) write = argv[i + 1];
  }
  const std::string body = MakeBody(traces, 42);
  if (!write.empty()) std::ofstream(write, std::ios::binary) << body;
  double best_decode = 1e9, best_all = 1e9;
  size_t spans = 0, edges = 0;
  uint64_t anomalies = 0;
  for (int r = 0; r < repeat; ++r) {
    vigil::SpanBatch batch;
    auto t = std::chrono::steady_clock::now();
    vigil::Status st = vigil::DecodeOtlpTracesJson(body, &batch);
    best_decode = std::min(best_decode, Seconds(t));
    if (!st.ok() || !batch.rejected.empty()) {
      std::fprintf(stderr, "decode failed: %s\n", st.ToString().c_str());
      return 1;
    }
    // Whole path: decode, assemble, graph, baselines.
    t = std::chrono::steady_clock::now();
    st = vigil::DecodeOtlpTracesJson(body, &batch);
    spans = batch.spans.size();
    vigil::traces::TraceAssembler assembler;
    vigil::traces::ServiceGraph graph;
    vigil::traces::OperationBaselines baselines;
    std::vector<vigil::traces::AssembledTrace> closed;
    std::vector<vigil::Anomaly> found;
    for (auto& s : batch.spans) assembler.Add(std::move(s), &closed);
    assembler.CloseAll(&closed);
    for (const auto& tr : closed) {
      graph.AddTrace(tr);
      baselines.AddTrace(tr, &found);
    }
    baselines.Flush(&found);
    best_all = std::min(best_all, Seconds(t));
    edges = graph.Snapshot(vigil::traces::GraphLevel::kService, 900'000'000).edges.size();
    anomalies = found.size();
  }
  std::printf("body: %zu bytes, %zu spans, %d traces; service edges found: %zu; anomalies: %llu\n", body.size(), spans,
              traces, edges, static_cast<unsigned long long>(anomalies));
  std::printf("vigil decode only: spans/s (one core): %.0f\n", static_cast<double>(spans) / best_decode);
  std::printf("vigil decode+assembly+graph+baselines: spans/s (one core): %.0f\n", static_cast<double>(spans) / best_all);
  return 0;
}
