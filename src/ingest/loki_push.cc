#include "ingest/loki_push.h"

#include <snappy.h>

#include <cctype>

#include <string>
#include <vector>

#include "ingest/json_text.h"
#include "ingest/label_check.h"
#include "ingest/proto_wire.h"

namespace vigil {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
namespace ii = ingest_internal;

constexpr size_t kMaxUncompressedBytes = 64 << 20;

// Unix nanoseconds as a decimal string (Loki JSON) to milliseconds.
bool NanosToMs(std::string_view s, TimestampMs* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = static_cast<TimestampMs>(v / 1000000);
  return *out <= ii::kMaxTimeMs;
}

}  // namespace

Result<Labels> ParseLokiLabels(std::string_view s) {
  size_t i = 0;
  auto skip = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  };
  skip();
  if (i >= s.size() || s[i] != '{') return Status::InvalidArgument("labels " + ii::Quote(s) + ": expected '{'");
  ++i;
  std::vector<std::pair<std::string, std::string>> pairs;
  skip();
  while (i < s.size() && s[i] != '}') {
    size_t name_start = i;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) ++i;
    std::string name(s.substr(name_start, i - name_start));
    skip();
    if (name.empty() || i >= s.size() || s[i] != '=') {
      return Status::InvalidArgument("labels " + ii::Quote(s) + ": expected name=\"value\" at byte " + std::to_string(i));
    }
    ++i;
    skip();
    if (i >= s.size() || s[i] != '"') {
      return Status::InvalidArgument("labels " + ii::Quote(s) + ": expected '\"' at byte " + std::to_string(i));
    }
    ++i;
    std::string value;
    bool closed = false;
    while (i < s.size()) {
      char c = s[i++];
      if (c == '"') {
        closed = true;
        break;
      }
      if (c == '\\' && i < s.size()) {
        char e = s[i++];
        value.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
      } else {
        value.push_back(c);
      }
    }
    if (!closed) return Status::InvalidArgument("labels " + ii::Quote(s) + ": unterminated value of " + name);
    pairs.emplace_back(std::move(name), std::move(value));
    skip();
    if (i < s.size() && s[i] == ',') {
      ++i;
      skip();
    }
  }
  if (i >= s.size()) return Status::InvalidArgument("labels " + ii::Quote(s) + ": expected '}'");
  std::vector<ii::LabelView> views;
  for (const auto& [n, v] : pairs) views.push_back({n, v});
  std::string why = ii::NormalizeLabels(views, false);
  if (!why.empty()) return Status::InvalidArgument("labels " + ii::Quote(s) + ": " + why);
  return ii::LabelsFromViews(views);
}

Status DecodeLokiPushJson(std::string_view body, LogBatch* out) {
  out->clear();
  ii::JsonDocument doc;
  if (Status st = doc.Parse(body); !st.ok()) return st;
  element root = doc.root();
  if (root.type() != element_type::OBJECT) return Status::InvalidArgument("expected an object {\"streams\": [...]}, got " + std::string(ii::JsonTypeName(root)));
  element streams;
  if (ii::ObjectOf(root)["streams"].get(streams)) return Status::InvalidArgument("streams: missing");
  if (streams.type() != element_type::ARRAY) return Status::InvalidArgument("streams: expected an array, got " + std::string(ii::JsonTypeName(streams)));
  size_t si = 0;
  for (element stream : ii::ArrayOf(streams)) {
    std::string path = "streams[" + std::to_string(si++) + "]";
    if (stream.type() != element_type::OBJECT) return Status::InvalidArgument(path + ": expected an object, got " + ii::JsonTypeName(stream));
    element labels_el, values;
    if (ii::ObjectOf(stream)["stream"].get(labels_el) || labels_el.type() != element_type::OBJECT) {
      return Status::InvalidArgument(path + ".stream: expected an object of labels");
    }
    std::vector<ii::LabelView> views;
    for (auto field : ii::ObjectOf(labels_el)) {
      if (field.value.type() != element_type::STRING) {
        return Status::InvalidArgument(path + ".stream" + ii::KeyPath(field.key) + ": expected a string, got " + ii::JsonTypeName(field.value));
      }
      views.push_back({field.key, ii::StringOf(field.value)});
    }
    std::string why = ii::NormalizeLabels(views, false);
    if (!why.empty()) return Status::InvalidArgument(path + ".stream: " + why);
    Labels labels = ii::LabelsFromViews(views);
    if (ii::ObjectOf(stream)["values"].get(values) || values.type() != element_type::ARRAY) {
      return Status::InvalidArgument(path + ".values: expected an array of [\"<unix ns>\", \"line\"]");
    }
    size_t vi = 0;
    for (element v : ii::ArrayOf(values)) {
      std::string vpath = path + ".values[" + std::to_string(vi++) + "]";
      if (v.type() != element_type::ARRAY) {
        out->rejected.push_back(vpath + ": expected [\"<unix ns>\", \"line\"], got " + ii::JsonTypeName(v));
        continue;
      }
      auto a = ii::ArrayOf(v);
      size_t n = a.size();
      if (n < 2 || n > 3) {
        out->rejected.push_back(vpath + ": expected 2 or 3 elements, got " + std::to_string(n));
        continue;
      }
      element ts = a.at(0).value_unsafe(), line = a.at(1).value_unsafe();
      TimestampMs ms = 0;
      if (ts.type() != element_type::STRING || !NanosToMs(ii::StringOf(ts), &ms)) {
        out->rejected.push_back(vpath + "[0]: expected Unix nanoseconds as a string of digits");
        continue;
      }
      if (line.type() != element_type::STRING) {
        out->rejected.push_back(vpath + "[1]: expected a string, got " + ii::JsonTypeName(line));
        continue;
      }
      if (n == 3 && a.at(2).value_unsafe().type() != element_type::OBJECT) {
        out->rejected.push_back(vpath + "[2]: structured metadata must be an object");
        continue;
      }
      ii::AddLogLine(out, vpath, ms, labels, ii::StringOf(line), -1);
    }
  }
  return Status::Ok();
}

Status DecodeLokiPushProtobuf(std::string_view body, LogBatch* out) {
  out->clear();
  std::string plain;
  std::string_view pb = body;
  size_t length = 0;
  if (!body.empty() && snappy::GetUncompressedLength(body.data(), body.size(), &length) && length <= kMaxUncompressedBytes &&
      snappy::Uncompress(body.data(), body.size(), &plain)) {
    pb = plain;
  }
  ii::WireError err;
  ii::WireReader req(pb, pb.data(), "logproto.PushRequest", &err);
  auto fail = [&] {
    return Status::InvalidArgument("protobuf: " + err.ToString(pb.size()) +
                                   (pb.data() == body.data() ? " (body is neither a snappy block nor a protobuf PushRequest)" : ""));
  };
  uint32_t field, wire;
  size_t si = 0;
  Status refused;
  const bool read = ii::ForEachLenField(req, [&](uint32_t request_field, std::string_view stream_bytes) {
    if (request_field != 1) return true;
    std::string path = "streams[" + std::to_string(si++) + "]";
    ii::WireReader stream(stream_bytes, pb.data(), "logproto.StreamAdapter", &err);
    std::string_view labels_text;
    std::vector<std::string_view> entries;
    const bool stream_read = ii::ForEachLenField(stream, [&](uint32_t f, std::string_view bytes) {
      if (f == 1) labels_text = bytes;
      else if (f == 2) entries.push_back(bytes);
      return true;
    });
    if (!stream_read) return false;
    auto labels = ParseLokiLabels(labels_text);
    if (!labels.ok()) {
      refused = labels.status().WithContext(path);
      return false;
    }
    for (size_t ei = 0; ei < entries.size(); ++ei) {
      std::string epath = path + ".entries[" + std::to_string(ei) + "]";
      ii::WireReader entry(entries[ei], pb.data(), "logproto.EntryAdapter", &err);
      int64_t seconds = 0, nanos = 0;
      std::string_view line;
      while (!entry.done()) {
        if (!entry.ReadKey(&field, &wire)) return false;
        if (field == 1 && wire == ii::kLen) {
          std::string_view ts;
          if (!entry.ReadLen(&ts)) return false;
          ii::WireReader t(ts, pb.data(), "google.protobuf.Timestamp", &err);
          while (!t.done()) {
            uint64_t v;
            if (!t.ReadKey(&field, &wire)) return false;
            if ((field == 1 || field == 2) && wire == ii::kVarint) {
              if (!t.ReadVarint(&v)) return false;
              (field == 1 ? seconds : nanos) = static_cast<int64_t>(v);
            } else if (!t.Skip(wire)) {
              return false;
            }
          }
        } else if (field == 2 && wire == ii::kLen) {
          if (!entry.ReadLen(&line)) return false;
        } else if (!entry.Skip(wire)) {
          return false;
        }
      }
      if (seconds < 0 || seconds > ii::kMaxTimeMs / 1000 || nanos < 0 || nanos >= 1000000000) {
        out->rejected.push_back(epath + ".timestamp: out of range (seconds " + std::to_string(seconds) + ", nanos " +
                                std::to_string(nanos) + ")");
        continue;
      }
      ii::AddLogLine(out, epath, seconds * 1000 + nanos / 1000000, *labels, line, -1);
    }
    return true;
  });
  if (!read) return refused.ok() ? fail() : refused;
  return Status::Ok();
}

}  // namespace vigil
