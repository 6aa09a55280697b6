// Reads a series from CSV text for `vigil forecast` and `vigil eval
// forecast`: two columns `timestamp,value` (more columns are ignored), an
// optional header line, timestamps as NAB writes them ("2014-04-01 00:05:00",
// taken as UTC), RFC 3339, Unix seconds or Unix milliseconds.
#pragma once

#include <string_view>
#include <vector>

#include "core/sample.h"
#include "core/status.h"

namespace vigil {

// InvalidArgument naming the line and field on the first bad row.
Result<std::vector<Sample>> ParseSeriesCsv(std::string_view text);

}  // namespace vigil
