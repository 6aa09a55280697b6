// Micro-benchmarks of the remote_write decoder on a real Prometheus 2.42
// request (500 samples, node_exporter series; see
// ../shared/data/protocol-samples/README.txt). The figure that matters is
// items_per_second = samples decoded per second on one core.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "ingest/remote_write.h"

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string SamplePath(const char* name) {
  return std::string(VIGIL_SHARED_DATA) + "/protocol-samples/prometheus-remote-write/" + name;
}

void DecodeOrSkip(benchmark::State& state, const std::string& body, bool compressed) {
  if (body.empty()) {
    state.SkipWithError("protocol sample missing (VIGIL_SHARED_DATA)");
    return;
  }
  vigil::RemoteWriteDecoder decoder;
  vigil::WriteBatch batch;
  size_t samples = 0;
  for (auto _ : state) {
    vigil::Status st = compressed ? decoder.Decode(body, &batch) : decoder.DecodeUncompressed(body, &batch);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
    samples += batch.sample_count;
    benchmark::DoNotOptimize(batch.series.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}

// Snappy-compressed body exactly as Prometheus POSTs it.
void BM_DecodeBatch500(benchmark::State& state) {
  static const std::string body = ReadFile(SamplePath("prom2.42-batch500.snappy.bin"));
  DecodeOrSkip(state, body, true);
}
BENCHMARK(BM_DecodeBatch500);

// The protobuf part alone.
void BM_DecodeBatch500Uncompressed(benchmark::State& state) {
  static const std::string pb = ReadFile(SamplePath("prom2.42-batch500.pb"));
  DecodeOrSkip(state, pb, false);
}
BENCHMARK(BM_DecodeBatch500Uncompressed);

// Re-encoding what was decoded (the load generator's and simulator's path).
void BM_EncodeBatch500(benchmark::State& state) {
  static const std::string body = ReadFile(SamplePath("prom2.42-batch500.snappy.bin"));
  vigil::RemoteWriteDecoder decoder;
  vigil::WriteBatch batch;
  if (body.empty() || !decoder.Decode(body, &batch).ok()) {
    state.SkipWithError("cannot decode prom2.42-batch500.snappy.bin");
    return;
  }
  for (auto _ : state) {
    std::string out = vigil::EncodeRemoteWrite(batch.series);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch.sample_count));
}
BENCHMARK(BM_EncodeBatch500);

}  // namespace

BENCHMARK_MAIN();
