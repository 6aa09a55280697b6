// libFuzzer target: remote_write bodies, both snappy-compressed and raw
// protobuf. Checks the output invariants; that the direct wire decoder agrees
// with decoding through the generated protobuf message; and that whatever
// was accepted survives EncodeRemoteWrite -> Decode unchanged.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/fuzz_checks.h"
#include "ingest/remote_write.h"
#include "ingest/remote_write_internal.h"

namespace {

using vigil::ingest_internal::CheckBatch;
using vigil::ingest_internal::CheckMessage;
using vigil::ingest_internal::FuzzCheck;

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void CheckSameBatch(const vigil::WriteBatch& a, const vigil::WriteBatch& b, const char* what) {
  FuzzCheck(a.series.size() == b.series.size(), what);
  FuzzCheck(a.sample_count == b.sample_count && a.metadata_count == b.metadata_count, what);
  FuzzCheck(a.rejected.size() == b.rejected.size() && a.rejected_samples == b.rejected_samples, what);
  for (size_t i = 0; i < a.rejected.size(); ++i) {
    FuzzCheck(a.rejected[i].reason == b.rejected[i].reason && a.rejected[i].samples == b.rejected[i].samples, what);
  }
  for (size_t i = 0; i < a.series.size(); ++i) {
    FuzzCheck(a.LabelsOf(i) == b.LabelsOf(i) && a.IdOf(i) == b.IdOf(i), what);
    FuzzCheck(a.series[i].samples.size() == b.series[i].samples.size(), what);
    for (size_t j = 0; j < a.series[i].samples.size(); ++j) {
      FuzzCheck(a.series[i].samples[j].ts_ms == b.series[i].samples[j].ts_ms, what);
      FuzzCheck(SameBits(a.series[i].samples[j].value, b.series[i].samples[j].value), what);
    }
  }
}

// The direct decoder against the generated message. The only allowed
// difference: the direct decoder refuses groups, which protobuf skips.
void CheckAgainstReference(std::string_view pb, const vigil::Status& st, const vigil::WriteBatch& batch) {
  vigil::WriteBatch reference;
  const vigil::Status ref = vigil::ingest_internal::DecodeWithProtobufMessage(pb, &reference);
  if (st.ok()) {
    FuzzCheck(ref.ok(), "direct decoder accepted what protobuf refuses");
    CheckSameBatch(batch, reference, "direct decoder and protobuf disagree");
  } else if (ref.ok()) {
    FuzzCheck(st.message().find("groups") != std::string::npos, "direct decoder refused what protobuf accepts");
  }
}

void CheckRoundTrip(vigil::RemoteWriteDecoder& decoder, const vigil::WriteBatch& batch) {
  // The batch's labels, resolved before the decoder's next call (a cached
  // series' Label fields point into the decoder's buffer).
  std::vector<vigil::TimeSeries> series = batch.series;
  for (size_t i = 0; i < series.size(); ++i) series[i].labels = batch.LabelsOf(i);
  vigil::WriteBatch again;
  const vigil::Status st = decoder.Decode(vigil::EncodeRemoteWrite(series), &again);
  FuzzCheck(st.ok(), "re-encoded batch does not decode");
  FuzzCheck(again.rejected.empty(), "re-encoded batch has rejections");
  FuzzCheck(again.series.size() == series.size(), "re-encoded batch lost series");
  for (size_t i = 0; i < series.size(); ++i) {
    const auto& a = series[i];
    const auto& b = again.series[i];
    FuzzCheck(a.labels == again.LabelsOf(i), "labels changed in a round trip");
    FuzzCheck(a.samples.size() == b.samples.size(), "samples lost in a round trip");
    for (size_t j = 0; j < a.samples.size(); ++j) {
      FuzzCheck(a.samples[j].ts_ms == b.samples[j].ts_ms, "timestamp changed in a round trip");
      FuzzCheck(SameBits(a.samples[j].value, b.samples[j].value), "value bits changed in a round trip");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One decoder for the whole run, as an ingest thread keeps one: this also
  // fuzzes the reuse of its message and buffer across requests.
  static vigil::RemoteWriteDecoder* decoder = [] {
    auto* d = new vigil::RemoteWriteDecoder();
    d->max_decompressed_bytes = 4 << 20;
    return d;
  }();
  // The same with the series cache on (a small bound, so that it also
  // resets): series seen in earlier inputs skip their label parsing, and
  // the result must be the plain decoder's.
  static vigil::RemoteWriteDecoder* cached = [] {
    auto* d = new vigil::RemoteWriteDecoder();
    d->max_decompressed_bytes = 4 << 20;
    d->EnableSeriesCache(64);
    return d;
  }();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  vigil::WriteBatch batch, with_cache;

  vigil::Status st = decoder->Decode(input, &batch);
  if (!st.ok()) CheckMessage(st.message());
  CheckBatch(batch, st.ok());
  vigil::Status cst = cached->Decode(input, &with_cache);
  FuzzCheck(cst.ok() == st.ok() && cst.message() == st.message(), "cached decoder status differs");
  CheckBatch(with_cache, cst.ok());
  CheckSameBatch(with_cache, batch, "cached decoder and plain decoder disagree");
  if (st.ok()) CheckRoundTrip(*decoder, batch);

  st = decoder->DecodeUncompressed(input, &batch);
  if (!st.ok()) CheckMessage(st.message());
  CheckBatch(batch, st.ok());
  CheckAgainstReference(input, st, batch);
  cst = cached->DecodeUncompressed(input, &with_cache);
  FuzzCheck(cst.ok() == st.ok() && cst.message() == st.message(), "cached decoder status differs");
  CheckBatch(with_cache, cst.ok());
  CheckSameBatch(with_cache, batch, "cached decoder and plain decoder disagree");
  if (cst.ok()) CheckRoundTrip(*cached, with_cache);
  if (st.ok()) CheckRoundTrip(*decoder, batch);
  return 0;
}
