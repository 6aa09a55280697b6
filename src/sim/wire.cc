#include "sim/wire.h"

#include <snappy.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

#include "core/time_format.h"

namespace vigil::sim {

namespace {

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void PutString(std::string* out, uint32_t field, std::string_view s) {
  PutVarint(out, (field << 3) | 2);
  PutVarint(out, s.size());
  out->append(s.data(), s.size());
}

}  // namespace

RemoteWriteEncoder::RemoteWriteEncoder(const std::vector<Labels>& series) {
  labels_pb_.reserve(series.size());
  std::string label;
  for (const Labels& l : series) {
    std::string enc;
    for (const Label& x : l.items()) {
      label.clear();
      PutString(&label, 1, x.name);
      PutString(&label, 2, x.value);
      PutString(&enc, 1, label);  // TimeSeries.labels = 1
    }
    labels_pb_.push_back(std::move(enc));
  }
}

std::string RemoteWriteEncoder::Encode(const std::vector<const StepOutput*>& steps, size_t first, size_t last,
                                       size_t* samples) {
  pb_.clear();
  size_t count = 0;
  for (size_t i = first; i < last && i < labels_pb_.size(); ++i) {
    // TimeSeries size: labels + one Sample message per present value
    size_t body = labels_pb_[i].size();
    size_t present = 0;
    for (const StepOutput* s : steps) {
      double v = s->values[i];
      if (std::isnan(v) && !IsStaleMarker(v)) continue;
      const uint64_t ts = static_cast<uint64_t>(s->ts_ms);
      const size_t sample = 1 + 8 + 1 + VarintSize(ts);
      body += 1 + VarintSize(sample) + sample;
      ++present;
    }
    if (present == 0) continue;
    pb_.push_back(0x0a);  // WriteRequest.timeseries = 1
    PutVarint(&pb_, body);
    pb_.append(labels_pb_[i]);
    for (const StepOutput* s : steps) {
      double v = s->values[i];
      if (std::isnan(v) && !IsStaleMarker(v)) continue;
      const uint64_t ts = static_cast<uint64_t>(s->ts_ms);
      pb_.push_back(0x12);  // TimeSeries.samples = 2
      PutVarint(&pb_, 1 + 8 + 1 + VarintSize(ts));
      pb_.push_back(0x09);  // Sample.value = 1 (double)
      char b[8];
      std::memcpy(b, &v, 8);  // little-endian hosts only (x86-64, aarch64)
      pb_.append(b, 8);
      pb_.push_back(0x10);  // Sample.timestamp = 2 (int64)
      PutVarint(&pb_, ts);
    }
    count += present;
  }
  if (samples) *samples = count;
  std::string body;
  snappy::Compress(pb_.data(), pb_.size(), &body);
  return body;
}

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\t': out->append("\\t"); break;
      case '\r': out->append("\\r"); break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          out->append(b);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

std::string EncodeLokiPush(const Simulator& sim, const std::vector<LogLine>& logs) {
  // group by (pod, level), keeping time order within a stream
  std::map<std::pair<int, std::string>, std::vector<const LogLine*>> streams;
  for (const auto& l : logs) streams[{l.pod, l.level}].push_back(&l);
  std::string out = "{\"streams\":[";
  bool first = true;
  for (const auto& [key, lines] : streams) {
    const Pod& pod = sim.pods()[key.first];
    if (!first) out.push_back(',');
    first = false;
    out += "{\"stream\":{\"job\":\"vigil-sim\",\"service\":";
    AppendJsonString(&out, sim.topology().services[pod.service].name);
    out += ",\"instance\":";
    AppendJsonString(&out, pod.name);
    out += ",\"host\":";
    AppendJsonString(&out, pod.host);
    out += ",\"level\":";
    AppendJsonString(&out, key.second);
    out += "},\"values\":[";
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) out.push_back(',');
      out += "[\"" + std::to_string(lines[i]->ts_ms * 1000000 + static_cast<int64_t>(i)) + "\",";
      AppendJsonString(&out, lines[i]->text);
      out.push_back(']');
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

namespace {
std::string Hex(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}
void Attr(std::string* out, const char* key, const std::string& value, bool comma) {
  if (comma) out->push_back(',');
  *out += "{\"key\":\"";
  *out += key;
  *out += "\",\"value\":{\"stringValue\":";
  AppendJsonString(out, value);
  *out += "}}";
}
}  // namespace

std::string EncodeOtlpTraces(const Simulator& sim, const std::vector<SpanRecord>& spans) {
  std::map<int, std::vector<const SpanRecord*>> by_pod;
  for (const auto& s : spans) by_pod[s.pod].push_back(&s);
  std::string out = "{\"resourceSpans\":[";
  bool first = true;
  for (const auto& [p, list] : by_pod) {
    const Pod& pod = sim.pods()[p];
    if (!first) out.push_back(',');
    first = false;
    out += "{\"resource\":{\"attributes\":[";
    Attr(&out, "service.name", sim.topology().services[pod.service].name, false);
    Attr(&out, "service.instance.id", pod.name, true);
    Attr(&out, "k8s.pod.name", pod.name, true);
    Attr(&out, "host.name", pod.host, true);
    out += "]},\"scopeSpans\":[{\"scope\":{\"name\":\"vigil-sim\"},\"spans\":[";
    for (size_t i = 0; i < list.size(); ++i) {
      const SpanRecord& s = *list[i];
      if (i) out.push_back(',');
      out += "{\"traceId\":\"" + Hex(s.trace_hi) + Hex(s.trace_lo) + "\",\"spanId\":\"" + Hex(s.span_id) + "\"";
      if (s.parent_span_id) out += ",\"parentSpanId\":\"" + Hex(s.parent_span_id) + "\"";
      out += ",\"name\":";
      AppendJsonString(&out, s.name);
      out += ",\"kind\":" + std::string(s.server ? "2" : "3");
      out += ",\"startTimeUnixNano\":\"" + std::to_string(s.start_us * 1000) + "\"";
      out += ",\"endTimeUnixNano\":\"" + std::to_string((s.start_us + s.duration_us) * 1000) + "\"";
      out += ",\"attributes\":[{\"key\":\"http.status_code\",\"value\":{\"intValue\":\"" +
             std::to_string(s.http_status) + "\"}}]";
      out += ",\"status\":{\"code\":" + std::string(s.error ? "2" : "1") + "}}";
    }
    out += "]}]}";
  }
  out += "]}";
  return out;
}

std::string EncodeEvents(const std::vector<SimEvent>& events) {
  std::string out = "[";
  for (size_t i = 0; i < events.size(); ++i) {
    const SimEvent& e = events[i];
    if (i) out.push_back(',');
    out += "{\"time\":";
    AppendJsonString(&out, FormatRfc3339(e.ts_ms));
    out += ",\"kind\":";
    AppendJsonString(&out, e.kind);
    out += ",\"labels\":{\"service\":";
    AppendJsonString(&out, e.service);
    if (!e.instance.empty()) {
      out += ",\"instance\":";
      AppendJsonString(&out, e.instance);
    }
    if (!e.version.empty()) {
      out += ",\"version\":";
      AppendJsonString(&out, e.version);
    }
    out += "},\"text\":";
    AppendJsonString(&out, e.text);
    out.push_back('}');
  }
  out += "]";
  return out;
}

}  // namespace vigil::sim
