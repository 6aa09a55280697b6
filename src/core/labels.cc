#include "core/labels.h"

#include <algorithm>

#include "core/hash.h"

namespace vigil {

Result<Labels> Labels::FromPairs(std::vector<Label> labels) {
  std::erase_if(labels, [](const Label& l) { return l.value.empty(); });
  std::sort(labels.begin(), labels.end(),
            [](const Label& a, const Label& b) { return a.name < b.name; });
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i].name.empty()) {
      return Status::InvalidArgument("label with an empty name (value \"" + labels[i].value + "\")");
    }
    if (i > 0 && labels[i].name == labels[i - 1].name) {
      return Status::InvalidArgument("duplicate label name \"" + labels[i].name + "\"");
    }
  }
  Labels out;
  out.items_ = std::move(labels);
  return out;
}

Labels Labels::FromSorted(std::vector<Label> sorted) {
  std::sort(sorted.begin(), sorted.end(),
            [](const Label& a, const Label& b) { return a.name < b.name; });
  Labels out;
  out.items_ = std::move(sorted);
  return out;
}

std::string_view Labels::Get(std::string_view name) const {
  auto it = std::lower_bound(items_.begin(), items_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != items_.end() && it->name == name) return it->value;
  return {};
}

namespace {
void AppendEscaped(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}
}  // namespace

std::string Labels::ToString() const {
  std::string out(MetricName());
  out += '{';
  bool first = true;
  for (const auto& l : items_) {
    if (l.name == "__name__") continue;
    if (!first) out += ',';
    first = false;
    out += l.name;
    out += "=\"";
    AppendEscaped(out, l.value);
    out += '"';
  }
  out += '}';
  return out;
}

namespace {
constexpr uint64_t kSeriesIdSeed = 0x76696769ULL;  // "vigi"

void AppendLabel(std::string& buf, std::string_view name, std::string_view value) {
  buf.append(name);
  buf += '\xff';
  buf.append(value);
  buf += '\xff';
}
}  // namespace

SeriesId SeriesIdOf(const Labels& labels) {
  // Called for every ingested series: reuse one buffer per thread.
  thread_local std::string buf;
  buf.clear();
  for (const auto& l : labels.items()) AppendLabel(buf, l.name, l.value);
  return StableHash64(buf, kSeriesIdSeed);
}

std::string SeriesIdToHex(SeriesId id) {
  static const char* kDigits = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i) {
    s[i] = kDigits[id & 0xf];
    id >>= 4;
  }
  return s;
}

Result<SeriesId> SeriesIdFromHex(std::string_view hex) {
  if (hex.empty() || hex.size() > 16) {
    return Status::InvalidArgument("series id must be 1 to 16 hex digits, got \"" + std::string(hex) + "\"");
  }
  SeriesId v = 0;
  for (char c : hex) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return Status::InvalidArgument("series id has a non-hex character in \"" + std::string(hex) + "\"");
    v = (v << 4) | static_cast<SeriesId>(d);
  }
  return v;
}

std::string ValueInEntityKey(std::string_view key, std::string_view name) {
  const std::string head = std::string(name) + "=\"";
  for (size_t at = 0; at < key.size();) {
    if (key.compare(at, head.size(), head) == 0) {
      std::string v;
      for (size_t i = at + head.size(); i < key.size() && key[i] != '"'; ++i) {
        if (key[i] == '\\' && i + 1 < key.size()) {
          ++i;
          v.push_back(key[i] == 'n' ? '\n' : key[i]);
        } else {
          v.push_back(key[i]);
        }
      }
      return v;
    }
    // Next label: past this one's closing quote and comma.
    bool in_value = false;
    size_t i = at;
    for (; i < key.size(); ++i) {
      if (key[i] == '"') in_value = !in_value;
      else if (key[i] == '\\' && in_value) ++i;
      else if (key[i] == ',' && !in_value) break;
    }
    at = i + 1;
  }
  return {};
}

}  // namespace vigil
