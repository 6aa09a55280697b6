#include "ingest/json_events.h"

#include <string>
#include <utility>

#include "ingest/json_text.h"
#include "ingest/label_check.h"

namespace vigil {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;
namespace ii = ingest_internal;

constexpr size_t kMaxKindBytes = 64;

bool IsKindChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == ':' || c == '-';
}

Status Fail(const std::string& path, const std::string& why) { return Status::InvalidArgument(path + ": " + why); }

Status DecodeKind(object obj, const std::string& path, Event* ev) {
  element e;
  if (obj["kind"].get(e)) return Fail(path + ".kind", "missing (e.g. \"deploy\" or \"config\")");
  if (e.type() != element_type::STRING) return Fail(path + ".kind", std::string("expected a string, got ") + ii::JsonTypeName(e));
  const std::string_view kind = ii::StringOf(e);
  if (kind.empty() || kind.size() > kMaxKindBytes) {
    return Fail(path + ".kind", "must be 1 to " + std::to_string(kMaxKindBytes) + " characters, got " +
                                    std::to_string(kind.size()));
  }
  for (char c : kind) {
    if (!IsKindChar(c)) return Fail(path + ".kind", ii::Quote(kind) + " is not a word ([A-Za-z0-9_.:-])");
  }
  ev->kind = std::string(kind);
  return Status::Ok();
}

Status DecodeTime(object obj, const std::string& path, TimestampMs now_ms, Event* ev) {
  ev->ts_ms = now_ms;
  element e;
  std::string key = "time";
  if (obj["time"].get(e) || e.is_null()) {
    key = "ts_ms";
    if (obj["ts_ms"].get(e) || e.is_null()) return Status::Ok();
  }
  std::string why;
  if (!ii::JsonToTime(e, &ev->ts_ms, &why)) return Fail(path + "." + key, why);
  return Status::Ok();
}

Status DecodeLabels(object obj, const std::string& path, Event* ev) {
  element e;
  if (obj["labels"].get(e) || e.is_null()) return Status::Ok();
  if (e.type() != element_type::OBJECT) {
    return Fail(path + ".labels", std::string("expected an object, got ") + ii::JsonTypeName(e));
  }
  std::vector<ii::LabelView> labels;
  for (auto field : ii::ObjectOf(e)) {
    const std::string field_path = path + ".labels" + ii::KeyPath(field.key);
    if (field.value.type() != element_type::STRING) {
      return Fail(field_path, std::string("expected a string, got ") + ii::JsonTypeName(field.value));
    }
    labels.push_back(ii::LabelView{field.key, ii::StringOf(field.value)});
  }
  std::string why = ii::NormalizeLabels(labels, /*require_metric_name=*/false);
  if (!why.empty()) return Fail(path + ".labels", why);
  ev->labels = ii::LabelsFromViews(labels);
  return Status::Ok();
}

Status DecodeText(object obj, const std::string& path, Event* ev) {
  element e;
  if (obj["text"].get(e) || e.is_null()) return Status::Ok();
  if (e.type() != element_type::STRING) return Fail(path + ".text", std::string("expected a string, got ") + ii::JsonTypeName(e));
  const std::string_view text = ii::StringOf(e);
  if (text.size() > kMaxEventTextBytes) {
    return Fail(path + ".text", std::to_string(text.size()) + " bytes, above the limit of " +
                                    std::to_string(kMaxEventTextBytes));
  }
  ev->text = std::string(text);
  return Status::Ok();
}

Status DecodeEvent(element e, size_t index, TimestampMs now_ms, Event* ev) {
  const std::string path = "events[" + std::to_string(index) + "]";
  if (e.type() != element_type::OBJECT) {
    return Fail(path, std::string("expected an event object, got ") + ii::JsonTypeName(e));
  }
  const object obj = ii::ObjectOf(e);
  if (Status st = DecodeKind(obj, path, ev); !st.ok()) return st;
  if (Status st = DecodeTime(obj, path, now_ms, ev); !st.ok()) return st;
  if (Status st = DecodeLabels(obj, path, ev); !st.ok()) return st;
  return DecodeText(obj, path, ev);
}

}  // namespace

Result<std::vector<Event>> DecodeEvents(std::string_view body, TimestampMs now_ms) {
  ii::JsonDocument doc;
  if (Status st = doc.Parse(body); !st.ok()) return st;
  const element root = doc.root();
  std::vector<Event> events;
  if (root.type() == element_type::OBJECT) {
    Event& ev = events.emplace_back();
    if (Status st = DecodeEvent(root, 0, now_ms, &ev); !st.ok()) return st;
    return events;
  }
  if (root.type() != element_type::ARRAY) {
    return Status::InvalidArgument(std::string("expected an event object or an array of events, got ") +
                                   ii::JsonTypeName(root));
  }
  const simdjson::dom::array list = ii::ArrayOf(root);
  // size() saturates at 0xFFFFFF, far above the limit, so it is exact here.
  if (list.size() > kMaxEventsPerRequest) {
    return Status::InvalidArgument("too many events: " + std::to_string(list.size()) + " (limit " +
                                   std::to_string(kMaxEventsPerRequest) + " per request)");
  }
  events.reserve(list.size());
  size_t index = 0;
  for (element e : list) {
    Event& ev = events.emplace_back();
    if (Status st = DecodeEvent(e, index, now_ms, &ev); !st.ok()) return st;
    ++index;
  }
  return events;
}

}  // namespace vigil
