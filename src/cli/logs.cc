// `vigil logs parse FILE|-`: mine templates from a file or stdin and print
// them with their counts, or one template id per line with --lines.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "logs/header.h"
#include "logs/template_miner.h"

namespace vigil {

namespace {

struct ParseOptions {
  std::string file;
  std::string format;
  bool lines = false;
  bool verbose = false;
};

constexpr size_t kHeaderSample = 200;

int RunParse(const ParseOptions& o) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (o.file != "-") {
    file.open(o.file, std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "vigil logs parse: cannot open %s\n", o.file.c_str());
      return 2;
    }
    in = &file;
  }
  logs::HeaderSplitter splitter;
  if (!o.format.empty()) {
    auto s = logs::HeaderSplitter::FromFormat(o.format);
    if (!s.ok()) {
      std::fprintf(stderr, "vigil logs parse: %s\n", s.status().message().c_str());
      return 2;
    }
    splitter = std::move(s).value();
  }
  logs::TemplateMiner miner;
  std::vector<std::string> pending;  // lines read before the layout is learned
  std::vector<logs::TemplateId> ids;
  auto mine = [&](const std::string& line) { ids.push_back(miner.Add(splitter.Split(line).message).id); };
  auto learn = [&] {
    if (splitter.learned()) return;
    std::vector<std::string_view> sample(pending.begin(), pending.end());
    splitter.Learn(sample);
    for (const auto& l : pending) mine(l);
    pending.clear();
  };
  std::string line;
  while (std::getline(*in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!splitter.learned()) {
      pending.push_back(line);
      if (pending.size() >= kHeaderSample) learn();
      continue;
    }
    mine(line);
  }
  learn();
  if (o.verbose) std::fprintf(stderr, "header: %s\n", splitter.Describe().c_str());
  if (o.lines) {
    for (logs::TemplateId id : ids) {
      logs::TemplateId r = miner.Resolve(id);
      std::printf("%u\t%s\n", r, miner.TemplateText(r).c_str());
    }
    return 0;
  }
  auto templates = miner.Templates();
  std::sort(templates.begin(), templates.end(), [](const auto& a, const auto& b) { return a.count > b.count; });
  for (const auto& t : templates) std::printf("%u\t%llu\t%s\n", t.id, static_cast<unsigned long long>(t.count), t.text.c_str());
  const auto& s = miner.stats();
  if (o.verbose) {
    std::fprintf(stderr, "lines %llu, templates %zu, fast path %.1f%%\n", static_cast<unsigned long long>(s.lines),
                 templates.size(), s.lines ? 100.0 * static_cast<double>(s.fast_path_hits) / static_cast<double>(s.lines) : 0.0);
  }
  return 0;
}

}  // namespace

void AddLogsCommand(CommandContext& ctx) {
  auto* logs_cmd = ctx.root->add_subcommand("logs", "Log templates: mine a file or stdin");
  logs_cmd->require_subcommand(1);
  auto o = std::make_shared<ParseOptions>();
  auto* parse = logs_cmd->add_subcommand("parse", "Print templates with counts (id, count, text), or per-line ids");
  parse->add_option("file", o->file, "Log file, or - for stdin")->required();
  parse->add_option("--format", o->format, "Header format, e.g. \"<Date> <Time> <Level> <Component>: <Content>\"");
  parse->add_flag("--lines", o->lines, "One line per input line: template id and text");
  parse->add_flag("--verbose", o->verbose, "Print the header layout and miner statistics to stderr");
  parse->callback([o, &ctx] { ctx.exit_code = RunParse(*o); });
}

}  // namespace vigil
