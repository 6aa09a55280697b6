// Events: deploys, configuration changes and anything else a person or a
// pipeline wants on the incident timeline.
#pragma once

#include <cstdint>
#include <string>

#include "core/labels.h"
#include "core/sample.h"

namespace vigil {

struct Event {
  int64_t id = 0;            // assigned by the store
  TimestampMs ts_ms = 0;
  std::string kind;          // "deploy", "config", or any custom word
  Labels labels;             // service, instance, version, ...
  std::string text;
};

}  // namespace vigil
