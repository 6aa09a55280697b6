#include "logs/header.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

namespace vigil::logs {

namespace {

constexpr int kMaxHeaderFields = 14;
constexpr double kColumnQuorum = 0.9;
constexpr size_t kSmallSample = 16;

enum FieldRole : uint8_t { kOther = 0, kStamp, kLevel, kDash, kBracket, kComponent };

struct Field {
  uint32_t begin = 0;
  uint32_t end = 0;
  uint8_t role = kOther;
  bool wide_gap = false;  // two or more blanks follow (aligned columns)
};

inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// ASCII only (no locale): `b` is lower case.
bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c | 0x20);
    if (c != b[i]) return false;
  }
  return true;
}
inline bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string_view StripPunct(std::string_view s) {
  while (!s.empty() && (s.front() == '[' || s.front() == '<' || s.front() == '(')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ']' || s.back() == '>' || s.back() == ')' || s.back() == ':' || s.back() == ',')) {
    s.remove_suffix(1);
  }
  return s;
}

bool IsStamp(std::string_view f) {
  static constexpr std::array<std::string_view, 19> kNames = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
      "nov", "dec", "mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  std::string_view s = f;
  while (!s.empty() && (s.back() == ',' || s.back() == ']')) s.remove_suffix(1);
  while (!s.empty() && s.front() == '[') s.remove_prefix(1);
  if (s.empty()) return false;
  if (IsAsciiAlpha(s[0]) && s.size() >= 3 && s.size() <= 9) for (std::string_view n : kNames) {
    if (s.size() >= 3 && EqualsIgnoreCase(s.substr(0, 3), n) && (s.size() == 3 || IsAsciiAlpha(s[3]))) {
      return s.size() <= 9;  // "Sunday", "September"
    }
  }
  bool digit = false;
  int dots = 0, others = 0;
  for (char c : s) {
    if (IsDigit(c)) {
      digit = true;
    } else if (c == '.') {
      ++dots;
    } else if (c == '-' || c == '/' || c == ':' || c == ',' || c == '_') {
      ++others;
    } else if (c != 'T' && c != 'Z' && c != '+') {
      return false;
    }
  }
  return digit && !(dots >= 3 && others == 0);  // an IPv4 address or a version is not a time
}

}  // namespace

int SeverityOf(std::string_view level) {
  std::string_view s = StripPunct(level);
  if (s.empty() || s.size() > 11 || !IsAsciiAlpha(s[0])) return -1;
  if (s.size() == 1) {
    switch (s[0]) {
      case 'V': case 'D': case 'T': return 0;
      case 'I': return 2;
      case 'W': return 3;
      case 'E': return 4;
      case 'F': case 'A': case 'C': return 5;
      default: return -1;
    }
  }
  struct Word { std::string_view word; int severity; };
  static constexpr std::array<Word, 20> kWords = {{
      {"trace", 0}, {"debug", 0}, {"verbose", 0}, {"info", 2}, {"information", 2}, {"notice", 2},
      {"warn", 3}, {"warning", 3}, {"error", 4}, {"err", 4}, {"severe", 4}, {"failure", 4},
      {"fatal", 5}, {"critical", 5}, {"crit", 5}, {"alert", 5}, {"emerg", 5}, {"emergency", 5},
      {"panic", 5}, {"fail", 4}}};
  for (const Word& w : kWords) {
    if (EqualsIgnoreCase(s, w.word)) return w.severity;
  }
  return -1;
}

namespace {

uint8_t RoleOf(std::string_view f) {
  if (f == "-") return kDash;
  if (SeverityOf(f) >= 0 && (f.size() > 1 || (f[0] >= 'A' && f[0] <= 'Z'))) return kLevel;
  if (IsStamp(f)) return kStamp;
  if (f.size() >= 2 && f.front() == '[' && f.back() == ']') return kBracket;
  if (f.size() >= 2 && f.back() == ':') {
    for (char c : f) {
      if (IsAsciiAlpha(c)) return kComponent;
    }
  }
  return kOther;
}

// Splits the first fields of `line`. A field starting with '[' runs to its
// matching ']' (so "[IPC Server handler 5]" is one field).
int ScanFields(std::string_view line, int max_fields, Field* out) {
  int n = 0;
  size_t i = 0;
  while (n < max_fields) {
    while (i < line.size() && IsBlank(line[i])) ++i;
    if (i >= line.size()) break;
    size_t j = i;
    if (line[i] == '[') {
      int depth = 0;
      size_t k = i;
      for (; k < line.size(); ++k) {
        if (line[k] == '[') ++depth;
        if (line[k] == ']' && --depth == 0) break;
      }
      if (k < line.size()) {
        j = k + 1;
        while (j < line.size() && !IsBlank(line[j])) ++j;  // "[x]:" stays one field
      }
    }
    if (j == i) {
      while (j < line.size() && !IsBlank(line[j])) ++j;
    }
    Field& f = out[n++];
    f.begin = static_cast<uint32_t>(i);
    f.end = static_cast<uint32_t>(j);
    f.role = RoleOf(line.substr(i, j - i));
    f.wide_gap = j + 1 < line.size() && IsBlank(line[j]) && IsBlank(line[j + 1]);
    i = j;
  }
  return n;
}

// "sshd[24200]:" -> component "sshd", pid "24200".
void SplitComponent(std::string_view f, LogHeader* h) {
  while (!f.empty() && f.back() == ':') f.remove_suffix(1);
  if (!f.empty() && f.back() == ']') {
    size_t open = f.rfind('[');
    if (open != std::string_view::npos && open > 0) {
      h->pid = f.substr(open + 1, f.size() - open - 2);
      f = f.substr(0, open);
    }
  }
  h->component = f;
}

}  // namespace

void HeaderSplitter::Learn(const std::vector<std::string_view>& sample) {
  if (mode_ != Mode::kAuto || sample.empty()) return;
  learned_ = true;
  std::array<int, kMaxHeaderFields> header_like{};
  std::array<int, kMaxHeaderFields> wide_gap{};
  std::array<int, kMaxHeaderFields> component{};
  std::array<std::array<int, 6>, kMaxHeaderFields> role_count{};
  std::vector<int> separators;
  int stamp_then_separator = 0;
  Field fields[kMaxHeaderFields];
  for (std::string_view line : sample) {
    int n = ScanFields(line, kMaxHeaderFields, fields);
    // The last field is the message's first word when the line is short.
    for (int j = 0; j < n; ++j) {
      header_like[j] += fields[j].role != kOther;
      wide_gap[j] += fields[j].wide_gap;
      component[j] += fields[j].role == kComponent;
      role_count[j][fields[j].role]++;
    }
    size_t bar = line.find('|');
    if (bar != std::string_view::npos && bar > 0 && IsStamp(line.substr(0, bar))) {
      ++stamp_then_separator;
      separators.push_back(static_cast<int>(std::count(line.begin(), line.end(), '|')));
    }
  }
  double quorum = kColumnQuorum * static_cast<double>(sample.size());
  if (stamp_then_separator >= quorum) {
    std::sort(separators.begin(), separators.end());
    record_separator_ = '|';
    separated_fields_ = std::min(8, separators[separators.size() / 10]);
    return;
  }
  header_fields_ = 0;
  if (sample.size() < kSmallSample) {
    // Too few lines to trust column statistics: only a leading run of
    // header-like fields in every line counts.
    for (int j = 0; j < kMaxHeaderFields - 2 && header_like[j] == static_cast<int>(sample.size()); ++j) {
      header_fields_ = j + 1;
    }
  } else {
    for (int j = 0; j < kMaxHeaderFields - 2; ++j) {
      if (header_like[j] >= quorum || wide_gap[j] >= quorum) header_fields_ = j + 1;
    }
  }
  component_last_ = header_fields_ > 0 && component[header_fields_ - 1] * 2 >= static_cast<int>(sample.size());
  roles_.assign(header_fields_, kOther);
  for (int j = 0; j < header_fields_; ++j) {
    roles_[j] = static_cast<uint8_t>(std::max_element(role_count[j].begin(), role_count[j].end()) - role_count[j].begin());
  }
}

LogHeader HeaderSplitter::Split(std::string_view line) const {
  return mode_ == Mode::kFormat ? SplitFormat(line) : SplitAuto(line);
}

LogHeader HeaderSplitter::SplitAuto(std::string_view line) const {
  LogHeader h;
  if (record_separator_ != 0) {
    size_t pos = 0;
    std::string_view parts[8];
    int k = 0;
    for (; k < separated_fields_; ++k) {
      size_t bar = line.find(record_separator_, pos);
      if (bar == std::string_view::npos) break;
      parts[k] = line.substr(pos, bar - pos);
      pos = bar + 1;
    }
    if (k > 0) h.timestamp = parts[0];
    for (int j = 1; j < k; ++j) {
      if (SeverityOf(parts[j]) >= 0 && h.level.empty()) {
        h.level = parts[j];
      } else if (!parts[j].empty() && IsDigit(parts[j][0]) && h.pid.empty()) {
        h.pid = parts[j];
      } else if (h.component.empty()) {
        h.component = parts[j];
      }
    }
    h.message = line.substr(pos);
    return h;
  }
  if (header_fields_ == 0) {
    h.message = line;
    return h;
  }
  Field fields[kMaxHeaderFields];
  int want = std::min(kMaxHeaderFields, header_fields_ + 4);
  int n = ScanFields(line, want, fields);
  int cut = std::min(n, header_fields_);  // fields [0, cut) are header
  uint8_t last_role = component_last_ ? uint8_t{kComponent} : roles_.empty() ? uint8_t{kOther} : roles_.back();
  if ((last_role == kComponent || last_role == kDash) && cut == header_fields_ && fields[cut - 1].role != last_role) {
    // An optional field before the component ("kernel[0] (addr):") or a
    // program name with a blank before the dash: look a little further.
    for (int j = cut; j < n && j < cut + 3; ++j) {
      if (fields[j].role == last_role) {
        cut = j + 1;
        break;
      }
    }
  }
  size_t stamp_begin = 0, stamp_end = 0;
  bool in_stamp = false, stamp_done = false;
  for (int j = 0; j < cut; ++j) {
    std::string_view f = line.substr(fields[j].begin, fields[j].end - fields[j].begin);
    uint8_t role = fields[j].role;
    if (role == kStamp && !stamp_done) {
      if (!in_stamp) stamp_begin = fields[j].begin;
      stamp_end = fields[j].end;
      in_stamp = true;
    } else if (in_stamp) {
      stamp_done = true;
    }
    if (role == kLevel && h.level.empty()) h.level = StripPunct(f);
    if (role == kComponent) SplitComponent(f, &h);
    if (role == kBracket && h.level.empty() && SeverityOf(f) >= 0) h.level = StripPunct(f);
  }
  if (in_stamp) h.timestamp = line.substr(stamp_begin, stamp_end - stamp_begin);
  if (cut >= n) {
    h.message = std::string_view();
    if (cut > 0 && n < header_fields_) {
      // A line shorter than the header: keep what follows the stamp as message.
      h.message = line.substr(fields[n - 1].begin);
    }
    return h;
  }
  size_t start = fields[cut - 1].end;
  while (start < line.size() && IsBlank(line[start])) ++start;
  // A separator dash between header and message ("... [x] - message").
  if (start + 1 < line.size() && line[start] == '-' && IsBlank(line[start + 1]) && cut > 0 &&
      roles_.size() == static_cast<size_t>(header_fields_) && roles_.back() == kDash) {
    start += 2;
  }
  h.message = line.substr(start);
  return h;
}

std::string HeaderSplitter::Describe() const {
  if (mode_ == Mode::kFormat) {
    std::string s = "format:";
    for (const FormatElement& e : format_) {
      s += e.kind == FormatElement::kField ? "<" + e.text + ">" : e.kind == FormatElement::kBlank ? " " : e.text;
    }
    return s;
  }
  if (record_separator_ != 0) return std::to_string(separated_fields_) + " '|'-separated header fields";
  return std::to_string(header_fields_) + " header fields" + (component_last_ ? ", component last" : "");
}

std::string HeaderSplitter::Serialize() const {
  if (mode_ == Mode::kFormat) {
    std::string f = "F";
    for (const FormatElement& e : format_) {
      f += e.kind == FormatElement::kField ? "<" + e.text + ">" : e.kind == FormatElement::kBlank ? " " : e.text;
    }
    return f;
  }
  if (!learned_) return "U";
  std::string s = "A " + std::to_string(header_fields_) + " " + (component_last_ ? "1" : "0") + " " +
                  std::to_string(static_cast<int>(record_separator_)) + " " + std::to_string(separated_fields_) + " ";
  for (uint8_t r : roles_) s.push_back(static_cast<char>('0' + r));
  return s;
}

Result<HeaderSplitter> HeaderSplitter::Restore(std::string_view text) {
  if (text.starts_with("F")) return FromFormat(text.substr(1));
  HeaderSplitter s;
  if (text == "U" || text.empty()) return s;
  int k = 0, comp = 0, sep = 0, sepn = 0;
  char roles[kMaxHeaderFields + 1] = {};
  std::string t(text);
  int n = std::sscanf(t.c_str(), "A %d %d %d %d %14s", &k, &comp, &sep, &sepn, roles);
  if (n < 4 || k < 0 || k > kMaxHeaderFields || sepn < 0 || sepn > 8 || (sep != 0 && sep != '|')) {
    return Status::Corruption("header layout \"" + t + "\" is malformed");
  }
  s.learned_ = true;
  s.header_fields_ = k;
  s.component_last_ = comp != 0;
  s.record_separator_ = static_cast<char>(sep);
  s.separated_fields_ = sepn;
  for (int i = 0; i < k; ++i) {
    char c = n == 5 ? roles[i] : '0';
    if (c < '0' || c > '5') return Status::Corruption("header layout \"" + t + "\" has a bad field role");
    s.roles_.push_back(static_cast<uint8_t>(c - '0'));
  }
  return s;
}

Result<HeaderSplitter> HeaderSplitter::FromFormat(std::string_view format) {
  HeaderSplitter s;
  s.mode_ = Mode::kFormat;
  s.learned_ = true;
  bool has_content = false;
  size_t i = 0;
  while (i < format.size()) {
    char c = format[i];
    if (c == '<') {
      size_t close = format.find('>', i);
      if (close == std::string_view::npos) {
        return Status::InvalidArgument("log format: '<' at offset " + std::to_string(i) + " has no closing '>'");
      }
      std::string name(format.substr(i + 1, close - i - 1));
      if (name.empty()) return Status::InvalidArgument("log format: empty field name at offset " + std::to_string(i));
      if (!s.format_.empty() && s.format_.back().kind == FormatElement::kField) {
        return Status::InvalidArgument("log format: fields <" + s.format_.back().text + "> and <" + name +
                                       "> need a separator between them");
      }
      has_content = has_content || name == "Content";
      s.format_.push_back({FormatElement::kField, name});
      i = close + 1;
    } else if (IsBlank(c)) {
      while (i < format.size() && IsBlank(format[i])) ++i;
      s.format_.push_back({FormatElement::kBlank, ""});
    } else {
      if (s.format_.empty() || s.format_.back().kind != FormatElement::kLiteral) {
        s.format_.push_back({FormatElement::kLiteral, ""});
      }
      s.format_.back().text.push_back(c);
      ++i;
    }
  }
  if (!has_content) return Status::InvalidArgument("log format must contain a <Content> field");
  return s;
}

bool HeaderSplitter::MatchFormat(size_t e, std::string_view line, size_t pos, LogHeader* out) const {
  if (e == format_.size()) return pos == line.size();
  const FormatElement& el = format_[e];
  switch (el.kind) {
    case FormatElement::kLiteral:
      if (line.substr(pos, el.text.size()) != el.text) return false;
      return MatchFormat(e + 1, line, pos + el.text.size(), out);
    case FormatElement::kBlank: {
      size_t p = pos;
      while (p < line.size() && IsBlank(line[p])) ++p;
      if (p == pos) return false;
      // Greedy blanks, then let the next element decide.
      return MatchFormat(e + 1, line, p, out);
    }
    case FormatElement::kField: {
      bool last = e + 1 == format_.size();
      for (size_t end = last ? line.size() : pos; end <= line.size(); ++end) {
        if (MatchFormat(e + 1, line, end, out)) {
          std::string_view v = line.substr(pos, end - pos);
          const std::string& n = el.text;
          if (n == "Content") out->message = v;
          else if (n == "Level") out->level = v;
          else if (n == "Component") SplitComponent(v, out);
          else if (n == "Pid" || n == "PID") out->pid = v;
          else if (n == "Time" || n == "Timestamp" || n == "Date") {
            if (out->timestamp.empty()) out->timestamp = v;
          }
          return true;
        }
      }
      return false;
    }
  }
  return false;
}

LogHeader HeaderSplitter::SplitFormat(std::string_view line) const {
  LogHeader h;
  if (!MatchFormat(0, line, 0, &h)) {
    LogHeader whole;
    whole.message = line;
    return whole;
  }
  return h;
}

}  // namespace vigil::logs
