// Synthetic multi-dimensional cases (rca/multidim_gen.h, RiskLoc's design):
//   vigil rca multidim-gen OUTDIR --cases N --seed S [--preset S|L] [--gzip]
//     writes <case>.csv[.gz] (a,b,...,real,predict) + injection_info.csv, the
//     layout `vigil eval multidim` reads;
//   vigil eval multidim-synthetic --cases N --seed S [--preset S|L] [--json]
//     generates and scores in memory (no files), for held-out figures:
//     thresholds are chosen on some seeds and reported on others.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include <zlib.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "rca/multidim_data.h"
#include "rca/multidim_gen.h"

namespace vigil {

bool ParseMultidimParams(const std::vector<std::string>& params, rca::MultidimConfig* cfg);

namespace {

using json = nlohmann::json;

std::string LeafCsv(const rca::LeafTable& t) {
  std::string out;
  for (const auto& a : t.attrs) out += a + ",";
  out += "real,predict\n";
  const size_t m = t.attrs.size();
  char num[64];
  for (size_t i = 0; i < t.leaves(); ++i) {
    for (size_t a = 0; a < m; ++a) out += t.values[a][t.codes[i * m + a]] + ",";
    std::snprintf(num, sizeof(num), "%.4f,%.4f\n", t.real[i], t.predict[i]);
    out += num;
  }
  return out;
}

bool WriteFile(const std::filesystem::path& path, const std::string& data, bool gzip) {
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb6");
    if (!f) return false;
    bool ok = gzwrite(f, data.data(), static_cast<unsigned>(data.size())) == static_cast<int>(data.size());
    return gzclose(f) == Z_OK && ok;
  }
  std::ofstream out(path, std::ios::binary);
  out << data;
  return static_cast<bool>(out);
}

int RunGenerate(const std::string& dir, size_t cases, uint64_t seed, const std::string& preset, bool gzip) {
  rca::SyntheticMultidimConfig cfg;
  if (!rca::SyntheticPreset(preset, &cfg)) {
    std::fprintf(stderr, "error: --preset \"%s\" is not S or L\n", preset.c_str());
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "error: cannot create \"%s\": %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }
  std::string info = "timestamp,set,noise_level,zero_rate,anomaly_direction\n";
  for (size_t i = 0; i < cases; ++i) {
    auto c = rca::GenerateMultidimCase(cfg, seed, i);
    auto path = std::filesystem::path(dir) / (c.name + (gzip ? ".csv.gz" : ".csv"));
    if (!WriteFile(path, LeafCsv(c.table), gzip)) {
      std::fprintf(stderr, "error: cannot write \"%s\"\n", path.c_str());
      return 1;
    }
    std::string set;
    for (const auto& e : c.truth) set += (set.empty() ? "" : ";") + e;
    char tail[96];
    std::snprintf(tail, sizeof(tail), ",%.3f,%.3f,%d\n", c.noise_level, c.zero_rate, c.rise ? 1 : 0);
    info += c.name + "," + set + tail;
  }
  if (!WriteFile(std::filesystem::path(dir) / "injection_info.csv", info, false)) {
    std::fprintf(stderr, "error: cannot write injection_info.csv in \"%s\"\n", dir.c_str());
    return 1;
  }
  std::printf("wrote %zu cases (preset %s, seed %llu) to %s\n", cases, preset.c_str(),
              static_cast<unsigned long long>(seed), dir.c_str());
  return 0;
}

int RunEvalSynthetic(size_t cases, uint64_t seed, const std::string& preset, const std::vector<std::string>& params,
                     bool as_json, bool verbose) {
  rca::SyntheticMultidimConfig gen;
  if (!rca::SyntheticPreset(preset, &gen)) {
    std::fprintf(stderr, "error: --preset \"%s\" is not S or L\n", preset.c_str());
    return 2;
  }
  rca::MultidimConfig cfg;
  if (!ParseMultidimParams(params, &cfg)) return 2;
  auto t0 = std::chrono::steady_clock::now();
  rca::MultidimScore total;
  double search_ms = 0;
  for (size_t i = 0; i < cases; ++i) {
    auto g = rca::GenerateMultidimCase(gen, seed, i);
    rca::MultidimCase c;
    c.name = g.name;
    c.table = std::move(g.table);
    for (const auto& e : g.truth) c.truth.insert(rca::CanonicalElement(e));
    auto s0 = std::chrono::steady_clock::now();
    auto one = rca::ScoreMultidimCase(c, cfg);
    total.Add(one);
    search_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s0).count();
    if (verbose && (one.fp || one.fn)) {
      std::string truth, found;
      for (const auto& e : c.truth) truth += e + " ";
      for (const auto& e : rca::LocalizeMultidim(c.table, cfg)) {
        found += rca::FormatElement(c.table, e) + "(ep=" + std::to_string(e.explanatory_power).substr(0, 5) +
                 ",pur=" + std::to_string(e.purity).substr(0, 4) + ") ";
      }
      std::fprintf(stderr, "%s noise=%.2f zero=%.2f rise=%d\n  truth: %s\n  found: %s\n", c.name.c_str(),
                   g.noise_level, g.zero_rate, g.rise ? 1 : 0, truth.c_str(), found.c_str());
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (as_json) {
    json out = {{"cases", total.cases}, {"precision", total.precision()}, {"recall", total.recall()},
                {"f1", total.f1()},      {"tp", total.tp},                {"fp", total.fp},
                {"fn", total.fn},        {"preset", preset},              {"seed", seed},
                {"mean_search_ms", cases ? search_ms / double(cases) : 0.0}, {"seconds", secs}};
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("synthetic %s seed=%llu cases=%zu P=%.3f R=%.3f F1=%.3f (search %.1f ms/case, %.1f s)\n",
                preset.c_str(), static_cast<unsigned long long>(seed), total.cases, total.precision(),
                total.recall(), total.f1(), cases ? search_ms / double(cases) : 0.0, secs);
  }
  return 0;
}

}  // namespace

bool ParseMultidimParams(const std::vector<std::string>& params, rca::MultidimConfig* cfg) {
  for (const auto& p : params) {
    auto eq = p.find('=');
    char* end = nullptr;
    double v = eq == std::string::npos ? 0 : std::strtod(p.c_str() + eq + 1, &end);
    if (eq == std::string::npos || end == p.c_str() + eq + 1 || *end ||
        !rca::SetMultidimParam(*cfg, p.substr(0, eq), v)) {
      std::fprintf(stderr, "error: --param \"%s\" is not name=number with a MultidimConfig field name\n", p.c_str());
      return false;
    }
  }
  return true;
}

// Called by AddRcaCommand (rca.cc) with its `rca` subcommand.
void AddRcaSyntheticCommands(CommandContext& ctx, CLI::App* rca_cmd) {
  struct Opts {
    std::string dir, preset = "S";
    size_t cases = 100;
    uint64_t seed = 1;
    bool gzip = false, json = false, verbose = false;
    std::vector<std::string> params;
  };
  auto o = std::make_shared<Opts>();
  auto* gen = rca_cmd->add_subcommand("multidim-gen", "Write synthetic multi-dimensional cases (RiskLoc's design) "
                                                      "with ground truth, in the layout `eval multidim` reads");
  gen->add_option("OUTDIR", o->dir, "Output directory")->required();
  gen->add_option("--cases", o->cases, "Number of cases")->default_val(100);
  gen->add_option("--seed", o->seed, "Set seed (the same seed gives the same cases)")->default_val(1);
  gen->add_option("--preset", o->preset, "RiskLoc design: S (5 attributes, 48,000 leaves) or L")->default_val("S");
  gen->add_flag("--gzip", o->gzip, "Write .csv.gz");
  gen->callback([o, &ctx] { ctx.exit_code = RunGenerate(o->dir, o->cases, o->seed, o->preset, o->gzip); });

  auto* ev = ctx.eval->add_subcommand("multidim-synthetic", "F1 of multi-dimensional localization on synthetic "
                                                            "cases generated in memory (RiskLoc's design)");
  ev->add_option("--cases", o->cases, "Number of cases")->default_val(100);
  ev->add_option("--seed", o->seed, "Set seed")->default_val(1);
  ev->add_option("--preset", o->preset, "S or L")->default_val("S");
  ev->add_option("--param", o->params, "Override a MultidimConfig field: name=value (sensitivity studies)");
  ev->add_flag("--json", o->json, "Print one JSON object");
  ev->add_flag("--verbose", o->verbose, "Print each missed or wrong case to stderr");
  ev->callback([o, &ctx] {
    ctx.exit_code = RunEvalSynthetic(o->cases, o->seed, o->preset, o->params, o->json, o->verbose);
  });
}

}  // namespace vigil
