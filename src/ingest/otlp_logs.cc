#include "ingest/otlp_logs.h"

#include <cstring>
#include <string>
#include <vector>

#include "ingest/json_text.h"
#include "ingest/label_check.h"
#include "ingest/otlp_wire.h"
#include "ingest/proto_wire.h"

namespace vigil {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
namespace ii = ingest_internal;

// service.name -> service_name; anything else not [a-zA-Z0-9_] -> '_'.
std::string LabelNameOf(std::string_view key) {
  std::string n(key);
  for (char& c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  if (!n.empty() && std::isdigit(static_cast<unsigned char>(n[0]))) n.insert(n.begin(), '_');
  return n;
}

// Builds stream labels from (key, string value) resource attributes.
Result<Labels> ResourceLabels(const std::vector<std::pair<std::string, std::string>>& attrs, const std::string& path) {
  std::vector<std::pair<std::string, std::string>> named;
  for (const auto& [k, v] : attrs) {
    named.emplace_back(LabelNameOf(k), v);
    if (k == "service.name") named.emplace_back("service", v);
  }
  std::vector<ii::LabelView> views;
  for (const auto& [n, v] : named) {
    bool dup = false;
    for (const auto& x : views) dup = dup || x.name == n;
    if (!dup && !n.empty()) views.push_back({n, v});
  }
  std::string why = ii::NormalizeLabels(views, false);
  if (!why.empty()) return Status::InvalidArgument(path + ".resource.attributes: " + why);
  return ii::LabelsFromViews(views);
}

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out->append(buf);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// AnyValue (JSON mapping) as text: a string as is, anything else as JSON.
void JsonAnyValueText(element v, std::string* out, bool top) {
  if (v.type() != element_type::OBJECT) return;
  for (auto f : ii::ObjectOf(v)) {
    if (f.key == "stringValue" && f.value.type() == element_type::STRING) {
      if (top) out->append(ii::StringOf(f.value));
      else AppendJsonString(out, ii::StringOf(f.value));
    } else if (f.key == "intValue" || f.key == "doubleValue" || f.key == "boolValue") {
      out->append(simdjson::minify(f.value));
    } else if (f.key == "arrayValue") {
      out->push_back('[');
      element values;
      bool first = true;
      if (!ii::ObjectOf(f.value)["values"].get(values) && values.type() == element_type::ARRAY) {
        for (element x : ii::ArrayOf(values)) {
          if (!first) out->push_back(',');
          first = false;
          JsonAnyValueText(x, out, false);
        }
      }
      out->push_back(']');
    } else if (f.key == "kvlistValue") {
      out->append(simdjson::minify(f.value));
    } else if (f.key == "bytesValue" && f.value.type() == element_type::STRING) {
      if (top) out->append(ii::StringOf(f.value));
      else AppendJsonString(out, ii::StringOf(f.value));
    }
    return;
  }
}

}  // namespace

int SeverityFromOtlp(int64_t n) {
  if (n <= 0 || n > 24) return -1;
  if (n <= 8) return 0;
  if (n <= 12) return 2;
  if (n <= 16) return 3;
  if (n <= 20) return 4;
  return 5;
}

Status DecodeOtlpLogsJson(std::string_view body, LogBatch* out) {
  out->clear();
  ii::JsonDocument doc;
  if (Status st = doc.Parse(body); !st.ok()) return st;
  element root = doc.root(), rls;
  if (root.type() != element_type::OBJECT) return Status::InvalidArgument("expected an object {\"resourceLogs\": [...]}");
  if (ii::ObjectOf(root)["resourceLogs"].get(rls)) return Status::Ok();  // nothing to export
  if (rls.type() != element_type::ARRAY) return Status::InvalidArgument("resourceLogs: expected an array, got " + std::string(ii::JsonTypeName(rls)));
  size_t ri = 0;
  for (element rl : ii::ArrayOf(rls)) {
    std::string path = "resourceLogs[" + std::to_string(ri++) + "]";
    if (rl.type() != element_type::OBJECT) return Status::InvalidArgument(path + ": expected an object");
    std::vector<std::pair<std::string, std::string>> attrs;
    element resource, attributes;
    if (!ii::ObjectOf(rl)["resource"].get(resource) && resource.type() == element_type::OBJECT &&
        !ii::ObjectOf(resource)["attributes"].get(attributes)) {
      if (attributes.type() != element_type::ARRAY) return Status::InvalidArgument(path + ".resource.attributes: expected an array");
      for (element kv : ii::ArrayOf(attributes)) {
        element key, value, sv;
        if (kv.type() != element_type::OBJECT || ii::ObjectOf(kv)["key"].get(key) || key.type() != element_type::STRING) {
          return Status::InvalidArgument(path + ".resource.attributes: expected {\"key\": string, \"value\": AnyValue}");
        }
        if (!ii::ObjectOf(kv)["value"].get(value) && value.type() == element_type::OBJECT &&
            !ii::ObjectOf(value)["stringValue"].get(sv) && sv.type() == element_type::STRING) {
          attrs.emplace_back(std::string(ii::StringOf(key)), std::string(ii::StringOf(sv)));
        }
      }
    }
    auto labels = ResourceLabels(attrs, path);
    if (!labels.ok()) return labels.status();
    element sls;
    if (ii::ObjectOf(rl)["scopeLogs"].get(sls)) continue;
    if (sls.type() != element_type::ARRAY) return Status::InvalidArgument(path + ".scopeLogs: expected an array");
    size_t si = 0;
    for (element sl : ii::ArrayOf(sls)) {
      std::string spath = path + ".scopeLogs[" + std::to_string(si++) + "]";
      element records;
      if (sl.type() != element_type::OBJECT) return Status::InvalidArgument(spath + ": expected an object");
      if (ii::ObjectOf(sl)["logRecords"].get(records)) continue;
      if (records.type() != element_type::ARRAY) return Status::InvalidArgument(spath + ".logRecords: expected an array");
      size_t li = 0;
      for (element rec : ii::ArrayOf(records)) {
        std::string lpath = spath + ".logRecords[" + std::to_string(li++) + "]";
        if (rec.type() != element_type::OBJECT) {
          out->rejected.push_back(lpath + ": expected an object, got " + ii::JsonTypeName(rec));
          continue;
        }
        auto obj = ii::ObjectOf(rec);
        uint64_t ns = 0;
        element t;
        if (!obj["timeUnixNano"].get(t) && !ii::JsonUnixNanos(t, &ns)) {
          out->rejected.push_back(lpath + ".timeUnixNano: expected Unix nanoseconds (string or number)");
          continue;
        }
        if (ns == 0 && !obj["observedTimeUnixNano"].get(t) && !ii::JsonUnixNanos(t, &ns)) {
          out->rejected.push_back(lpath + ".observedTimeUnixNano: expected Unix nanoseconds (string or number)");
          continue;
        }
        int severity = -1;
        element sev;
        if (!obj["severityNumber"].get(sev)) {
          int64_t n = 0;
          if (sev.get(n)) {
            out->rejected.push_back(lpath + ".severityNumber: expected an integer, got " + ii::JsonTypeName(sev));
            continue;
          }
          severity = SeverityFromOtlp(n);
        }
        std::string text;
        element b;
        if (!obj["body"].get(b)) {
          if (b.type() != element_type::OBJECT) {
            out->rejected.push_back(lpath + ".body: expected an AnyValue object, got " + ii::JsonTypeName(b));
            continue;
          }
          JsonAnyValueText(b, &text, true);
        }
        TimestampMs ms = static_cast<TimestampMs>(ns / 1000000);
        if (ms > ii::kMaxTimeMs) {
          out->rejected.push_back(lpath + ".timeUnixNano: beyond year 9999");
          continue;
        }
        ii::AddLogLine(out, lpath, ms, *labels, text, severity);
      }
    }
  }
  return Status::Ok();
}

namespace {

// AnyValue from the wire, as text (strings as is; other kinds as JSON-ish).
bool WireAnyValueText(std::string_view bytes, const char* base, ii::WireError* err, std::string* out, bool top) {
  ii::WireReader r(bytes, base, "opentelemetry.proto.common.v1.AnyValue", err);
  uint32_t field, wire;
  while (!r.done()) {
    if (!r.ReadKey(&field, &wire)) return false;
    if ((field == 1 || field == 7) && wire == ii::kLen) {
      std::string_view s;
      if (!r.ReadLen(&s)) return false;
      if (top) out->append(s);
      else AppendJsonString(out, s);
    } else if (field == 2 && wire == ii::kVarint) {
      uint64_t v;
      if (!r.ReadVarint(&v)) return false;
      out->append(v ? "true" : "false");
    } else if (field == 3 && wire == ii::kVarint) {
      uint64_t v;
      if (!r.ReadVarint(&v)) return false;
      out->append(std::to_string(static_cast<int64_t>(v)));
    } else if (field == 4 && wire == ii::kFixed64) {
      uint64_t v;
      if (!r.ReadFixed64(&v)) return false;
      double d;
      std::memcpy(&d, &v, sizeof d);
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", d);
      out->append(buf);
    } else if (field == 5 && wire == ii::kLen) {  // ArrayValue {values=1}
      std::string_view arr;
      if (!r.ReadLen(&arr)) return false;
      ii::WireReader a(arr, base, "opentelemetry.proto.common.v1.ArrayValue", err);
      out->push_back('[');
      bool first = true;
      while (!a.done()) {
        if (!a.ReadKey(&field, &wire)) return false;
        if (field == 1 && wire == ii::kLen) {
          std::string_view v;
          if (!a.ReadLen(&v)) return false;
          if (!first) out->push_back(',');
          first = false;
          if (!WireAnyValueText(v, base, err, out, false)) return false;
        } else if (!a.Skip(wire)) {
          return false;
        }
      }
      out->push_back(']');
    } else if (field == 6 && wire == ii::kLen) {  // KeyValueList {values=1 KeyValue}
      std::string_view kvl;
      if (!r.ReadLen(&kvl)) return false;
      ii::WireReader l(kvl, base, "opentelemetry.proto.common.v1.KeyValueList", err);
      out->push_back('{');
      bool first = true;
      while (!l.done()) {
        if (!l.ReadKey(&field, &wire)) return false;
        if (field == 1 && wire == ii::kLen) {
          std::string_view kv;
          if (!l.ReadLen(&kv)) return false;
          std::string_view key, value;
          if (!ii::ReadOtlpKeyValue(kv, base, err, &key, &value)) return false;
          if (!first) out->push_back(',');
          first = false;
          AppendJsonString(out, key);
          out->push_back(':');
          if (!WireAnyValueText(value, base, err, out, false)) return false;
        } else if (!l.Skip(wire)) {
          return false;
        }
      }
      out->push_back('}');
    } else if (!r.Skip(wire)) {
      return false;
    }
  }
  return true;
}

}  // namespace

Status DecodeOtlpLogsProtobuf(std::string_view pb, LogBatch* out) {
  out->clear();
  ii::WireError err;
  Status refused;  // a reason other than the wire format
  std::vector<std::pair<std::string, std::string>> attrs;
  Labels labels;
  std::string path, text;
  auto on_attribute = [&](std::string_view kv) {
    std::string_view key, value;
    if (!ii::ReadOtlpKeyValue(kv, pb.data(), &err, &key, &value)) return false;
    // Only string attributes name a stream.
    ii::WireReader v(value, pb.data(), "opentelemetry.proto.common.v1.AnyValue", &err);
    return ii::ForEachLenField(v, [&](uint32_t field, std::string_view s) {
      if (field == 1) attrs.emplace_back(std::string(key), std::string(s));
      return true;
    });
  };
  auto on_resource = [&](size_t ri) {
    path = "resourceLogs[" + std::to_string(ri) + "]";
    auto l = ResourceLabels(attrs, path);
    attrs.clear();
    if (!l.ok()) {
      refused = l.status();
      return false;
    }
    labels = std::move(*l);
    return true;
  };
  auto on_record = [&](size_t, size_t si, size_t li, std::string_view rec_bytes) {
    ii::WireReader rec(rec_bytes, pb.data(), "opentelemetry.proto.logs.v1.LogRecord", &err);
    uint64_t t = 0, observed = 0, sev = 0;
    uint32_t field, wire;
    text.clear();
    while (!rec.done()) {
      if (!rec.ReadKey(&field, &wire)) return false;
      if (field == 1 && wire == ii::kFixed64) {
        if (!rec.ReadFixed64(&t)) return false;
      } else if (field == 11 && wire == ii::kFixed64) {
        if (!rec.ReadFixed64(&observed)) return false;
      } else if (field == 2 && wire == ii::kVarint) {
        if (!rec.ReadVarint(&sev)) return false;
      } else if (field == 5 && wire == ii::kLen) {
        std::string_view body;
        if (!rec.ReadLen(&body)) return false;
        text.clear();
        if (!WireAnyValueText(body, pb.data(), &err, &text, true)) return false;
      } else if (!rec.Skip(wire)) {
        return false;
      }
    }
    std::string lpath = path + ".scopeLogs[" + std::to_string(si) + "].logRecords[" + std::to_string(li) + "]";
    uint64_t ns = t != 0 ? t : observed;
    TimestampMs ms = static_cast<TimestampMs>(ns / 1000000);
    if (ms > ii::kMaxTimeMs) {
      out->rejected.push_back(lpath + ".time_unix_nano: beyond year 9999");
      return true;
    }
    ii::AddLogLine(out, lpath, ms, labels, text, SeverityFromOtlp(static_cast<int64_t>(sev)));
    return true;
  };
  const ii::OtlpEnvelope names{"opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
                               "opentelemetry.proto.logs.v1.ResourceLogs", "opentelemetry.proto.logs.v1.ScopeLogs"};
  if (!ii::WalkOtlpExport(pb, names, &err, on_attribute, on_resource, on_record)) {
    if (!refused.ok()) return refused;
    return Status::InvalidArgument("protobuf: " + err.ToString(pb.size()));
  }
  return Status::Ok();
}

}  // namespace vigil
