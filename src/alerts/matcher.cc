#include "alerts/matcher.h"

#include <cctype>

namespace vigil {

const char* MatchOpSymbol(MatchOp op) {
  switch (op) {
    case MatchOp::kEqual: return "=";
    case MatchOp::kNotEqual: return "!=";
    case MatchOp::kRegex: return "=~";
    case MatchOp::kNotRegex: return "!~";
  }
  return "=";
}

Result<Matcher> Matcher::Make(std::string name, MatchOp op, std::string value) {
  if (name.empty()) return Status::InvalidArgument("matcher: empty label name");
  Matcher m;
  m.name_ = std::move(name);
  m.op_ = op;
  m.value_ = std::move(value);
  if (m.is_regex()) {
    try {
      m.re_ = std::make_shared<const std::regex>("^(?:" + m.value_ + ")$", std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return Status::InvalidArgument("matcher " + m.name_ + ": bad regex \"" + m.value_ + "\": " + e.what());
    }
  }
  return m;
}

bool Matcher::MatchesValue(std::string_view v) const {
  switch (op_) {
    case MatchOp::kEqual: return v == value_;
    case MatchOp::kNotEqual: return v != value_;
    case MatchOp::kRegex: return std::regex_match(v.begin(), v.end(), *re_);
    case MatchOp::kNotRegex: return !std::regex_match(v.begin(), v.end(), *re_);
  }
  return false;
}

bool Matcher::Matches(const Labels& labels) const { return MatchesValue(labels.Get(name_)); }

std::string Matcher::ToString() const {
  std::string s = name_ + MatchOpSymbol(op_) + "\"";
  for (char c : value_) {
    if (c == '"' || c == '\\') s += '\\';
    s += c;
  }
  return s + "\"";
}

namespace {

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }

// Parses one matcher at text[*pos...], advancing *pos past it.
Result<Matcher> ParseOne(std::string_view text, size_t* pos) {
  size_t i = *pos;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  size_t start = i;
  while (i < text.size() && IsNameChar(text[i])) ++i;
  std::string name(text.substr(start, i - start));
  if (name.empty()) return Status::InvalidArgument("matcher \"" + std::string(text) + "\": expected a label name at offset " + std::to_string(start));
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  MatchOp op;
  if (text.substr(i, 2) == "=~") { op = MatchOp::kRegex; i += 2; }
  else if (text.substr(i, 2) == "!~") { op = MatchOp::kNotRegex; i += 2; }
  else if (text.substr(i, 2) == "!=") { op = MatchOp::kNotEqual; i += 2; }
  else if (text.substr(i, 1) == "=") { op = MatchOp::kEqual; i += 1; }
  else return Status::InvalidArgument("matcher \"" + std::string(text) + "\": expected =, !=, =~ or !~ after " + name);
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  std::string value;
  if (i < text.size() && text[i] == '"') {
    ++i;
    bool closed = false;
    while (i < text.size()) {
      char c = text[i++];
      if (c == '\\' && i < text.size()) {
        char n = text[i++];
        value += n == 'n' ? '\n' : n;
      } else if (c == '"') {
        closed = true;
        break;
      } else {
        value += c;
      }
    }
    if (!closed) return Status::InvalidArgument("matcher \"" + std::string(text) + "\": unterminated quoted value");
  } else {
    size_t vs = i;
    while (i < text.size() && text[i] != ',' && text[i] != '}') ++i;
    value = std::string(text.substr(vs, i - vs));
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
  }
  *pos = i;
  return Matcher::Make(std::move(name), op, std::move(value));
}

}  // namespace

Result<Matcher> Matcher::Parse(std::string_view text) {
  size_t pos = 0;
  auto m = ParseOne(text, &pos);
  if (!m.ok()) return m;
  while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
  if (pos != text.size()) return Status::InvalidArgument("matcher \"" + std::string(text) + "\": unexpected text after the value");
  return m;
}

Result<std::vector<Matcher>> ParseMatchers(std::string_view text) {
  std::vector<Matcher> out;
  size_t b = text.find_first_not_of(" \t\n");
  if (b == std::string_view::npos) return out;
  text = text.substr(b);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (!text.empty() && text.front() == '{') {
    if (text.back() != '}') return Status::InvalidArgument("matchers \"" + std::string(text) + "\": missing closing }");
    text = text.substr(1, text.size() - 2);
  }
  size_t pos = 0;
  while (true) {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos >= text.size()) break;
    auto m = ParseOne(text, &pos);
    if (!m.ok()) return m.status();
    out.push_back(std::move(*m));
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos < text.size()) {
      if (text[pos] != ',') return Status::InvalidArgument("matchers \"" + std::string(text) + "\": expected , at offset " + std::to_string(pos));
      ++pos;
    }
  }
  return out;
}

bool MatchesAll(const std::vector<Matcher>& matchers, const Labels& labels) {
  for (const auto& m : matchers) {
    if (!m.Matches(labels)) return false;
  }
  return true;
}

}  // namespace vigil
