// RFC 3339 timestamps, as used by Alertmanager and vigil's JSON API.
#pragma once

#include <string>
#include <string_view>

#include "core/sample.h"
#include "core/status.h"

namespace vigil {

// "2026-11-23T18:37:00.123Z" (always UTC, milliseconds).
std::string FormatRfc3339(TimestampMs ms);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)"; fractions beyond
// milliseconds are truncated. Go's zero time "0001-01-01T00:00:00Z" parses to
// a large negative number, which callers treat as "unset".
Result<TimestampMs> ParseRfc3339(std::string_view text);

// Parses a time given either as RFC 3339 or as a number: seconds since the
// epoch (with fraction) when below 1e11, otherwise milliseconds.
Result<TimestampMs> ParseTimeParam(std::string_view text);

// Days from 1970-01-01 to year-month-day (month 1..12) in the proleptic
// Gregorian calendar.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

}  // namespace vigil
