#include "ingest/remote_write.h"

#include <snappy.h>

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "ingest/label_check.h"
#include "remote_write.pb.h"

namespace vigil {

namespace {

// After a request this large, the buffer and message are released so that
// one burst does not pin tens of MiB per ingest thread for ever.
constexpr size_t kRetainBytes = 16 << 20;

}  // namespace

struct RemoteWriteDecoder::Impl {
  prometheus::WriteRequest request;
  std::string buffer;  // decompressed body; grows, never shrinks below kRetainBytes

  Status Parse(std::string_view pb, size_t limit, WriteBatch* out);
  void ReleaseIfLarge(size_t bytes) {
    if (bytes <= kRetainBytes) return;
    std::string().swap(buffer);
    prometheus::WriteRequest().Swap(&request);
  }
};

RemoteWriteDecoder::RemoteWriteDecoder() : impl_(std::make_unique<Impl>()) {}
RemoteWriteDecoder::~RemoteWriteDecoder() = default;

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
  std::string& buffer = impl_->buffer;
  if (buffer.size() < length) buffer.resize(length);
  if (!snappy::RawUncompress(body.data(), body.size(), buffer.data())) {
    impl_->ReleaseIfLarge(length);
    return Status::InvalidArgument("snappy: corrupt block (" + std::to_string(body.size()) +
                                   " bytes, announcing " + std::to_string(length) + " decompressed)");
  }
  Status st = impl_->Parse(std::string_view(buffer.data(), length), max_decompressed_bytes, out);
  impl_->ReleaseIfLarge(length);
  return st;
}

Status RemoteWriteDecoder::DecodeUncompressed(std::string_view pb, WriteBatch* out) {
  out->Clear();
  Status st = impl_->Parse(pb, max_decompressed_bytes, out);
  impl_->ReleaseIfLarge(pb.size());
  return st;
}

Status RemoteWriteDecoder::Impl::Parse(std::string_view pb, size_t limit, WriteBatch* out) {
  // protobuf takes sizes as int.
  limit = std::min(limit, static_cast<size_t>(std::numeric_limits<int>::max()));
  if (pb.size() > limit) {
    return Status::InvalidArgument("protobuf: payload of " + std::to_string(pb.size()) +
                                   " bytes is above the limit of " + std::to_string(limit));
  }
  // ParseFromArray clears the message but keeps its allocated series, labels
  // and strings, so a steady stream of similar requests allocates nothing here.
  if (!request.ParseFromArray(pb.data(), static_cast<int>(pb.size()))) {
    return Status::InvalidArgument("protobuf: " + std::to_string(pb.size()) +
                                   " bytes are not a valid prometheus.WriteRequest (truncated or corrupt)");
  }
  out->metadata_count = static_cast<size_t>(request.metadata_size());
  out->series.reserve(static_cast<size_t>(request.timeseries_size()));
  for (int i = 0; i < request.timeseries_size(); ++i) {
    const prometheus::TimeSeries& ts = request.timeseries(i);
    const size_t n_samples = static_cast<size_t>(ts.samples_size());
    if (n_samples == 0) continue;

    std::vector<Label> labels;
    labels.reserve(static_cast<size_t>(ts.labels_size()));
    for (const prometheus::Label& l : ts.labels()) labels.push_back(Label{l.name(), l.value()});
    std::string why = ingest_internal::NormalizeLabels(labels, /*require_metric_name=*/true);
    if (!why.empty()) {
      out->rejected.push_back(Rejection{static_cast<size_t>(i), n_samples,
                                        "series[" + std::to_string(i) + "]: " + why});
      out->rejected_samples += n_samples;
      continue;
    }

    TimeSeries& series = out->series.emplace_back();
    series.labels = Labels::FromSorted(std::move(labels));
    series.samples.resize(n_samples);
    Sample* dst = series.samples.data();
    for (const prometheus::Sample& s : ts.samples()) *dst++ = Sample{s.timestamp(), s.value()};
    out->sample_count += n_samples;
  }
  return Status::Ok();
}

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
