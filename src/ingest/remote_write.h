// Prometheus remote_write 1.0 decoder and encoder.
//
// A remote_write request body is a snappy *block* (not framed) compressed,
// protobuf-serialized prometheus.WriteRequest (see remote_write.proto). The
// decoder turns it into a WriteBatch: series with sorted, validated labels
// and their samples. Staleness markers (core/sample.h) pass through as
// ordinary samples, bit for bit; the engine gives them their meaning.
//
// Failure model, matching what Prometheus expects of a receiver:
//   - the body as a whole is malformed (bad snappy, bad protobuf, too large):
//     Decode returns InvalidArgument and `out` holds nothing; the sender
//     drops the batch on 400 instead of retrying it forever;
//   - one series has bad labels: only that series is refused and listed in
//     WriteBatch::rejected; the rest is valid and may be applied.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/sample.h"
#include "core/status.h"
#include "ingest/write_batch.h"

namespace vigil {

// Decodes remote_write bodies. Reusable and not thread-safe: keep one per
// thread. It keeps its decompression buffer and scratch space between calls
// (nothing is allocated per request but the output), and reads the protobuf
// wire format straight from the decompressed bytes, so label bytes are
// copied once, into the Labels kept. Wire-format strictness is the protobuf
// runtime's (see proto_wire.h), except that groups are refused; the fuzz
// target checks it against the generated message.
class RemoteWriteDecoder {
 public:
  RemoteWriteDecoder();
  ~RemoteWriteDecoder();
  RemoteWriteDecoder(const RemoteWriteDecoder&) = delete;
  RemoteWriteDecoder& operator=(const RemoteWriteDecoder&) = delete;

  // `body` is the HTTP body as sent (snappy block format). Clears `*out`,
  // then fills it.
  // Errors (InvalidArgument, `*out` left empty):
  //   "snappy: ..."   the body is not a valid snappy block, or it claims to
  //                   decompress to more than max_decompressed_bytes;
  //   "protobuf: ..." the decompressed bytes are not a WriteRequest; the
  //                   message names the byte offset and the message type.
  // Per-series refusals (OK status, listed in out->rejected): missing or
  // invalid __name__ ([a-zA-Z_:][a-zA-Z0-9_:]*), invalid label name
  // ([a-zA-Z_][a-zA-Z0-9_]*), duplicate label names, a value that is not
  // valid UTF-8. Labels with empty values are dropped (Prometheus: empty is
  // absent). Series without samples carry nothing to apply and are skipped.
  Status Decode(std::string_view body, WriteBatch* out);

  // The same for an already decompressed WriteRequest.
  Status DecodeUncompressed(std::string_view pb, WriteBatch* out);

  // Larger payloads are refused with InvalidArgument before decompressing.
  size_t max_decompressed_bytes = 64 << 20;

  // Series cache (ingest/series_key_cache.h): with a non-zero bound, a
  // series whose Label fields are byte for byte those of a valid series of
  // an earlier request is not parsed again: its TimeSeries comes out with
  // empty labels and out->keys[i] holds its id and its Label fields
  // (WriteBatch::LabelsOf). Every emitted series then has an entry in
  // out->keys (with its id when the decoder computed it). 0 (the default)
  // keeps every series' labels in its TimeSeries. Takes effect on the next
  // call; a smaller bound empties the cache.
  void EnableSeriesCache(size_t max_series);
  struct CacheStats {
    uint64_t hits = 0;    // series whose labels were not parsed again
    uint64_t misses = 0;  // series that took the full path with the cache on
    uint64_t resets = 0;  // times the bound emptied the cache
    size_t entries = 0;
    size_t bytes = 0;
  };
  CacheStats cache_stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Encodes `series` as a remote_write body (snappy-compressed WriteRequest),
// as a Prometheus client would send it. For tests, the benchmark's load
// generator and the simulator. Labels are written as given (Labels are
// already sorted); samples in order.
std::string EncodeRemoteWrite(const std::vector<TimeSeries>& series);

// The labels of a series given as its remote_write Label fields (as sent,
// e.g. SeriesKey::label_fields): parsed, normalized and validated as the
// decoder does. InvalidArgument when the bytes are not valid Label fields
// or the labels are not a valid series.
Result<Labels> LabelsFromRemoteWriteFields(std::string_view label_fields);

}  // namespace vigil
