// `vigil traces topology FILE...`: reads trace files (OTLP/HTTP JSON or
// protobuf, Zipkin v2 JSON, Jaeger query-API JSON; the format is recognised
// from the content), assembles the traces and prints the service dependency
// graph they show, the per-operation baselines and the trace anomalies the
// serve path would raise on them, as a table or as JSON (--json).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "ingest/jaeger_traces.h"
#include "ingest/otlp_traces.h"
#include "ingest/zipkin_spans.h"
#include "traces/assembler.h"
#include "traces/operation_baselines.h"
#include "traces/service_graph.h"

namespace vigil {

namespace {

struct TopologyOptions {
  std::vector<std::string> files;
  std::string level = "service";
  bool json = false;
};

// Decodes one file by its content: '[' Zipkin, '{' with resourceSpans OTLP
// JSON, '{' with data Jaeger, anything else OTLP protobuf.
Status DecodeFile(const std::string& body, SpanBatch* out, const char** format) {
  size_t i = body.find_first_not_of(" \t\r\n");
  if (i != std::string::npos && body[i] == '[') {
    *format = "zipkin";
    return DecodeZipkinSpansJson(body, out);
  }
  if (i != std::string::npos && body[i] == '{') {
    if (body.find("\"resourceSpans\"") != std::string::npos) {
      *format = "otlp-json";
      return DecodeOtlpTracesJson(body, out);
    }
    *format = "jaeger";
    return DecodeJaegerTracesJson(body, out);
  }
  *format = "otlp-protobuf";
  return DecodeOtlpTracesProtobuf(body, out);
}

int RunTopology(const TopologyOptions& o) {
  std::vector<Span> spans;
  size_t refused = 0;
  for (const auto& path : o.files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "vigil traces: cannot open %s\n", path.c_str());
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    SpanBatch batch;
    const char* format = "";
    Status st = DecodeFile(ss.str(), &batch, &format);
    if (!st.ok()) {
      std::fprintf(stderr, "vigil traces: %s (%s): %s\n", path.c_str(), format, st.message().c_str());
      return 1;
    }
    for (const auto& why : batch.rejected) std::fprintf(stderr, "vigil traces: %s: refused %s\n", path.c_str(), why.c_str());
    refused += batch.rejected.size();
    for (auto& s : batch.spans) spans.push_back(std::move(s));
  }
  // Replay in time order, with a graph window covering the whole input.
  std::stable_sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.end_us() < b.end_us(); });
  int64_t lo = INT64_MAX, hi = 0;
  for (const auto& s : spans) {
    lo = std::min(lo, s.start_us);
    hi = std::max(hi, s.end_us());
  }
  const int64_t span_us = spans.empty() ? 1 : hi - lo + 1;
  traces::ServiceGraph graph({.slot_us = std::max<int64_t>(30'000'000, span_us / 60 + 1), .slots = 62});
  traces::TraceAssembler assembler;
  traces::OperationBaselines baselines;
  std::vector<traces::AssembledTrace> closed;
  std::vector<Anomaly> anomalies;
  size_t traces_n = 0, anomalous = 0;
  const size_t total_spans = spans.size();
  auto consume = [&] {
    for (const auto& t : closed) {
      ++traces_n;
      graph.AddTrace(t);
      if (baselines.AddTrace(t, &anomalies).anomalous) ++anomalous;
    }
    closed.clear();
  };
  for (auto& s : spans) {
    assembler.Add(std::move(s), &closed);
    assembler.Advance(assembler.watermark_us(), &closed);
    consume();
  }
  assembler.CloseAll(&closed);
  consume();
  baselines.Flush(&anomalies);
  const bool inst = o.level == "instance";
  traces::GraphSnapshot g = graph.Snapshot(inst ? traces::GraphLevel::kInstance : traces::GraphLevel::kService,
                                           graph.max_window_us());
  auto name = [&](const std::string& s, const std::string& i) { return inst ? s + "/" + i : s; };
  if (o.json) {
    nlohmann::json edges = nlohmann::json::array(), ops = nlohmann::json::array(), an = nlohmann::json::array();
    for (const auto& e : g.edges) {
      edges.push_back({{"from", name(e.from_service, e.from_instance)}, {"to", name(e.to_service, e.to_instance)},
                       {"calls", e.figures.calls}, {"errors", e.figures.errors}, {"error_rate", e.figures.error_rate},
                       {"rate_per_s", e.figures.rate_per_s}, {"p50_ms", e.figures.p50_ms}, {"p95_ms", e.figures.p95_ms},
                       {"p99_ms", e.figures.p99_ms}});
    }
    for (const auto& op : baselines.Operations()) {
      ops.push_back({{"service", op.service}, {"operation", op.operation}, {"calls", op.calls}, {"errors", op.errors},
                     {"p50_ms", op.p50_ms}, {"p99_ms", op.p99_ms}, {"warm", op.warm}});
    }
    for (const auto& a : anomalies) {
      an.push_back({{"ts_ms", a.ts_ms}, {"labels", a.labels.ToString()}, {"pattern", a.pattern}, {"value", a.value},
                    {"expected", a.expected}, {"score", a.score}});
    }
    nlohmann::json out = {{"spans", total_spans}, {"refused", refused}, {"traces", traces_n},
                          {"anomalous_traces", anomalous}, {"edges", edges}, {"operations", ops}, {"anomalies", an}};
    std::printf("%s\n", out.dump(1).c_str());
    return 0;
  }
  std::printf("%zu spans (%zu refused) in %zu traces, %zu with a slow or error span\n", total_spans, refused, traces_n,
              anomalous);
  std::printf("%-40s %-40s %8s %7s %9s %9s %9s\n", "caller", "callee", "calls", "errors", "p50 ms", "p95 ms", "p99 ms");
  for (const auto& e : g.edges) {
    std::printf("%-40s %-40s %8llu %7llu %9.2f %9.2f %9.2f\n", name(e.from_service, e.from_instance).c_str(),
                name(e.to_service, e.to_instance).c_str(), static_cast<unsigned long long>(e.figures.calls),
                static_cast<unsigned long long>(e.figures.errors), e.figures.p50_ms, e.figures.p95_ms, e.figures.p99_ms);
  }
  for (const auto& a : anomalies) {
    std::printf("anomaly %s %s value %.3g expected %.3g score %.1f\n", a.labels.ToString().c_str(), a.pattern.c_str(),
                a.value, a.expected, a.score);
  }
  return 0;
}

}  // namespace

void AddTracesCommand(CommandContext& ctx) {
  CLI::App* traces = ctx.root->add_subcommand("traces", "Offline trace analysis");
  traces->require_subcommand(1);
  auto o = std::make_shared<TopologyOptions>();
  CLI::App* topo = traces->add_subcommand(
      "topology", "Service dependency graph, baselines and trace anomalies of trace files (OTLP JSON/protobuf, Zipkin v2, Jaeger JSON)");
  topo->add_option("files", o->files, "Trace files")->required()->check(CLI::ExistingFile);
  topo->add_option("--level", o->level, "service or instance")->check(CLI::IsMember({"service", "instance"}));
  topo->add_flag("--json", o->json, "Print JSON");
  topo->callback([o, &ctx] { ctx.exit_code = RunTopology(*o); });
}

}  // namespace vigil
