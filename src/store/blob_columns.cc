#include "store/blob_columns.h"

#include <cstdint>

#include "core/byte_codec.h"

namespace vigil::blob_columns {

namespace {
constexpr uint8_t kIncidentSeriesVersion = 1;
// Bytes of the smallest incident series entry (empty name, one-byte varint).
constexpr size_t kMinSeriesEntryBytes = 8 + 1 + 8 + 1 + 8;

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
}  // namespace

std::string EncodeLabels(const Labels& labels) {
  std::string out;
  bytes::PutLabels(&out, labels);
  return out;
}

Result<Labels> DecodeLabels(std::string_view in) {
  Labels labels;
  if (!bytes::GetLabels(&in, &labels)) return Status::Corruption("label set: truncated or malformed");
  if (!in.empty()) return Status::Corruption("label set: " + std::to_string(in.size()) + " trailing bytes");
  return labels;
}

std::string EncodeIncidentSeries(const std::vector<IncidentSeries>& series) {
  std::string out;
  bytes::PutU8(&out, kIncidentSeriesVersion);
  bytes::PutVarint64(&out, series.size());
  for (const IncidentSeries& s : series) {
    bytes::PutFixed64(&out, s.series);
    bytes::PutLengthPrefixed(&out, s.name);
    bytes::PutDouble(&out, s.max_score);
    bytes::PutVarint64(&out, ZigZag(s.anomalies));
    bytes::PutFixed64(&out, static_cast<uint64_t>(s.last_anomaly_ms));
  }
  return out;
}

Result<std::vector<IncidentSeries>> DecodeIncidentSeries(std::string_view in) {
  uint8_t version;
  if (!bytes::GetU8(&in, &version) || version != kIncidentSeriesVersion) {
    return Status::Corruption("incident series list: missing or unknown format version");
  }
  uint64_t n;
  if (!bytes::GetVarint64(&in, &n)) return Status::Corruption("incident series list: truncated count");
  if (n > in.size() / kMinSeriesEntryBytes) {
    return Status::Corruption("incident series list: count " + std::to_string(n) + " exceeds the data");
  }
  std::vector<IncidentSeries> out;
  out.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    IncidentSeries s;
    std::string_view name;
    uint64_t anomalies, last;
    if (!bytes::GetFixed64(&in, &s.series) || !bytes::GetLengthPrefixed(&in, &name) ||
        !bytes::GetDouble(&in, &s.max_score) || !bytes::GetVarint64(&in, &anomalies) ||
        !bytes::GetFixed64(&in, &last)) {
      return Status::Corruption("incident series list: entry " + std::to_string(i) + " truncated");
    }
    int64_t count = UnZigZag(anomalies);
    if (count < INT32_MIN || count > INT32_MAX) {
      return Status::Corruption("incident series list: entry " + std::to_string(i) + ": anomaly count out of range");
    }
    s.name = std::string(name);
    s.anomalies = static_cast<int>(count);
    s.last_anomaly_ms = static_cast<TimestampMs>(last);
    out.push_back(std::move(s));
  }
  if (!in.empty()) {
    return Status::Corruption("incident series list: " + std::to_string(in.size()) + " trailing bytes");
  }
  return out;
}

}  // namespace vigil::blob_columns
