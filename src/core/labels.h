// Labels identify a series (or an alert, or an entity). A Labels value is
// always sorted by name with unique names, so equal sets compare equal and
// hash to the same SeriesId.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil {

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
};

// Stable identifier of a series: hash of its sorted label set. Identical
// across restarts and machines (see SeriesIdOf).
using SeriesId = uint64_t;

class Labels {
 public:
  Labels() = default;

  // Sorts `labels` by name and validates them: names must be non-empty and
  // unique. Labels with an empty value are dropped (Prometheus semantics: an
  // empty value is the same as an absent label).
  static Result<Labels> FromPairs(std::vector<Label> labels);
  // For trusted, already-valid input; sorts but does not validate.
  static Labels FromSorted(std::vector<Label> sorted);

  // Overwrites this set with `n` labels, label i being get(i) as a pair of
  // string views, which the caller guarantees sorted, unique and valid.
  // Reuses the memory already held, so that a decoder refilling the same
  // Labels for every request does not allocate.
  template <typename GetLabel>
  void AssignSorted(size_t n, GetLabel get) {
    items_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      auto [name, value] = get(i);
      items_[i].name.assign(name);
      items_[i].value.assign(value);
    }
  }

  // Value of `name`, or "" when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const { return !Get(name).empty(); }
  // The value of the first of `names` this set has, or "" (e.g. the service
  // of a series from a preference list: service, job, app).
  std::string_view FirstOf(const std::vector<std::string>& names) const {
    for (const auto& n : names) {
      if (std::string_view v = Get(n); !v.empty()) return v;
    }
    return {};
  }
  // The value of __name__.
  std::string_view MetricName() const { return Get("__name__"); }

  // Prometheus text form: metric{a="b",c="d"} (values escaped).
  std::string ToString() const;

  const std::vector<Label>& items() const { return items_; }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  bool operator==(const Labels&) const = default;

 private:
  std::vector<Label> items_;
};

// Hash of a sorted label set. Frozen format: for each label, the bytes of
// name, 0xff, value, 0xff are fed in order to StableHash64.
SeriesId SeriesIdOf(const Labels& labels);

// Hex form of a series id (16 lowercase digits), used in the API.
std::string SeriesIdToHex(SeriesId id);
// Parses 1..16 hex digits.
Result<SeriesId> SeriesIdFromHex(std::string_view hex);

// The value of label `name` in an incident's entity key (name="value",...
// without braces, values escaped as in Labels::ToString), unescaped; ""
// when absent.
std::string ValueInEntityKey(std::string_view key, std::string_view name);

}  // namespace vigil
