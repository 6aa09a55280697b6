// AlertDedup: the first stage. Every alert that arrives is folded into the
// alert of the same fingerprint (hash of its labels, annotations excluded):
// repeats update it (count, last seen, latest annotations and severity)
// instead of making a new alert.
//
// Resolution follows Alertmanager: an alert whose endsAt has passed is
// resolved; an alert sent without endsAt resolves by itself once
// resolve_timeout has passed since it was last seen (Prometheus re-sends
// firing alerts with an endsAt a few intervals ahead, so its alerts resolve
// by endsAt; other tools send none).
//
// Flapping: every change between firing and resolved is a transition. An
// alert with flap_transitions or more transitions within flap_window is
// marked flapping; the pipeline holds it (it stays visible, but its changes
// notify nobody) until it has had no transition for a whole flap_window.
// (The idea is Nagios' flap detection, simplified to a transition count.)
//
// Time comes from the caller (`now`), never from a clock. Bounded: at most
// max_alerts alerts are tracked; resolved alerts are forgotten
// `retention` after they resolved. Not thread-safe: one owner.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/alert.h"
#include "core/status.h"

namespace vigil {

struct DedupConfig {
  TimestampMs resolve_timeout_ms = 5 * 60'000;
  int flap_transitions = 4;
  TimestampMs flap_window_ms = 10 * 60'000;
  TimestampMs retention_ms = 15 * 60'000;  // resolved alerts kept this long
  size_t max_alerts = 200'000;
};

// An alert as vigil tracks it.
struct TrackedAlert {
  Fingerprint fingerprint = 0;
  Alert alert;                   // latest version received
  bool firing = true;
  TimestampMs first_seen_ms = 0;
  TimestampMs last_seen_ms = 0;
  TimestampMs resolved_ms = 0;   // when it last resolved, 0 while firing
  int64_t count = 0;             // times received
  std::string severity;          // latest severity label
  bool flapping = false;
  std::deque<TimestampMs> transitions;  // within the flap window, oldest first
  int64_t incident_id = 0;       // set by the correlation stage
  bool symptom = false;          // set by topology inhibition
};

// What one received alert did.
enum class DedupOutcome {
  kNew,        // first time this fingerprint is seen (firing or already resolved)
  kRepeat,     // same state as before, fields refreshed
  kRefired,    // was resolved, fires again
  kResolved,   // was firing, now resolved
  kRejected,   // table full
};

const char* DedupOutcomeName(DedupOutcome o);

class AlertDedup {
 public:
  explicit AlertDedup(DedupConfig cfg) : cfg_(cfg) {}

  // Folds `a` in. *tracked (when not null) points at the alert after the
  // change (valid until the next non-const call); null for kRejected.
  DedupOutcome Observe(const Alert& a, TimestampMs now, const TrackedAlert** tracked = nullptr);

  // Resolves alerts whose endsAt passed or whose resolve timeout expired,
  // clears flapping marks that went quiet, forgets resolved alerts past the
  // retention (their fingerprints go to *forgotten when given). Returns the
  // fingerprints that resolved now.
  std::vector<Fingerprint> Tick(TimestampMs now, std::vector<Fingerprint>* forgotten = nullptr);

  const TrackedAlert* Find(Fingerprint fp) const;
  TrackedAlert* FindMutable(Fingerprint fp);
  // Puts an alert back as it was (restart from the store).
  void Restore(TrackedAlert t);
  const std::unordered_map<Fingerprint, TrackedAlert>& alerts() const { return alerts_; }
  size_t firing_count() const;
  size_t rejected() const { return rejected_; }

 private:
  void Transition(TrackedAlert& t, TimestampMs now);

  DedupConfig cfg_;
  std::unordered_map<Fingerprint, TrackedAlert> alerts_;
  size_t rejected_ = 0;
};

}  // namespace vigil
