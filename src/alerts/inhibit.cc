#include "alerts/inhibit.h"

namespace vigil {

std::string InhibitStage::EqualKey(const InhibitRule& r, const Labels& labels) const {
  std::string key;
  for (const auto& name : r.equal) {
    key += labels.Get(name);
    key += '\xff';
  }
  return key;
}

void InhibitStage::Update(Fingerprint fp, const Labels& labels, bool firing) {
  for (size_t i = 0; i < rules_.size(); ++i) {
    const InhibitRule& r = rules_[i];
    if (!MatchesAll(r.source_matchers, labels)) continue;
    std::string key = EqualKey(r, labels);
    Source s{fp, MatchesAll(r.target_matchers, labels)};
    if (firing) {
      sources_[i][key].insert(s);
    } else {
      auto it = sources_[i].find(key);
      if (it == sources_[i].end()) continue;
      it->second.erase(s);
      if (it->second.empty()) sources_[i].erase(it);
    }
  }
}

bool InhibitStage::Inhibited(Fingerprint fp, const Labels& labels, Fingerprint* by) const {
  for (size_t i = 0; i < rules_.size(); ++i) {
    const InhibitRule& r = rules_[i];
    if (!MatchesAll(r.target_matchers, labels)) continue;
    auto it = sources_[i].find(EqualKey(r, labels));
    if (it == sources_[i].end()) continue;
    bool target_is_source = MatchesAll(r.source_matchers, labels);
    for (const Source& s : it->second) {
      if (s.fp == fp) continue;
      if (target_is_source && s.both_sides) continue;
      if (by) *by = s.fp;
      return true;
    }
  }
  return false;
}

}  // namespace vigil
