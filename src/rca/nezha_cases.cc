#include "rca/nezha_cases.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/time_format.h"
#include "rca/log_evidence.h"
#include "rca/multidim_data.h"

namespace vigil::rca {

namespace fs = std::filesystem;

namespace {

Status Bad(const std::string& where, size_t line, const std::string& what) {
  return Status::InvalidArgument(where + ":" + std::to_string(line) + ": " + what);
}

bool ParseDouble(const std::string& s, double* out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || errno == ERANGE) return false;
  while (*end == ' ') ++end;
  if (*end != '\0') return false;
  *out = v;
  return true;
}

// "2023-01-29 09:03:53" (UTC), RFC 3339, or a number (seconds, ms or ns).
Result<TimestampMs> ParseWhen(std::string s) {
  double v;
  if (ParseDouble(s, &v)) {
    if (v > 1e17) return static_cast<TimestampMs>(v / 1e6);  // nanoseconds
    if (v > 1e14) return static_cast<TimestampMs>(v / 1e3);  // microseconds
    if (v > 1e11) return static_cast<TimestampMs>(v);        // milliseconds
    return static_cast<TimestampMs>(v * 1000);               // seconds
  }
  if (s.size() >= 19 && s[10] == ' ') s[10] = 'T';
  if (s.size() == 19) s += 'Z';
  return ParseRfc3339(s);
}

bool IsHashLike(const std::string& part, size_t min_len) {
  if (part.size() < min_len) return false;
  for (char c : part) {
    if (!std::isalnum(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

uint64_t ParseId(const std::string& s) {
  if (!s.empty() && s.size() <= 16) {
    bool hex = true;
    for (char c : s) hex &= std::isxdigit(static_cast<unsigned char>(c)) != 0;
    if (hex) return std::strtoull(s.c_str(), nullptr, 16);
  }
  return std::hash<std::string>{}(s);
}

TraceId ParseTraceId(const std::string& s) {
  TraceId t;
  if (s.size() == 32) {
    bool hex = true;
    for (char c : s) hex &= std::isxdigit(static_cast<unsigned char>(c)) != 0;
    if (hex) {
      t.hi = std::strtoull(s.substr(0, 16).c_str(), nullptr, 16);
      t.lo = std::strtoull(s.substr(16).c_str(), nullptr, 16);
      return t;
    }
  }
  t.lo = ParseId(s);
  t.hi = std::hash<std::string>{}(s + "#");
  return t;
}

// Lines of a CSV text, keeping quoted newlines inside their record.
std::vector<std::string> CsvRecords(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (c == '\n' && !quoted) {
      if (!cur.empty() && cur.back() == '\r') cur.pop_back();
      out.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

struct Header {
  std::vector<std::string> names;
  int Find(std::initializer_list<const char*> options) const {
    for (const char* o : options) {
      for (size_t i = 0; i < names.size(); ++i) {
        if (names[i] == o) return static_cast<int>(i);
      }
    }
    return -1;
  }
};

Header ReadHeader(const std::string& line) {
  Header h;
  h.names = SplitCsvLine(line);
  for (auto& n : h.names) {
    while (!n.empty() && (n.back() == ' ' || n.back() == '\r')) n.pop_back();
    while (!n.empty() && n.front() == ' ') n.erase(n.begin());
    if (n.size() >= 3 && static_cast<unsigned char>(n[0]) == 0xEF) n = n.substr(3);  // UTF-8 BOM
  }
  return h;
}

const std::string& Field(const std::vector<std::string>& f, int i) {
  static const std::string kEmpty;
  return i >= 0 && static_cast<size_t>(i) < f.size() ? f[static_cast<size_t>(i)] : kEmpty;
}

// The message of a container log line ({"log": "...", ...} from Docker's
// json-file driver, or the line itself).
std::string LogMessage(const std::string& raw) {
  if (raw.empty() || raw.front() != '{') return raw;
  auto j = nlohmann::json::parse(raw, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return raw;
  for (const char* k : {"log", "message", "msg"}) {
    auto it = j.find(k);
    if (it != j.end() && it->is_string()) return it->get<std::string>();
  }
  return raw;
}

bool LooksLikeError(const std::string& msg) {
  for (const char* k : {"ERROR", "FATAL", "Exception", "WARN", "\"level\":\"error\"", "level=error", "panic:"}) {
    if (msg.find(k) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::string ServiceOfPod(const std::string& pod) {
  std::vector<std::string> parts;
  std::stringstream ss(pod);
  std::string p;
  while (std::getline(ss, p, '-')) parts.push_back(p);
  if (parts.size() >= 3 && IsHashLike(parts.back(), 5) && IsHashLike(parts[parts.size() - 2], 6)) {
    parts.resize(parts.size() - 2);
  } else if (parts.size() >= 2 && !parts.back().empty() &&
             std::all_of(parts.back().begin(), parts.back().end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    parts.pop_back();
  }
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "-" : "") + parts[i];
  return out;
}

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(std::move(cur));
  return out;
}

Result<std::vector<InjectedFault>> ParseFaultList(const std::string& text, const std::string& where) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument(where + ": not a JSON object");
  std::vector<InjectedFault> out;
  for (auto& [hour, list] : j.items()) {
    if (!list.is_array()) return Status::InvalidArgument(where + ": hour \"" + hour + "\": expected an array");
    size_t i = 0;
    for (const auto& f : list) {
      const std::string at = where + ": hour \"" + hour + "\" fault " + std::to_string(i++);
      if (!f.is_object()) return Status::InvalidArgument(at + ": expected an object");
      InjectedFault fault;
      auto str = [&](const char* k) { return f.contains(k) && f[k].is_string() ? f[k].get<std::string>() : std::string(); };
      fault.pod = str("inject_pod");
      fault.type = str("inject_type");
      if (fault.pod.empty()) return Status::InvalidArgument(at + ": field \"inject_pod\" missing");
      // inject_time (UTC) is the truth when the two times disagree.
      std::string when = str("inject_time");
      if (when.empty() && f.contains("inject_timestamp")) {
        when = f["inject_timestamp"].is_string() ? f["inject_timestamp"].get<std::string>()
                                                 : f["inject_timestamp"].dump();
      }
      auto t = ParseWhen(when);
      if (!t.ok()) return Status::InvalidArgument(at + ": field \"inject_time\": cannot parse \"" + when + "\"");
      fault.inject_ms = *t;
      fault.service = str("inject_service");
      if (fault.service.empty()) fault.service = ServiceOfPod(fault.pod);
      fault.whole_service = str("inject_scope") == "service";
      out.push_back(std::move(fault));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.inject_ms < b.inject_ms; });
  return out;
}

Result<std::vector<MetricSeries>> ParseMetricCsv(const std::string& text, const std::string& where, TimestampMs from,
                                                 TimestampMs to) {
  auto lines = CsvRecords(text);
  if (lines.empty()) return std::vector<MetricSeries>{};
  Header h = ReadHeader(lines[0]);
  const int c_time = h.Find({"Time"}), c_ts = h.Find({"TimeStamp", "Timestamp"});
  const int c_pod = h.Find({"PodName"}), c_svc = h.Find({"ServiceName"}), c_node = h.Find({"Node", "NodeName"});
  if (c_time < 0 && c_ts < 0) return Bad(where, 1, "no Time or TimeStamp column");
  if (c_pod < 0 && c_svc < 0) return Bad(where, 1, "no PodName or ServiceName column");
  std::vector<int> value_cols;
  for (size_t i = 0; i < h.names.size(); ++i) {
    int c = static_cast<int>(i);
    if (c != c_time && c != c_ts && c != c_pod && c != c_svc && c != c_node) value_cols.push_back(c);
  }
  std::map<std::string, std::vector<MetricSeries>> by_entity;
  for (size_t ln = 1; ln < lines.size(); ++ln) {
    if (lines[ln].empty()) continue;
    auto f = SplitCsvLine(lines[ln]);
    auto t = ParseWhen(Field(f, c_ts >= 0 ? c_ts : c_time));
    if (!t.ok()) {
      return Bad(where, ln + 1, "field \"" + h.names[static_cast<size_t>(c_ts >= 0 ? c_ts : c_time)] +
                                    "\": cannot parse \"" + Field(f, c_ts >= 0 ? c_ts : c_time) + "\"");
    }
    // Every row is checked, also outside the window: a broken file is
    // reported whichever case reads it first.
    const bool inside = *t >= from && *t < to;
    const std::string pod = c_pod >= 0 ? Field(f, c_pod) : "";
    const std::string service = c_pod >= 0 ? ServiceOfPod(pod) : Field(f, c_svc);
    if (!inside) {
      for (int c : value_cols) {
        double v;
        const std::string& cell = Field(f, c);
        if (!cell.empty() && !ParseDouble(cell, &v)) {
          return Bad(where, ln + 1, "field \"" + h.names[static_cast<size_t>(c)] + "\": expected a number, got \"" +
                                        cell + "\"");
        }
      }
      continue;
    }
    auto& list = by_entity[service + "/" + pod];
    if (list.empty()) {
      for (int c : value_cols) list.push_back({service, pod, Field(f, c_node), h.names[static_cast<size_t>(c)], {}, {}});
    }
    for (size_t k = 0; k < value_cols.size(); ++k) {
      const std::string& cell = Field(f, value_cols[k]);
      double v = NAN;
      if (!cell.empty() && !ParseDouble(cell, &v)) {
        return Bad(where, ln + 1, "field \"" + h.names[static_cast<size_t>(value_cols[k])] + "\": expected a number, got \"" +
                                      cell + "\"");
      }
      if (list[k].host.empty()) list[k].host = Field(f, c_node);
      list[k].ts_ms.push_back(*t);
      list[k].values.push_back(v);
    }
  }
  std::vector<MetricSeries> out;
  for (auto& [k, list] : by_entity) {
    for (auto& m : list) {
      bool any = std::any_of(m.values.begin(), m.values.end(), [](double v) { return std::isfinite(v); });
      if (any) out.push_back(std::move(m));
    }
  }
  return out;
}

Result<std::vector<Span>> ParseTraceCsv(const std::string& text, const std::string& where, TimestampMs from,
                                        TimestampMs to) {
  auto lines = CsvRecords(text);
  std::vector<Span> out;
  if (lines.empty()) return out;
  Header h = ReadHeader(lines[0]);
  const int c_trace = h.Find({"TraceID"}), c_span = h.Find({"SpanID"}), c_parent = h.Find({"ParentID"});
  const int c_pod = h.Find({"PodName"}), c_op = h.Find({"OperationName"});
  const int c_start = h.Find({"StartTimeUnixNano"}), c_end = h.Find({"EndTimeUnixNano"}), c_dur = h.Find({"Duration"});
  const int c_status = h.Find({"StatusCode", "HttpStatus"}), c_err = h.Find({"Error"});
  for (auto [c, name] : {std::pair{c_trace, "TraceID"}, {c_span, "SpanID"}, {c_pod, "PodName"}, {c_start, "StartTimeUnixNano"}}) {
    if (c < 0) return Bad(where, 1, std::string("no ") + name + " column");
  }
  for (size_t ln = 1; ln < lines.size(); ++ln) {
    if (lines[ln].empty()) continue;
    auto f = SplitCsvLine(lines[ln]);
    double start_ns, end_ns, dur;
    if (!ParseDouble(Field(f, c_start), &start_ns)) {
      return Bad(where, ln + 1, "field \"StartTimeUnixNano\": expected a number, got \"" + Field(f, c_start) + "\"");
    }
    const TimestampMs t = static_cast<TimestampMs>(start_ns / 1e6);
    if (t < from || t >= to) continue;
    Span s;
    s.trace_id = ParseTraceId(Field(f, c_trace));
    s.span_id = ParseId(Field(f, c_span));
    const std::string& parent = Field(f, c_parent);
    s.parent_span_id = parent.empty() || parent == "root" ? 0 : ParseId(parent);
    s.instance = Field(f, c_pod);
    s.service = ServiceOfPod(s.instance);
    s.operation = Field(f, c_op);
    s.start_us = static_cast<int64_t>(start_ns / 1e3);
    if (ParseDouble(Field(f, c_end), &end_ns) && end_ns >= start_ns) {
      s.duration_us = static_cast<int64_t>((end_ns - start_ns) / 1e3);
    } else if (ParseDouble(Field(f, c_dur), &dur)) {
      s.duration_us = static_cast<int64_t>(dur);
    } else {
      return Bad(where, ln + 1, "neither EndTimeUnixNano nor Duration is a number");
    }
    double status = 0, err = 0;
    if (ParseDouble(Field(f, c_status), &status)) s.http_status = static_cast<int>(status);
    s.error = s.http_status >= 500 || (ParseDouble(Field(f, c_err), &err) && err != 0) ||
              Field(f, c_err) == "true" || Field(f, c_err) == "True";
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<LogRecord>> ParseLogCsv(const std::string& text, const std::string& where, TimestampMs from,
                                           TimestampMs to) {
  auto lines = CsvRecords(text);
  std::vector<LogRecord> out;
  if (lines.empty()) return out;
  Header h = ReadHeader(lines[0]);
  const int c_ts = h.Find({"Timestamp"}), c_nano = h.Find({"TimeUnixNano"}), c_node = h.Find({"Node"});
  const int c_pod = h.Find({"PodName"}), c_log = h.Find({"Log"});
  if (c_pod < 0 || c_log < 0 || (c_ts < 0 && c_nano < 0)) return Bad(where, 1, "expected PodName, Log and a time column");
  for (size_t ln = 1; ln < lines.size(); ++ln) {
    if (lines[ln].empty()) continue;
    auto f = SplitCsvLine(lines[ln]);
    auto t = ParseWhen(Field(f, c_nano >= 0 ? c_nano : c_ts));
    if (!t.ok()) return Bad(where, ln + 1, "cannot parse the time \"" + Field(f, c_nano >= 0 ? c_nano : c_ts) + "\"");
    if (*t < from || *t >= to) continue;
    LogRecord r;
    r.ts_ms = *t;
    r.instance = Field(f, c_pod);
    r.service = ServiceOfPod(r.instance);
    r.host = Field(f, c_node);
    const std::string msg = LogMessage(Field(f, c_log));
    r.error = LooksLikeError(msg);
    r.template_text = MaskLogLine(msg);
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<Event>> ParseEventCsv(const std::string& text, const std::string& where) {
  auto lines = CsvRecords(text);
  std::vector<Event> out;
  if (lines.empty()) return out;
  Header h = ReadHeader(lines[0]);
  const int c_time = h.Find({"Time"}), c_ts = h.Find({"TimeStamp"}), c_kind = h.Find({"Kind"});
  const int c_svc = h.Find({"ServiceName"}), c_pod = h.Find({"PodName"}), c_ver = h.Find({"Version"}), c_text = h.Find({"Text"});
  if ((c_time < 0 && c_ts < 0) || c_kind < 0 || c_svc < 0) return Bad(where, 1, "expected Time, Kind and ServiceName columns");
  for (size_t ln = 1; ln < lines.size(); ++ln) {
    if (lines[ln].empty()) continue;
    auto f = SplitCsvLine(lines[ln]);
    auto t = ParseWhen(Field(f, c_ts >= 0 ? c_ts : c_time));
    if (!t.ok()) return Bad(where, ln + 1, "cannot parse the time");
    Event e;
    e.ts_ms = *t;
    e.kind = Field(f, c_kind);
    std::vector<Label> labels{{"service", Field(f, c_svc)}};
    if (!Field(f, c_pod).empty()) labels.push_back({"instance", Field(f, c_pod)});
    if (!Field(f, c_ver).empty()) labels.push_back({"version", Field(f, c_ver)});
    auto l = Labels::FromPairs(std::move(labels));
    if (!l.ok()) return Bad(where, ln + 1, l.status().message());
    e.labels = std::move(*l);
    e.text = Field(f, c_text);
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseDependencyCsv(const std::string& text,
                                                                            const std::string& where) {
  auto lines = CsvRecords(text);
  std::vector<std::pair<std::string, std::string>> out;
  if (lines.empty()) return out;
  Header h = ReadHeader(lines[0]);
  const int c_src = h.Find({"Source"}), c_dst = h.Find({"Target"});
  if (c_src < 0 || c_dst < 0) return Bad(where, 1, "expected Source and Target columns");
  for (size_t ln = 1; ln < lines.size(); ++ln) {
    if (lines[ln].empty()) continue;
    auto f = SplitCsvLine(lines[ln]);
    out.emplace_back(ServiceOfPod(Field(f, c_src)), ServiceOfPod(Field(f, c_dst)));
  }
  return out;
}

namespace {

struct DayFiles {
  std::string name;
  fs::path dir;
  std::vector<InjectedFault> faults;
  std::vector<fs::path> metric_files;
  std::vector<std::pair<TimestampMs, fs::path>> trace_files, log_files;  // chunk start
  fs::path events, dependency;
};

// "<HH_MM>_trace.csv" of day D -> D's midnight + HH:MM.
bool ChunkStart(const fs::path& p, TimestampMs midnight, TimestampMs* out) {
  const std::string n = p.filename().string();
  int hh, mm;
  if (n.size() < 5 || std::sscanf(n.c_str(), "%d_%d", &hh, &mm) != 2) return false;
  *out = midnight + (hh * 60LL + mm) * 60000;
  return true;
}

Result<DayFiles> ScanDay(const fs::path& dir) {
  DayFiles d;
  d.name = dir.filename().string();
  d.dir = dir;
  auto midnight = ParseWhen(d.name + " 00:00:00");
  if (!midnight.ok()) return Status::InvalidArgument(dir.string() + ": a day directory is named YYYY-MM-DD");
  fs::path faults = dir / (d.name + "-fault_list.json");
  if (fs::exists(faults)) {
    auto text = ReadMaybeGzip(faults.string());
    if (!text.ok()) return text.status();
    auto f = ParseFaultList(*text, faults.string());
    if (!f.ok()) return f.status();
    d.faults = std::move(*f);
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir / "metric", ec)) {
    const std::string n = e.path().filename().string();
    if (n == "dependency.csv") {
      d.dependency = e.path();
    } else if (n.size() > 4 && n.substr(n.size() - 4) == ".csv") {
      d.metric_files.push_back(e.path());
    }
  }
  for (auto [sub, list] : {std::pair{"trace", &d.trace_files}, {"log", &d.log_files}}) {
    for (const auto& e : fs::directory_iterator(dir / sub, ec)) {
      TimestampMs t;
      if (ChunkStart(e.path(), *midnight, &t)) list->emplace_back(t, e.path());
    }
    std::sort(list->begin(), list->end());
  }
  if (fs::exists(dir / "event" / "events.csv")) d.events = dir / "event" / "events.csv";
  std::sort(d.metric_files.begin(), d.metric_files.end());
  return d;
}

// Chunk files overlapping [from, to): a chunk lasts until the next one starts.
std::vector<fs::path> Overlapping(const std::vector<std::pair<TimestampMs, fs::path>>& chunks, TimestampMs from,
                                  TimestampMs to) {
  std::vector<fs::path> out;
  for (size_t i = 0; i < chunks.size(); ++i) {
    TimestampMs end = i + 1 < chunks.size() ? chunks[i + 1].first : chunks[i].first + 24 * 3600000LL;
    if (chunks[i].first < to && end > from) out.push_back(chunks[i].second);
  }
  return out;
}

template <typename T, typename Parse>
Status ReadInto(const fs::path& p, std::vector<T>* out, Parse parse) {
  auto text = ReadMaybeGzip(p.string());
  if (!text.ok()) return text.status();
  auto r = parse(*text, p.string());
  if (!r.ok()) return r.status();
  for (auto& x : *r) out->push_back(std::move(x));
  return Status::Ok();
}

}  // namespace

Status ForEachNezhaCase(const std::string& root, const NezhaLoadOptions& o,
                        const std::function<void(NezhaCase&&)>& visit) {
  std::vector<DayFiles> days;
  std::error_code ec;
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    if (e.is_directory()) dirs.push_back(e.path());
  }
  if (ec) return Status::IOError(root + ": " + ec.message());
  std::sort(dirs.begin(), dirs.end());
  for (const auto& d : dirs) {
    if (!fs::exists(d / (d.filename().string() + "-fault_list.json"))) continue;
    auto day = ScanDay(d);
    if (!day.ok()) return day.status();
    days.push_back(std::move(*day));
  }
  if (days.empty()) return Status::NotFound(root + ": no <day>/<day>-fault_list.json found");

  // Normal period: spans of fault-free days, up to a bound.
  std::vector<Span> normal_spans;
  for (const auto& d : days) {
    if (!d.faults.empty()) continue;
    for (const auto& [t, p] : d.trace_files) {
      if (normal_spans.size() >= o.max_normal_spans) break;
      Status s = ReadInto(p, &normal_spans, [](const std::string& text, const std::string& where) {
        return ParseTraceCsv(text, where, INT64_MIN, INT64_MAX);
      });
      if (!s.ok()) return s;
    }
  }
  if (normal_spans.size() > o.max_normal_spans) normal_spans.resize(o.max_normal_spans);

  for (const auto& d : days) {
    for (const auto& f : d.faults) {
      NezhaCase c;
      c.truth = f;
      CaseData& data = c.data;
      data.id = d.name + "/" + f.pod + "@" + FormatRfc3339(f.inject_ms);
      data.incident_ms = f.inject_ms;
      const TimestampMs from = f.inject_ms - o.before_ms, to = f.inject_ms + o.after_ms;
      for (const auto& p : d.metric_files) {
        Status s = ReadInto(p, &data.metrics, [&](const std::string& text, const std::string& where) {
          return ParseMetricCsv(text, where, from, to);
        });
        if (!s.ok()) return s;
      }
      for (const auto& p : Overlapping(d.trace_files, from, to)) {
        Status s = ReadInto(p, &data.spans, [&](const std::string& text, const std::string& where) {
          return ParseTraceCsv(text, where, from, to);
        });
        if (!s.ok()) return s;
      }
      for (const auto& p : Overlapping(d.log_files, from, to)) {
        Status s = ReadInto(p, &data.logs, [&](const std::string& text, const std::string& where) {
          return ParseLogCsv(text, where, from, to);
        });
        if (!s.ok()) return s;
      }
      if (!d.events.empty()) {
        Status s = ReadInto(d.events, &data.events, ParseEventCsv);
        if (!s.ok()) return s;
      }
      if (!d.dependency.empty()) {
        Status s = ReadInto(d.dependency, &data.dependencies, ParseDependencyCsv);
        if (!s.ok()) return s;
      }
      // The normal period's spans of this case's services only (a day of
      // normal period may hold other systems), up to a bound per case.
      std::unordered_map<std::string, bool> services;
      for (const auto& m : data.metrics) services.emplace(m.service, true);
      for (const auto& s : data.spans) services.emplace(s.service, true);
      for (const Span& s : normal_spans) {
        if (data.normal_spans.size() >= o.max_normal_spans_per_case) break;
        if (services.count(s.service)) data.normal_spans.push_back(s);
      }
      visit(std::move(c));
    }
  }
  return Status::Ok();
}

Result<std::vector<NezhaCase>> LoadNezhaCases(const std::string& root, const NezhaLoadOptions& o) {
  std::vector<NezhaCase> out;
  Status s = ForEachNezhaCase(root, o, [&](NezhaCase&& c) { out.push_back(std::move(c)); });
  if (!s.ok()) return s;
  return out;
}

}  // namespace vigil::rca
