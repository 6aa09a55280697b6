#include "ingest/jaeger_traces.h"

#include <string>

#include "ingest/json_text.h"

namespace vigil {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
namespace ii = ingest_internal;

ii::AttrValue TagValue(element v) {
  ii::AttrValue out;
  switch (v.type()) {
    case element_type::STRING:
      out.kind = ii::AttrValue::kString;
      out.s = ii::StringOf(v);
      break;
    case element_type::INT64:
    case element_type::UINT64:
      out.kind = ii::AttrValue::kInt;
      out.i = ii::Int64Of(v);
      break;
    case element_type::DOUBLE:
      out.kind = ii::AttrValue::kDouble;
      out.d = ii::DoubleOf(v);
      break;
    case element_type::BOOL: {
      out.kind = ii::AttrValue::kBool;
      bool b = false;
      if (v.get(b) != simdjson::SUCCESS) b = false;
      out.b = b;
      break;
    }
    default:
      break;
  }
  return out;
}

// Reads a tags array into `facts`; "" or why it is malformed.
std::string Tags(element tags, ii::SpanFacts* facts) {
  if (tags.type() == element_type::NULL_VALUE) return {};
  if (tags.type() != element_type::ARRAY) return ": expected an array";
  size_t i = 0;
  for (element t : ii::ArrayOf(tags)) {
    element key, value;
    if (t.type() != element_type::OBJECT || ii::ObjectOf(t)["key"].get(key) || key.type() != element_type::STRING) {
      return "[" + std::to_string(i) + "]: expected {\"key\": string, \"type\", \"value\"}";
    }
    ++i;
    if (ii::ObjectOf(t)["value"].get(value)) continue;
    ii::NoteAttribute(ii::StringOf(key), TagValue(value), facts);
  }
  return {};
}

bool Micros(element e, int64_t* out) {
  if (e.type() == element_type::INT64 || e.type() == element_type::UINT64) {
    int64_t v = 0;
    if (e.get(v) || v < 0) return false;
    *out = v;
    return true;
  }
  return false;
}

Status Trace(element tr, const std::string& path, SpanBatch* out) {
  if (tr.type() != element_type::OBJECT) return Status::InvalidArgument(path + ": expected a trace object");
  auto obj = ii::ObjectOf(tr);
  // Processes first: spans refer to them by id.
  struct Process {
    std::string_view id;
    ii::SpanFacts facts;
  };
  std::vector<Process> processes;
  element procs, spans;
  if (!obj["processes"].get(procs) && procs.type() != element_type::NULL_VALUE) {
    if (procs.type() != element_type::OBJECT) return Status::InvalidArgument(path + ".processes: expected an object");
    for (auto p : ii::ObjectOf(procs)) {
      std::string ppath = path + ".processes" + ii::KeyPath(p.key);
      if (p.value.type() != element_type::OBJECT) return Status::InvalidArgument(ppath + ": expected an object");
      Process pr;
      pr.id = p.key;
      element x;
      if (ii::ObjectOf(p.value)["serviceName"].get(x) || x.type() != element_type::STRING) {
        return Status::InvalidArgument(ppath + ".serviceName: expected a string");
      }
      element tags;
      if (!ii::ObjectOf(p.value)["tags"].get(tags)) {
        std::string why = Tags(tags, &pr.facts);
        if (!why.empty()) return Status::InvalidArgument(ppath + ".tags" + why);
      }
      pr.facts.service = ii::StringOf(x);
      processes.push_back(pr);
    }
  }
  if (obj["spans"].get(spans) || spans.type() == element_type::NULL_VALUE) return Status::Ok();
  if (spans.type() != element_type::ARRAY) return Status::InvalidArgument(path + ".spans: expected an array");
  size_t k = 0;
  const std::string prefix = path + ".spans";
  for (element sp : ii::ArrayOf(spans)) {
    const size_t index = k++;
    auto reject = [&](const std::string& why) { out->rejected.push_back(ii::SpanPath(prefix, index) + why); };
    if (sp.type() != element_type::OBJECT) {
      reject(std::string(": expected an object, got ") + ii::JsonTypeName(sp));
      continue;
    }
    auto so = ii::ObjectOf(sp);
    Span span;
    ii::SpanFacts own;
    element e;
    uint64_t hi = 0;
    if (so["traceID"].get(e) || e.type() != element_type::STRING ||
        !ii::ParseHexId(ii::StringOf(e), &span.trace_id.hi, &span.trace_id.lo)) {
      reject(".traceID: expected 1 to 32 hex digits");
      continue;
    }
    if (so["spanID"].get(e) || e.type() != element_type::STRING || ii::StringOf(e).size() > 16 ||
        !ii::ParseHexId(ii::StringOf(e), &hi, &span.span_id)) {
      reject(".spanID: expected 1 to 16 hex digits");
      continue;
    }
    if (!so["operationName"].get(e) && e.type() == element_type::STRING) span.operation = std::string(ii::StringOf(e));
    if (so["startTime"].get(e) || !Micros(e, &span.start_us)) {
      reject(".startTime: expected Unix microseconds (an integer)");
      continue;
    }
    if (!so["duration"].get(e) && !Micros(e, &span.duration_us)) {
      reject(".duration: expected microseconds (a non-negative integer)");
      continue;
    }
    bool bad = false;
    if (!so["references"].get(e) && e.type() != element_type::NULL_VALUE) {
      if (e.type() != element_type::ARRAY) {
        reject(".references: expected an array");
        continue;
      }
      size_t ri = 0;
      uint64_t follows = 0;
      for (element ref : ii::ArrayOf(e)) {
        element type, id;
        uint64_t parent = 0;
        if (ref.type() != element_type::OBJECT || ii::ObjectOf(ref)["spanID"].get(id) ||
            id.type() != element_type::STRING || ii::StringOf(id).size() > 16 ||
            !ii::ParseHexId(ii::StringOf(id), &hi, &parent)) {
          reject(".references[" + std::to_string(ri) + "].spanID: expected 1 to 16 hex digits");
          bad = true;
          break;
        }
        ++ri;
        bool child_of = ii::ObjectOf(ref)["refType"].get(type) || ii::StringOf(type) != "FOLLOWS_FROM";
        if (child_of && span.parent_span_id == 0) span.parent_span_id = parent;
        if (!child_of && follows == 0) follows = parent;
      }
      if (span.parent_span_id == 0) span.parent_span_id = follows;
    }
    if (bad) continue;
    if (!so["tags"].get(e)) {
      std::string why = Tags(e, &own);
      if (!why.empty()) {
        reject(".tags" + why);
        continue;
      }
    }
    const ii::SpanFacts* proc = nullptr;
    if (!so["processID"].get(e) && e.type() == element_type::STRING) {
      for (const auto& p : processes) {
        if (p.id == ii::StringOf(e)) proc = &p.facts;
      }
    }
    if (proc == nullptr) {
      // Jaeger's older form embeds the process in the span.
      element pe, x;
      if (!so["process"].get(pe) && pe.type() == element_type::OBJECT && !ii::ObjectOf(pe)["serviceName"].get(x) &&
          x.type() == element_type::STRING) {
        ii::SpanFacts inline_proc;
        element tags;
        if (!ii::ObjectOf(pe)["tags"].get(tags)) (void)Tags(tags, &inline_proc);
        inline_proc.service = ii::StringOf(x);
        ii::FinishSpan(out, prefix, index, std::move(span), inline_proc, own);
        continue;
      }
      reject(".processID: names no process of the trace");
      continue;
    }
    ii::FinishSpan(out, prefix, index, std::move(span), *proc, own);
  }
  return Status::Ok();
}

}  // namespace

Status DecodeJaegerTracesJson(std::string_view body, SpanBatch* out) {
  out->clear();
  ii::JsonDocument doc;
  if (Status st = doc.Parse(body); !st.ok()) return st;
  element root = doc.root(), data;
  std::string prefix;
  if (root.type() == element_type::OBJECT) {
    if (ii::ObjectOf(root)["data"].get(data) || data.type() != element_type::ARRAY) {
      return Status::InvalidArgument("data: expected an array of traces");
    }
    prefix = "data";
  } else if (root.type() == element_type::ARRAY) {
    data = root;
  } else {
    return Status::InvalidArgument("expected {\"data\": [traces]} or an array of traces, got " +
                                   std::string(ii::JsonTypeName(root)));
  }
  size_t i = 0;
  for (element tr : ii::ArrayOf(data)) {
    Status st = Trace(tr, prefix + "[" + std::to_string(i++) + "]", out);
    if (!st.ok()) {
      out->clear();
      return st;
    }
  }
  return Status::Ok();
}

}  // namespace vigil
