// sim_bench: how fast the simulator generates and encodes metrics, on one
// core, for the generated 1000-service x 5-pod system (126,740 series).
//   BM_Generate           Simulator::Step (the model, every series)
//   BM_EncodeSim          the simulator's remote_write encoder (labels
//                         pre-encoded once per series), one step per request
//   BM_EncodeProtobuf     the same samples through the protobuf-generated
//                         encoder in src/ingest (EncodeRemoteWrite): the peer
// Items are samples; bench/sim_throughput.sh prints the ratios.
#include <benchmark/benchmark.h>

#include <cmath>

#include "ingest/remote_write.h"
#include "sim/model.h"
#include "sim/wire.h"

namespace {

using vigil::sim::Simulator;
using vigil::sim::StepOutput;

std::unique_ptr<Simulator> Big() {
  vigil::sim::SimOptions o;
  o.start_ms = 1'700'000'000'000;
  o.step_ms = 1000;
  o.logs = o.traces = false;
  return std::move(*Simulator::Create(vigil::sim::Generated(1000, 5, 1), o));
}

void BM_Generate(benchmark::State& state) {
  auto sim = Big();
  StepOutput out;
  for (auto _ : state) {
    sim->Step(&out);
    benchmark::DoNotOptimize(out.values.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(sim->series().size()));
}
BENCHMARK(BM_Generate)->Unit(benchmark::kMillisecond);

void BM_EncodeSim(benchmark::State& state) {
  auto sim = Big();
  StepOutput out;
  sim->Step(&out);
  vigil::sim::RemoteWriteEncoder enc(sim->series());
  std::vector<const StepOutput*> steps = {&out};
  size_t samples = 0;
  for (auto _ : state) {
    std::string body = enc.Encode(steps, 0, sim->series().size(), &samples);
    benchmark::DoNotOptimize(body.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(samples));
}
BENCHMARK(BM_EncodeSim)->Unit(benchmark::kMillisecond);

void BM_EncodeProtobuf(benchmark::State& state) {
  auto sim = Big();
  StepOutput out;
  sim->Step(&out);
  for (auto _ : state) {
    // what a client without pre-encoded labels does: build the series, encode
    std::vector<vigil::TimeSeries> series(sim->series().size());
    for (size_t i = 0; i < series.size(); ++i) {
      series[i].labels = sim->series()[i];
      series[i].samples.push_back({out.ts_ms, out.values[i]});
    }
    std::string body = vigil::EncodeRemoteWrite(series);
    benchmark::DoNotOptimize(body.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(sim->series().size()));
}
BENCHMARK(BM_EncodeProtobuf)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
