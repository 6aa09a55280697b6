#include "engine/alert_service.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "alerts/notify_payloads.h"

namespace vigil {

namespace {

using json = nlohmann::json;

json LabelsJson(const Labels& l) {
  json o = json::object();
  for (const auto& x : l.items()) o[x.name] = x.value;
  return o;
}

Labels LabelsFrom(const json& o) {
  std::vector<Label> v;
  for (auto it = o.begin(); it != o.end(); ++it) v.push_back({it.key(), it.value().get<std::string>()});
  auto l = Labels::FromPairs(std::move(v));
  return l.ok() ? *l : Labels();
}

std::string AlertDoc(const TrackedAlert& t) {
  return json{{"labels", LabelsJson(t.alert.labels)}, {"annotations", LabelsJson(t.alert.annotations)},
              {"starts", t.alert.starts_ms}, {"ends", t.alert.ends_ms}, {"url", t.alert.generator_url},
              {"source", t.alert.source}, {"firing", t.firing}, {"first", t.first_seen_ms}, {"last", t.last_seen_ms},
              {"resolved", t.resolved_ms}, {"count", t.count}, {"severity", t.severity}, {"flapping", t.flapping},
              {"transitions", t.transitions}, {"incident", t.incident_id}, {"symptom", t.symptom}}
      .dump();
}

TrackedAlert AlertFromDoc(const json& j) {
  TrackedAlert t;
  t.alert.labels = LabelsFrom(j["labels"]);
  t.alert.annotations = LabelsFrom(j["annotations"]);
  t.alert.starts_ms = j["starts"];
  t.alert.ends_ms = j["ends"];
  t.alert.generator_url = j["url"];
  t.alert.source = j["source"];
  t.fingerprint = FingerprintOf(t.alert.labels);
  t.firing = j["firing"];
  t.first_seen_ms = j["first"];
  t.last_seen_ms = j["last"];
  t.resolved_ms = j["resolved"];
  t.count = j["count"];
  t.severity = j["severity"];
  t.flapping = j["flapping"];
  for (auto& x : j["transitions"]) t.transitions.push_back(x.get<TimestampMs>());
  t.incident_id = j["incident"];
  t.symptom = j["symptom"];
  return t;
}

std::string SilenceDoc(const Silence& s) {
  json m = json::array();
  for (const auto& x : s.matchers) m.push_back(x.ToString());
  return json{{"id", s.id}, {"matchers", m}, {"starts", s.starts_ms}, {"ends", s.ends_ms}, {"updated", s.updated_ms},
              {"createdBy", s.created_by}, {"comment", s.comment}}
      .dump();
}

std::string IncidentDoc(const AlertIncident& i) {
  return json{{"id", i.id}, {"resolved", i.resolved}, {"alerts", i.alerts}, {"firing", i.firing},
              {"services", i.services}, {"service_since", i.service_since}, {"service_last", i.service_last},
              {"service_onset", i.service_onset}, {"service_burst", i.service_burst},
              {"entities", i.entities}, {"entity_since", i.entity_since}, {"entity_last", i.entity_last},
              {"rule_since", i.rule_since}, {"rule_last", i.rule_last}, {"root", i.root_service}, {"title", i.title}, {"first", i.first_ms},
              {"last", i.last_ms}, {"opened", i.opened_ms}, {"resolved_ms", i.resolved_ms},
              {"quiet", i.quiet_since_ms}, {"anomalies", i.anomaly_ids}, {"severity", i.worst_severity},
              {"split_notice", i.split_notice}, {"notice_done", i.notice_done},
              {"notice_unless_paged", i.notice_unless_paged}}
      .dump();
}

AlertIncident IncidentFromDoc(const json& j) {
  AlertIncident i;
  i.id = j["id"];
  i.open = true;
  i.resolved = j["resolved"];
  i.alerts = j["alerts"].get<std::set<Fingerprint>>();
  i.firing = j["firing"].get<std::set<Fingerprint>>();
  i.services = j["services"].get<std::map<std::string, int>>();
  i.service_since = j["service_since"].get<std::map<std::string, TimestampMs>>();
  i.entities = j["entities"].get<std::set<std::string>>();
  i.entity_since = j["entity_since"].get<std::map<std::string, TimestampMs>>();
  i.service_last = j.value("service_last", std::map<std::string, TimestampMs>{});
  i.service_onset = j.value("service_onset", std::map<std::string, TimestampMs>{});
  i.service_burst = j.value("service_burst", std::map<std::string, std::pair<TimestampMs, TimestampMs>>{});
  i.entity_last = j.value("entity_last", std::map<std::string, TimestampMs>{});
  i.rule_since = j.value("rule_since", std::map<std::string, TimestampMs>{});
  i.rule_last = j.value("rule_last", std::map<std::string, TimestampMs>{});
  i.root_service = j["root"];
  i.title = j["title"];
  i.first_ms = j["first"];
  i.last_ms = j["last"];
  i.opened_ms = j["opened"];
  i.resolved_ms = j["resolved_ms"];
  i.quiet_since_ms = j["quiet"];
  i.anomaly_ids = j["anomalies"].get<std::vector<int64_t>>();
  i.worst_severity = j["severity"];
  i.split_notice = j.value("split_notice", std::string());
  i.notice_done = j.value("notice_done", std::set<std::string>{});
  i.notice_unless_paged = j.value("notice_unless_paged", false);
  return i;
}

std::string NflogKey(const NotificationLogEntry& e) { return e.receiver + "\n" + e.group_key; }

}  // namespace

AlertService::AlertService(AlertingConfig cfg, Store* store, std::unique_ptr<AlertStore> docs, const Clock* clock,
                           std::string external_url)
    : store_(store), docs_(std::move(docs)), clock_(clock), external_url_(std::move(external_url)) {
  pipeline_ = std::make_unique<AlertPipeline>(std::move(cfg), [this] { return NewIncidentId(); },
                                              static_cast<uint64_t>(clock->NowMs()));
}

Result<std::unique_ptr<AlertService>> AlertService::Open(AlertingConfig cfg, Store* store, const std::string& data_dir,
                                                         const Clock* clock, std::string external_url) {
  auto docs = AlertStore::Open(data_dir);
  if (!docs.ok()) return docs.status();
  std::unique_ptr<AlertService> s(new AlertService(std::move(cfg), store, std::move(*docs), clock, std::move(external_url)));
  try {
    auto alerts = s->docs_->Load("alert");
    auto silences = s->docs_->Load("silence");
    auto nflog = s->docs_->Load("nflog");
    auto incidents = s->docs_->Load("alert_incident");
    if (!alerts.ok()) return alerts.status();
    if (!silences.ok()) return silences.status();
    if (!nflog.ok()) return nflog.status();
    if (!incidents.ok()) return incidents.status();
    for (auto& [k, d] : *alerts) s->pipeline_->RestoreAlert(AlertFromDoc(json::parse(d)));
    for (auto& [k, d] : *silences) {
      json j = json::parse(d);
      Silence si;
      si.id = j["id"];
      for (auto& m : j["matchers"]) {
        auto mt = Matcher::Parse(m.get<std::string>());
        if (mt.ok()) si.matchers.push_back(*mt);
      }
      si.starts_ms = j["starts"];
      si.ends_ms = j["ends"];
      si.updated_ms = j["updated"];
      si.created_by = j["createdBy"];
      si.comment = j["comment"];
      s->pipeline_->silences().Restore(std::move(si));
    }
    for (auto& [k, d] : *nflog) {
      json j = json::parse(d);
      s->pipeline_->RestoreNotificationLog({j["receiver"], j["group_key"], j["firing"].get<std::vector<Fingerprint>>(),
                                            j["resolved"].get<std::vector<Fingerprint>>(), j["sent"]});
    }
    for (auto& [k, d] : *incidents) s->pipeline_->RestoreIncident(IncidentFromDoc(json::parse(d)));
    spdlog::info("alerts: restored {} alerts, {} silences, {} notification-log entries, {} alert incidents",
                 alerts->size(), silences->size(), nflog->size(), incidents->size());
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("alert documents in vigil.db: ") + e.what());
  }
  s->pipeline_->Reroute(clock->NowMs());
  return s;
}

int64_t AlertService::NewIncidentId() {
  Incident inc;
  inc.title = "alerts";
  inc.opened_ms = inc.updated_ms = clock_->NowMs();
  Status st = store_->UpsertIncident(&inc);
  if (!st.ok()) spdlog::error("alerts: cannot store a new incident: {}", st.ToString());
  return inc.id;
}

Status AlertService::Commit(AlertPipeline::Output& out, TimestampMs now) {
  std::vector<DocWrite> writes;
  for (Fingerprint fp : out.changed_alerts) {
    const TrackedAlert* t = pipeline_->alerts().Find(fp);
    writes.push_back({"alert", SeriesIdToHex(fp), t ? AlertDoc(*t) : ""});
  }
  std::set<int64_t> touched;
  for (const auto& ch : out.incidents) touched.insert(ch.incident_id);
  for (int64_t id : touched) {
    if (const AlertIncident* inc = pipeline_->correlator().Find(id)) {
      writes.push_back({"alert_incident", std::to_string(id), IncidentDoc(*inc)});
    }
  }
  for (const auto& e : out.nflog) {
    writes.push_back({"nflog", NflogKey(e),
                      json{{"receiver", e.receiver}, {"group_key", e.group_key}, {"firing", e.firing},
                           {"resolved", e.resolved}, {"sent", e.sent_ms}}.dump()});
  }
  for (int64_t id : out.forgotten_incidents) writes.push_back({"alert_incident", std::to_string(id), ""});
  for (const auto& id : out.forgotten_silences) writes.push_back({"silence", id, ""});
  for (const auto& [receiver, key] : out.nflog_forgotten) writes.push_back({"nflog", receiver + "\n" + key, ""});
  std::vector<NotificationRecord> outbox;
  std::vector<TimelineEntry> lines;
  for (const auto& n : out.notifications) {
    const Receiver* r = pipeline_->config().FindReceiver(n.receiver);
    if (!r) continue;
    GroupMessage m{n.receiver, n.group_key,   n.group_labels, n.incident_id, &n.firing,
                   &n.resolved, external_url_, 0,              n.incident_ids, n.notice};
    auto add = [&](const char* kind, const std::string& url, std::string payload) {
      NotificationRecord rec;
      rec.incident_id = n.incident_id;
      rec.covers = n.incident_ids;  // an all-clear digest: listed with each incident it closes
      rec.receiver = n.receiver;
      rec.kind = kind;
      rec.url = url;
      rec.payload = std::move(payload);
      rec.status = "pending";
      rec.next_attempt_ms = rec.created_ms = rec.updated_ms = now;
      outbox.push_back(std::move(rec));
    };
    for (const auto& w : r->webhooks) {
      // A split notice goes out whatever send_resolved (AlertPipeline::SplitNotice).
      if (n.firing.empty() && n.notice.empty() && !w.send_resolved) continue;
      m.max_alerts = w.max_alerts;
      add("webhook", w.url, GroupWebhookV4(m));
    }
    for (const auto& s : r->slack) {
      if (n.firing.empty() && n.notice.empty() && !s.send_resolved) continue;
      add("slack", s.api_url, GroupSlack(m, s.channel));
    }
    for (const auto& a : r->alertmanagers) add("alertmanager", a.url + "/api/v2/alerts", GroupAlertsV2(m, now));
    std::vector<int64_t> ids = n.incident_ids;  // an all-clear digest names several
    if (n.incident_id) ids.push_back(n.incident_id);
    for (int64_t id : ids) {
      TimelineEntry e;
      e.incident_id = id;
      e.ts_ms = now;
      e.kind = "notification";
      e.text = "notified " + n.receiver + ": " + std::to_string(n.firing.size()) + " firing, " +
               std::to_string(n.resolved.size()) + " resolved (group " + n.group_key + ")";
      if (!n.notice.empty()) {
        e.text = "notified " + n.receiver + ": " + n.notice + "; " + std::to_string(n.resolved.size()) +
                 " resolved alert(s) (group " + n.group_key + ")";
      }
      lines.push_back(std::move(e));
    }
  }
  Status st = docs_->Commit(writes, &outbox);
  if (!st.ok()) return st;
  notifications_ += out.notifications.size();
  // Incident rows and timelines (the Store's tables).
  for (auto& ch : out.incidents) {
    const AlertIncident* ai = pipeline_->correlator().Find(ch.incident_id);
    if (ai && ai->id) {
      auto old = store_->GetIncident(ai->id);
      Incident inc = pipeline_->correlator().ToIncident(*ai);
      if (old.ok() && old->has_value()) {
        inc.acknowledged = (*old)->acknowledged;
        inc.acknowledged_by = (*old)->acknowledged_by;
      }
      Status us = store_->UpsertIncident(&inc);
      if (!us.ok()) spdlog::error("alerts: cannot update incident {}: {}", inc.id, us.ToString());
    }
    for (auto& e : ch.timeline) {
      e.incident_id = ch.incident_id;
      (void)store_->AppendTimeline(&e);
    }
  }
  for (auto& e : lines) (void)store_->AppendTimeline(&e);
  return Status::Ok();
}

Status AlertService::Receive(const std::vector<Alert>& alerts) {
  std::lock_guard<std::mutex> lock(mu_);
  TimestampMs now = clock_->NowMs();
  AlertPipeline::Output out;
  size_t rejected = 0;
  for (const auto& a : alerts) {
    if (pipeline_->Receive(a, now, &out) == DedupOutcome::kRejected) ++rejected;
  }
  received_ += alerts.size();
  rejected_ += rejected;
  if (rejected) spdlog::warn("alerts: {} alert(s) refused, the table of {} alerts is full", rejected, pipeline_->alerts().alerts().size());
  Status st = Commit(out, now);
  if (!st.ok()) return st;
  if (rejected) return Status::ResourceExhausted(std::to_string(rejected) + " alert(s) refused: the alert table is full");
  return Status::Ok();
}

void AlertService::AddDiscoveredCalls(const std::vector<std::pair<std::string, std::string>>& calls) {
  std::lock_guard<std::mutex> lock(mu_);
  pipeline_->AddDiscoveredCalls(calls);
}

void AlertService::OnAnomaly(const Anomaly& a) {
  std::lock_guard<std::mutex> lock(mu_);
  AlertPipeline::Output out;
  pipeline_->OnAnomaly(a, &out);
  for (const auto& ch : out.incidents) {
    for (int64_t aid : ch.anomaly_ids) (void)store_->LinkAnomaly(aid, ch.incident_id);
  }
  if (!out.incidents.empty()) (void)Commit(out, clock_->NowMs());
}

void AlertService::Tick() {
  std::lock_guard<std::mutex> lock(mu_);
  TimestampMs now = clock_->NowMs();
  AlertPipeline::Output out;
  pipeline_->Tick(now, &out);
  Status st = Commit(out, now);
  if (!st.ok()) spdlog::error("alerts: cannot persist a tick: {}", st.ToString());
}

Result<std::string> AlertService::UpsertSilence(Silence s) {
  std::lock_guard<std::mutex> lock(mu_);
  TimestampMs now = clock_->NowMs();
  std::string old_id = s.id;
  auto id = pipeline_->silences().Upsert(std::move(s), now);
  if (!id.ok()) return id;
  std::vector<DocWrite> w{{"silence", *id, SilenceDoc(*pipeline_->silences().Get(*id))}};
  if (!old_id.empty() && old_id != *id) w.push_back({"silence", old_id, SilenceDoc(*pipeline_->silences().Get(old_id))});
  Status st = docs_->Commit(w);
  if (!st.ok()) return st;
  return id;
}

Status AlertService::ExpireSilence(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Status st = pipeline_->silences().Expire(id, clock_->NowMs());
  if (!st.ok()) return st;
  return docs_->Commit({{"silence", id, SilenceDoc(*pipeline_->silences().Get(id))}});
}

Result<int64_t> AlertService::ByOperator(
    const std::string& by, const std::function<Result<int64_t>(TimestampMs, AlertPipeline::Output*)>& op) {
  std::lock_guard<std::mutex> lock(mu_);
  TimestampMs now = clock_->NowMs();
  AlertPipeline::Output out;
  auto r = op(now, &out);
  if (!r.ok()) return r;
  for (auto& ch : out.incidents) {
    for (auto& e : ch.timeline) e.text += " (by " + by + ")";
  }
  Status st = Commit(out, now);
  if (!st.ok()) return st;
  return r;
}

Result<int64_t> AlertService::Merge(int64_t into, int64_t from, const std::string& by) {
  return ByOperator(by, [&](TimestampMs now, AlertPipeline::Output* out) { return pipeline_->Merge(into, from, now, out); });
}

Result<int64_t> AlertService::Split(int64_t id, const std::vector<Fingerprint>& fps, const std::string& by) {
  return ByOperator(by, [&](TimestampMs now, AlertPipeline::Output* out) { return pipeline_->Split(id, fps, now, out); });
}

Status AlertService::Resolve(int64_t id, const std::string& by) {
  std::lock_guard<std::mutex> lock(mu_);
  TimestampMs now = clock_->NowMs();
  AlertPipeline::Output out;
  Status s = pipeline_->Resolve(id, now, &out);
  if (!s.ok()) return s;
  for (auto& ch : out.incidents) {
    TimelineEntry e;
    e.ts_ms = now;
    e.kind = "resolved";
    e.text = "resolved by " + by;
    ch.timeline.push_back(e);
  }
  return Commit(out, now);
}

std::vector<AlertService::AlertView> AlertService::Alerts(int64_t incident_id) {
  std::lock_guard<std::mutex> lock(mu_);
  TimestampMs now = clock_->NowMs();
  std::vector<AlertView> out;
  for (const auto& [fp, t] : pipeline_->alerts().alerts()) {
    if (incident_id && t.incident_id != incident_id) continue;
    AlertView v{t, pipeline_->MutedNow(t, now), {}};
    for (const RouteNode* r : MatchRoutes(pipeline_->config().route, t.alert.labels)) v.receivers.push_back(r->receiver);
    out.push_back(std::move(v));
  }
  return out;
}

void AlertService::RenderMetrics(std::string* out) {
  std::lock_guard<std::mutex> lock(mu_);
  TimestampMs now = clock_->NowMs();
  size_t live = 0, active_silences = 0;
  for (const auto& [id, inc] : pipeline_->correlator().incidents()) live += !inc.resolved;
  for (const auto& s : pipeline_->silences().List()) active_silences += StateOf(s, now) == SilenceState::kActive;
  auto line = [out](const char* name, const char* type, const char* help, double v) {
    *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
            std::to_string(v) + "\n";
  };
  line("vigil_alerts_received_total", "counter", "Alerts received (every send, repeats included).", double(received_));
  line("vigil_alerts_rejected_total", "counter", "Alerts refused because the alert table was full.", double(rejected_));
  line("vigil_alerts_firing", "gauge", "Alerts firing now.", double(pipeline_->alerts().firing_count()));
  line("vigil_alerts_tracked", "gauge", "Alerts held (firing, and resolved within retention).",
       double(pipeline_->alerts().alerts().size()));
  line("vigil_alert_incidents_open", "gauge", "Open incidents made of alerts.", double(live));
  line("vigil_alert_incident_candidates", "gauge", "Alert groups waiting for the minimum evidence.",
       double(pipeline_->correlator().candidates()));
  line("vigil_alert_notifications_total", "counter", "Group notifications queued.", double(notifications_));
  line("vigil_silences_active", "gauge", "Active silences.", double(active_silences));
}

std::vector<Silence> AlertService::Silences() {
  std::lock_guard<std::mutex> lock(mu_);
  return pipeline_->silences().List();
}

}  // namespace vigil
