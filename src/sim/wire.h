// Wire encoders: what the simulator sends, in the formats real sources use.
//   remote_write  Prometheus remote_write 1.0 (snappy block-compressed
//                 prometheus.WriteRequest), written straight to protobuf
//                 wire format with each series' labels encoded once;
//   Loki push     JSON (POST /loki/api/v1/push), one stream per pod and level;
//   OTLP traces   OTLP/HTTP JSON (POST /v1/traces), one ResourceSpans per pod;
//   events        vigil's event JSON (POST /api/v1/events).
// Pure functions of their input: no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/labels.h"
#include "sim/model.h"

namespace vigil::sim {

class RemoteWriteEncoder {
 public:
  explicit RemoteWriteEncoder(const std::vector<Labels>& series);

  // Encodes the samples of series [first, last) over `steps` (in time
  // order) as one request body: one TimeSeries per series with all its
  // samples in time order; NaN values (no sample) are skipped, stale markers
  // are kept. Returns the number of samples encoded in *samples.
  std::string Encode(const std::vector<const StepOutput*>& steps, size_t first, size_t last, size_t* samples);

 private:
  std::vector<std::string> labels_pb_;  // per series: the encoded label fields of its TimeSeries
  std::string pb_;                      // reused scratch buffer
};

// Loki push JSON of the log lines (streams labelled service, instance, host,
// level, job="vigil-sim").
std::string EncodeLokiPush(const Simulator& sim, const std::vector<LogLine>& logs);
// OTLP/HTTP JSON ExportTraceServiceRequest.
std::string EncodeOtlpTraces(const Simulator& sim, const std::vector<SpanRecord>& spans);
// A JSON array of vigil events.
std::string EncodeEvents(const std::vector<SimEvent>& events);

// Appends `s` to `out` as a JSON string (with quotes).
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace vigil::sim
