#include "ingest/remote_write.h"

#include <snappy.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "ingest/label_check.h"
#include "ingest/proto_wire.h"
#include "ingest/remote_write_internal.h"
#include "ingest/series_key_cache.h"
#include "remote_write.pb.h"

namespace vigil {

namespace ii = ingest_internal;
using ii::WireReader;

namespace {

// After a request this large, the buffer is released so that one burst does
// not pin tens of MiB per ingest thread for ever.
constexpr size_t kRetainBytes = 16 << 20;

// Field numbers of remote_write.proto.
constexpr uint32_t kRequestTimeseries = 1, kRequestMetadata = 3;
constexpr uint32_t kSeriesLabels = 1, kSeriesSamples = 2;
constexpr uint32_t kLabelName = 1, kLabelValue = 2;
constexpr uint32_t kSampleValue = 1, kSampleTimestamp = 2;

double DoubleFromBits(uint64_t bits) {
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

// Reads one prometheus.Sample message into `sample` (both walks use it).
// The value is kept bit for bit, so stale markers survive; unknown fields
// and known ones with an unexpected wire type are skipped.
[[gnu::always_inline]] inline bool ReadSample(std::string_view payload, const char* base, ii::WireError* error, Sample* sample) {
  uint32_t field, wire;
  WireReader sr(payload, base, "prometheus.Sample", error);
  while (!sr.done()) {
    if (!sr.ReadKey(&field, &wire)) return false;
    uint64_t bits = 0;
    bool ok;
    if (field == kSampleValue && wire == ii::kFixed64) {
      ok = sr.ReadFixed64(&bits);
      sample->value = DoubleFromBits(bits);
    } else if (field == kSampleTimestamp && wire == ii::kVarint) {
      ok = sr.ReadVarint(&bits);
      sample->ts_ms = static_cast<int64_t>(bits);
    } else {
      ok = sr.Skip(wire);
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace

// The decoder reads the wire format straight out of the decompressed buffer:
// label bytes are copied once, from the buffer into the Labels that are kept.
// Going through a reused generated message instead copies every string twice
// and measured 2.5 M samples/s against 3.0-3.4 M on Prometheus' batch500
// (remote_write_test's DecodeRate); it remains as the reference that tests
// and the fuzz target compare this decoder against.
struct RemoteWriteDecoder::Impl {
  std::string buffer;               // decompressed body
  std::vector<ii::LabelView> labels;  // one series' labels, pointing into the request
  std::vector<Sample> samples;      // one series' samples
  size_t cache_bound = 0;
  std::unique_ptr<ii::SeriesKeyCache> cache;  // null while the cache is off
  CacheStats stats;
  // The cached path's view of one request (ParseCached).
  struct PendingSeries {
    size_t index = 0;             // position in the request
    std::string_view fields;      // its Label fields when they are one run and it has samples
    uint64_t hash = 0;            // of `fields`
    uint32_t labels_begin = 0, labels_end = 0;    // in label_messages
    uint32_t samples_begin = 0, samples_end = 0;  // in samples
  };
  std::vector<PendingSeries> pending;
  std::vector<std::string_view> label_messages;  // every Label payload of the request
  std::vector<Sample> series_samples;            // one series' samples

  Status Parse(std::string_view pb, size_t limit, WriteBatch* out);
  bool ParseSeries(std::string_view data, const char* base, ii::WireError* error);
  bool ParseCached(std::string_view pb, ii::WireError* error, WriteBatch* out);
  bool release_pending = false;

  void ReleaseIfLarge(size_t bytes) {
    if (bytes > kRetainBytes) std::string().swap(buffer);
  }
  void ReleaseDeferred() {
    if (release_pending) std::string().swap(buffer);
    release_pending = false;
  }
};

RemoteWriteDecoder::RemoteWriteDecoder() : impl_(std::make_unique<Impl>()) {}
RemoteWriteDecoder::~RemoteWriteDecoder() = default;

void RemoteWriteDecoder::EnableSeriesCache(size_t max_series) {
  if (max_series == impl_->cache_bound) return;
  impl_->cache_bound = max_series;
  impl_->cache = max_series == 0 ? nullptr : std::make_unique<ii::SeriesKeyCache>(max_series);
}

RemoteWriteDecoder::CacheStats RemoteWriteDecoder::cache_stats() const {
  CacheStats s = impl_->stats;
  if (impl_->cache) {
    s.resets = impl_->cache->resets();
    s.entries = impl_->cache->size();
    s.bytes = impl_->cache->bytes();
  }
  return s;
}

Status RemoteWriteDecoder::Decode(std::string_view body, WriteBatch* out) {
  out->Clear();
  if (body.empty()) return Status::InvalidArgument("snappy: empty body");
  size_t length = 0;
  if (!snappy::GetUncompressedLength(body.data(), body.size(), &length)) {
    return Status::InvalidArgument("snappy: body of " + std::to_string(body.size()) +
                                   " bytes does not start with a valid snappy block length "
                                   "(expected snappy block format, not framed)");
  }
  if (length > max_decompressed_bytes) {
    return Status::InvalidArgument("snappy: body decompresses to " + std::to_string(length) +
                                   " bytes, above the limit of " + std::to_string(max_decompressed_bytes));
  }
  impl_->ReleaseDeferred();
  std::string& buffer = impl_->buffer;
  if (buffer.size() < length) buffer.resize(length);
  if (!snappy::RawUncompress(body.data(), body.size(), buffer.data())) {
    impl_->ReleaseIfLarge(length);
    return Status::InvalidArgument("snappy: corrupt block (" + std::to_string(body.size()) +
                                   " bytes, announcing " + std::to_string(length) + " decompressed)");
  }
  Status st = impl_->Parse(std::string_view(buffer.data(), length), max_decompressed_bytes, out);
  // The batch's SeriesKey::label_fields point into the buffer: with the
  // cache on, a large buffer is released at the next call instead.
  if (impl_->cache && st.ok()) {
    impl_->release_pending = length > kRetainBytes;
  } else {
    impl_->ReleaseIfLarge(length);
  }
  return st;
}

Status RemoteWriteDecoder::DecodeUncompressed(std::string_view pb, WriteBatch* out) {
  out->Clear();
  impl_->ReleaseDeferred();
  return impl_->Parse(pb, max_decompressed_bytes, out);
}

Status RemoteWriteDecoder::Impl::Parse(std::string_view pb, size_t limit, WriteBatch* out) {
  if (pb.size() > limit) {
    return Status::InvalidArgument("protobuf: payload of " + std::to_string(pb.size()) +
                                   " bytes is above the limit of " + std::to_string(limit));
  }
  ii::WireError error;
  const auto fail = [&] {
    out->Clear();
    return Status::InvalidArgument("protobuf: malformed prometheus.WriteRequest: " + error.ToString(pb.size()));
  };
  uint32_t field, wire;
  std::string_view payload;

  // First pass: check the top level and count series, to size out->series once.
  size_t n_series = 0;
  for (WireReader r(pb, pb.data(), "prometheus.WriteRequest", &error); !r.done();) {
    if (!r.ReadKey(&field, &wire)) return fail();
    if (field == kRequestTimeseries && wire == ii::kLen) {
      if (!r.ReadLen(&payload)) return fail();
      ++n_series;
    } else if (!r.Skip(wire)) {
      return fail();
    }
  }
  out->series.reserve(n_series);
  if (cache) {
    out->keys.reserve(n_series);
    if (ParseCached(pb, &error, out)) return Status::Ok();
    // A wire error somewhere: the plain walk below finds the first one.
    out->Clear();
    error = ii::WireError{};
  }

  size_t index = 0;
  for (WireReader r(pb, pb.data(), "prometheus.WriteRequest", &error); !r.done();) {
    if (!r.ReadKey(&field, &wire)) return fail();
    if (field == kRequestTimeseries && wire == ii::kLen) {
      if (!r.ReadLen(&payload) || !ParseSeries(payload, pb.data(), &error)) return fail();
      ii::AddSeries(index++, labels, samples, out);
    } else if (field == kRequestMetadata && wire == ii::kLen) {
      // Counted, and checked to be well-formed (as the protobuf runtime
      // would), but not kept.
      if (!r.ReadLen(&payload)) return fail();
      if (!WireReader(payload, pb.data(), "prometheus.MetricMetadata", &error).SkipAll()) return fail();
      ++out->metadata_count;
    } else if (!r.Skip(wire)) {
      return fail();
    }
  }
  return Status::Ok();
}

// Reads one TimeSeries into `labels` and `samples`. Singular fields repeated
// on the wire follow protobuf: the last one wins; a known field number with an
// unexpected wire type is skipped like an unknown field.
bool RemoteWriteDecoder::Impl::ParseSeries(std::string_view data, const char* base, ii::WireError* error) {
  labels.clear();
  samples.clear();
  uint32_t field, wire;
  std::string_view payload;
  WireReader r(data, base, "prometheus.TimeSeries", error);
  while (!r.done()) {
    if (!r.ReadKey(&field, &wire)) return false;
    if (field == kSeriesLabels && wire == ii::kLen) {
      if (!r.ReadLen(&payload)) return false;
      ii::LabelView& label = labels.emplace_back();
      WireReader lr(payload, base, "prometheus.Label", error);
      while (!lr.done()) {
        if (!lr.ReadKey(&field, &wire)) return false;
        bool ok;
        if (field == kLabelName && wire == ii::kLen) ok = lr.ReadLen(&label.name);
        else if (field == kLabelValue && wire == ii::kLen) ok = lr.ReadLen(&label.value);
        else ok = lr.Skip(wire);
        if (!ok) return false;
      }
    } else if (field == kSeriesSamples && wire == ii::kLen) {
      if (!r.ReadLen(&payload) || !ReadSample(payload, base, error, &samples.emplace_back())) return false;
    } else if (!r.Skip(wire)) {
      return false;
    }
  }
  return true;
}

namespace {

// Parses one prometheus.Label payload into `label`.
bool ParseLabel(std::string_view payload, const char* base, ii::WireError* error, ii::LabelView* label) {
  uint32_t field, wire;
  WireReader lr(payload, base, "prometheus.Label", error);
  while (!lr.done()) {
    if (!lr.ReadKey(&field, &wire)) return false;
    bool ok;
    if (field == kLabelName && wire == ii::kLen) ok = lr.ReadLen(&label->name);
    else if (field == kLabelValue && wire == ii::kLen) ok = lr.ReadLen(&label->value);
    else ok = lr.Skip(wire);
    if (!ok) return false;
  }
  return true;
}

}  // namespace

// The cached path of a whole request: the same result as the plain loop in
// Parse (same series, labels, samples, rejections), plus out->keys.
//
// A first walk over the request reads each TimeSeries' samples and only
// notes where its Label fields are; when they are one run of bytes, it
// hashes them and starts loading the cache slot. A second walk looks the
// runs up (loading the record of the series a few ahead): a known run gives
// its id with no label parsed; otherwise the Label payloads are parsed and
// checked as usual and a valid series is cached under its bytes.
//
// Returns false at the first wire error of any kind, leaving `out` in any
// state: the caller then runs the plain loop, which reports the first error
// in byte order, exactly as without the cache (the walks here meet errors
// in another order: a label payload is read only on a miss).
bool RemoteWriteDecoder::Impl::ParseCached(std::string_view pb, ii::WireError* error, WriteBatch* out) {
  const char* base = pb.data();
  pending.clear();
  label_messages.clear();
  samples.clear();
  uint32_t field, wire;
  std::string_view payload, sub;
  size_t index = 0;
  for (WireReader r(pb, base, "prometheus.WriteRequest", error); !r.done();) {
    if (!r.ReadKey(&field, &wire)) return false;
    if (field == kRequestMetadata && wire == ii::kLen) {
      if (!r.ReadLen(&payload)) return false;
      if (!WireReader(payload, base, "prometheus.MetricMetadata", error).SkipAll()) return false;
      ++out->metadata_count;
      continue;
    }
    if (field != kRequestTimeseries || wire != ii::kLen) {
      if (!r.Skip(wire)) return false;
      continue;
    }
    if (!r.ReadLen(&payload)) return false;
    PendingSeries& ps = pending.emplace_back();
    ps.index = index++;
    ps.labels_begin = static_cast<uint32_t>(label_messages.size());
    ps.samples_begin = static_cast<uint32_t>(samples.size());
    const char* fields_begin = nullptr;
    const char* fields_end = nullptr;
    bool one_run = true;  // no other field between the first and the last Label
    WireReader tr(payload, base, "prometheus.TimeSeries", error);
    while (!tr.done()) {
      const char* at = tr.position();
      if (!tr.ReadKey(&field, &wire)) return false;
      if (field == kSeriesLabels && wire == ii::kLen) {
        if (!tr.ReadLen(&sub)) return false;
        if (fields_begin == nullptr) fields_begin = at;
        else if (fields_end != at) one_run = false;
        fields_end = sub.data() + sub.size();
        label_messages.push_back(sub);
      } else if (field == kSeriesSamples && wire == ii::kLen) {
        if (!tr.ReadLen(&sub) || !ReadSample(sub, base, error, &samples.emplace_back())) return false;
      } else if (!tr.Skip(wire)) {
        return false;
      }
    }
    ps.labels_end = static_cast<uint32_t>(label_messages.size());
    ps.samples_end = static_cast<uint32_t>(samples.size());
    if (one_run && fields_begin != nullptr && ps.samples_end > ps.samples_begin) {
      ps.fields = std::string_view(fields_begin, static_cast<size_t>(fields_end - fields_begin));
      ps.hash = ii::SeriesKeyCache::HashKey(ps.fields);
      cache->Prefetch(ps.hash);
    }
  }

  constexpr size_t kAhead = 4;  // records are loaded this many series ahead
  for (size_t k = 0; k < std::min(kAhead, pending.size()); ++k) {
    if (!pending[k].fields.empty()) cache->PrefetchRecord(pending[k].hash);
  }
  for (size_t k = 0; k < pending.size(); ++k) {
    if (k + kAhead < pending.size() && !pending[k + kAhead].fields.empty()) {
      cache->PrefetchRecord(pending[k + kAhead].hash);
    }
    const PendingSeries& ps = pending[k];
    const Sample* first = samples.data() + ps.samples_begin;
    const Sample* last = samples.data() + ps.samples_end;
    SeriesId id;
    if (!ps.fields.empty() && cache->Find(ps.fields, ps.hash, &id)) {
      ++stats.hits;
      TimeSeries& series = out->NextSeries();
      series.labels = Labels();
      series.samples.assign(first, last);
      out->sample_count += static_cast<size_t>(last - first);
      out->keys.push_back(SeriesKey{true, id, ps.fields});
      continue;
    }
    labels.clear();
    for (uint32_t m = ps.labels_begin; m < ps.labels_end; ++m) {
      if (!ParseLabel(label_messages[m], base, error, &labels.emplace_back())) return false;
    }
    if (first == last) continue;  // nothing to apply (AddSeries skips it too)
    ++stats.misses;
    const size_t before = out->series.size();
    series_samples.assign(first, last);
    ii::AddSeries(ps.index, labels, series_samples, out);
    if (out->series.size() == before) continue;  // refused: never cached
    id = SeriesIdOf(out->series.back().labels);
    out->keys.push_back(SeriesKey{true, id, {}});
    if (!ps.fields.empty()) cache->Insert(ps.fields, ps.hash, id);
  }
  return true;
}

Labels WriteBatch::LabelsOf(size_t i) const {
  if (!LabelsElsewhere(i)) return series[i].labels;
  auto labels = LabelsFromRemoteWriteFields(keys[i].label_fields);
  return labels.ok() ? std::move(*labels) : Labels();
}

Result<Labels> LabelsFromRemoteWriteFields(std::string_view label_fields) {
  ii::WireError error;
  std::vector<ii::LabelView> labels;
  uint32_t field, wire;
  std::string_view payload;
  for (WireReader r(label_fields, label_fields.data(), "prometheus.TimeSeries", &error); !r.done();) {
    if (!r.ReadKey(&field, &wire)) break;
    if (field == kSeriesLabels && wire == ii::kLen) {
      if (!r.ReadLen(&payload) || !ParseLabel(payload, label_fields.data(), &error, &labels.emplace_back())) break;
    } else if (!r.Skip(wire)) {
      break;
    }
  }
  if (error.what != nullptr) {
    return Status::InvalidArgument("protobuf: malformed label fields: " + error.ToString(label_fields.size()));
  }
  std::string why = ii::NormalizeLabels(labels, /*require_metric_name=*/true);
  if (!why.empty()) return Status::InvalidArgument(why);
  return ii::LabelsFromViews(labels);
}

namespace ingest_internal {

void AddSeries(size_t index, std::vector<LabelView>& labels, const std::vector<Sample>& samples, WriteBatch* out) {
  if (samples.empty()) return;
  std::string why = NormalizeLabels(labels, /*require_metric_name=*/true);
  if (!why.empty()) {
    out->rejected.push_back(Rejection{index, samples.size(), "series[" + std::to_string(index) + "]: " + why});
    out->rejected_samples += samples.size();
    return;
  }
  TimeSeries& series = out->NextSeries();
  series.labels.AssignSorted(labels.size(), [&](size_t i) { return std::pair(labels[i].name, labels[i].value); });
  series.samples.assign(samples.begin(), samples.end());
  out->sample_count += samples.size();
}

Status DecodeWithProtobufMessage(std::string_view pb, WriteBatch* out) {
  out->Clear();
  prometheus::WriteRequest request;
  if (pb.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !request.ParseFromArray(pb.data(), static_cast<int>(pb.size()))) {
    return Status::InvalidArgument("protobuf: " + std::to_string(pb.size()) +
                                   " bytes are not a valid prometheus.WriteRequest");
  }
  out->metadata_count = static_cast<size_t>(request.metadata_size());
  std::vector<LabelView> labels;
  std::vector<Sample> samples;
  for (int i = 0; i < request.timeseries_size(); ++i) {
    const prometheus::TimeSeries& ts = request.timeseries(i);
    labels.clear();
    samples.clear();
    for (const prometheus::Label& l : ts.labels()) labels.push_back(LabelView{l.name(), l.value()});
    for (const prometheus::Sample& s : ts.samples()) samples.push_back(Sample{s.timestamp(), s.value()});
    AddSeries(static_cast<size_t>(i), labels, samples, out);
  }
  return Status::Ok();
}

}  // namespace ingest_internal

std::string EncodeRemoteWrite(const std::vector<TimeSeries>& series) {
  prometheus::WriteRequest request;
  request.mutable_timeseries()->Reserve(static_cast<int>(series.size()));
  for (const TimeSeries& s : series) {
    prometheus::TimeSeries* ts = request.add_timeseries();
    for (const Label& l : s.labels.items()) {
      prometheus::Label* pl = ts->add_labels();
      pl->set_name(l.name);
      pl->set_value(l.value);
    }
    ts->mutable_samples()->Reserve(static_cast<int>(s.samples.size()));
    for (const Sample& sample : s.samples) {
      prometheus::Sample* ps = ts->add_samples();
      ps->set_value(sample.value);
      ps->set_timestamp(sample.ts_ms);
    }
  }
  std::string pb;
  request.SerializeToString(&pb);
  std::string body;
  snappy::Compress(pb.data(), pb.size(), &body);
  return body;
}

}  // namespace vigil
