#include "incidents/alert_pipeline.h"

#include <algorithm>
#include <set>

namespace vigil {

AlertPipeline::AlertPipeline(AlertingConfig cfg, std::function<int64_t()> next_incident_id, uint64_t silence_seed)
    : cfg_(std::move(cfg)),
      dedup_(cfg_.dedup),
      inhibit_(cfg_.inhibit_rules),
      correlator_(cfg_.correlation, &cfg_.topology, std::move(next_incident_id)),
      silences_(silence_seed) {
  // cfg_ moved into place before the stages that point into it.
  NumberRoutes(&cfg_.route);
  lookup_ = [this](Fingerprint fp) { return dedup_.FindMutable(fp); };
}

MuteReason AlertPipeline::MutedNow(const TrackedAlert& t, TimestampMs now) const {
  MuteReason r;
  r.silenced_by = silences_.Muting(t.alert.labels, now);
  Fingerprint by = 0;
  if (inhibit_.Inhibited(t.fingerprint, t.alert.labels, &by)) r.inhibited_by = by;
  r.flapping = t.flapping;
  r.symptom = t.symptom;
  return r;
}

void AlertPipeline::Route(const TrackedAlert& t, TimestampMs now) {
  if (t.incident_id == 0) {  // minimum evidence not met yet
    // A blip taken out of its incident (which stays in the incident's group
    // until its resolution is told) that fires again leaves that group: it
    // is correlated afresh.
    auto m = memberships_.find(t.fingerprint);
    if (t.firing && m != memberships_.end() && blips_.erase(t.fingerprint)) {
      for (const auto& key : m->second) groups_.Remove(key, t.fingerprint);
      memberships_.erase(m);
    }
    return;
  }
  std::vector<Label> items = t.alert.labels.items();
  items.push_back({kIncidentGroupLabel, std::to_string(t.incident_id)});
  auto labels = Labels::FromPairs(std::move(items));
  const Labels& with_incident = labels.ok() ? *labels : t.alert.labels;  // an alert's own "incident" label wins
  std::vector<std::string> keys;
  for (const RouteNode* r : MatchRoutes(cfg_.route, with_incident)) {
    keys.push_back(groups_.Insert(*r, GroupLabels(*r, with_incident), t.fingerprint, now));
  }
  memberships_[t.fingerprint] = std::move(keys);
}

void AlertPipeline::Apply(std::vector<AlertIncidentChange>& changes, TimestampMs now, Output* out) {
  for (auto& ch : changes) {
    for (Fingerprint fp : ch.alerts) {
      const TrackedAlert* t = dedup_.Find(fp);
      if (t && t->incident_id == 0 && !t->firing && blips_.size() < cfg_.correlation.max_incidents) blips_.insert(fp);
      if (t) Route(*t, now);
      out->changed_alerts.push_back(fp);
    }
    out->incidents.push_back(std::move(ch));
  }
}

DedupOutcome AlertPipeline::Receive(const Alert& a, TimestampMs now, Output* out) {
  const TrackedAlert* ct = nullptr;
  DedupOutcome o = dedup_.Observe(a, now, &ct);
  if (o == DedupOutcome::kRejected) return o;
  TrackedAlert* t = dedup_.FindMutable(ct->fingerprint);
  out->changed_alerts.push_back(t->fingerprint);
  inhibit_.Update(t->fingerprint, t->alert.labels, t->firing);
  std::vector<AlertIncidentChange> changes;
  correlator_.OnAlert(t, now, lookup_, &changes);
  Route(*t, now);
  Apply(changes, now, out);
  return o;
}

void AlertPipeline::OnAnomaly(const Anomaly& a, Output* out) {
  std::vector<AlertIncidentChange> changes;
  correlator_.OnAnomaly(a, &changes);
  for (auto& ch : changes) out->incidents.push_back(std::move(ch));
}

void AlertPipeline::Tick(TimestampMs now, Output* out) {
  std::vector<Fingerprint> forgotten;
  for (Fingerprint fp : dedup_.Tick(now, &forgotten)) {
    TrackedAlert* t = dedup_.FindMutable(fp);
    if (!t) continue;
    out->changed_alerts.push_back(fp);
    inhibit_.Update(fp, t->alert.labels, false);
    std::vector<AlertIncidentChange> changes;
    correlator_.OnAlert(t, now, lookup_, &changes);
    Apply(changes, now, out);
  }
  for (Fingerprint fp : forgotten) {
    out->changed_alerts.push_back(fp);
    memberships_.erase(fp);
    blips_.erase(fp);
  }
  std::vector<AlertIncidentChange> changes;
  correlator_.Tick(now, lookup_, &changes, &out->forgotten_incidents);
  Apply(changes, now, out);
  std::vector<std::string> due;
  for (AggregationGroup* g : groups_.Due(now)) due.push_back(g->key);
  std::map<std::string, GroupNotification> clears;  // receiver -> all-clear digest
  auto* digest = cfg_.resolved_digest ? &clears : nullptr;
  for (const auto& k : due) {
    if (AggregationGroup* g = groups_.FindMutable(k)) Flush(*g, now, out, digest);  // Flush may delete groups
  }
  // Receivers whose held all-clear has waited resolved_digest_wait.
  std::set<std::string> waited;
  for (const auto& [receiver, until] : clear_held_until_) {
    if (now >= until) waited.insert(receiver);
  }
  if (!clears.empty() || !waited.empty()) {
    // All-clears are news nobody acts on: a receiver due one now also hears
    // now of its other groups that have stopped firing (they would follow
    // at their own next flush, minutes apart), in the same message.
    std::vector<std::string> ready;
    for (const auto& [key, g] : groups_.groups()) {
      if (clears.count(g.route->receiver) || waited.count(g.route->receiver)) ready.push_back(key);
    }
    for (const auto& k : ready) {
      if (AggregationGroup* g = groups_.FindMutable(k)) Flush(*g, now, out, &clears, true);
    }
    for (auto& [receiver, n] : clears) {
      if (n.group_keys.size() == 1) {
        n.group_key = n.group_keys[0];
        n.incident_id = n.incident_ids.empty() ? 0 : n.incident_ids[0];
        n.group_keys.clear();
        n.incident_ids.clear();
      } else {
        n.group_key = "all-clear:";
        for (size_t i = 0; i < n.group_keys.size(); ++i) n.group_key += (i ? "," : "") + n.group_keys[i];
        n.group_labels = Labels();
      }
      out->notifications.push_back(std::move(n));
    }
    for (const auto& receiver : waited) clear_held_until_.erase(receiver);
  }
  // Alerts forgotten by the dedup stage leave their groups.
  std::vector<std::pair<std::string, Fingerprint>> gone;
  for (const auto& [key, g] : groups_.groups()) {
    for (Fingerprint fp : g.alerts) {
      const TrackedAlert* t = dedup_.Find(fp);
      if (!t) gone.emplace_back(key, fp);
    }
  }
  for (auto& [k, fp] : gone) groups_.Remove(k, fp);
  for (auto& id : silences_.Collect(now)) out->forgotten_silences.push_back(std::move(id));
}

void AlertPipeline::Flush(AggregationGroup& g, TimestampMs now, Output* out,
                          std::map<std::string, GroupNotification>* clears, bool clear_only) {
  GroupNotification n;
  n.receiver = g.route->receiver;
  n.group_key = g.key;
  n.group_labels = g.labels;
  n.at = now;
  std::vector<Fingerprint> firing, leaving;
  std::vector<const TrackedAlert*> resolved;
  bool any_firing = false;
  int64_t incident = -1;
  for (Fingerprint fp : g.alerts) {
    const TrackedAlert* t = dedup_.Find(fp);
    auto m = memberships_.find(fp);
    bool member = t && m != memberships_.end() && std::find(m->second.begin(), m->second.end(), g.key) != m->second.end();
    if (!member) {
      leaving.push_back(fp);
      continue;
    }
    // An alert taken out of its incident (a blip that resolved, incident 0)
    // stays in the group until it clears there: its resolution is news to
    // whoever was paged about it. It says nothing of the group's incident.
    const bool blip_left = t->incident_id == 0 && !t->firing;
    if (!blip_left) incident = incident == -1 || incident == t->incident_id ? t->incident_id : 0;
    if (t->firing) {
      any_firing = true;
      if (MutedNow(*t, now).muted()) continue;
      firing.push_back(fp);
      n.firing.push_back(*t);
    } else {
      resolved.push_back(t);
    }
  }
  n.incident_id = incident > 0 ? incident : 0;
  if (!any_firing && !clear_only) {
    const std::string receiver = n.receiver, key = g.key;
    if (SplitNotice(g, n, resolved, now, out)) {
      for (const TrackedAlert* t : resolved) leaving.push_back(t->fingerprint);
      for (Fingerprint fp : leaving) groups_.Remove(key, fp);
      if (!groups_.Find(key) && nflog_.Get(receiver, key)) {
        nflog_.Forget(receiver, key);  // the incident keeps what was decided (notice_done)
        out->nflog_forgotten.emplace_back(receiver, key);
      }
      return;
    }
  }
  std::sort(firing.begin(), firing.end());
  const Receiver* rcv = cfg_.FindReceiver(n.receiver);
  bool send_resolved = rcv && rcv->SendResolved();
  const NotificationLogEntry* prev = nflog_.Get(n.receiver, g.key);
  // In a group that is one incident, news is a service the receiver has not
  // heard of in it yet; more pods or more rules failing on a service already
  // paged are on the incident page, not in another notification.
  std::function<uint64_t(Fingerprint)> news_key;
  if (n.incident_id > 0) {
    news_key = [this](Fingerprint fp) -> uint64_t {
      const TrackedAlert* t = dedup_.Find(fp);
      if (!t) return fp;
      return std::hash<std::string>{}(correlator_.ServiceOf(t->alert.labels));
    };
  }
  bool notify = nflog_.ShouldNotify(n.receiver, g.key, firing, any_firing, send_resolved,
                                    g.route->repeat_interval_ms, now, news_key);
  bool all_clear = notify && !any_firing;
  if (clear_only && !all_clear) return;
  // A new incident's group whose firing services were all paged in another
  // incident's notification, by alerts that moved here with them (that
  // incident split or handed them over; the move is on both timelines),
  // pages nobody again, as more pods failing on a paged service do not: it
  // is recorded as sent, so what is news in it later still pages.
  bool heard = false;
  if (notify && !prev && n.incident_id > 0 && news_key) {
    std::vector<bool> shown = nflog_.ShownFiringElsewhere(n.receiver, g.key, firing);
    std::set<uint64_t> heard_of, services;
    for (size_t i = 0; i < firing.size(); ++i) {
      services.insert(news_key(firing[i]));
      if (shown[i]) heard_of.insert(news_key(firing[i]));
    }
    heard = !firing.empty() && heard_of == services;
  }
  // A split-off incident that took in a firing alert before its first
  // flush (a callee's alert joined it by topology and time, seed 17063 of
  // storms stop 13): its notice is due all the same, with this flush, as a
  // notification of its own (a notice's alerts are resolved ones; the
  // firing alerts go out, or not, as in any group). Not recorded in the
  // group's log entry: what was paged in the group is unchanged.
  // (Not when the incident's notice is due only if nothing of it pages
  // and this flush pages its firing alerts: they tell of the fault.)
  GroupNotification notice;
  const AlertIncident* split = n.incident_id > 0 ? correlator_.Find(n.incident_id) : nullptr;
  const bool paged_instead = split && split->notice_unless_paged && !split->split_notice.empty() &&
                             !split->notice_done.count(n.receiver) && notify && !heard && !firing.empty();
  if (paged_instead) {
    correlator_.NoticeDone(n.incident_id, n.receiver);  // decided: never sent later
    AlertIncidentChange ch;  // persists notice_done with the outbox
    ch.incident_id = n.incident_id;
    out->incidents.push_back(std::move(ch));
  }
  if (any_firing && !clear_only && !paged_instead && TakeSplitNotice(g.key, n, resolved, now, out, &notice) &&
      !notice.notice.empty()) {
    out->notifications.push_back(std::move(notice));
  }
  TimestampMs wait = cfg_.resolved_digest_wait_ms < 0 ? g.route->group_interval_ms : cfg_.resolved_digest_wait_ms;
  if (all_clear && clears && wait > 0) {
    // Held: nothing recorded, so the group flushes again (and a restart
    // derives the all-clear again); it goes out with the receiver's digest
    // once the first held all-clear has waited.
    auto until = clear_held_until_.try_emplace(n.receiver, now + wait).first;
    if (now < until->second) return;
  }
  if (notify) {
    // The resolutions shown are of alerts the receiver was told were firing.
    std::vector<Fingerprint> resolved_fps;
    for (const TrackedAlert* t : resolved) {
      if (prev && std::binary_search(prev->firing.begin(), prev->firing.end(), t->fingerprint)) {
        resolved_fps.push_back(t->fingerprint);
        if (send_resolved) n.resolved.push_back(*t);
      }
    }
    std::sort(resolved_fps.begin(), resolved_fps.end());
    NotificationLogEntry e{n.receiver, g.key, firing, resolved_fps, now};
    nflog_.Record(e);
    out->nflog.push_back(std::move(e));
    if (all_clear && clears) {
      auto [it, fresh] = clears->try_emplace(n.receiver);
      GroupNotification& d = it->second;
      if (fresh) {
        d.receiver = n.receiver;
        d.group_labels = n.group_labels;
        d.at = now;
      }
      d.group_keys.push_back(n.group_key);
      if (n.incident_id > 0) d.incident_ids.push_back(n.incident_id);
      for (auto& t : n.resolved) d.resolved.push_back(std::move(t));
    } else if (!heard) {
      out->notifications.push_back(std::move(n));
    }
  }
  // Resolved alerts stay in the group until everything in it has resolved,
  // so that the all-clear can list them; then the group empties.
  if (!any_firing) {
    for (const TrackedAlert* t : resolved) leaving.push_back(t->fingerprint);
  }
  std::string key = g.key;
  std::string receiver = n.receiver;
  for (Fingerprint fp : leaving) groups_.Remove(key, fp);
  if (!groups_.Find(key) && nflog_.Get(receiver, key)) {
    // The group is over; its log entry would only grow the log.
    nflog_.Forget(receiver, key);
    out->nflog_forgotten.emplace_back(receiver, key);
  }
}

bool AlertPipeline::TakeSplitNotice(const std::string& key, const GroupNotification& n,
                                    const std::vector<const TrackedAlert*>& resolved, TimestampMs now, Output* out,
                                    GroupNotification* notice) {
  // An incident split off because its alerts cleared while muted as another
  // incident's symptoms (AlertCorrelator::SplitClearedBeforeRoot) was an
  // independent fault nobody was paged about. Its receivers hear of it once,
  // as a resolved-status notification saying so; ordinary resolved groups
  // (nothing was paged, nothing is said) keep Alertmanager's behaviour.
  // Silences and inhibition rules apply as to any notification, at the time
  // it is sent (as Alertmanager's mute stage treats resolved alerts); a
  // notice whose alerts are all muted is not sent, and not sent later
  // either. It goes out whatever the receiver's send_resolved: that option
  // spares resolutions of what a receiver was paged about, and this is the
  // first word of a fault it was never paged about.
  if (n.incident_id <= 0) return false;
  const AlertIncident* inc = correlator_.Find(n.incident_id);
  if (!inc || inc->split_notice.empty() || inc->notice_done.count(n.receiver) || nflog_.Get(n.receiver, key)) {
    return false;
  }
  notice->receiver = n.receiver;
  notice->group_key = n.group_key;
  notice->group_labels = n.group_labels;
  notice->incident_id = n.incident_id;
  notice->at = now;
  for (const TrackedAlert* t : resolved) {
    if (t->incident_id != n.incident_id) continue;  // a blip taken out of an incident says nothing of this one
    MuteReason why = MutedNow(*t, now);
    if (!why.silenced_by.empty() || why.inhibited_by != 0 || why.flapping) continue;
    notice->resolved.push_back(*t);
  }
  correlator_.NoticeDone(n.incident_id, n.receiver);
  AlertIncidentChange ch;  // persists notice_done with the outbox, in one transaction
  ch.incident_id = n.incident_id;
  if (notice->resolved.empty()) {
    TimelineEntry e;
    e.ts_ms = now;
    e.kind = "notification";
    e.text = "split notice to " + n.receiver + " not sent: its alerts are silenced or inhibited";
    e.incident_id = n.incident_id;
    ch.timeline.push_back(std::move(e));
  } else {
    notice->notice = inc->split_notice;
  }
  out->incidents.push_back(std::move(ch));
  return true;
}

bool AlertPipeline::SplitNotice(AggregationGroup& g, GroupNotification& n,
                                const std::vector<const TrackedAlert*>& resolved, TimestampMs now, Output* out) {
  GroupNotification notice;
  if (!TakeSplitNotice(g.key, n, resolved, now, out, &notice)) return false;
  if (notice.notice.empty()) return true;
  std::vector<Fingerprint> shown;
  for (const auto& t : notice.resolved) shown.push_back(t.fingerprint);
  std::sort(shown.begin(), shown.end());
  NotificationLogEntry e{n.receiver, g.key, {}, shown, now};
  nflog_.Record(e);
  out->nflog.push_back(std::move(e));
  out->notifications.push_back(std::move(notice));
  return true;
}

Result<int64_t> AlertPipeline::Merge(int64_t into, int64_t from, TimestampMs now, Output* out) {
  std::vector<AlertIncidentChange> changes;
  auto r = correlator_.Merge(into, from, now, lookup_, &changes);
  if (r.ok()) Apply(changes, now, out);
  return r;
}

Result<int64_t> AlertPipeline::Split(int64_t id, const std::vector<Fingerprint>& fps, TimestampMs now, Output* out) {
  std::vector<AlertIncidentChange> changes;
  auto r = correlator_.Split(id, fps, now, lookup_, &changes);
  if (r.ok()) Apply(changes, now, out);
  return r;
}

Status AlertPipeline::Resolve(int64_t id, TimestampMs now, Output* out) {
  std::vector<AlertIncidentChange> changes;
  Status s = correlator_.Resolve(id, now, &changes);
  if (s.ok()) Apply(changes, now, out);
  return s;
}

void AlertPipeline::RestoreAlert(TrackedAlert t) {
  inhibit_.Update(t.fingerprint, t.alert.labels, t.firing);
  dedup_.Restore(std::move(t));
}

void AlertPipeline::Reroute(TimestampMs now) {
  for (const auto& [fp, t] : dedup_.alerts()) {
    const AlertIncident* inc = t.incident_id ? correlator_.Find(t.incident_id) : nullptr;
    if (inc && !inc->resolved) Route(t, now);
  }
  correlator_.ResumeClearChecks(now, lookup_);
}

}  // namespace vigil
