#include "alerts/dedup.h"

namespace vigil {

const char* DedupOutcomeName(DedupOutcome o) {
  switch (o) {
    case DedupOutcome::kNew: return "new";
    case DedupOutcome::kRepeat: return "repeat";
    case DedupOutcome::kRefired: return "refired";
    case DedupOutcome::kResolved: return "resolved";
    case DedupOutcome::kRejected: return "rejected";
  }
  return "?";
}

void AlertDedup::Transition(TrackedAlert& t, TimestampMs now) {
  t.transitions.push_back(now);
  while (!t.transitions.empty() && t.transitions.front() < now - cfg_.flap_window_ms) t.transitions.pop_front();
  if (static_cast<int>(t.transitions.size()) >= cfg_.flap_transitions) t.flapping = true;
}

DedupOutcome AlertDedup::Observe(const Alert& a, TimestampMs now, const TrackedAlert** tracked) {
  if (tracked) *tracked = nullptr;
  Fingerprint fp = FingerprintOf(a.labels);
  bool ended = EndedBy(a, now);
  auto it = alerts_.find(fp);
  if (it == alerts_.end()) {
    if (alerts_.size() >= cfg_.max_alerts) {
      ++rejected_;
      return DedupOutcome::kRejected;
    }
    TrackedAlert t;
    t.fingerprint = fp;
    t.alert = a;
    t.first_seen_ms = t.last_seen_ms = now;
    t.count = 1;
    t.severity = std::string(a.labels.Get("severity"));
    t.firing = !ended;
    if (ended) t.resolved_ms = now;
    it = alerts_.emplace(fp, std::move(t)).first;
    if (tracked) *tracked = &it->second;
    return DedupOutcome::kNew;
  }
  TrackedAlert& t = it->second;
  bool was_firing = t.firing;
  // An older start than the one known is a late resend of the same episode.
  TimestampMs starts = t.alert.starts_ms;
  t.alert = a;
  if (was_firing && starts > 0 && (a.starts_ms == 0 || starts < a.starts_ms)) t.alert.starts_ms = starts;
  t.last_seen_ms = now;
  ++t.count;
  if (std::string_view sev = a.labels.Get("severity"); !sev.empty()) t.severity = std::string(sev);
  if (tracked) *tracked = &t;
  if (was_firing && ended) {
    t.firing = false;
    t.resolved_ms = now;
    Transition(t, now);
    return DedupOutcome::kResolved;
  }
  if (!was_firing && !ended) {
    t.firing = true;
    t.resolved_ms = 0;
    Transition(t, now);
    return DedupOutcome::kRefired;
  }
  return DedupOutcome::kRepeat;
}

std::vector<Fingerprint> AlertDedup::Tick(TimestampMs now, std::vector<Fingerprint>* forgotten) {
  std::vector<Fingerprint> resolved;
  for (auto it = alerts_.begin(); it != alerts_.end();) {
    TrackedAlert& t = it->second;
    if (t.firing) {
      bool timed_out = t.alert.ends_ms == 0 && now - t.last_seen_ms >= cfg_.resolve_timeout_ms;
      if (EndedBy(t.alert, now) || timed_out) {
        t.firing = false;
        t.resolved_ms = now;
        Transition(t, now);
        resolved.push_back(t.fingerprint);
      }
    }
    if (t.flapping && (t.transitions.empty() || t.transitions.back() < now - cfg_.flap_window_ms)) {
      t.flapping = false;
      t.transitions.clear();
    }
    if (!t.firing && !t.flapping && now - t.resolved_ms > cfg_.retention_ms) {
      if (forgotten) forgotten->push_back(t.fingerprint);
      it = alerts_.erase(it);
    } else {
      ++it;
    }
  }
  return resolved;
}

const TrackedAlert* AlertDedup::Find(Fingerprint fp) const {
  auto it = alerts_.find(fp);
  return it == alerts_.end() ? nullptr : &it->second;
}

TrackedAlert* AlertDedup::FindMutable(Fingerprint fp) {
  auto it = alerts_.find(fp);
  return it == alerts_.end() ? nullptr : &it->second;
}

void AlertDedup::Restore(TrackedAlert t) { alerts_[t.fingerprint] = std::move(t); }

size_t AlertDedup::firing_count() const {
  size_t n = 0;
  for (const auto& [fp, t] : alerts_) n += t.firing;
  return n;
}

}  // namespace vigil
