// Internals of the remote_write decoder, exposed for its tests and fuzz
// target (not for other modules).
#pragma once

#include <string_view>
#include <vector>

#include "core/sample.h"
#include "core/status.h"
#include "ingest/label_check.h"
#include "ingest/write_batch.h"

namespace vigil::ingest_internal {

// Adds series number `index` of a request to `out`: skipped when it has no
// samples, refused (into out->rejected) when its labels are invalid,
// appended otherwise. Normalizes `labels` in place.
void AddSeries(size_t index, std::vector<LabelView>& labels, const std::vector<Sample>& samples, WriteBatch* out);

// Decodes an uncompressed WriteRequest through the generated protobuf
// message: the slow, obviously faithful path that RemoteWriteDecoder (which
// reads the wire format directly) is checked against. Errors start with
// "protobuf: ".
Status DecodeWithProtobufMessage(std::string_view pb, WriteBatch* out);

}  // namespace vigil::ingest_internal
