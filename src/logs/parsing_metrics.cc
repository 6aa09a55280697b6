#include "logs/parsing_metrics.h"

#include <unordered_map>
#include <unordered_set>

namespace vigil::logs {

namespace {
double F1(double p, double r) { return p + r == 0 ? 0 : 2 * p * r / (p + r); }
}  // namespace

ParsingAccuracy ScoreParsing(const std::vector<std::string>& truth, const std::vector<std::string>& predicted) {
  ParsingAccuracy a;
  std::unordered_map<std::string_view, std::vector<size_t>> by_truth;
  std::unordered_map<std::string_view, size_t> predicted_size;
  std::unordered_map<std::string_view, std::unordered_set<std::string_view>> truths_of_predicted;
  size_t exact = 0;
  for (size_t i = 0; i < truth.size() && i < predicted.size(); ++i) {
    if (truth[i].empty()) continue;
    ++a.lines;
    by_truth[truth[i]].push_back(i);
    ++predicted_size[predicted[i]];
    truths_of_predicted[predicted[i]].insert(truth[i]);
    exact += truth[i] == predicted[i];
  }
  if (a.lines == 0) return a;
  a.truth_templates = by_truth.size();
  a.predicted_templates = predicted_size.size();
  size_t correct_groups = 0, correct_lines = 0;
  for (const auto& [t, lines] : by_truth) {
    std::string_view p = predicted[lines[0]];
    bool one = true;
    for (size_t i : lines) one = one && predicted[i] == p;
    if (one && predicted_size[p] == lines.size()) {
      ++correct_groups;
      correct_lines += lines.size();
    }
  }
  size_t correct_templates = 0;
  for (const auto& [p, truths] : truths_of_predicted) {
    if (truths.size() == 1 && *truths.begin() == p) ++correct_templates;
  }
  double n = static_cast<double>(a.lines);
  a.ga = static_cast<double>(correct_lines) / n;
  a.pa = static_cast<double>(exact) / n;
  double np = static_cast<double>(a.predicted_templates), nt = static_cast<double>(a.truth_templates);
  a.fga = F1(correct_groups / np, correct_groups / nt);
  a.fta = F1(correct_templates / np, correct_templates / nt);
  return a;
}

Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  size_t line = 1, quote_line = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      quote_line = line;
      any = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      field.clear();
      row.clear();
      any = false;
      ++line;
    } else {
      field.push_back(c);
      any = true;
    }
  }
  if (quoted) return Status::InvalidArgument("CSV: quote opened on line " + std::to_string(quote_line) + " is never closed");
  if (any || !field.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace vigil::logs
