#include "incidents/correlator.h"

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <set>

namespace vigil {

namespace {

// Three significant digits: 0.98, 0.0213, 1.23e+06.
std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string Duration(TimestampMs ms) {
  TimestampMs s = ms / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  return std::to_string(s / 3600) + "h" + (s % 3600 / 60 ? std::to_string(s % 3600 / 60) + "m" : "");
}

std::string ValueText(const Anomaly& a) {
  return a.is_rate ? "rate " + Num(a.value) + "/s" : "value " + Num(a.value);
}

// One timeline line about an anomaly.
std::string AnomalyLine(const Anomaly& a) {
  std::string s = a.labels.ToString() + " " + (a.pattern.empty() ? DirectionName(a.direction) : a.pattern) + ": " +
                  ValueText(a) + " (expected " + Num(a.expected) + ", normal " + Num(a.lower) + " to " +
                  Num(a.upper) + "), score " + Num(a.score);
  if (!a.detector.empty()) s += ", " + a.detector;
  return s;
}

TimelineEntry Line(int64_t incident_id, TimestampMs ts, const char* kind, std::string text, int64_t ref = 0) {
  TimelineEntry e;
  e.incident_id = incident_id;
  e.ts_ms = ts;
  e.kind = kind;
  e.text = std::move(text);
  e.ref_id = ref;
  return e;
}

}  // namespace

const char* IncidentChangeKindName(IncidentChange::Kind kind) {
  switch (kind) {
    case IncidentChange::Kind::kOpened: return "opened";
    case IncidentChange::Kind::kUpdated: return "updated";
    case IncidentChange::Kind::kResolved: return "resolved";
  }
  return "unknown";
}

IncidentCorrelator::IncidentCorrelator(IncidentConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.min_anomalies = std::max(1, cfg_.min_anomalies);
  cfg_.min_series = std::clamp(cfg_.min_series, 1, cfg_.min_anomalies);
  cfg_.max_series = std::max<size_t>(1, cfg_.max_series);
  cfg_.max_evidence = std::max<size_t>(static_cast<size_t>(cfg_.min_anomalies), cfg_.max_evidence);
  cfg_.evidence_window_ms = std::max<TimestampMs>(0, cfg_.evidence_window_ms);
  cfg_.resolve_after_ms = std::max<TimestampMs>(0, cfg_.resolve_after_ms);
}

void IncidentCorrelator::Restore(std::vector<Incident> open_incidents) {
  // Newest last, so it wins the entity.
  std::sort(open_incidents.begin(), open_incidents.end(),
            [](const Incident& a, const Incident& b) { return a.opened_ms < b.opened_ms; });
  for (auto& inc : open_incidents) {
    if (inc.state != IncidentState::kOpen) continue;
    auto it = open_.find(inc.entity);
    if (it != open_.end()) {
      superseded_.push_back(std::move(it->second));
      it->second = std::move(inc);
    } else {
      std::string key = inc.entity;
      open_.emplace(std::move(key), std::move(inc));
    }
  }
  // Grouped incidents: their members and services.
  for (const auto& [primary, inc] : open_) {
    std::vector<std::string> groups;
    auto note = [&](std::string g) {
      if (!g.empty() && std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(std::move(g));
    };
    note(GroupOf(inc.entity_labels));
    for (const auto& m : inc.members) {
      member_of_[m] = primary;
      for (const auto& n : cfg_.group_labels) {
        if (std::string g = ValueInEntityKey(m, n); !g.empty()) {
          note(std::move(g));
          break;
        }
      }
    }
    if (!groups.empty()) groups_[primary] = std::move(groups);
  }
}

void IncidentCorrelator::RestorePeers(const std::string& entity, const std::vector<Anomaly>& anomalies) {
  std::string primary = entity;
  if (!open_.count(primary)) {
    auto m = member_of_.find(entity);
    if (m == member_of_.end()) return;
    primary = m->second;
  }
  for (const auto& a : anomalies) NotePeers(primary, a);
}

std::string IncidentCorrelator::EntityOf(const Labels& labels, Labels* entity_labels) const {
  std::vector<Label> picked;
  for (const auto& name : cfg_.entity_labels) {
    std::string_view v = labels.Get(name);
    if (v.empty()) continue;
    if (std::any_of(picked.begin(), picked.end(), [&](const Label& l) { return l.name == name; })) continue;
    picked.push_back({name, std::string(v)});
  }
  if (picked.empty()) {
    std::string_view name = labels.MetricName();
    if (!name.empty()) {
      if (entity_labels != nullptr) *entity_labels = Labels::FromSorted({{"__name__", std::string(name)}});
      return std::string(name);
    }
    if (entity_labels != nullptr) *entity_labels = labels;
    return labels.ToString();
  }
  Labels el = Labels::FromSorted(std::move(picked));
  // Labels::ToString() is name{a="b",...}; without a name it is {a="b",...}.
  std::string key = el.ToString();
  key = key.substr(1, key.size() - 2);
  if (entity_labels != nullptr) *entity_labels = std::move(el);
  return key;
}

bool IncidentCorrelator::IsSupporting(const Anomaly& a) const {
  std::string_view metric = a.labels.MetricName();
  return std::find(cfg_.supporting_metrics.begin(), cfg_.supporting_metrics.end(), metric) !=
         cfg_.supporting_metrics.end();
}

void IncidentCorrelator::CountSeries(const Labels& series_labels) {
  if (std::string peer = PeerOf(series_labels); !peer.empty()) {
    if (std::string own = GroupOf(series_labels); !own.empty() && own != peer) {
      AddCall(own, peer);
      if (instrumented_.size() < cfg_.max_calls) instrumented_.emplace(own, peer);
    }
  }
  std::string entity = EntityOf(series_labels, nullptr);
  auto it = entity_series_.find(entity);
  if (it != entity_series_.end()) {
    ++it->second;
  } else if (entity_series_.size() < cfg_.max_entities) {
    entity_series_.emplace(std::move(entity), 1);
  }
}

int IncidentCorrelator::RequiredSeries(const std::string& entity) const {
  auto it = entity_series_.find(entity);
  bool large = it != entity_series_.end() && it->second >= cfg_.large_entity_series;
  return large ? std::max(cfg_.min_series, cfg_.min_series_large_entity) : cfg_.min_series;
}

std::string IncidentCorrelator::GroupOf(const Labels& labels) const {
  return std::string(labels.FirstOf(cfg_.group_labels));
}

std::string IncidentCorrelator::PeerOf(const Labels& labels) const {
  return std::string(labels.FirstOf(cfg_.peer_labels));
}

void IncidentCorrelator::AddCall(const std::string& caller, const std::string& callee) {
  if (caller.empty() || callee.empty() || caller == callee || calls_.size() >= cfg_.max_calls) return;
  calls_.emplace(caller, callee);
}

bool IncidentCorrelator::UnmeasuredCall(const std::string& caller, const std::string& callee) const {
  return calls_.count({caller, callee}) > 0 && instrumented_.count({caller, callee}) == 0;
}

void IncidentCorrelator::NotePeers(const std::string& primary, const Anomaly& a) {
  if (std::string p = PeerOf(a.labels); !p.empty()) {
    auto& peers = peers_[primary];
    if (peers.size() < 64) peers.insert(std::move(p));
  }
}

const std::string* IncidentCorrelator::RelatedOpen(const Evidence& ev, TimestampMs now, std::string* why) const {
  if (cfg_.group_labels.empty() || ev.anomalies.empty()) return nullptr;
  const std::string group = GroupOf(ev.anomalies.back().labels);
  std::set<std::string> peers;
  for (const auto& a : ev.anomalies) {
    if (std::string p = PeerOf(a.labels); !p.empty() && p != group) peers.insert(std::move(p));
  }
  // Closest relation first (same service, then a peer the evidence names,
  // then a known call), the youngest incident among equals.
  const std::string* best = nullptr;
  int best_rank = 3;
  TimestampMs best_opened = 0;
  for (const auto& [primary, groups] : groups_) {
    auto inc = open_.find(primary);
    // Only a young incident gathers: a fault spreads within minutes, and a
    // pod or caller failing long after is more likely a new fault (its own
    // page, and its own entry in the scorecard's recall).
    if (inc == open_.end() || now - inc->second.opened_ms > cfg_.group_window_ms) continue;
    // Began within one evidence window of the incident: one event (a load
    // burst, a fast fault) reaching both at once, even where a measured call
    // has not shown it yet (its peer evidence often comes seconds later).
    bool together = std::llabs(ev.anomalies.front().ts_ms - inc->second.opened_ms) <= cfg_.evidence_window_ms;
    int rank = 3;
    std::string reason;
    if (auto p = peers_.find(primary); !group.empty() && p != peers_.end() && p->second.count(group) > 0) {
      rank = 1;
      reason = "the incident's calls to " + group + " are affected";
    }
    for (const auto& g : groups) {
      if (!group.empty() && g == group) {
        rank = 0;
        reason = "another entity of " + group;
        break;
      }
      if (rank > 1 && peers.count(g) > 0) {
        rank = 1;
        reason = group + " calls " + g;
      } else if (rank > 2 && !group.empty()) {
        if (UnmeasuredCall(group, g)) {
          rank = 2;
          reason = group + " calls " + g;
        } else if (UnmeasuredCall(g, group)) {
          rank = 2;
          reason = group + " is called by " + g;
        } else if (together && calls_.count({group, g}) > 0) {
          rank = 2;
          reason = group + " calls " + g + " and began failing with it";
        } else if (together && calls_.count({g, group}) > 0) {
          rank = 2;
          reason = group + " is called by " + g + " and began failing with it";
        }
      }
    }
    if (rank < best_rank || (rank == best_rank && rank < 3 && inc->second.opened_ms > best_opened)) {
      best = &primary;
      best_rank = rank;
      best_opened = inc->second.opened_ms;
      *why = reason;
    }
  }
  return best;
}

IncidentChange IncidentCorrelator::JoinGroup(const std::string& primary, const std::string& entity, Evidence ev,
                                             const std::string& why) {
  Incident& inc = open_.at(primary);
  IncidentChange change;
  change.kind = IncidentChange::Kind::kUpdated;
  TimestampMs decided = ev.anomalies.back().ts_ms;
  change.timeline.push_back(Line(inc.id, decided, "joined",
                                 entity + " joined after " + std::to_string(ev.anomalies.size()) + " anomalies (" +
                                     why + ")"));
  for (const auto& a : ev.anomalies) {
    Absorb(inc, a, &change);
    NotePeers(primary, a);
  }
  inc.members.push_back(entity);
  member_of_[entity] = primary;
  if (std::string g = GroupOf(ev.anomalies.back().labels); !g.empty()) {
    auto& groups = groups_[primary];
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(std::move(g));
  }
  change.incident = inc;
  return change;
}

std::string IncidentCorrelator::Title(const Anomaly& a, const std::string& entity) const {
  // The series without its entity labels: those follow "on".
  std::vector<Label> own;
  for (const auto& l : a.labels.items()) {
    if (std::find(cfg_.entity_labels.begin(), cfg_.entity_labels.end(), l.name) == cfg_.entity_labels.end()) {
      own.push_back(l);
    }
  }
  return Labels::FromSorted(std::move(own)).ToString() + " " + DirectionName(a.direction) + " (" + ValueText(a) +
         ", expected " + Num(a.expected) + ") on " + entity;
}

// Adds one anomaly's evidence to an incident: counts, series list, title.
void IncidentCorrelator::Absorb(Incident& inc, const Anomaly& a, IncidentChange* change) {
  ++inc.anomaly_count;
  // Only strong evidence keeps an incident alive: once the anomalies that
  // matter have stopped, weak echoes on the same entity (a load average
  // decaying, a buffer refilling) join it but do not hold it open.
  if ((a.score >= cfg_.open_score && !IsSupporting(a)) || inc.last_anomaly_ms == 0) {
    inc.last_anomaly_ms = std::max(inc.last_anomaly_ms, a.ts_ms);
  }
  inc.updated_ms = std::max(inc.updated_ms, a.ts_ms);
  if (a.score > inc.max_score || inc.title.empty()) {
    inc.max_score = std::max(inc.max_score, a.score);
    inc.title = Title(a, inc.entity);
  }
  if (a.id != 0) change->anomaly_ids.push_back(a.id);

  auto it = std::find_if(inc.series.begin(), inc.series.end(),
                         [&](const IncidentSeries& s) { return s.series == a.series; });
  if (it == inc.series.end()) {
    // A series joins the incident: worth a line on the timeline.
    change->timeline.push_back(Line(inc.id, a.ts_ms, "anomaly", AnomalyLine(a), a.id));
    IncidentSeries s;
    s.series = a.series;
    s.name = a.labels.ToString();
    s.max_score = a.score;
    s.anomalies = 1;
    s.last_anomaly_ms = a.ts_ms;
    inc.series.push_back(std::move(s));
  } else {
    it->max_score = std::max(it->max_score, a.score);
    ++it->anomalies;
    it->last_anomaly_ms = std::max(it->last_anomaly_ms, a.ts_ms);
  }
  std::stable_sort(inc.series.begin(), inc.series.end(),
                   [](const IncidentSeries& x, const IncidentSeries& y) { return x.max_score > y.max_score; });
  if (inc.series.size() > cfg_.max_series) inc.series.resize(cfg_.max_series);
}

IncidentChange IncidentCorrelator::Open(const std::string& entity, Evidence ev) {
  Incident inc;
  inc.entity = entity;
  inc.entity_labels = std::move(ev.entity_labels);
  inc.state = IncidentState::kOpen;
  inc.opened_ms = ev.anomalies.front().ts_ms;  // when the trouble started
  inc.updated_ms = inc.opened_ms;
  IncidentChange change;
  change.kind = IncidentChange::Kind::kOpened;
  TimestampMs decided = ev.anomalies.back().ts_ms;
  std::vector<TimelineEntry> series_lines;
  for (const auto& a : ev.anomalies) Absorb(inc, a, &change);
  series_lines.swap(change.timeline);
  change.timeline.push_back(Line(0, decided, "opened",
                                 "opened after " + std::to_string(ev.anomalies.size()) + " anomalies in " +
                                     Duration(decided - inc.opened_ms) + ": " + inc.title));
  for (auto& l : series_lines) change.timeline.push_back(std::move(l));
  change.incident = inc;
  if (std::string g = GroupOf(ev.anomalies.back().labels); !g.empty()) groups_[entity] = {std::move(g)};
  for (const auto& a : ev.anomalies) NotePeers(entity, a);
  open_.emplace(entity, std::move(inc));
  return change;
}

IncidentChange IncidentCorrelator::Join(Incident& inc, const Anomaly& a, IncidentChange::Kind kind) {
  IncidentChange change;
  change.kind = kind;
  Absorb(inc, a, &change);
  change.incident = inc;
  return change;
}

std::vector<IncidentChange> IncidentCorrelator::OnAnomaly(const Anomaly& a) {
  std::vector<IncidentChange> out;
  std::string_view metric = a.labels.MetricName();
  if (std::find(cfg_.self_metrics.begin(), cfg_.self_metrics.end(), metric) != cfg_.self_metrics.end()) return out;
  const bool supporting = IsSupporting(a);
  Labels entity_labels;
  std::string entity = EntityOf(a.labels, &entity_labels);

  if (auto it = open_.find(entity); it != open_.end()) {
    if (!cfg_.group_labels.empty()) NotePeers(entity, a);
    out.push_back(Join(it->second, a, IncidentChange::Kind::kUpdated));
    return out;
  }
  if (auto m = member_of_.find(entity); m != member_of_.end()) {
    if (auto it = open_.find(m->second); it != open_.end()) {
      NotePeers(m->second, a);
      out.push_back(Join(it->second, a, IncidentChange::Kind::kUpdated));
      return out;
    }
    member_of_.erase(m);
  }
  if (supporting) return out;  // explains an incident, never starts one

  // A strong anomaly soon after an incident resolved reopens it (a flapping
  // problem stays one incident); weak ones are only evidence, like the echoes
  // that no longer keep an incident open.
  if (auto it = resolved_.find(entity); it != resolved_.end() && a.score >= cfg_.open_score) {
    Incident inc = std::move(it->second);
    resolved_.erase(it);
    if (a.ts_ms - inc.last_anomaly_ms <= cfg_.join_window_ms) {
      inc.state = IncidentState::kOpen;
      inc.resolved_ms = 0;
      IncidentChange change;
      change.kind = IncidentChange::Kind::kOpened;
      change.timeline.push_back(Line(inc.id, a.ts_ms, "reopened",
                                     "reopened " + Duration(a.ts_ms - inc.last_anomaly_ms) +
                                         " after its last anomaly: " + AnomalyLine(a),
                                     a.id));
      Absorb(inc, a, &change);
      change.incident = inc;
      open_.emplace(entity, std::move(inc));
      out.push_back(std::move(change));
      return out;
    }
  }

  auto it = evidence_.find(entity);
  if (it == evidence_.end()) {
    if (evidence_.size() >= cfg_.max_entities) return out;  // bounded; Tick() frees stale entries
    it = evidence_.emplace(entity, Evidence{std::move(entity_labels), {}}).first;
  }
  Evidence& ev = it->second;
  ev.anomalies.push_back(a);
  TrimEvidence(ev, a.ts_ms);

  std::set<SeriesId> distinct;
  double strongest = 0;
  for (const auto& e : ev.anomalies) {
    distinct.insert(e.series);
    strongest = std::max(strongest, e.score);
  }
  if (static_cast<int>(ev.anomalies.size()) >= cfg_.min_anomalies &&
      static_cast<int>(distinct.size()) >= RequiredSeries(entity) && strongest >= cfg_.open_score) {
    Evidence taken = std::move(ev);
    evidence_.erase(it);
    std::string why;
    if (const std::string* primary = RelatedOpen(taken, a.ts_ms, &why)) {
      const std::string p = *primary;
      out.push_back(JoinGroup(p, entity, std::move(taken), why));
    } else {
      out.push_back(Open(entity, std::move(taken)));
    }
  }
  return out;
}

void IncidentCorrelator::TrimEvidence(Evidence& ev, TimestampMs now) const {
  // Anomalies arrive roughly in time order; sort the odd late one in.
  if (ev.anomalies.size() >= 2 && ev.anomalies.back().ts_ms < ev.anomalies[ev.anomalies.size() - 2].ts_ms) {
    std::stable_sort(ev.anomalies.begin(), ev.anomalies.end(),
                     [](const Anomaly& x, const Anomaly& y) { return x.ts_ms < y.ts_ms; });
  }
  TimestampMs newest = std::max(now, ev.anomalies.empty() ? now : ev.anomalies.back().ts_ms);
  while (!ev.anomalies.empty() && newest - ev.anomalies.front().ts_ms > cfg_.evidence_window_ms) {
    ev.anomalies.pop_front();
  }
  while (ev.anomalies.size() > cfg_.max_evidence) ev.anomalies.pop_front();
}

std::vector<IncidentChange> IncidentCorrelator::Tick(TimestampMs now) {
  std::vector<IncidentChange> out;
  auto resolve = [&](Incident inc, const std::string& why) {
    inc.state = IncidentState::kResolved;
    inc.resolved_ms = now;
    inc.updated_ms = std::max(inc.updated_ms, now);
    IncidentChange change;
    change.kind = IncidentChange::Kind::kResolved;
    change.timeline.push_back(Line(inc.id, now, "resolved", why));
    change.incident = inc;
    out.push_back(std::move(change));
    return inc;
  };

  for (auto& inc : superseded_) resolve(std::move(inc), "resolved: superseded by a newer incident of the same entity");
  superseded_.clear();

  for (auto it = open_.begin(); it != open_.end();) {
    TimestampMs quiet = now - it->second.last_anomaly_ms;
    if (quiet >= cfg_.resolve_after_ms) {
      for (const auto& m : it->second.members) member_of_.erase(m);
      groups_.erase(it->first);
      peers_.erase(it->first);
      Incident done = resolve(std::move(it->second), "resolved: no strong anomaly for " + Duration(quiet));
      resolved_[it->first] = std::move(done);
      it = open_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = resolved_.begin(); it != resolved_.end();) {
    if (now - it->second.last_anomaly_ms > cfg_.join_window_ms) {
      it = resolved_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = evidence_.begin(); it != evidence_.end();) {
    TrimEvidence(it->second, now);
    if (it->second.anomalies.empty()) {
      it = evidence_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

Result<IncidentChange> IncidentCorrelator::Acknowledge(int64_t incident_id, const std::string& by, TimestampMs now) {
  for (auto& [entity, inc] : open_) {
    if (inc.id != incident_id || incident_id == 0) continue;
    inc.acknowledged = true;
    inc.acknowledged_by = by;
    inc.updated_ms = std::max(inc.updated_ms, now);
    IncidentChange change;
    change.kind = IncidentChange::Kind::kUpdated;
    change.timeline.push_back(Line(inc.id, now, "acknowledged", "acknowledged by " + (by.empty() ? "someone" : by)));
    change.incident = inc;
    return change;
  }
  return Status::NotFound("no open incident with id " + std::to_string(incident_id));
}

void IncidentCorrelator::SetIncidentId(const std::string& entity, int64_t id) {
  auto it = open_.find(entity);
  if (it != open_.end()) it->second.id = id;
}

const Incident* IncidentCorrelator::FindOpen(const std::string& entity) const {
  auto it = open_.find(entity);
  if (auto m = member_of_.find(entity); it == open_.end() && m != member_of_.end()) it = open_.find(m->second);
  return it == open_.end() ? nullptr : &it->second;
}

std::vector<Incident> IncidentCorrelator::OpenIncidents() const {
  std::vector<Incident> out;
  out.reserve(open_.size());
  for (const auto& [entity, inc] : open_) out.push_back(inc);
  return out;
}

}  // namespace vigil
