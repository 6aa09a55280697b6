// `vigil eval loghub DIR`: template-mining accuracy (GA, FGA, PA, FTA) and
// new-template detection on the Loghub-2k and Loghub-2.0 layouts. One miner
// configuration for every system; the header layout of each file is learned
// from its first lines (or given with --format-table).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_set>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "logs/header.h"
#include "logs/parsing_metrics.h"
#include "logs/template_miner.h"

namespace vigil {

namespace {

namespace fs = std::filesystem;

constexpr size_t kHeaderSample = 200;

struct LabelledLog {
  std::string system;
  std::vector<std::string> lines;
  std::vector<std::string> truth;
};

bool ReadFile(const fs::path& p, std::string* out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

Result<LabelledLog> LoadSystem(const fs::path& dir) {
  LabelledLog log;
  log.system = dir.filename().string();
  fs::path raw, structured;
  for (const char* suffix : {"_2k.log", "_full.log"}) {
    fs::path r = dir / (log.system + suffix);
    if (fs::exists(r) && fs::exists(fs::path(r.string() + "_structured.csv"))) {
      raw = r;
      structured = r.string() + "_structured.csv";
      break;
    }
  }
  if (raw.empty()) return Status::NotFound(dir.string() + ": no <S>_2k.log or <S>_full.log with its _structured.csv");
  std::string text, csv;
  if (!ReadFile(raw, &text) || !ReadFile(structured, &csv)) return Status::IOError("cannot read " + raw.string());
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string::npos) j = text.size();
    std::string line = text.substr(i, j - i);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    log.lines.push_back(std::move(line));
    i = j + 1;
  }
  auto rows = logs::ParseCsv(csv);
  if (!rows.ok()) return rows.status().WithContext(structured.string());
  if (rows->empty()) return Status::InvalidArgument(structured.string() + ": empty");
  const auto& header = (*rows)[0];
  auto col = std::find(header.begin(), header.end(), "EventTemplate");
  if (col == header.end()) return Status::InvalidArgument(structured.string() + ": no EventTemplate column");
  size_t c = static_cast<size_t>(col - header.begin());
  for (size_t r = 1; r < rows->size(); ++r) {
    const auto& row = (*rows)[r];
    log.truth.push_back(c < row.size() ? row[c] : "");
  }
  if (log.truth.size() != log.lines.size()) {
    return Status::InvalidArgument(raw.string() + ": " + std::to_string(log.lines.size()) + " lines but " +
                                   std::to_string(log.truth.size()) + " labelled rows");
  }
  return log;
}

// Per-dataset format strings from a Markdown table ("| HDFS | `<Date> ...` |"),
// the layout the public benchmark gives its parsers.
std::map<std::string, std::string> ReadFormatTable(const fs::path& p) {
  std::map<std::string, std::string> out;
  std::string text;
  if (!ReadFile(p, &text)) return out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 4 || line[0] != '|') continue;
    size_t a = line.find('`'), b = line.rfind('`');
    if (a == std::string::npos || b <= a) continue;
    std::string name = line.substr(1, line.find('|', 1) - 1);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    std::string format = line.substr(a + 1, b - a - 1);
    size_t esc;
    while ((esc = format.find("\\|")) != std::string::npos) format.erase(esc, 1);
    out[name] = format;
  }
  return out;
}

logs::HeaderSplitter SplitterFor(const LabelledLog& log, const std::map<std::string, std::string>& formats) {
  auto f = formats.find(log.system);
  if (f != formats.end() && f->second.find(")?") == std::string::npos) {
    auto s = logs::HeaderSplitter::FromFormat(f->second);
    if (s.ok()) return std::move(s).value();
  }
  logs::HeaderSplitter splitter;
  std::vector<std::string_view> sample;
  for (size_t i = 0; i < log.lines.size() && i < kHeaderSample; ++i) sample.push_back(log.lines[i]);
  splitter.Learn(sample);
  return splitter;
}

std::vector<std::string> Mine(const LabelledLog& log, const logs::HeaderSplitter& splitter) {
  logs::TemplateMiner miner;
  std::vector<logs::TemplateId> ids;
  ids.reserve(log.lines.size());
  for (const std::string& line : log.lines) ids.push_back(miner.Add(splitter.Split(line).message).id);
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (logs::TemplateId id : ids) out.push_back(miner.TemplateText(id));
  return out;
}

logs::DetectionCounts ScoreNovelty(const LabelledLog& log, const logs::HeaderSplitter& splitter) {
  logs::DetectionCounts counts;
  size_t half = log.lines.size() / 2;
  logs::TemplateMiner miner;
  std::unordered_set<std::string> learned;
  for (size_t i = 0; i < half; ++i) {
    miner.Add(splitter.Split(log.lines[i]).message);
    learned.insert(log.truth[i]);
  }
  logs::TemplateId last_learned = static_cast<logs::TemplateId>(miner.stats().templates_created);
  for (size_t i = half; i < log.lines.size(); ++i) {
    logs::MineResult r = miner.Add(splitter.Split(log.lines[i]).message);
    if (log.truth[i].empty()) continue;
    counts.Add(miner.Resolve(r.id) > last_learned, !learned.contains(log.truth[i]));
  }
  return counts;
}

struct Options {
  std::string dir;
  bool json = false;
  bool novelty = false;
  bool show_errors = false;
  bool show_grouping = false;
  std::string format_table;
  std::vector<std::string> only;
};

int Run(const Options& o) {
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(o.dir, ec)) {
    if (!e.is_directory()) continue;
    std::string name = e.path().filename().string();
    if (!o.only.empty() && std::find(o.only.begin(), o.only.end(), name) == o.only.end()) continue;
    dirs.push_back(e.path());
  }
  if (ec) {
    std::fprintf(stderr, "vigil eval loghub: cannot list %s: %s\n", o.dir.c_str(), ec.message().c_str());
    return 2;
  }
  std::sort(dirs.begin(), dirs.end());
  std::map<std::string, std::string> formats;
  if (!o.format_table.empty()) formats = ReadFormatTable(o.format_table);

  nlohmann::json systems = nlohmann::json::object();
  logs::ParsingAccuracy sum;
  logs::DetectionCounts novelty;
  int n = 0;
  if (!o.json) {
    if (o.novelty) std::printf("%-12s %9s %9s %9s %6s %6s %6s\n", "system", "precision", "recall", "F1", "tp", "fp", "fn");
    else std::printf("%-12s %6s %6s %6s %6s %8s %8s\n", "system", "GA", "FGA", "PA", "FTA", "truth", "found");
  }
  for (const auto& d : dirs) {
    auto log = LoadSystem(d);
    if (!log.ok()) {
      if (log.status().code() != StatusCode::kNotFound) std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
      continue;
    }
    logs::HeaderSplitter splitter = SplitterFor(*log, formats);
    if (o.novelty) {
      logs::DetectionCounts c = ScoreNovelty(*log, splitter);
      novelty += c;
      systems[log->system] = {{"precision", c.precision()}, {"recall", c.recall()}, {"f1", c.f1()},
                              {"tp", c.tp}, {"fp", c.fp}, {"fn", c.fn}};
      if (!o.json) {
        std::printf("%-12s %9.4f %9.4f %9.4f %6llu %6llu %6llu\n", log->system.c_str(), c.precision(), c.recall(), c.f1(),
                    static_cast<unsigned long long>(c.tp), static_cast<unsigned long long>(c.fp),
                    static_cast<unsigned long long>(c.fn));
      }
      continue;
    }
    std::vector<std::string> predicted = Mine(*log, splitter);
    logs::ParsingAccuracy a = logs::ScoreParsing(log->truth, predicted);
    sum.ga += a.ga; sum.fga += a.fga; sum.pa += a.pa; sum.fta += a.fta;
    ++n;
    systems[log->system] = {{"GA", a.ga}, {"FGA", a.fga}, {"PA", a.pa}, {"FTA", a.fta},
                            {"truth_templates", a.truth_templates}, {"predicted_templates", a.predicted_templates}};
    if (!o.json) {
      std::printf("%-12s %6.3f %6.3f %6.3f %6.3f %8zu %8zu   [%s]\n", log->system.c_str(), a.ga, a.fga, a.pa, a.fta,
                  a.truth_templates, a.predicted_templates, splitter.Describe().c_str());
    }
    if (o.show_grouping) {
      std::map<std::string, std::map<std::string, int>> by_truth;
      std::map<std::string, std::map<std::string, int>> by_pred;
      for (size_t i = 0; i < predicted.size(); ++i) {
        if (log->truth[i].empty()) continue;
        ++by_truth[log->truth[i]][predicted[i]];
        ++by_pred[predicted[i]][log->truth[i]];
      }
      std::vector<std::pair<int, std::string>> bad;
      for (const auto& [t, preds] : by_truth) {
        int n = 0;
        for (const auto& [p, c] : preds) n += c;
        bool ok = preds.size() == 1 && by_pred[preds.begin()->first].size() == 1;
        if (!ok) bad.emplace_back(n, t);
      }
      std::sort(bad.rbegin(), bad.rend());
      for (const auto& [n, t] : bad) {
        std::printf("  %5d  T: %s\n", n, t.c_str());
        for (const auto& [p, c] : by_truth[t]) {
          std::printf("         %4d -> P: %s%s\n", c, p.c_str(), by_pred[p].size() > 1 ? "   (shared)" : "");
        }
      }
    }
    if (o.show_errors) {
      std::map<std::pair<std::string, std::string>, int> wrong;
      for (size_t i = 0; i < predicted.size(); ++i) {
        if (!log->truth[i].empty() && predicted[i] != log->truth[i]) ++wrong[{log->truth[i], predicted[i]}];
      }
      for (const auto& [k, c] : wrong) std::printf("    %4d  T: %s\n          P: %s\n", c, k.first.c_str(), k.second.c_str());
    }
  }
  if (o.novelty) {
    if (o.json) {
      nlohmann::json out = {{"novelty", {{"precision", novelty.precision()}, {"recall", novelty.recall()}, {"f1", novelty.f1()}}},
                            {"systems", systems}};
      std::printf("%s\n", out.dump(2).c_str());
    } else {
      std::printf("%-12s %9.4f %9.4f %9.4f %6llu %6llu %6llu\n", "micro", novelty.precision(), novelty.recall(), novelty.f1(),
                  static_cast<unsigned long long>(novelty.tp), static_cast<unsigned long long>(novelty.fp),
                  static_cast<unsigned long long>(novelty.fn));
    }
    return 0;
  }
  if (n == 0) {
    std::fprintf(stderr, "vigil eval loghub: no labelled systems under %s\n", o.dir.c_str());
    return 2;
  }
  double d = n;
  if (o.json) {
    nlohmann::json out = {{"average", {{"GA", sum.ga / d}, {"FGA", sum.fga / d}, {"PA", sum.pa / d}, {"FTA", sum.fta / d}}},
                          {"systems", systems}};
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%-12s %6.3f %6.3f %6.3f %6.3f   (%d systems)\n", "average", sum.ga / d, sum.fga / d, sum.pa / d,
                sum.fta / d, n);
  }
  return 0;
}

}  // namespace

void AddEvalLoghubCommand(CommandContext& ctx) {
  auto opts = std::make_shared<Options>();
  auto* cmd = ctx.eval->add_subcommand("loghub", "Template mining accuracy (GA/FGA/PA/FTA) on Loghub-2k / Loghub-2.0");
  cmd->add_option("dir", opts->dir, "Folder with one sub-folder per system (<S>/<S>_2k.log + _structured.csv)")->required();
  cmd->add_flag("--json", opts->json, "Print one JSON object");
  cmd->add_flag("--novelty", opts->novelty, "Score new-template detection: learn the first half, score the second");
  cmd->add_flag("--errors", opts->show_errors, "List lines whose template differs from the ground truth");
  cmd->add_flag("--grouping-errors", opts->show_grouping, "List ground-truth groups that are split or merged");
  cmd->add_option("--format-table", opts->format_table,
                  "Markdown table of per-system header formats (| S | `<Date> ... <Content>` |) instead of auto-detection");
  cmd->add_option("--system", opts->only, "Only these systems");
  cmd->callback([opts, &ctx] { ctx.exit_code = Run(*opts); });
}

}  // namespace vigil
