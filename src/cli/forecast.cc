// `vigil forecast FILE` and `vigil eval forecast DIR`: Holt-Winters forecasts
// of a CSV series, threshold crossings, and forecast accuracy (MASE) on NAB.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/time_format.h"
#include "detect/capacity.h"
#include "detect/forecast_accuracy.h"
#include "detect/forecast_csv.h"
#include "engine/config.h"

namespace vigil {

namespace {

using json = nlohmann::json;

struct ForecastFlags {
  std::string file;
  std::string horizon = "1d";
  std::string season;
  std::string direction = "auto";
  double threshold = std::nan("");
  double coverage = 0.95;
  bool json_out = false;
};

Result<std::vector<Sample>> ReadSeries(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read \"" + path + "\"");
  std::stringstream ss;
  ss << in.rdbuf();
  auto s = ParseSeriesCsv(ss.str());
  if (!s.ok()) return s.status().WithContext(path);
  return s;
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

json OptTime(const std::optional<TimestampMs>& t) { return t ? json(FormatRfc3339(*t)) : json(nullptr); }

int RunForecast(const ForecastFlags& fl) {
  auto samples = ReadSeries(fl.file);
  if (!samples.ok()) {
    std::fprintf(stderr, "vigil forecast: %s\n", samples.status().message().c_str());
    return 1;
  }
  auto horizon = ParseDuration(fl.horizon);
  if (!horizon.ok()) {
    std::fprintf(stderr, "vigil forecast: --horizon: %s\n", horizon.status().message().c_str());
    return 2;
  }
  SeriesForecastOptions opts;
  opts.model.coverage = fl.coverage;
  if (!fl.season.empty()) {
    auto s = ParseDuration(fl.season);
    if (!s.ok()) {
      std::fprintf(stderr, "vigil forecast: --season: %s\n", s.status().message().c_str());
      return 2;
    }
    opts.season_ms = *s;
    if (*s == 0) opts.model.period = 1;
  }
  std::optional<Direction> dir;
  if (fl.direction == "up") dir = Direction::kUp;
  else if (fl.direction == "down") dir = Direction::kDown;
  else if (fl.direction != "auto") {
    std::fprintf(stderr, "vigil forecast: --direction: expected up, down or auto, got \"%s\"\n", fl.direction.c_str());
    return 2;
  }
  const bool has_threshold = std::isfinite(fl.threshold);
  auto risk = AssessCapacityRisk(*samples, has_threshold ? fl.threshold : 0.0, *horizon, opts, dir);
  if (!risk.ok()) {
    std::fprintf(stderr, "vigil forecast: %s: %s\n", fl.file.c_str(), risk.status().message().c_str());
    return 1;
  }
  const SeriesForecast& f = risk->forecast;
  if (fl.json_out) {
    json pts = json::array();
    for (size_t i = 0; i < f.points.size(); ++i) {
      pts.push_back({f.ts[i], f.points[i].mean, f.points[i].lower, f.points[i].upper});
    }
    json out = {{"model", f.model.Describe()},
                {"step_ms", f.step},
                {"history_points", f.model.history},
                {"last_ms", f.last_ts},
                {"last_value", f.last_value},
                {"sigma", f.model.sigma},
                {"coverage", fl.coverage},
                {"points", pts}};
    if (has_threshold) {
      const ThresholdCrossing& c = risk->crossing;
      out["threshold"] = {{"value", c.threshold},
                          {"direction", DirectionName(c.direction)},
                          {"already_beyond", c.already_beyond},
                          {"earliest", OptTime(c.earliest)},
                          {"likely", OptTime(c.likely)},
                          {"latest", OptTime(c.latest)},
                          {"at_risk", risk->at_risk},
                          {"possible", risk->possible},
                          {"explanation", risk->explanation}};
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("series:   %s (%zu points fitted, step %s s, last %s = %s)\n", fl.file.c_str(), f.model.history,
              Num(static_cast<double>(f.step) / 1000).c_str(), FormatRfc3339(f.last_ts).c_str(),
              Num(f.last_value).c_str());
  std::printf("model:    %s, residual sd %s\n", f.model.Describe().c_str(), Num(f.model.sigma).c_str());
  std::printf("forecast: %zu steps to %s, %g%% prediction interval\n", f.points.size(),
              FormatRfc3339(f.ts.back()).c_str(), fl.coverage * 100);
  for (double q : {0.1, 0.25, 0.5, 0.75, 1.0}) {
    size_t i = std::min(f.points.size() - 1, static_cast<size_t>(std::ceil(q * static_cast<double>(f.points.size()))) - 1);
    std::printf("  %s  %12s  [%s, %s]\n", FormatRfc3339(f.ts[i]).c_str(), Num(f.points[i].mean).c_str(),
                Num(f.points[i].lower).c_str(), Num(f.points[i].upper).c_str());
  }
  if (has_threshold) {
    const ThresholdCrossing& c = risk->crossing;
    std::printf("threshold %s (%s):\n", Num(c.threshold).c_str(),
                c.direction == Direction::kUp ? "rising to it" : "falling to it");
    auto when = [](const std::optional<TimestampMs>& t) { return t ? FormatRfc3339(*t) : std::string("beyond the horizon"); };
    if (c.already_beyond) std::printf("  already beyond it\n");
    std::printf("  earliest %s\n  likely   %s\n  latest   %s\n", when(c.earliest).c_str(), when(c.likely).c_str(),
                when(c.latest).c_str());
    std::printf("  %s: %s\n", risk->at_risk ? "CAPACITY RISK" : (risk->possible ? "possible" : "no risk"),
                risk->explanation.c_str());
  }
  return 0;
}

// NAB's layout: <dir>/<category>/<name>.csv; the reference results and
// labels beside the data are not series.
std::vector<std::filesystem::path> SeriesFiles(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const auto& p = it->path();
    if (it->is_directory() && (p.filename() == "reference-results" || p.filename() == "labels" ||
                               p.filename() == "results")) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && p.extension() == ".csv") files.push_back(p);
  }
  std::sort(files.begin(), files.end());
  return files;
}

double Median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double Mean(const std::vector<double>& v) {
  if (v.empty()) return std::nan("");
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

json NumOrNull(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

int RunEvalForecast(const std::string& dir, bool json_out) {
  auto files = SeriesFiles(dir);
  if (files.empty()) {
    std::fprintf(stderr, "vigil eval forecast: no .csv series under \"%s\"\n", dir.c_str());
    return 1;
  }
  ForecastOptions opts;  // one configuration for every file
  json per_file = json::object();
  std::vector<double> mase, rel, cover;
  size_t beats = 0, failed = 0;
  if (!json_out) std::printf("%-58s %6s %5s %8s %8s  %s\n", "file", "test", "m", "MASE", "relMAE", "model");
  for (const auto& p : files) {
    std::string key = std::filesystem::relative(p, dir).generic_string();
    auto s = ReadSeries(p.string());
    Result<ForecastAccuracy> a = s.ok() ? EvaluateForecast(*s, 0.1, opts) : Result<ForecastAccuracy>(s.status());
    if (!a.ok()) {
      ++failed;
      per_file[key] = {{"error", a.status().message()}};
      if (!json_out) std::printf("%-58s error: %s\n", key.c_str(), a.status().message().c_str());
      continue;
    }
    if (std::isfinite(a->mase)) mase.push_back(a->mase);
    cover.push_back(a->coverage);
    if (std::isfinite(a->relative_mae)) {
      rel.push_back(a->relative_mae);
      beats += a->relative_mae < 1;
    }
    per_file[key] = {{"mase", NumOrNull(a->mase)},
                     {"relative_mae", NumOrNull(a->relative_mae)},
                     {"mae", a->mae},
                     {"mae_seasonal_naive", a->mae_snaive},
                     {"scale", a->scale},
                     {"interval_coverage", a->coverage},
                     {"period", a->period},
                     {"train", a->train},
                     {"test", a->test},
                     {"model", a->model}};
    if (!json_out) {
      std::printf("%-58s %6zu %5d %8s %8s  %s\n", key.c_str(), a->test, a->period, Num(a->mase).c_str(),
                  Num(a->relative_mae).c_str(), a->model.c_str());
    }
  }
  json out = {{"mase_mean", NumOrNull(Mean(mase))},
              {"mase_median", NumOrNull(Median(mase))},
              {"relative_mae_mean", NumOrNull(Mean(rel))},
              {"relative_mae_median", NumOrNull(Median(rel))},
              {"files_beating_seasonal_naive", beats},
              {"interval_coverage_mean", NumOrNull(Mean(cover))},
              {"interval_coverage_nominal", opts.coverage},
              {"files_scored", rel.size()},
              {"files_failed", failed},
              {"protocol", "train on the first 90% of each series' even grid, forecast the last 10% from the training "
                           "end in one multi-step run; MASE scaled by the in-sample seasonal-naive MAE (Hyndman & "
                           "Koehler 2006); relative_mae = MAE / MAE of the seasonal-naive forecast from the same origin"},
              {"files", per_file}};
  if (json_out) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("\n%zu series: MASE mean %s median %s (%zu with a scale); relative MAE vs seasonal naive mean %s "
                "median %s; beats seasonal naive on %zu of %zu; %g%% interval covers %s of test points on average\n",
                files.size(), Num(Mean(mase)).c_str(), Num(Median(mase)).c_str(), mase.size(), Num(Mean(rel)).c_str(),
                Num(Median(rel)).c_str(), beats, rel.size(), opts.coverage * 100, Num(Mean(cover)).c_str());
  }
  return failed == files.size() ? 1 : 0;
}

}  // namespace

void AddForecastCommand(CommandContext& ctx) {
  auto fl = std::make_shared<ForecastFlags>();
  auto* cmd = ctx.root->add_subcommand("forecast", "Forecast a CSV series (timestamp,value or NAB) and find when it "
                                                   "crosses a threshold");
  cmd->add_option("FILE", fl->file, "CSV file: timestamp,value (header optional)")->required();
  cmd->add_option("--horizon", fl->horizon, "How far ahead, e.g. 6h, 7d")->capture_default_str();
  cmd->add_option("--threshold", fl->threshold, "Report when the series crosses this value");
  cmd->add_option("--direction", fl->direction, "up, down or auto (below the threshold now: up)")
      ->capture_default_str();
  cmd->add_option("--season", fl->season, "Season length, e.g. 1d (default: found by autocorrelation; 0 = none)");
  cmd->add_option("--coverage", fl->coverage, "Prediction interval coverage")->capture_default_str()
      ->check(CLI::Range(0.5, 0.999));
  cmd->add_flag("--json", fl->json_out, "Print one JSON object");
  cmd->callback([fl, &ctx] { ctx.exit_code = RunForecast(*fl); });

  auto dir = std::make_shared<std::string>();
  auto json_out = std::make_shared<bool>(false);
  auto* ev = ctx.eval->add_subcommand("forecast", "Forecast accuracy (MASE vs seasonal naive) on the last 10% of "
                                                  "each series under DIR (NAB layout)");
  ev->add_option("DIR", *dir, "Directory of CSV series, e.g. ../shared/data/nab")->required();
  ev->add_flag("--json", *json_out, "Print one JSON object");
  ev->callback([dir, json_out, &ctx] { ctx.exit_code = RunEvalForecast(*dir, *json_out); });
}

}  // namespace vigil
