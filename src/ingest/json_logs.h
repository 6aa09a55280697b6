// vigil's own log push (POST /api/v1/logs, docs/api-contract.md):
//  * JSON lines (Content-Type application/json or application/x-ndjson): one
//    object per line, {"line": "...", "ts": <Unix ms | Unix s | RFC 3339>,
//    "labels": {"service": "checkout"}, "level": "error"}; "msg" and
//    "message" are accepted for "line"; "time"/"timestamp" for "ts";
//  * raw text (text/plain): every non-empty line is a log line.
// `labels` (from the query string) apply to every line; a line's own labels
// override them. Lines without a time get `now_ms`. A bad line is refused
// alone, named by its 1-based line number.
#pragma once

#include <string_view>

#include "core/labels.h"
#include "core/status.h"
#include "ingest/log_batch.h"

namespace vigil {

Status DecodeLogLines(std::string_view body, bool json, const Labels& labels, TimestampMs now_ms, LogBatch* out);

}  // namespace vigil
