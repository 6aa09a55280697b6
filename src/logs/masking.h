// VariableMasker: replaces the parts of a log message that are obviously
// variables (numbers, hex, IPs with ports, UUIDs, paths, URLs, e-mail
// addresses, durations and sizes, dates and times) with "<*>", before any
// clustering sees the message.
//
// Why mask first: every template miner since Drain (He et al., ICWS 2017)
// depends on it, and the Loghub-2.0 study (Jiang et al., ISSTA 2024) shows that
// most grouping errors of statistical parsers come from variables the masks
// missed. The rules here are generic (no per-dataset regexes) and work below
// the token: `(HWID=1973)` becomes `(HWID=<*>)` and `10.0.0.1:22` becomes
// `<*>:<*>`, which is the convention of the corrected Loghub ground truth.
//
// Masked output is a sequence of whitespace-separated tokens written into a
// caller-owned buffer (no allocation per line once the buffer has grown).
// Pure; any thread may use its own instance.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::logs {

inline constexpr std::string_view kWildcard = "<*>";

struct MaskOptions {
  // A token made of letters followed by a short number (eth1, ssh2, PSR0,
  // awdl0) is kept as a constant when its digits are at most this many.
  int max_identifier_digits = 1;
  // Mask the value of every key=value pair, even when it has no digit.
  bool mask_kv_values = false;
};

// One masked message: `text` holds the tokens separated by single spaces;
// `token_end[i]` is the end offset of token i in `text`.
struct MaskedLine {
  std::string text;
  std::vector<uint32_t> token_end;
  size_t size() const { return token_end.size(); }
  std::string_view token(size_t i) const {
    uint32_t begin = i == 0 ? 0 : token_end[i - 1] + 1;
    return std::string_view(text).substr(begin, token_end[i] - begin);
  }
  void clear() {
    text.clear();
    token_end.clear();
  }
};

class VariableMasker {
 public:
  explicit VariableMasker(MaskOptions options = {}) : options_(options) {}

  // Masks `message` into *out (cleared first).
  void Mask(std::string_view message, MaskedLine* out) const;

  // Masks one whitespace-free token, appending to *out.
  void MaskToken(std::string_view token, std::string* out) const;

  // True when a delimiter-free fragment is a variable by its shape alone.
  bool IsVariableFragment(std::string_view fragment) const;

 private:
  MaskOptions options_;
};

// True for a token that is exactly "<*>".
inline bool IsWildcard(std::string_view token) { return token == kWildcard; }

}  // namespace vigil::logs
