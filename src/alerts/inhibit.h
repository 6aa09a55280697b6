// InhibitStage: Alertmanager's inhibition rules. A firing alert matching a
// rule's source_matchers mutes every alert matching its target_matchers
// that has the same values for the rule's `equal` labels (an absent label
// counts as the value ""). An alert never inhibits itself, and, as in
// Alertmanager, an alert that matches both sides of a rule is not muted by
// another alert that also matches both sides (so "critical inhibits
// warning" rules cannot mute a whole group).
//
// Sources are indexed per rule by their `equal` values, so a check costs
// one lookup per rule whose target matches. Update() is called for every
// alert change. Not thread-safe: one owner.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "alerts/matcher.h"
#include "core/alert.h"

namespace vigil {

struct InhibitRule {
  std::vector<Matcher> source_matchers;
  std::vector<Matcher> target_matchers;
  std::vector<std::string> equal;
};

class InhibitStage {
 public:
  explicit InhibitStage(std::vector<InhibitRule> rules) : rules_(std::move(rules)), sources_(rules_.size()) {}

  // Records that the alert `fp` with `labels` is firing (or not).
  void Update(Fingerprint fp, const Labels& labels, bool firing);
  // True when a firing source mutes this alert; *by gets the muting alert.
  bool Inhibited(Fingerprint fp, const Labels& labels, Fingerprint* by = nullptr) const;
  size_t rule_count() const { return rules_.size(); }

 private:
  struct Source {
    Fingerprint fp;
    bool both_sides;  // also matches the rule's target
    bool operator<(const Source& o) const { return fp < o.fp; }
  };
  std::string EqualKey(const InhibitRule& r, const Labels& labels) const;

  std::vector<InhibitRule> rules_;
  std::vector<std::map<std::string, std::set<Source>>> sources_;  // per rule: equal key -> firing sources
};

}  // namespace vigil
