#include "alerts/notification_log.h"

#include <algorithm>

namespace vigil {

namespace {
bool IsSubset(const std::vector<Fingerprint>& a, const std::vector<Fingerprint>& b) {
  return std::includes(b.begin(), b.end(), a.begin(), a.end());
}
}  // namespace

bool NotificationLog::ShouldNotify(const std::string& receiver, const std::string& group_key,
                                   const std::vector<Fingerprint>& firing, bool any_firing, bool send_resolved,
                                   TimestampMs repeat_interval_ms, TimestampMs now,
                                   const std::function<uint64_t(Fingerprint)>& news_key) const {
  const NotificationLogEntry* prev = Get(receiver, group_key);
  if (!prev) return !firing.empty();
  if (news_key) {
    std::vector<uint64_t> now_keys, prev_keys;
    for (Fingerprint fp : firing) now_keys.push_back(news_key(fp));
    for (Fingerprint fp : prev->firing) prev_keys.push_back(news_key(fp));
    for (auto* v : {&now_keys, &prev_keys}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    if (!IsSubset(now_keys, prev_keys)) return true;
  } else if (!IsSubset(firing, prev->firing)) {
    return true;
  }
  if (send_resolved && !any_firing && !prev->firing.empty()) return true;
  if (firing.empty()) return false;
  return now - prev->sent_ms >= repeat_interval_ms;
}

std::vector<bool> NotificationLog::ShownFiringElsewhere(const std::string& receiver, const std::string& group_key,
                                                        const std::vector<Fingerprint>& firing) const {
  std::vector<bool> shown(firing.size(), false);
  for (auto it = entries_.lower_bound({receiver, std::string()}); it != entries_.end() && it->first.first == receiver;
       ++it) {
    if (it->first.second == group_key) continue;
    for (size_t i = 0; i < firing.size(); ++i) {
      if (!shown[i]) shown[i] = std::binary_search(it->second.firing.begin(), it->second.firing.end(), firing[i]);
    }
  }
  return shown;
}

void NotificationLog::Record(NotificationLogEntry e) {
  auto key = std::make_pair(e.receiver, e.group_key);
  entries_[key] = std::move(e);
}

const NotificationLogEntry* NotificationLog::Get(const std::string& receiver, const std::string& group_key) const {
  auto it = entries_.find({receiver, group_key});
  return it == entries_.end() ? nullptr : &it->second;
}

void NotificationLog::Forget(const std::string& receiver, const std::string& group_key) {
  entries_.erase({receiver, group_key});
}

std::vector<NotificationLogEntry> NotificationLog::Entries() const {
  std::vector<NotificationLogEntry> out;
  for (const auto& [k, e] : entries_) out.push_back(e);
  return out;
}

}  // namespace vigil
