#include "eval/nab_corpus.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/time_format.h"

namespace vigil {

namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Splits `text` into lines (without '\r').
std::vector<std::string_view> Lines(const std::string& text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    pos = nl + 1;
  }
  return out;
}

bool ParseDouble(std::string_view s, double* v) {
  std::string tmp(s);
  char* end = nullptr;
  *v = std::strtod(tmp.c_str(), &end);
  return !tmp.empty() && end == tmp.c_str() + tmp.size();
}

}  // namespace

Result<TimestampMs> ParseNabTime(const std::string& text) {
  int y, mo, d, h, mi, s;
  char tail = 0;
  if (text.size() < 19 || std::sscanf(text.c_str(), "%4d-%2d-%2d %2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &tail) < 6 ||
      (tail != 0 && tail != '.') || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    return Status::InvalidArgument("timestamp \"" + text + "\" is not YYYY-MM-DD HH:MM:SS");
  }
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 24 + h) * 60 + mi) * 60000LL + s * 1000LL;
}

Status ReadNabSeriesCsv(const std::string& path, std::vector<TimestampMs>* ts, std::vector<double>* values) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  auto lines = Lines(*text);
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    size_t comma = lines[i].find(',');
    if (comma == std::string_view::npos) {
      return Status::InvalidArgument(path + ":" + std::to_string(i + 1) + ": expected \"timestamp,value\"");
    }
    auto t = ParseNabTime(std::string(lines[i].substr(0, comma)));
    if (!t.ok()) return t.status().WithContext(path + ":" + std::to_string(i + 1));
    double v;
    if (!ParseDouble(lines[i].substr(comma + 1), &v)) {
      return Status::InvalidArgument(path + ":" + std::to_string(i + 1) + ": field \"value\": \"" +
                                     std::string(lines[i].substr(comma + 1)) + "\" is not a number");
    }
    ts->push_back(*t);
    values->push_back(v);
  }
  return Status::Ok();
}

Result<std::vector<double>> ReadNabScores(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  auto lines = Lines(*text);
  if (lines.empty()) return Status::InvalidArgument(path + ": empty");
  // Find the anomaly_score column in the header.
  size_t col = 0, idx = 0;
  bool found = false;
  std::string_view header = lines[0];
  for (size_t pos = 0; pos <= header.size(); ++idx) {
    size_t comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    if (header.substr(pos, comma - pos) == "anomaly_score") {
      col = idx;
      found = true;
      break;
    }
    pos = comma + 1;
  }
  if (!found) return Status::InvalidArgument(path + ": no anomaly_score column");
  std::vector<double> scores;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    size_t pos = 0;
    for (size_t c = 0; c < col; ++c) {
      pos = lines[i].find(',', pos);
      if (pos == std::string_view::npos) break;
      ++pos;
    }
    if (pos == std::string_view::npos) return Status::InvalidArgument(path + ":" + std::to_string(i + 1) + ": short row");
    size_t end = lines[i].find(',', pos);
    if (end == std::string_view::npos) end = lines[i].size();
    double v;
    if (!ParseDouble(lines[i].substr(pos, end - pos), &v)) {
      return Status::InvalidArgument(path + ":" + std::to_string(i + 1) + ": anomaly_score is not a number");
    }
    scores.push_back(v);
  }
  return scores;
}

Result<std::vector<NabSeries>> LoadNabCorpus(const std::string& dir, const std::vector<std::string>& only) {
  auto text = ReadFile(dir + "/labels/combined_windows.json");
  if (!text.ok()) return text.status();
  nlohmann::json windows = nlohmann::json::parse(*text, nullptr, false);
  if (windows.is_discarded() || !windows.is_object()) {
    return Status::InvalidArgument(dir + "/labels/combined_windows.json: not a JSON object");
  }
  std::vector<NabSeries> out;
  for (auto it = windows.begin(); it != windows.end(); ++it) {
    const std::string& name = it.key();
    if (!only.empty() && std::none_of(only.begin(), only.end(),
                                      [&](const std::string& s) { return name.find(s) != std::string::npos; })) {
      continue;
    }
    NabSeries s;
    s.name = name;
    Status st = ReadNabSeriesCsv(dir + "/" + name, &s.ts, &s.values);
    if (!st.ok()) return st;
    for (const auto& w : it.value()) {
      if (!w.is_array() || w.size() != 2 || !w[0].is_string() || !w[1].is_string()) {
        return Status::InvalidArgument(name + ": a window must be [start, end] strings");
      }
      auto a = ParseNabTime(w[0].get<std::string>());
      auto b = ParseNabTime(w[1].get<std::string>());
      if (!a.ok() || !b.ok()) return Status::InvalidArgument(name + ": bad window time");
      auto first = std::lower_bound(s.ts.begin(), s.ts.end(), *a);
      auto last = std::lower_bound(s.ts.begin(), s.ts.end(), *b);
      if (first == s.ts.end() || *first != *a || last == s.ts.end() || *last != *b || last < first) {
        return Status::InvalidArgument(name + ": window [" + w[0].get<std::string>() + ", " + w[1].get<std::string>() +
                                       "] does not match rows of the series");
      }
      s.windows.push_back({static_cast<size_t>(first - s.ts.begin()), static_cast<size_t>(last - s.ts.begin())});
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace vigil
