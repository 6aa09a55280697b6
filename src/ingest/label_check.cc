#include "ingest/label_check.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include <simdjson.h>

namespace vigil::ingest_internal {

namespace {

// Bit 1: may start a label name; bit 2: may continue one; bit 4: may start a
// metric name; bit 8: may continue one.
constexpr std::array<uint8_t, 256> MakeNameTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    uint8_t bits = 0;
    if (alpha) bits |= 1 | 2 | 4 | 8;
    if (digit) bits |= 2 | 8;
    if (c == ':') bits |= 4 | 8;
    t[static_cast<size_t>(c)] = bits;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kNameTable = MakeNameTable();

bool MatchesName(std::string_view s, uint8_t first_bit, uint8_t rest_bit) {
  if (s.empty()) return false;
  if (!(kNameTable[static_cast<unsigned char>(s[0])] & first_bit)) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    if (!(kNameTable[static_cast<unsigned char>(s[i])] & rest_bit)) return false;
  }
  return true;
}

}  // namespace

bool IsValidLabelName(std::string_view name) { return MatchesName(name, 1, 2); }
bool IsValidMetricName(std::string_view name) { return MatchesName(name, 4, 8); }

bool IsValidUtf8(std::string_view text) {
  // Almost every label value is ASCII: a plain scan is cheaper than the call.
  for (unsigned char c : text) {
    if (c >= 0x80) return simdjson::validate_utf8(text.data(), text.size());
  }
  return true;
}

std::string Quote(std::string_view text, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 8);
  out += '"';
  const size_t n = std::min(text.size(), max_bytes);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  out += '"';
  if (text.size() > max_bytes) out += "...";
  return out;
}

std::string NormalizeLabels(std::vector<LabelView>& labels, bool require_metric_name) {
  std::erase_if(labels, [](const LabelView& l) { return l.value.empty(); });
  // One comparison per adjacent pair finds both disorder and duplicates;
  // only disorder (rare: Prometheus sends sorted labels) costs a sort.
  size_t duplicate = 0;  // index of the second of a pair of equal names, or 0
  for (size_t i = 1; i < labels.size(); ++i) {
    const int c = labels[i - 1].name.compare(labels[i].name);
    if (c > 0) {
      std::stable_sort(labels.begin(), labels.end(),
                       [](const LabelView& a, const LabelView& b) { return a.name < b.name; });
      duplicate = 0;
      for (size_t j = 1; j < labels.size() && duplicate == 0; ++j) {
        if (labels[j - 1].name == labels[j].name) duplicate = j;
      }
      break;
    }
    if (c == 0 && duplicate == 0) duplicate = i;
  }
  if (duplicate != 0) {
    return "duplicate label name " + Quote(labels[duplicate].name) + " (values " +
           Quote(labels[duplicate - 1].value) + " and " + Quote(labels[duplicate].value) + ")";
  }
  static constexpr std::string_view kMetricName = "__name__";
  bool has_name = false;
  for (const LabelView& l : labels) {
    if (l.name.size() == kMetricName.size() && l.name == kMetricName) {
      if (!IsValidMetricName(l.value)) return "invalid metric name " + Quote(l.value);
      has_name = true;
      continue;
    }
    if (!IsValidLabelName(l.name)) {
      return "invalid label name " + Quote(l.name) + " (value " + Quote(l.value) + ")";
    }
    if (!IsValidUtf8(l.value)) return "label " + Quote(l.name) + " has a value that is not valid UTF-8: " + Quote(l.value);
  }
  if (require_metric_name && !has_name) return "missing metric name (label __name__)";
  return {};
}

Labels LabelsFromViews(const std::vector<LabelView>& labels) {
  std::vector<Label> out;
  out.reserve(labels.size());
  for (const LabelView& l : labels) out.push_back(Label{std::string(l.name), std::string(l.value)});
  return Labels::FromSorted(std::move(out));
}

}  // namespace vigil::ingest_internal
