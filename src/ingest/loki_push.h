// Loki push API bodies (POST /loki/api/v1/push), both encodings:
//
//  JSON:     {"streams": [{"stream": {"app": "checkout"},
//                          "values": [["<unix ns as a string>", "line", {structured metadata}?]]}]}
//  protobuf: a snappy-block-compressed logproto.PushRequest
//            {streams=1: {labels=1: "{app=\"checkout\"}", entries=2: {timestamp=1: {seconds=1, nanos=2},
//             line=2, structuredMetadata=3}}}
//            Clients (winston-loki) send it WITHOUT a Content-Encoding header,
//            as Loki assumes snappy: the decoder takes the body as snappy when
//            it is a valid snappy block and as plain protobuf otherwise.
//
// A malformed body (JSON syntax, bad snappy and bad protobuf, a stream whose
// labels cannot be parsed) gives InvalidArgument naming the place; a bad line
// (invalid UTF-8, NUL, too long, bad timestamp) is refused alone and listed in
// LogBatch::rejected. Structured metadata is validated and ignored.
#pragma once

#include <string_view>

#include "core/status.h"
#include "ingest/log_batch.h"

namespace vigil {

Status DecodeLokiPushJson(std::string_view body, LogBatch* out);
Status DecodeLokiPushProtobuf(std::string_view body, LogBatch* out);

// Parses a Loki/Prometheus stream selector of equality matchers,
// {a="b", c="d"} (values with \" \\ \n escapes), into sorted labels.
Result<Labels> ParseLokiLabels(std::string_view selector);

}  // namespace vigil
