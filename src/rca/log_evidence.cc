#include "rca/log_evidence.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

namespace vigil::rca {

namespace {

bool IsVariable(const std::string& tok) {
  int digits = 0;
  for (char c : tok) digits += std::isdigit(static_cast<unsigned char>(c)) ? 1 : 0;
  return digits > 0;
}

}  // namespace

std::string MaskLogLine(const std::string& line) {
  std::string first = line.substr(0, line.find('\n'));
  std::string out;
  size_t i = 0;
  while (i < first.size() && out.size() < 160) {
    if (std::isspace(static_cast<unsigned char>(first[i]))) {
      if (!out.empty() && out.back() != ' ') out += ' ';
      ++i;
      continue;
    }
    size_t j = i;
    while (j < first.size() && !std::isspace(static_cast<unsigned char>(first[j]))) ++j;
    std::string tok = first.substr(i, j - i);
    size_t eq = tok.find('=');
    if (eq != std::string::npos && eq + 1 < tok.size()) {
      std::string value = tok.substr(eq + 1);
      out += tok.substr(0, eq + 1) + (IsVariable(value) ? "<*>" : value);
    } else {
      out += IsVariable(tok) ? "<*>" : tok;
    }
    i = j;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::vector<LogSuspect> ScoreErrorLogs(const CaseData& data, const MetricWindows& w) {
  struct Count {
    int normal = 0, abnormal = 0;
  };
  std::map<std::pair<std::string, std::string>, Count> counts;  // (instance, template)
  std::unordered_map<std::string, std::pair<std::string, std::string>> who;  // instance -> service, host
  std::unordered_map<std::string, std::set<std::string>> template_services;
  std::set<std::string> services;
  for (const LogRecord& l : data.logs) {
    const std::string& inst = l.instance.empty() ? l.service : l.instance;
    services.insert(l.service);
    if (!l.error) continue;
    bool normal = l.ts_ms >= w.normal_begin && l.ts_ms < w.normal_end;
    bool abnormal = l.ts_ms >= w.abnormal_begin && l.ts_ms < w.abnormal_end;
    if (!normal && !abnormal) continue;
    who.try_emplace(inst, l.service, l.host);
    Count& c = counts[{inst, l.template_text}];
    if (normal) ++c.normal;
    if (abnormal) {
      ++c.abnormal;
      template_services[l.template_text].insert(l.service);
    }
  }
  const double normal_min = std::max(1.0, static_cast<double>(w.normal_end - w.normal_begin) / 60000.0);
  const double abnormal_min = std::max(1.0, static_cast<double>(w.abnormal_end - w.abnormal_begin) / 60000.0);
  const double n_services = static_cast<double>(std::max<size_t>(1, services.size()));
  std::unordered_map<std::string, LogSuspect> best;
  for (const auto& [key, c] : counts) {
    const double rn = c.normal / normal_min, ra = c.abnormal / abnormal_min;
    if (ra <= rn) continue;
    const int spread = static_cast<int>(template_services[key.second].size());
    const double idf = std::log(1 + n_services / std::max(1, spread));
    // A template new to this pod weighs double: a new error is news, a
    // louder old one may be routine.
    const double score = std::log1p(ra - rn) * (c.normal == 0 ? 2.0 : 1.0) * idf;
    LogSuspect& s = best[key.first];
    if (score > s.score) {
      const auto& [service, host] = who[key.first];
      s = {service, key.first == service ? "" : key.first, host, key.second, score, rn, ra, spread};
    }
  }
  std::vector<LogSuspect> out;
  for (auto& [k, s] : best) out.push_back(std::move(s));
  std::sort(out.begin(), out.end(), [](const LogSuspect& a, const LogSuspect& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.instance < b.instance;
  });
  return out;
}

namespace {

// Itemset mining is linear in the records per level; a deterministic stride
// sample of at most this many keeps it bounded (support and risk ratios are
// shares, which an even sample estimates without bias).
constexpr size_t kMaxItemsetRecords = 20000;

void Thin(std::vector<LabeledRecord>* records) {
  if (records->size() <= kMaxItemsetRecords) return;
  const size_t stride = (records->size() + kMaxItemsetRecords - 1) / kMaxItemsetRecords;
  size_t k = 0;
  for (size_t i = 0; i < records->size(); i += stride) (*records)[k++] = std::move((*records)[i]);
  records->resize(k);
}

}  // namespace

std::vector<ItemsetEvidence> FailureItemsets(const CaseData& data, const MetricWindows& w) {
  std::vector<ItemsetEvidence> out;
  DiffItemsetConfig cfg;
  cfg.max_length = 2;
  cfg.max_results = 5;
  std::vector<LabeledRecord> records;
  size_t failing = 0;
  for (const Span& s : data.spans) {
    if (s.start_ms() < w.abnormal_begin || s.start_ms() >= w.abnormal_end) continue;
    LabeledRecord r;
    r.attrs = {{"service", s.service}, {"operation", s.operation}};
    if (!s.instance.empty()) r.attrs.emplace_back("instance", s.instance);
    r.failed = s.error;
    failing += r.failed;
    records.push_back(std::move(r));
  }
  Thin(&records);
  if (failing > 0) {
    for (auto& d : FindDiffItemsets(records, cfg)) out.push_back({std::move(d), "spans"});
  }
  records.clear();
  failing = 0;
  for (const LogRecord& l : data.logs) {
    if (l.ts_ms < w.abnormal_begin || l.ts_ms >= w.abnormal_end) continue;
    LabeledRecord r;
    r.attrs = {{"service", l.service}};
    if (!l.instance.empty()) r.attrs.emplace_back("instance", l.instance);
    if (!l.host.empty()) r.attrs.emplace_back("host", l.host);
    r.failed = l.error;
    failing += r.failed;
    records.push_back(std::move(r));
  }
  Thin(&records);
  if (failing > 0) {
    for (auto& d : FindDiffItemsets(records, cfg)) out.push_back({std::move(d), "logs"});
  }
  return out;
}

}  // namespace vigil::rca
