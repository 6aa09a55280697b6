// `vigil eval smd DIR`: the multivariate entity detector (detect/multivariate.h)
// on data in the Server Machine Dataset layout (DIR/train, DIR/test,
// DIR/test_label, one <machine>.txt each), best F1 with and without point
// adjustment (detect/multivariate_smd.h).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "detect/multivariate.h"
#include "detect/multivariate_smd.h"

namespace vigil {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

Result<std::string> ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Status::IOError("cannot read \"" + p.string() + "\"");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct MachineResult {
  std::string name;
  size_t dims = 0, train = 0, test = 0;
  SmdScores scores;
};

Result<MachineResult> RunMachine(const fs::path& dir, const std::string& file) {
  MachineResult m;
  m.name = fs::path(file).stem().string();
  auto train_text = ReadText(dir / "train" / file);
  if (!train_text.ok()) return train_text.status();
  auto test_text = ReadText(dir / "test" / file);
  if (!test_text.ok()) return test_text.status();
  auto label_text = ReadText(dir / "test_label" / file);
  if (!label_text.ok()) return label_text.status();
  auto train = ParseSmdMatrix(*train_text);
  if (!train.ok()) return train.status().WithContext("train/" + file);
  auto test = ParseSmdMatrix(*test_text);
  if (!test.ok()) return test.status().WithContext("test/" + file);
  auto labels = ParseSmdLabels(*label_text);
  if (!labels.ok()) return labels.status().WithContext("test_label/" + file);
  if (labels->size() != test->size()) {
    return Status::InvalidArgument(file + ": " + std::to_string(test->size()) + " test rows but " +
                                   std::to_string(labels->size()) + " labels");
  }
  m.dims = train->front().size();
  if (test->front().size() != m.dims) {
    return Status::InvalidArgument(file + ": train has " + std::to_string(m.dims) + " columns, test " +
                                   std::to_string(test->front().size()));
  }
  m.train = train->size();
  m.test = test->size();
  MultivariateConfig cfg;  // one configuration for every machine
  EntityDetector det(m.dims, cfg);
  Status s = det.Train(*train);
  if (!s.ok()) return s.WithContext(file);
  std::vector<double> scores;
  scores.reserve(test->size());
  for (const auto& row : *test) scores.push_back(det.Update(row).score);
  m.scores = ScoreSmd(scores, *labels);
  return m;
}

json ScoresJson(const SmdScores& s) {
  json pak = json::object();
  for (const auto& [k, b] : s.pa_k) pak[std::to_string(k)] = b.f1;
  pak["auc"] = s.pa_k_auc;
  return {{"best_f1_pa", s.f1_pa.f1}, {"f1", s.f1.f1}, {"pa_k", pak}, {"event_f1", s.event_f1.f1}};
}

double Pooled(const std::vector<MachineResult>& ms, const SmdBestF1 SmdScores::*field) {
  SmdCounts c;
  for (const auto& m : ms) {
    const SmdCounts& x = (m.scores.*field).counts;
    c.tp += x.tp;
    c.fp += x.fp;
    c.fn += x.fn;
  }
  return c.F1();
}

int RunEvalSmd(const std::string& dir_text, bool json_out) {
  fs::path dir(dir_text);
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir / "train", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".txt") files.push_back(it->path().filename().string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "vigil eval smd: no train/*.txt under \"%s\" (expected the SMD layout: train/, test/, "
                         "test_label/)\n", dir_text.c_str());
    return 1;
  }
  std::vector<MachineResult> done;
  json series = json::object();
  size_t failed = 0;
  if (!json_out) std::printf("%-24s %5s %7s %7s %8s %8s %8s %8s\n", "machine", "dims", "train", "test", "F1", "F1(PA)",
                             "PA%K auc", "event F1");
  for (const auto& f : files) {
    auto r = RunMachine(dir, f);
    if (!r.ok()) {
      ++failed;
      series[fs::path(f).stem().string()] = {{"error", r.status().message()}};
      std::fprintf(stderr, "vigil eval smd: %s\n", r.status().message().c_str());
      continue;
    }
    json j = ScoresJson(r->scores);
    j["dims"] = r->dims;
    j["train_rows"] = r->train;
    j["test_rows"] = r->test;
    series[r->name] = j;
    if (!json_out) {
      std::printf("%-24s %5zu %7zu %7zu %8.4f %8.4f %8.4f %8.4f\n", r->name.c_str(), r->dims, r->train, r->test,
                  r->scores.f1.f1, r->scores.f1_pa.f1, r->scores.pa_k_auc, r->scores.event_f1.f1);
    }
    done.push_back(std::move(*r));
  }
  // Overall: the confusion counts of every machine at its own best
  // threshold, summed (the OmniAnomaly convention), then F1.
  json pak = json::object();
  double auc = 0;
  for (int k = 0; k <= 100; k += 10) {
    SmdCounts c;
    for (const auto& m : done) {
      const SmdCounts& x = m.scores.pa_k.at(k).counts;
      c.tp += x.tp;
      c.fp += x.fp;
      c.fn += x.fn;
    }
    pak[std::to_string(k)] = c.F1();
    auc += c.F1() / 11;
  }
  pak["auc"] = auc;
  double mean_pa = 0;
  for (const auto& m : done) mean_pa += m.scores.f1_pa.f1 / static_cast<double>(std::max<size_t>(done.size(), 1));
  json overall = {{"best_f1_pa", Pooled(done, &SmdScores::f1_pa)},
                  {"f1", Pooled(done, &SmdScores::f1)},
                  {"pa_k", pak},
                  {"event_f1", Pooled(done, &SmdScores::event_f1)},
                  {"mean_machine_best_f1_pa", mean_pa},
                  {"machines", done.size()},
                  {"failed", failed}};
  if (json_out) {
    std::printf("%s\n", json{{"overall", overall}, {"series", series}}.dump(2).c_str());
  } else {
    std::printf("\noverall (%zu machines, counts pooled at each machine's best threshold): F1 %.4f, F1 with point "
                "adjust %.4f, PA%%K auc %.4f, event F1 %.4f\n",
                done.size(), overall["f1"].get<double>(), overall["best_f1_pa"].get<double>(), auc,
                overall["event_f1"].get<double>());
  }
  return done.empty() ? 1 : 0;
}

}  // namespace

void AddEvalSmdCommand(CommandContext& ctx) {
  auto dir = std::make_shared<std::string>();
  auto json_out = std::make_shared<bool>(false);
  auto* ev = ctx.eval->add_subcommand("smd", "Multivariate detector on the Server Machine Dataset layout "
                                             "(train/, test/, test_label/): best F1 with and without point adjust");
  ev->add_option("DIR", *dir, "Directory with train/, test/ and test_label/")->required();
  ev->add_flag("--json", *json_out, "Print one JSON object");
  ev->callback([dir, json_out, &ctx] { ctx.exit_code = RunEvalSmd(*dir, *json_out); });
}

}  // namespace vigil
