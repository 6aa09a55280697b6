#include "logs/masking.h"

namespace vigil::logs {

namespace {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
inline bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

// Characters that end a fragment inside a token. They stay in the template
// text, so `key=<*>`, `[<*>]` and `<*>:<*>` keep their punctuation.
inline bool IsDelimiter(char c) {
  switch (c) {
    case '=': case ':': case ',': case ';': case '(': case ')': case '[': case ']':
    case '{': case '}': case '<': case '>': case '"': case '\'': case '|': case '@':
    case '/': case '\\': case '#':
      return true;
    default:
      return false;
  }
}

inline bool IsOpening(char c) {
  return c == '(' || c == '[' || c == '{' || c == '"' || c == '\'' || c == '<' || c == ':' || c == '=';
}
inline bool IsClosing(char c) {
  return c == ')' || c == ']' || c == '}' || c == '"' || c == '\'' || c == ',' || c == ';' || c == '.' ||
         c == '>' || c == ':';
}

bool LooksLikeUrl(std::string_view core, size_t* scheme_end) {
  size_t p = core.find("://");
  if (p == std::string_view::npos || p == 0) return false;
  for (size_t i = 0; i < p; ++i) {
    char c = core[i];
    if (!IsAlpha(c) && !IsDigit(c) && c != '.' && c != '+' && c != '-') return false;
  }
  *scheme_end = p + 3;
  return true;
}

bool LooksLikePath(std::string_view core) {
  if (core.size() < 2) return false;
  if (core[0] == '/') return core.find('/', 1) != std::string_view::npos;
  if (core.size() > 2 && IsAlpha(core[0]) && core[1] == ':' && core[2] == '\\') return true;
  if (core.starts_with("./") || core.starts_with("../") || core.starts_with("~/")) return true;
  return false;
}

bool LooksLikeEmail(std::string_view core) {
  size_t at = core.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= core.size()) return false;
  std::string_view domain = core.substr(at + 1);
  size_t dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 2 > domain.size()) return false;
  for (char c : core.substr(0, at)) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '.' && c != '_' && c != '-' && c != '+') return false;
  }
  for (char c : domain) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '.' && c != '-') return false;
  }
  return IsAlpha(domain.back());
}

// IPv6 addresses and MAC addresses: hex groups joined by colons. Times such as
// 12:01:01 are left to the fragment rules (the ground truth splits them).
bool LooksLikeColonHex(std::string_view core) {
  int colons = 0;
  bool hex_letter = false;
  for (char c : core) {
    if (c == ':') {
      ++colons;
    } else if (!IsHexDigit(c) && c != '.') {
      return false;
    } else if (!IsDigit(c) && c != '.') {
      hex_letter = true;
    }
  }
  if (colons < 2) return false;
  return core.find("::") != std::string_view::npos || colons >= 5 || hex_letter;
}

// A DNS name: lower-case labels and a common top-level domain. Java class
// names (org.apache.Foo) have upper case; "mapred.job.id" has no common TLD.
bool LooksLikeHostname(std::string_view f) {
  size_t dot = f.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || (f.find('.') == dot && f.size() < 6)) return false;
  static constexpr std::string_view kTlds[] = {"com", "net", "org", "edu", "gov", "mil", "int", "io", "hk",
                                               "cn", "uk", "de", "jp", "ru", "fr", "us", "local", "lan",
                                               "internal", "localdomain", "arpa", "info", "biz"};
  std::string_view tld = f.substr(dot + 1);
  bool known = false;
  for (std::string_view t : kTlds) known = known || t == tld;
  if (!known) return false;
  for (char c : f) {
    if (!((c >= 'a' && c <= 'z') || IsDigit(c) || c == '.' || c == '-')) return false;
  }
  return f.find("..") == std::string_view::npos;
}

bool IsCalendarWord(std::string_view s) {
  static constexpr std::string_view kNames[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                                "Sep", "Oct", "Nov", "Dec", "Mon", "Tue", "Wed", "Thu",
                                                "Fri", "Sat", "Sun"};
  if (s.size() != 3) return false;
  for (std::string_view n : kNames) {
    if (s == n) return true;
  }
  return false;
}

// "an14", "dadmin3": letters then digits. Returns the letters, or "".
std::string_view IdentifierStem(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsAlpha(s[i])) ++i;
  if (i == 0 || i == s.size()) return {};
  for (size_t j = i; j < s.size(); ++j) {
    if (!IsDigit(s[j])) return {};
  }
  return s.substr(0, i);
}

std::string_view TrimPunct(std::string_view s) {
  while (!s.empty() && !IsAlpha(s.front()) && !IsDigit(s.front())) s.remove_prefix(1);
  while (!s.empty() && !IsAlpha(s.back()) && !IsDigit(s.back())) s.remove_suffix(1);
  return s;
}

bool IsUnit(std::string_view s) {
  static constexpr std::string_view kUnits[] = {"B", "KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB",
                                                "bytes", "byte", "kB", "ms", "us", "ns", "s", "sec", "secs",
                                                "seconds", "min", "mins", "minutes", "h", "hours"};
  for (std::string_view u : kUnits) {
    if (s == u) return true;
  }
  return false;
}

bool IsNumber(std::string_view s) {
  if (s.empty()) return false;
  bool digit = false;
  for (char c : s) {
    if (IsDigit(c)) digit = true;
    else if (c != '.' && c != ',') return false;
  }
  return digit;
}

bool IsHttpVersion(std::string_view s) {
  return s.size() >= 6 && s.substr(0, 5) == "HTTP/" && IsDigit(s[5]);
}

}  // namespace

bool VariableMasker::IsVariableFragment(std::string_view f) const {
  if (f.empty()) return false;
  int digits = 0;
  for (char c : f) digits += IsDigit(c);
  if (digits == 0) {
    if (f == "true" || f == "false") return true;  // booleans are values
    if (f.size() >= 8) {
      bool hex = true;
      for (char c : f) hex = hex && IsHexDigit(c);
      if (hex) return true;  // "ffffffff"
    }
    return LooksLikeHostname(f);
  }
  char first = f[0];
  if (IsDigit(first)) return true;
  if ((first == '-' || first == '+' || first == '#' || first == '.') && f.size() > 1 && IsDigit(f[1])) return true;
  if (!IsAlpha(first)) return true;
  // Letters then digits: an identifier such as eth1 or PSR0 when the number is
  // short and single; anything with more digits (dn228, node-246, blk_-42,
  // a64f992) is a value.
  int runs = 0;
  int longest = 0;
  int run = 0;
  for (char c : f) {
    if (IsDigit(c)) {
      if (run == 0) ++runs;
      ++run;
      if (run > longest) longest = run;
    } else {
      run = 0;
    }
  }
  return runs > 1 || longest > options_.max_identifier_digits;
}

void VariableMasker::MaskToken(std::string_view token, std::string* out) const {
  // Whole-token shapes first: a URL, a path, an e-mail address or an IPv6
  // address is one variable however many delimiters it holds.
  size_t lead = 0;
  while (lead < token.size() && IsOpening(token[lead])) ++lead;
  size_t trail = token.size();
  while (trail > lead && IsClosing(token[trail - 1])) --trail;
  std::string_view core = token.substr(lead, trail - lead);
  if (!core.empty()) {
    size_t scheme_end = 0;
    bool whole = false;
    if (LooksLikeUrl(core, &scheme_end)) {
      out->append(token.substr(0, lead));
      out->append(core.substr(0, scheme_end));
      out->append(kWildcard);
      out->append(token.substr(trail));
      return;
    }
    whole = LooksLikePath(core) || LooksLikeEmail(core) || LooksLikeColonHex(core);
    if (whole) {
      // A path's trailing full stop is taken with it ("part-00050." is a file name).
      std::string_view rest = token.substr(trail);
      if (LooksLikePath(core) && rest.starts_with('.')) rest.remove_prefix(1);
      out->append(token.substr(0, lead));
      out->append(kWildcard);
      out->append(rest);
      return;
    }
  }

  // Fragment by fragment.
  size_t token_start = out->size();
  bool after_equals = false;
  size_t i = 0;
  while (i < token.size()) {
    // A path or a MAC/IPv6 address inside a token: "chdir(/p/q/r)", "mLp(FF:F2:..)".
    if (token[i] == '/' && (i == 0 || IsOpening(token[i - 1]))) {
      size_t e = i;
      int slashes = 0;
      while (e < token.size() && token[e] != ')' && token[e] != ']' && token[e] != '"' && token[e] != '\'' &&
             token[e] != ',' && token[e] != ';') {
        slashes += token[e] == '/';
        ++e;
      }
      if (slashes >= 2) {
        out->append(kWildcard);
        i = e;
        continue;
      }
    }
    if (IsHexDigit(token[i]) && (i == 0 || IsDelimiter(token[i - 1]))) {
      size_t e = i;
      int colons = 0;
      while (e < token.size() && (IsHexDigit(token[e]) || token[e] == ':')) colons += token[e++] == ':';
      if (colons >= 5) {
        out->append(kWildcard);
        i = e;
        continue;
      }
    }
    if (IsDelimiter(token[i])) {
      out->push_back(token[i]);
      after_equals = token[i] == '=';
      ++i;
      continue;
    }
    size_t j = i;
    while (j < token.size() && !IsDelimiter(token[j])) ++j;
    std::string_view frag = token.substr(i, j - i);
    // "node-246", "CPU#0": a word names the kind, the number after the dash
    // is the value.
    // "core.2275" and "enable......0" likewise.
    {
      size_t w = 0;
      while (w < frag.size() && IsAlpha(frag[w])) ++w;
      if (w > 0 && w + 1 < frag.size() && (frag[w] == '-' || frag[w] == '#' || frag[w] == '.')) {
        size_t d = w;
        while (d < frag.size() && frag[d] == frag[w]) ++d;
        if (d < frag.size() && IsDigit(frag[d]) && (d == w + 1 || frag[w] == '.')) {
          out->append(frag.substr(0, d));
          frag.remove_prefix(d);
        }
      }
    }
    bool variable = IsVariableFragment(frag) || (after_equals && options_.mask_kv_values);
    if (variable) {
      // A sentence's full stop after a number is not part of the number.
      size_t keep = frag.size();
      while (keep > 1 && frag[keep - 1] == '.') --keep;
      // "/10.0.0.1:22": the slash belongs to the address, not the template.
      if (out->size() == token_start + 1 && (*out)[token_start] == '/') out->pop_back();
      // Two variables glued together are one variable.
      if (!(out->size() >= token_start + 3 && std::string_view(*out).substr(out->size() - 3) == kWildcard)) {
        out->append(kWildcard);
      }
      out->append(frag.substr(keep));
    } else {
      out->append(frag);
    }
    after_equals = false;
    i = j;
  }
}

void VariableMasker::Mask(std::string_view message, MaskedLine* out) const {
  out->clear();
  thread_local std::vector<std::string_view> tokens;
  tokens.clear();
  size_t i = 0;
  size_t n = message.size();
  while (i < n) {
    while (i < n && IsSpace(message[i])) ++i;
    if (i >= n) break;
    size_t j = i;
    while (j < n && !IsSpace(message[j])) ++j;
    tokens.push_back(message.substr(i, j - i));
    i = j;
  }
  auto starts_with_digit = [&](size_t k) { return k < tokens.size() && !tokens[k].empty() && IsDigit(tokens[k][0]); };
  for (size_t k = 0; k < tokens.size(); ++k) {
    std::string_view tok = tokens[k];
    std::string_view core = TrimPunct(tok);
    bool whole = false;
    // A size restated in another unit ("1190 bytes (1.16 KB) sent"): the
    // parenthesis is the same value again, not part of the event.
    if (k >= 2 && k + 1 < tokens.size() && tok.size() > 1 && tok[0] == '(' && IsNumber(tok.substr(1)) &&
        IsUnit(TrimPunct(tokens[k - 1])) && IsNumber(TrimPunct(tokens[k - 2])) && tokens[k + 1].size() > 1) {
      std::string_view unit = tokens[k + 1];
      size_t close = unit.find(')');
      if (close != std::string_view::npos && IsUnit(unit.substr(0, close))) {
        std::string_view after = unit.substr(close + 1);
        out->text.append(after);  // keep "," or ";" that followed the parenthesis
        out->token_end.back() = static_cast<uint32_t>(out->text.size());
        ++k;
        continue;
      }
    }
    // A bounded duration or size ("<1 sec", ">10 MB"): one value.
    if (tok.size() > 1 && (tok[0] == '<' || tok[0] == '>') && IsNumber(tok.substr(1)) && k + 1 < tokens.size() &&
        IsUnit(TrimPunct(tokens[k + 1]))) {
      if (!out->token_end.empty()) out->text.push_back(' ');
      out->text.append(kWildcard);
      std::string_view next = tokens[k + 1];
      out->text.append(next.substr(TrimPunct(next).size() + (next.find(TrimPunct(next)))));
      out->token_end.push_back(static_cast<uint32_t>(out->text.size()));
      ++k;
      continue;
    }
    // Day and month names inside a date ("at Sun Jul 10 03:55:15 2005").
    if (IsCalendarWord(core) && (starts_with_digit(k + 1) || starts_with_digit(k + 2) || (k > 0 && starts_with_digit(k - 1)))) {
      whole = true;
    }
    // A list of numbered names ("an14 an15 an16"): each is a value.
    std::string_view stem = IdentifierStem(core);
    bool continues_list = false;
    if (!stem.empty()) {
      continues_list = k > 0 && IdentifierStem(TrimPunct(tokens[k - 1])) == stem && TrimPunct(tokens[k - 1]) != core &&
                       std::string_view(out->text).ends_with(kWildcard);
      if ((k + 1 < tokens.size() && IdentifierStem(TrimPunct(tokens[k + 1])) == stem && TrimPunct(tokens[k + 1]) != core) ||
          (k > 0 && IdentifierStem(TrimPunct(tokens[k - 1])) == stem && TrimPunct(tokens[k - 1]) != core)) {
        whole = true;
      }
    }
    // "GET /path HTTP/1.1": the protocol version belongs to the request target.
    if (IsHttpVersion(tok) && !out->text.empty() && std::string_view(out->text).ends_with(kWildcard)) {
      out->text.append(tok.substr(tok.find_first_not_of("HTTP/0123456789.")  == std::string_view::npos
                                      ? tok.size() : tok.find_first_not_of("HTTP/0123456789.")));
      out->token_end.back() = static_cast<uint32_t>(out->text.size());
      continue;
    }
    if (continues_list) continue;  // one list, one variable
    if (!out->token_end.empty()) out->text.push_back(' ');
    if (whole) {
      size_t a = tok.find(core);
      out->text.append(tok.substr(0, a));
      out->text.append(kWildcard);
      out->text.append(tok.substr(a + core.size()));
    } else {
      MaskToken(tok, &out->text);
    }
    out->token_end.push_back(static_cast<uint32_t>(out->text.size()));
  }
}

}  // namespace vigil::logs
