#include "engine/selector.h"

#include <cctype>

namespace vigil {

bool LabelMatcher::Matches(std::string_view v) const {
  switch (op) {
    case Op::kEq: return v == value;
    case Op::kNeq: return v != value;
    case Op::kRe: return std::regex_match(v.begin(), v.end(), *re);
    case Op::kNre: return !std::regex_match(v.begin(), v.end(), *re);
  }
  return false;
}

namespace {

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool IsNameChar(char c) { return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Status Error(const std::string& what) const {
    return Status::InvalidArgument("selector \"" + std::string(s_) + "\" at position " + std::to_string(pos_) + ": " +
                                   what);
  }
  void SkipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[pos_]; }

  std::string Name() {
    size_t start = pos_;
    if (pos_ < s_.size() && IsNameStart(s_[pos_])) {
      ++pos_;
      while (pos_ < s_.size() && IsNameChar(s_[pos_])) ++pos_;
    }
    return std::string(s_.substr(start, pos_ - start));
  }

  Result<std::string> Quoted() {
    char q = Peek();
    if (q != '"' && q != '\'' && q != '`') return Error("expected a quoted value");
    ++pos_;
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != q) {
      char c = s_[pos_++];
      if (c == '\\' && q != '`' && pos_ < s_.size()) {
        char e = s_[pos_++];
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          default: out += e;
        }
      } else {
        out += c;
      }
    }
    if (AtEnd()) return Error("unterminated quoted value");
    ++pos_;
    return out;
  }

  Result<std::vector<LabelMatcher>> Parse() {
    std::vector<LabelMatcher> out;
    SkipSpace();
    std::string metric = Name();
    if (!metric.empty()) out.push_back({"__name__", LabelMatcher::Op::kEq, metric, nullptr});
    SkipSpace();
    if (Peek() == '{') {
      ++pos_;
      for (;;) {
        SkipSpace();
        if (Peek() == '}') {
          ++pos_;
          break;
        }
        LabelMatcher m;
        m.name = Name();
        if (m.name.empty()) return Error("expected a label name");
        SkipSpace();
        if (s_.substr(pos_, 2) == "=~") {
          m.op = LabelMatcher::Op::kRe;
          pos_ += 2;
        } else if (s_.substr(pos_, 2) == "!~") {
          m.op = LabelMatcher::Op::kNre;
          pos_ += 2;
        } else if (s_.substr(pos_, 2) == "!=") {
          m.op = LabelMatcher::Op::kNeq;
          pos_ += 2;
        } else if (Peek() == '=') {
          m.op = LabelMatcher::Op::kEq;
          ++pos_;
        } else {
          return Error("expected one of = != =~ !~ after label \"" + m.name + "\"");
        }
        SkipSpace();
        auto v = Quoted();
        if (!v.ok()) return v.status();
        m.value = std::move(*v);
        if (m.op == LabelMatcher::Op::kRe || m.op == LabelMatcher::Op::kNre) {
          try {
            m.re = std::make_shared<std::regex>(m.value, std::regex::ECMAScript | std::regex::optimize);
          } catch (const std::regex_error& e) {
            return Error("invalid regular expression \"" + m.value + "\": " + e.what());
          }
        }
        out.push_back(std::move(m));
        SkipSpace();
        if (Peek() == ',') {
          ++pos_;
          continue;
        }
        if (Peek() == '}') {
          ++pos_;
          break;
        }
        return Error("expected ',' or '}'");
      }
    }
    SkipSpace();
    if (!AtEnd()) return Error("unexpected character '" + std::string(1, Peek()) + "'");
    if (out.empty()) return Error("empty selector");
    return out;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Result<SeriesSelector> SeriesSelector::Parse(std::string_view text) {
  Parser p(text);
  auto m = p.Parse();
  if (!m.ok()) return m.status();
  SeriesSelector sel;
  sel.matchers_ = std::move(*m);
  return sel;
}

bool SeriesSelector::Matches(const Labels& labels) const {
  for (const auto& m : matchers_) {
    if (!m.Matches(labels.Get(m.name))) return false;
  }
  return true;
}

}  // namespace vigil
