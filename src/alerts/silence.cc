#include "alerts/silence.h"

#include <cstdio>

#include "core/hash.h"

namespace vigil {

const char* SilenceStateName(SilenceState s) {
  switch (s) {
    case SilenceState::kPending: return "pending";
    case SilenceState::kActive: return "active";
    case SilenceState::kExpired: return "expired";
  }
  return "?";
}

SilenceState StateOf(const Silence& s, TimestampMs now) {
  if (now >= s.ends_ms) return SilenceState::kExpired;
  if (now < s.starts_ms) return SilenceState::kPending;
  return SilenceState::kActive;
}

std::string SilenceSet::NewId() {
  for (;;) {
    uint64_t a = Mix64(seed_ ^ Mix64(++counter_));
    uint64_t b = Mix64(a + 0x9e3779b97f4a7c15ULL);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                  static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                  static_cast<unsigned long long>(b & 0xffffffffffffULL));
    if (!silences_.count(buf)) return buf;
  }
}

Result<std::string> SilenceSet::Upsert(Silence s, TimestampMs now) {
  if (s.matchers.empty()) return Status::InvalidArgument("silence: field \"matchers\": at least one matcher is required");
  if (s.ends_ms <= s.starts_ms) return Status::InvalidArgument("silence: field \"endsAt\": must be after startsAt");
  if (s.ends_ms <= now) return Status::InvalidArgument("silence: field \"endsAt\": is in the past");
  if (s.created_by.empty()) return Status::InvalidArgument("silence: field \"createdBy\": required");
  if (s.comment.empty()) return Status::InvalidArgument("silence: field \"comment\": required");
  if (s.starts_ms < now) s.starts_ms = now;  // a silence cannot start in the past
  s.updated_ms = now;
  if (!s.id.empty()) {
    auto it = silences_.find(s.id);
    if (it == silences_.end()) return Status::NotFound("silence " + s.id + " not found");
    Silence& old = it->second;
    SilenceState st = StateOf(old, now);
    bool in_place = st == SilenceState::kPending || (st == SilenceState::kActive && old.matchers == s.matchers);
    if (st == SilenceState::kActive && in_place) s.starts_ms = old.starts_ms;  // keep the original start
    if (in_place) {
      old = std::move(s);
      return old.id;
    }
    if (st != SilenceState::kExpired) old.ends_ms = now, old.updated_ms = now;
    s.id.clear();
  }
  if (silences_.size() >= max_) {
    Collect(now);
    if (silences_.size() >= max_) return Status::ResourceExhausted("silence: limit of " + std::to_string(max_) + " silences reached");
  }
  s.id = NewId();
  std::string id = s.id;
  silences_.emplace(id, std::move(s));
  return id;
}

Status SilenceSet::Expire(const std::string& id, TimestampMs now) {
  auto it = silences_.find(id);
  if (it == silences_.end()) return Status::NotFound("silence " + id + " not found");
  if (StateOf(it->second, now) == SilenceState::kExpired) return Status::InvalidArgument("silence " + id + " already expired");
  if (it->second.starts_ms > now) it->second.starts_ms = now;
  it->second.ends_ms = now;
  it->second.updated_ms = now;
  return Status::Ok();
}

std::vector<std::string> SilenceSet::Muting(const Labels& labels, TimestampMs now) const {
  std::vector<std::string> ids;
  for (const auto& [id, s] : silences_) {
    if (StateOf(s, now) == SilenceState::kActive && MatchesAll(s.matchers, labels)) ids.push_back(id);
  }
  return ids;
}

const Silence* SilenceSet::Get(const std::string& id) const {
  auto it = silences_.find(id);
  return it == silences_.end() ? nullptr : &it->second;
}

std::vector<Silence> SilenceSet::List() const {
  std::vector<Silence> out;
  out.reserve(silences_.size());
  for (const auto& [id, s] : silences_) out.push_back(s);
  return out;
}

void SilenceSet::Restore(Silence s) {
  ++counter_;
  silences_[s.id] = std::move(s);
}

std::vector<std::string> SilenceSet::Collect(TimestampMs now) {
  std::vector<std::string> gone;
  for (auto it = silences_.begin(); it != silences_.end();) {
    if (now - it->second.ends_ms > retention_ms_) {
      gone.push_back(it->first);
      it = silences_.erase(it);
    } else {
      ++it;
    }
  }
  return gone;
}

}  // namespace vigil
