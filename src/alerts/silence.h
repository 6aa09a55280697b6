// SilenceSet: Alertmanager's silences. A silence mutes every alert that
// all its matchers match while it is active (starts_at <= now < ends_at).
// It is "pending" before its start and "expired" after its end; expiring
// one sets its end to now. Updating a silence keeps its id when only its
// end time, comment or creator changed or it has not started yet;
// otherwise (an active silence gets new matchers or an earlier start) the
// old one is expired and a new one created, as in Alertmanager, so what
// was muted stays explainable.
//
// Ids are UUID-shaped strings derived from a seed and a counter (no random
// source, so replays give the same ids). Time comes from the caller.
// Bounded: at most max_silences; expired silences are dropped `retention`
// after they end. Not thread-safe: one owner.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "alerts/matcher.h"
#include "core/sample.h"
#include "core/status.h"

namespace vigil {

struct Silence {
  std::string id;
  std::vector<Matcher> matchers;
  TimestampMs starts_ms = 0;
  TimestampMs ends_ms = 0;
  TimestampMs updated_ms = 0;
  std::string created_by;
  std::string comment;
};

enum class SilenceState { kPending, kActive, kExpired };
const char* SilenceStateName(SilenceState s);
SilenceState StateOf(const Silence& s, TimestampMs now);

class SilenceSet {
 public:
  explicit SilenceSet(uint64_t id_seed = 0, size_t max_silences = 10'000, TimestampMs retention_ms = 5 * 24 * 3600'000LL)
      : seed_(id_seed), max_(max_silences), retention_ms_(retention_ms) {}

  // Creates (empty id) or updates a silence; returns its id (a new one when
  // the update had to replace it). InvalidArgument: no matchers, end not
  // after start, end in the past, missing createdBy or comment. NotFound:
  // an id that does not exist. ResourceExhausted: the set is full.
  Result<std::string> Upsert(Silence s, TimestampMs now);
  // Sets the end of a pending or active silence to now. NotFound for an
  // unknown id; InvalidArgument when it already expired.
  Status Expire(const std::string& id, TimestampMs now);
  // Ids of the active silences muting `labels`.
  std::vector<std::string> Muting(const Labels& labels, TimestampMs now) const;
  const Silence* Get(const std::string& id) const;
  std::vector<Silence> List() const;
  // Puts back a stored silence (restart).
  void Restore(Silence s);
  // Drops silences expired longer than the retention; returns their ids.
  std::vector<std::string> Collect(TimestampMs now);
  size_t size() const { return silences_.size(); }

 private:
  std::string NewId();
  std::map<std::string, Silence> silences_;
  uint64_t seed_;
  uint64_t counter_ = 0;
  size_t max_;
  TimestampMs retention_ms_;
};

}  // namespace vigil
