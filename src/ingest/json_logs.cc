#include "ingest/json_logs.h"

#include <map>
#include <string>
#include <vector>

#include "ingest/json_text.h"
#include "ingest/label_check.h"

namespace vigil {

namespace {
using simdjson::dom::element;
using simdjson::dom::element_type;
namespace ii = ingest_internal;

int SeverityWord(std::string_view w) {
  std::string l;
  for (char c : w) l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (l == "trace" || l == "debug") return 0;
  if (l == "info" || l == "notice") return 2;
  if (l == "warn" || l == "warning") return 3;
  if (l == "error" || l == "err") return 4;
  if (l == "fatal" || l == "critical" || l == "crit" || l == "panic" || l == "emerg" || l == "alert") return 5;
  return -1;
}
}  // namespace

Status DecodeLogLines(std::string_view body, bool json, const Labels& labels, TimestampMs now_ms, LogBatch* out) {
  out->clear();
  size_t line_no = 0, pos = 0;
  ii::JsonDocument doc;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string_view::npos) nl = body.size();
    std::string_view line = body.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    std::string path = "line " + std::to_string(line_no);
    if (!json) {
      ii::AddLogLine(out, path, now_ms, labels, line, -1);
      continue;
    }
    if (Status st = doc.Parse(line); !st.ok()) {
      out->rejected.push_back(path + ": " + st.message());
      continue;
    }
    element root = doc.root();
    if (root.type() != element_type::OBJECT) {
      out->rejected.push_back(path + ": expected an object, got " + ii::JsonTypeName(root));
      continue;
    }
    auto obj = ii::ObjectOf(root);
    element text_el;
    bool found = false;
    for (const char* key : {"line", "msg", "message"}) {
      if (!obj[key].get(text_el)) {
        found = true;
        break;
      }
    }
    if (!found) {
      out->rejected.push_back(path + ": missing \"line\" (or \"msg\", \"message\")");
      continue;
    }
    if (text_el.type() != element_type::STRING) {
      out->rejected.push_back(path + ".line: expected a string, got " + ii::JsonTypeName(text_el));
      continue;
    }
    TimestampMs ts = now_ms;
    std::string why;
    element t;
    bool bad_time = false;
    for (const char* key : {"ts", "time", "timestamp"}) {
      if (!obj[key].get(t)) {
        if (!ii::JsonToTime(t, &ts, &why)) {
          out->rejected.push_back(path + "." + key + ": " + why);
          bad_time = true;
        }
        break;
      }
    }
    if (bad_time) continue;
    int severity = -1;
    element lvl;
    if (!obj["level"].get(lvl) && lvl.type() == element_type::STRING) severity = SeverityWord(ii::StringOf(lvl));
    Labels line_labels = labels;
    element l;
    if (!obj["labels"].get(l)) {
      if (l.type() != element_type::OBJECT) {
        out->rejected.push_back(path + ".labels: expected an object, got " + ii::JsonTypeName(l));
        continue;
      }
      std::map<std::string, std::string> merged;
      for (const auto& x : labels.items()) merged[x.name] = x.value;
      bool bad = false;
      for (auto f : ii::ObjectOf(l)) {
        if (f.value.type() != element_type::STRING) {
          out->rejected.push_back(path + ".labels" + ii::KeyPath(f.key) + ": expected a string, got " + ii::JsonTypeName(f.value));
          bad = true;
          break;
        }
        merged[std::string(f.key)] = std::string(ii::StringOf(f.value));
      }
      if (bad) continue;
      std::vector<ii::LabelView> views;
      for (const auto& [k, v] : merged) views.push_back({k, v});
      std::string lwhy = ii::NormalizeLabels(views, false);
      if (!lwhy.empty()) {
        out->rejected.push_back(path + ".labels: " + lwhy);
        continue;
      }
      line_labels = ii::LabelsFromViews(views);
    }
    ii::AddLogLine(out, path, ts, line_labels, ii::StringOf(text_el), severity);
  }
  return Status::Ok();
}

}  // namespace vigil
