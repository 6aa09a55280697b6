// JSON events (POST /api/v1/events, docs/api-contract.md): deploys, config
// changes and anything else that belongs on an incident timeline.
//
//   {"time": "2026-11-23T10:00:00Z", "kind": "deploy",
//    "labels": {"service": "checkout", "version": "1.4.2"}, "text": "deploy 1.4.2"}
//
// The body is one such object or an array of them.
//   kind    required: a word of 1..64 characters from [A-Za-z0-9_.:-]
//   time    optional (default now_ms): Unix ms, Unix s (below 1e11) or RFC 3339;
//           `ts_ms` (as returned by GET /api/v1/events) is accepted instead
//   labels  optional object of string values; names match [a-zA-Z_][a-zA-Z0-9_]*;
//           empty values are dropped
//   text    optional string of at most kMaxEventTextBytes
// Unknown keys (such as "id") are ignored.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/status.h"

namespace vigil {

inline constexpr size_t kMaxEventTextBytes = 64 * 1024;
inline constexpr size_t kMaxEventsPerRequest = 10000;

// All or nothing: any bad event makes the whole request InvalidArgument,
// naming the event and field, e.g. `events[3].time: invalid RFC 3339 time ...`
// or `events[0].kind: missing` (a single object is events[0]). Malformed
// JSON names the byte offset. Returned events have id 0 (the store assigns ids).
Result<std::vector<Event>> DecodeEvents(std::string_view body, TimestampMs now_ms);

}  // namespace vigil
