// `vigil detect FILE`: runs the daemon's KPI detector suite (KpiDetector, one
// per series, default configuration) over a file and prints every anomaly
// with its explanation. Accepted inputs:
//  - CSV `timestamp,value` (header optional; NAB's layout is one of these):
//    timestamps as "YYYY-MM-DD HH:MM:SS" (UTC), RFC 3339, or epoch seconds /
//    milliseconds;
//  - a Prometheus `query_range` JSON response (every series of the matrix).
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/time_format.h"
#include "detect/kpi_detector.h"
#include "eval/nab_corpus.h"

namespace vigil {

namespace {

struct InputSeries {
  std::string name;
  std::vector<TimestampMs> ts;
  std::vector<double> values;
};

Result<TimestampMs> ParseAnyTime(const std::string& text) {
  if (text.size() >= 19 && text[10] == ' ') return ParseNabTime(text);
  return ParseTimeParam(text);
}

Result<std::vector<InputSeries>> ReadCsv(const std::string& path, const std::string& text) {
  InputSeries s;
  s.name = path;
  std::istringstream in(text);
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const size_t comma = line.find(',');
    if (comma == std::string::npos) {
      return Status::InvalidArgument(path + ":" + std::to_string(lineno) + ": expected \"timestamp,value\"");
    }
    const std::string t = line.substr(0, comma);
    std::string val = line.substr(comma + 1);
    if (size_t c2 = val.find(','); c2 != std::string::npos) val.resize(c2);
    auto ts = ParseAnyTime(t);
    char* end = nullptr;
    const double v = std::strtod(val.c_str(), &end);
    const bool number = !val.empty() && end == val.c_str() + val.size();
    if (lineno == 1 && (!ts.ok() || !number)) continue;  // header
    if (!ts.ok()) return ts.status().WithContext(path + ":" + std::to_string(lineno) + ": field \"timestamp\"");
    if (!number) {
      return Status::InvalidArgument(path + ":" + std::to_string(lineno) + ": field \"value\": \"" + val +
                                     "\" is not a number");
    }
    s.ts.push_back(*ts);
    s.values.push_back(v);
  }
  return std::vector<InputSeries>{std::move(s)};
}

Result<std::vector<InputSeries>> ReadPromJson(const std::string& path, const std::string& text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  const nlohmann::json* result = nullptr;
  if (doc.contains("data") && doc["data"].is_object() && doc["data"].contains("result")) result = &doc["data"]["result"];
  if (result == nullptr || !result->is_array()) {
    return Status::InvalidArgument(path + ": expected a Prometheus query_range response (data.result[])");
  }
  std::vector<InputSeries> out;
  for (size_t i = 0; i < result->size(); ++i) {
    const auto& r = (*result)[i];
    InputSeries s;
    s.name = r.contains("metric") ? r["metric"].dump() : "series " + std::to_string(i);
    if (!r.contains("values") || !r["values"].is_array()) {
      return Status::InvalidArgument(path + ": data.result[" + std::to_string(i) + "].values missing");
    }
    for (size_t j = 0; j < r["values"].size(); ++j) {
      const auto& p = r["values"][j];
      const std::string where = path + ": data.result[" + std::to_string(i) + "].values[" + std::to_string(j) + "]";
      if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_string()) {
        return Status::InvalidArgument(where + ": expected [unix_seconds, \"value\"]");
      }
      const std::string vs = p[1].get<std::string>();
      char* end = nullptr;
      const double v = std::strtod(vs.c_str(), &end);
      if (vs.empty() || end != vs.c_str() + vs.size()) {
        return Status::InvalidArgument(where + ": value \"" + vs + "\" is not a number");
      }
      s.ts.push_back(static_cast<TimestampMs>(p[0].get<double>() * 1000.0));
      s.values.push_back(v);
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<InputSeries>> ReadSeriesFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') return ReadPromJson(path, text);
  return ReadCsv(path, text);
}

struct DetectFlags {
  std::string file;
  bool json = false;
  std::vector<std::string> windows;
  std::vector<std::string> special_days;
};

int RunDetect(const DetectFlags& flags) {
  auto series = ReadSeriesFile(flags.file);
  if (!series.ok()) {
    std::fprintf(stderr, "vigil detect: %s\n", series.status().message().c_str());
    return 2;
  }
  AnalysisCalendar calendar;
  for (const auto& w : flags.windows) {
    if (Status st = calendar.AddWindowSpec(w); !st.ok()) {
      std::fprintf(stderr, "vigil detect: %s\n", st.message().c_str());
      return 2;
    }
  }
  for (const auto& d : flags.special_days) {
    if (Status st = calendar.AddSpecialDaySpec(d); !st.ok()) {
      std::fprintf(stderr, "vigil detect: %s\n", st.message().c_str());
      return 2;
    }
  }
  KpiDetectorConfig cfg;
  if (!calendar.empty()) cfg.calendar = &calendar;
  nlohmann::json out = nlohmann::json::array();
  for (const InputSeries& s : *series) {
    KpiDetector det(cfg);
    nlohmann::json anomalies = nlohmann::json::array();
    if (!flags.json) std::printf("# %s (%zu points)\n", s.name.c_str(), s.values.size());
    for (size_t i = 0; i < s.values.size(); ++i) {
      KpiVerdict v = det.Update(s.ts[i], s.values[i]);
      if (v.missing_ms > 0) {
        if (flags.json) {
          anomalies.push_back({{"time", FormatRfc3339(s.ts[i])}, {"pattern", "missing_data"}, {"gap_ms", v.missing_ms}});
        } else {
          std::printf("%s  missing_data  no points for %.1f min before this one\n", FormatRfc3339(s.ts[i]).c_str(),
                      static_cast<double>(v.missing_ms) / 60000.0);
        }
      }
      if (!v.anomalous) continue;
      if (flags.json) {
        anomalies.push_back({{"time", FormatRfc3339(s.ts[i])}, {"value", s.values[i]}, {"expected", v.expected},
                             {"lower", v.lower}, {"upper", v.upper}, {"score", v.score}, {"threshold", v.threshold},
                             {"onset", v.onset}, {"pattern", KpiPatternName(v.pattern)},
                             {"surprise", v.surprise}, {"novelty", v.novelty}, {"by_surprise", v.by_surprise},
                             {"detectors", DetectorNames(v.fired)}});
      } else {
        char why[64] = "";
        if (v.by_surprise) std::snprintf(why, sizeof why, ", surprise %.1f", v.surprise);
        std::printf("%s  %-20s value %.6g expected %.6g band [%.6g, %.6g] score %.1f (threshold %.1f%s) by %s%s\n",
                    FormatRfc3339(s.ts[i]).c_str(), KpiPatternName(v.pattern), s.values[i], v.expected, v.lower,
                    v.upper, v.score, v.threshold, why, DetectorNames(v.fired).c_str(), v.onset ? "" : " (continuing)");
      }
    }
    const KpiProfile& p = det.profile();
    nlohmann::json profile = {{"step_ms", p.step_ms}, {"period_ms", p.period_ms}, {"noise_ratio", p.noise_ratio},
                              {"trend_z", p.trend_z}, {"sparsity", p.sparsity}, {"counter", p.counter},
                              {"regular", p.regular}, {"detectors", DetectorNames(p.detectors)}};
    if (flags.json) {
      out.push_back({{"series", s.name}, {"profile", profile}, {"anomalies", anomalies}});
    } else {
      std::printf("# profile: %s\n", profile.dump().c_str());
    }
  }
  if (flags.json) std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace

void AddDetectCommand(CommandContext& ctx) {
  auto flags = std::make_shared<DetectFlags>();
  auto* cmd = ctx.root->add_subcommand("detect", "Run vigil's KPI detectors over a file and explain each anomaly");
  cmd->add_option("file", flags->file, "CSV timestamp,value (NAB layout too) or Prometheus query_range JSON")->required();
  cmd->add_flag("--json", flags->json, "Print one JSON array");
  cmd->add_option("--window", flags->windows, "Analyse only inside this weekly UTC window, e.g. \"Mon-Fri 09:00-17:30\"");
  cmd->add_option("--special-day", flags->special_days, "A holiday / special day (YYYY-MM-DD, UTC)");
  cmd->callback([&ctx, flags] { ctx.exit_code = RunDetect(*flags); });
}

}  // namespace vigil
