// Level-wise (Apriori: Agrawal & Srikant, VLDB 1994) enumeration of itemsets
// frequent among failing records, scored by relative risk as in MacroBase's
// explanation operator (Bailis et al., SIGMOD 2017): the failure rate of
// records with the itemset over the rate of records without it. Counts get a
// +0.5 (Haldane) correction so an itemset seen only in failures has a finite
// ratio.
#include "rca/diff_itemsets.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "rca/multidim_raw.h"

namespace vigil::rca {

std::string DiffItemset::ToString() const {
  std::string out;
  for (const auto& [a, v] : items) out += (out.empty() ? "" : "&") + a + "=" + v;
  return out;
}

namespace {

using Itemset = std::vector<uint32_t>;  // sorted item ids

bool Contains(const std::vector<uint32_t>& record, const Itemset& s) {
  return std::includes(record.begin(), record.end(), s.begin(), s.end());
}

}  // namespace

std::vector<DiffItemset> FindDiffItemsets(const std::vector<LabeledRecord>& records, const DiffItemsetConfig& cfg) {
  std::map<std::pair<std::string, std::string>, uint32_t> ids;
  std::vector<std::pair<std::string, std::string>> names;
  std::vector<std::vector<uint32_t>> encoded(records.size());
  size_t total_fail = 0;
  for (size_t r = 0; r < records.size(); ++r) {
    for (const auto& kv : records[r].attrs) {
      auto [it, fresh] = ids.try_emplace(kv, static_cast<uint32_t>(names.size()));
      if (fresh) names.push_back(kv);
      encoded[r].push_back(it->second);
    }
    std::sort(encoded[r].begin(), encoded[r].end());
    encoded[r].erase(std::unique(encoded[r].begin(), encoded[r].end()), encoded[r].end());
    total_fail += records[r].failed ? 1 : 0;
  }
  std::vector<DiffItemset> out;
  if (total_fail == 0 || total_fail == records.size()) return out;
  const size_t total_ok = records.size() - total_fail;
  const double min_count = std::max(1.0, cfg.min_support * static_cast<double>(total_fail));

  struct Scored {
    Itemset set;
    size_t fail, ok;
    double rr;
  };
  auto score = [&](const Itemset& s) {
    size_t f = 0, o = 0;
    for (size_t r = 0; r < records.size(); ++r) {
      if (Contains(encoded[r], s)) (records[r].failed ? f : o)++;
    }
    double in_rate = (f + 0.5) / (f + o + 1.0);
    double out_rate = (total_fail - f + 0.5) / (records.size() - f - o + 1.0);
    return Scored{s, f, o, in_rate / out_rate};
  };

  std::vector<Scored> kept;          // reported candidates (risky enough)
  std::vector<Itemset> frontier;     // frequent among failures at this level
  std::vector<uint32_t> frequent_items;
  for (uint32_t id = 0; id < names.size(); ++id) {
    Scored s = score({id});
    if (static_cast<double>(s.fail) < min_count) continue;
    frequent_items.push_back(id);
    frontier.push_back({id});
    if (s.rr >= cfg.min_risk_ratio) kept.push_back(s);
  }
  for (size_t len = 2; len <= cfg.max_length && !frontier.empty(); ++len) {
    std::vector<Itemset> next;
    for (const auto& base : frontier) {
      for (uint32_t id : frequent_items) {
        if (id <= base.back()) continue;
        if (names[id].first == names[base.back()].first) continue;  // one value per attribute
        bool same_attr = false;
        for (uint32_t b : base) same_attr = same_attr || names[b].first == names[id].first;
        if (same_attr) continue;
        Itemset cand = base;
        cand.push_back(id);
        Scored s = score(cand);
        if (static_cast<double>(s.fail) < min_count) continue;
        next.push_back(cand);
        if (s.rr < cfg.min_risk_ratio) continue;
        // More specific only if it clearly raises the risk of every kept subset.
        bool informative = true;
        for (const auto& k : kept) {
          if (k.set.size() < cand.size() && std::includes(cand.begin(), cand.end(), k.set.begin(), k.set.end()) &&
              s.rr < 1.1 * k.rr) {
            informative = false;
          }
        }
        if (informative) kept.push_back(s);
      }
    }
    frontier = std::move(next);
  }
  // Drop a subset that a kept superset beats clearly on risk while holding
  // nearly all of its failures (the subset is then only a proxy).
  std::vector<char> drop(kept.size(), 0);
  for (size_t i = 0; i < kept.size(); ++i) {
    for (size_t j = 0; j < kept.size(); ++j) {
      if (kept[j].set.size() > kept[i].set.size() &&
          std::includes(kept[j].set.begin(), kept[j].set.end(), kept[i].set.begin(), kept[i].set.end()) &&
          kept[j].fail >= 0.9 * static_cast<double>(kept[i].fail) && kept[j].rr >= 1.1 * kept[i].rr) {
        drop[i] = 1;
      }
    }
  }
  const double base_rate = static_cast<double>(total_fail) / static_cast<double>(records.size());
  for (size_t i = 0; i < kept.size(); ++i) {
    if (drop[i]) continue;
    DiffItemset d;
    for (uint32_t id : kept[i].set) d.items.push_back(names[id]);
    std::sort(d.items.begin(), d.items.end());
    d.failing = kept[i].fail;
    d.succeeding = kept[i].ok;
    d.support = static_cast<double>(kept[i].fail) / static_cast<double>(total_fail);
    d.risk_ratio = kept[i].rr;
    d.lift = (static_cast<double>(kept[i].fail) / static_cast<double>(kept[i].fail + kept[i].ok)) / base_rate;
    out.push_back(std::move(d));
  }
  (void)total_ok;
  std::sort(out.begin(), out.end(), [](const DiffItemset& a, const DiffItemset& b) {
    return a.risk_ratio != b.risk_ratio ? a.risk_ratio > b.risk_ratio : a.support > b.support;
  });
  if (out.size() > cfg.max_results) out.resize(cfg.max_results);
  return out;
}

bool ParseFailureFlag(std::string_view text, bool* failed) {
  std::string t;
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\r') t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  static const char* kFail[] = {"1", "true", "yes", "fail", "failed", "failure", "error"};
  static const char* kOk[] = {"0", "false", "no", "ok", "success", "succeeded", ""};
  for (const char* f : kFail) {
    if (t == f) return *failed = true, true;
  }
  for (const char* f : kOk) {
    if (t == f) return *failed = false, true;
  }
  return false;
}

Result<std::vector<LabeledRecord>> ParseItemsetCsv(std::string_view csv, const std::string& failure_column) {
  std::vector<LabeledRecord> out;
  size_t pos = 0, line_no = 0;
  std::vector<std::string> header;
  int fail_col = -1;
  while (pos < csv.size()) {
    size_t nl = csv.find('\n', pos);
    if (nl == std::string_view::npos) nl = csv.size();
    std::string_view line = csv.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line.empty() || line == "\r") continue;
    auto f = SplitCsvRecord(line);
    if (header.empty()) {
      header = f;
      for (size_t c = 0; c < header.size(); ++c) {
        if (header[c] == failure_column) fail_col = static_cast<int>(c);
      }
      if (fail_col < 0) {
        return Status::InvalidArgument("line " + std::to_string(line_no) + ": no column \"" + failure_column +
                                       "\" in the header");
      }
      continue;
    }
    if (f.size() != header.size()) {
      return Status::InvalidArgument("line " + std::to_string(line_no) + ": " + std::to_string(f.size()) +
                                     " fields, header has " + std::to_string(header.size()));
    }
    LabeledRecord r;
    if (!ParseFailureFlag(f[static_cast<size_t>(fail_col)], &r.failed)) {
      return Status::InvalidArgument("line " + std::to_string(line_no) + ": column \"" + failure_column + "\": \"" +
                                     f[static_cast<size_t>(fail_col)] + "\" is not a failure flag (1/0, true/false)");
    }
    for (size_t c = 0; c < f.size(); ++c) {
      if (static_cast<int>(c) != fail_col && !f[c].empty()) r.attrs.emplace_back(header[c], f[c]);
    }
    out.push_back(std::move(r));
  }
  if (header.empty()) return Status::InvalidArgument("line 1: empty input, expected a header");
  return out;
}

}  // namespace vigil::rca
