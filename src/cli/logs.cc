// `vigil logs parse FILE|-`: mine templates from a file or stdin and print
// them with their counts, or one template id per line with --lines.
// `vigil logs search QUERY`: search a running vigil (the HTTP API), with
// optional context lines around each hit.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <curl/curl.h>
#include <nlohmann/json.hpp>

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

struct SearchOptions {
  std::string server = "http://127.0.0.1:8080";
  std::string query;
  std::string selector;
  std::string from, to;
  int limit = 100;
  int context = 0;
  bool json = false;
};

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// GET server+path; returns the HTTP status (0 when the server is unreachable).
long HttpGet(const std::string& url, std::string* body, std::string* error) {
  CURL* curl = curl_easy_init();
  if (!curl) return 0;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  else *error = curl_easy_strerror(rc);
  curl_easy_cleanup(curl);
  return status;
}

std::string Escape(CURL* c, const std::string& v) {
  char* e = curl_easy_escape(c, v.c_str(), static_cast<int>(v.size()));
  std::string s = e ? e : "";
  curl_free(e);
  return s;
}

void PrintLine(const nlohmann::json& l, const char* mark) {
  std::string labels;
  for (auto& [k, v] : l["labels"].items()) labels += (labels.empty() ? "" : ",") + k + "=" + v.get<std::string>();
  std::printf("%s%s  {%s}  #%lld  %s\n", mark, l.value("time", "").c_str(), labels.c_str(),
              static_cast<long long>(l.value("id", 0LL)), l.value("line", "").c_str());
}

int RunSearch(const SearchOptions& o) {
  CURL* c = curl_easy_init();
  std::string url = o.server + "/api/v1/logs/search?q=" + Escape(c, o.query) + "&limit=" + std::to_string(o.limit);
  if (!o.selector.empty()) url += "&selector=" + Escape(c, o.selector);
  if (!o.from.empty()) url += "&from=" + Escape(c, o.from);
  if (!o.to.empty()) url += "&to=" + Escape(c, o.to);
  curl_easy_cleanup(c);
  std::string body, error;
  long status = HttpGet(url, &body, &error);
  if (status == 0) {
    std::fprintf(stderr, "vigil logs search: cannot reach %s: %s\n", o.server.c_str(), error.c_str());
    return 2;
  }
  if (o.json && o.context == 0) {
    std::printf("%s\n", body.c_str());
    return status == 200 ? 0 : 1;
  }
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (status != 200 || doc.is_discarded()) {
    std::fprintf(stderr, "vigil logs search: HTTP %ld: %s\n", status, body.c_str());
    return 1;
  }
  for (const auto& hit : doc["lines"]) {
    if (o.context <= 0) {
      PrintLine(hit, "");
      continue;
    }
    std::string ctx_body;
    long st = HttpGet(o.server + "/api/v1/logs/context?id=" + std::to_string(hit.value("id", 0LL)) + "&before=" +
                          std::to_string(o.context) + "&after=" + std::to_string(o.context),
                      &ctx_body, &error);
    auto ctx = nlohmann::json::parse(ctx_body, nullptr, false);
    if (st != 200 || ctx.is_discarded()) {
      PrintLine(hit, "> ");
      continue;
    }
    for (const auto& l : ctx["lines"]) PrintLine(l, l.value("id", 0LL) == hit.value("id", 0LL) ? "> " : "  ");
    std::printf("--\n");
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

  auto so = std::make_shared<SearchOptions>();
  auto* search = logs_cmd->add_subcommand("search", "Search a running vigil's log store (GET /api/v1/logs/search)");
  search->add_option("query", so->query, "Terms, \"phrases\", -term or NOT term (all must hold)");
  search->add_option("--server", so->server, "vigil's address")->default_val("http://127.0.0.1:8080");
  search->add_option("--selector", so->selector, "Label matchers, e.g. {service=\"checkout\",level!=\"debug\"}");
  search->add_option("--from", so->from, "Start: RFC 3339 or Unix seconds");
  search->add_option("--to", so->to, "End: RFC 3339 or Unix seconds");
  search->add_option("--limit", so->limit, "At most this many hits (newest first)")->default_val(100);
  search->add_option("-C,--context", so->context, "Show N lines of the same stream before and after each hit")->default_val(0);
  search->add_flag("--json", so->json, "Print the API's JSON");
  search->callback([so, &ctx] { ctx.exit_code = RunSearch(*so); });
}

}  // namespace vigil
