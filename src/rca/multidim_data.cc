#include "rca/multidim_data.h"

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace vigil::rca {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::string Trim(std::string s) {
  const char* ws = " \t\r\n'\"";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

bool ParseDouble(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = Split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

}  // namespace

Result<std::string> ReadMaybeGzip(const std::string& path) {
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) return Status::IOError("cannot open \"" + path + "\"");
    std::string out;
    char buf[1 << 16];
    int got;
    while ((got = gzread(f, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(got));
    bool bad = got < 0;
    gzclose(f);
    if (bad) return Status::Corruption("\"" + path + "\": gzip stream is corrupt");
    return out;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read \"" + path + "\"");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<LeafTable> ParseLeafCsv(const std::string& text) {
  auto lines = Lines(text);
  if (lines.empty()) return Status::InvalidArgument("line 1: empty file, expected a header attr...,real,predict");
  auto header = Split(lines[0], ',');
  int real_col = -1, predict_col = -1;
  std::vector<size_t> attr_cols;
  LeafTable t;
  for (size_t c = 0; c < header.size(); ++c) {
    std::string h = Trim(header[c]);
    if (h == "real") {
      real_col = static_cast<int>(c);
    } else if (h == "predict") {
      predict_col = static_cast<int>(c);
    } else {
      attr_cols.push_back(c);
      t.attrs.push_back(h);
    }
  }
  if (real_col < 0 || predict_col < 0) {
    return Status::InvalidArgument("line 1: header needs columns \"real\" and \"predict\"");
  }
  if (t.attrs.empty()) return Status::InvalidArgument("line 1: header names no attribute column");
  std::vector<std::string> vals(attr_cols.size());
  for (size_t ln = 1; ln < lines.size(); ++ln) {
    if (lines[ln].empty()) continue;
    auto f = Split(lines[ln], ',');
    if (f.size() != header.size()) {
      return Status::InvalidArgument("line " + std::to_string(ln + 1) + ": " + std::to_string(f.size()) +
                                     " fields, header has " + std::to_string(header.size()));
    }
    double r, p;
    if (!ParseDouble(f[static_cast<size_t>(real_col)], &r)) {
      return Status::InvalidArgument("line " + std::to_string(ln + 1) + ": real \"" +
                                     f[static_cast<size_t>(real_col)] + "\" is not a number");
    }
    if (!ParseDouble(f[static_cast<size_t>(predict_col)], &p)) {
      return Status::InvalidArgument("line " + std::to_string(ln + 1) + ": predict \"" +
                                     f[static_cast<size_t>(predict_col)] + "\" is not a number");
    }
    for (size_t a = 0; a < attr_cols.size(); ++a) vals[a] = Trim(f[attr_cols[a]]);
    t.Add(vals, r, p);
  }
  return t;
}

std::string CanonicalElement(const std::string& element) {
  auto items = Split(element, '&');
  for (auto& it : items) {
    auto eq = it.find('=');
    if (eq == std::string::npos) {
      it = Trim(it);
    } else {
      it = Trim(it.substr(0, eq)) + "=" + Trim(it.substr(eq + 1));
    }
  }
  std::sort(items.begin(), items.end());
  std::string out;
  for (auto& it : items) out += (out.empty() ? "" : "&") + it;
  return out;
}

namespace {

// Squeeze / RiskLoc synthetic layout.
Result<std::vector<MultidimCase>> LoadSqueezeSet(const fs::path& dir, size_t max_cases) {
  auto info = ReadMaybeGzip((dir / "injection_info.csv").string());
  if (!info.ok()) return info.status();
  auto lines = Lines(*info);
  if (lines.empty()) return Status::InvalidArgument("injection_info.csv: empty");
  auto header = Split(lines[0], ',');
  int ts_col = -1, set_col = -1;
  for (size_t c = 0; c < header.size(); ++c) {
    if (Trim(header[c]) == "timestamp") ts_col = static_cast<int>(c);
    if (Trim(header[c]) == "set") set_col = static_cast<int>(c);
  }
  if (ts_col < 0 || set_col < 0) return Status::InvalidArgument("injection_info.csv: needs timestamp and set columns");
  std::vector<std::pair<std::string, std::string>> rows;  // timestamp, set
  for (size_t ln = 1; ln < lines.size(); ++ln) {
    auto f = Split(lines[ln], ',');
    if (f.size() != header.size()) {
      return Status::InvalidArgument("injection_info.csv line " + std::to_string(ln + 1) + ": wrong field count");
    }
    rows.emplace_back(Trim(f[static_cast<size_t>(ts_col)]), Trim(f[static_cast<size_t>(set_col)]));
  }
  std::sort(rows.begin(), rows.end());
  std::vector<MultidimCase> cases;
  for (const auto& [ts, set] : rows) {
    if (max_cases && cases.size() >= max_cases) break;
    fs::path file = dir / (ts + ".csv");
    if (!fs::exists(file)) file = dir / (ts + ".csv.gz");
    auto text = ReadMaybeGzip(file.string());
    if (!text.ok()) return text.status();
    auto table = ParseLeafCsv(*text);
    if (!table.ok()) return table.status().WithContext(file.filename().string());
    MultidimCase c;
    c.name = ts;
    c.table = std::move(*table);
    for (const auto& e : Split(set, ';')) {
      if (!Trim(e).empty()) c.truth.insert(CanonicalElement(e));
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

struct RsTruth {
  std::string data;
  long long timestamp = 0;
  std::set<std::string> cause;
};

// anomaly.yaml: "- data: X", "timestamp: N", "cause: {..}" or "cause: [{..}, {..}]".
Result<std::vector<RsTruth>> ParseRsYaml(const std::string& text) {
  std::vector<RsTruth> out;
  auto lines = Lines(text);
  for (size_t ln = 0; ln < lines.size(); ++ln) {
    std::string l = lines[ln];
    size_t b = l.find_first_not_of(" -");
    if (b == std::string::npos) continue;
    bool starts = l.find('-') != std::string::npos && l.find('-') < b;
    std::string body = l.substr(b);
    auto colon = body.find(':');
    if (colon == std::string::npos) continue;
    std::string key = body.substr(0, colon), val = Trim(body.substr(colon + 1));
    if (starts) out.emplace_back();
    if (out.empty()) return Status::InvalidArgument("anomaly.yaml line " + std::to_string(ln + 1) + ": field before \"- data\"");
    if (key == "data") {
      out.back().data = val;
    } else if (key == "timestamp") {
      out.back().timestamp = std::atoll(val.c_str());
    } else if (key == "cause") {
      // Each {...} is one element.
      size_t pos = 0;
      while ((pos = val.find('{', pos)) != std::string::npos) {
        size_t end = val.find('}', pos);
        if (end == std::string::npos) {
          return Status::InvalidArgument("anomaly.yaml line " + std::to_string(ln + 1) + ": unclosed '{'");
        }
        std::string elem;
        for (const auto& kv : Split(val.substr(pos + 1, end - pos - 1), ',')) {
          auto c = kv.find(':');
          if (c == std::string::npos) continue;
          elem += (elem.empty() ? "" : "&") + Trim(kv.substr(0, c)) + "=" + Trim(kv.substr(c + 1));
        }
        out.back().cause.insert(CanonicalElement(elem));
        pos = end + 1;
      }
    }
  }
  return out;
}

// RS: the KPI is a ratio; leaf real = failures (cnt - value) at the anomalous
// minute, leaf predict = the real count times the failure ratio of the
// previous 4 minutes (as RiskLoc derives it), i.e. failures expected with
// the traffic actually seen.
Result<MultidimCase> LoadRsCase(const fs::path& file, const RsTruth& truth) {
  auto text = ReadMaybeGzip(file.string());
  if (!text.ok()) return text.status();
  auto lines = Lines(*text);
  if (lines.empty()) return Status::InvalidArgument(file.filename().string() + ": empty");
  auto header = Split(lines[0], ',');
  int min_col = -1, value_col = -1, cnt_col = -1;
  std::vector<size_t> attr_cols;
  MultidimCase c;
  c.name = truth.data;
  c.truth = truth.cause;
  for (size_t i = 0; i < header.size(); ++i) {
    std::string h = Trim(header[i]);
    if (h == "min") min_col = static_cast<int>(i);
    else if (h == "value") value_col = static_cast<int>(i);
    else if (h == "cnt") cnt_col = static_cast<int>(i);
    else {
      attr_cols.push_back(i);
      c.table.attrs.push_back(h);
    }
  }
  if (min_col < 0 || value_col < 0 || cnt_col < 0) {
    return Status::InvalidArgument(file.filename().string() + ": header needs min, value, cnt");
  }
  struct Acc {
    std::vector<std::string> vals;
    double v_now = 0, c_now = 0, v_hist = 0, c_hist = 0;
  };
  std::unordered_map<std::string, Acc> leaves;
  std::vector<std::string> order;
  const long long t0 = truth.timestamp;
  for (size_t ln = 1; ln < lines.size(); ++ln) {
    auto f = Split(lines[ln], ',');
    if (f.size() != header.size()) {
      return Status::InvalidArgument(file.filename().string() + " line " + std::to_string(ln + 1) + ": wrong field count");
    }
    double tmin, v, cnt;
    if (!ParseDouble(f[static_cast<size_t>(min_col)], &tmin) || !ParseDouble(f[static_cast<size_t>(value_col)], &v) ||
        !ParseDouble(f[static_cast<size_t>(cnt_col)], &cnt)) {
      return Status::InvalidArgument(file.filename().string() + " line " + std::to_string(ln + 1) + ": min/value/cnt not numeric");
    }
    long long age = (t0 - static_cast<long long>(tmin)) / 60;
    if (age < 0 || age > 4) continue;
    std::string key;
    std::vector<std::string> vals;
    for (size_t a : attr_cols) {
      vals.push_back(Trim(f[a]));
      key += vals.back() + '\x1f';
    }
    auto [it, fresh] = leaves.try_emplace(key);
    if (fresh) {
      it->second.vals = vals;
      order.push_back(key);
    }
    if (age == 0) {
      it->second.v_now += v, it->second.c_now += cnt;
    } else {
      it->second.v_hist += v, it->second.c_hist += cnt;
    }
  }
  for (const auto& key : order) {
    const Acc& a = leaves[key];
    double fail_now = a.c_now - a.v_now;
    double expected = a.c_hist > 0 ? a.c_now * (a.c_hist - a.v_hist) / a.c_hist : fail_now;
    c.table.Add(a.vals, fail_now, expected);
  }
  return c;
}

Result<std::vector<MultidimCase>> LoadRsSet(const fs::path& dir, size_t max_cases) {
  auto yaml = ReadMaybeGzip((dir / "anomaly.yaml").string());
  if (!yaml.ok()) return yaml.status();
  auto truths = ParseRsYaml(*yaml);
  if (!truths.ok()) return truths.status();
  std::vector<MultidimCase> cases;
  for (const auto& t : *truths) {
    if (max_cases && cases.size() >= max_cases) break;
    auto c = LoadRsCase(dir / (t.data + ".csv"), t);
    if (!c.ok()) return c.status();
    cases.push_back(std::move(*c));
  }
  return cases;
}

}  // namespace

Result<std::vector<MultidimCase>> LoadMultidimSet(const std::string& dir, size_t max_cases) {
  fs::path d(dir);
  if (fs::exists(d / "anomaly.yaml")) return LoadRsSet(d, max_cases);
  if (fs::exists(d / "injection_info.csv")) return LoadSqueezeSet(d, max_cases);
  return Status::InvalidArgument("\"" + dir + "\": neither anomaly.yaml (RS layout) nor injection_info.csv (Squeeze layout)");
}

MultidimScore ScoreMultidimCase(const MultidimCase& c, const MultidimConfig& cfg) {
  MultidimScore score;
  score.cases = 1;
  std::set<std::string> found;
  for (const auto& e : LocalizeMultidim(c.table, cfg)) found.insert(CanonicalElement(FormatElement(c.table, e)));
  for (const auto& e : found) (c.truth.count(e) ? score.tp : score.fp)++;
  for (const auto& e : c.truth) score.fn += found.count(e) ? 0 : 1;
  return score;
}

Result<std::map<std::string, MultidimScore>> EvaluateMultidim(const std::string& dir, const MultidimConfig& cfg,
                                                              size_t max_cases_per_set) {
  std::vector<fs::path> sets;
  fs::path d(dir);
  if (fs::exists(d / "anomaly.yaml") || fs::exists(d / "injection_info.csv")) {
    sets.push_back(d);
  } else {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(d, ec)) {
      if (e.is_directory() && (fs::exists(e.path() / "anomaly.yaml") || fs::exists(e.path() / "injection_info.csv"))) {
        sets.push_back(e.path());
      }
    }
    if (ec) return Status::IOError("cannot list \"" + dir + "\": " + ec.message());
    std::sort(sets.begin(), sets.end());
  }
  if (sets.empty()) return Status::NotFound("\"" + dir + "\": no case set found");
  std::map<std::string, MultidimScore> out;
  for (const auto& s : sets) {
    auto cases = LoadMultidimSet(s.string(), max_cases_per_set);
    if (!cases.ok()) return cases.status().WithContext(s.filename().string());
    MultidimScore score;
    for (const auto& c : *cases) score.Add(ScoreMultidimCase(c, cfg));
    out[s.filename().string()] = score;
  }
  return out;
}

}  // namespace vigil::rca
