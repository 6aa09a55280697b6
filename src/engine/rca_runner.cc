#include "engine/rca_runner.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "engine/engine.h"
#include "engine/log_pipeline.h"
#include "engine/selector.h"
#include "engine/trace_pipeline.h"
#include "rca/localize.h"
#include "rca/scope.h"
#include "store/sqlite_store.h"

namespace vigil {

namespace {

std::string FirstOf(const Labels& l, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    std::string_view v = l.Get(n);
    if (!v.empty()) return std::string(v);
  }
  return {};
}

// Labels that name where a series lives rather than what it measures.
bool IsPlaceLabel(const std::string& n) {
  return n == "__name__" || n == "service" || n == "job" || n == "app" || n == "instance" || n == "pod" ||
         n == "host" || n == "node" || n == "hostname" || n == "namespace" || n == "container";
}

// The metric a series measures: its name plus the labels that are not a
// place (cpu="0",mode="user"), so node_exporter's many CPU series stay apart.
std::string IndicatorOf(const Labels& l) {
  std::string out(l.Get("__name__"));
  std::string rest;
  for (const auto& x : l.items()) {
    if (IsPlaceLabel(x.name)) continue;
    rest += (rest.empty() ? "" : ",") + x.name + "=\"" + x.value + "\"";
  }
  if (!rest.empty()) out += "{" + rest + "}";
  return out;
}

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

struct RcaRunner::Impl {
  RcaSettings settings;
  Engine* engine;
  const Clock* clock;

  std::thread worker;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool started = false;

  mutable std::mutex stats_mu;
  RcaRunnerStats stats;
  std::unordered_map<int64_t, std::string> top_cause;  // incident -> last top service (timeline lines)

  void Run() {
    std::unique_lock<std::mutex> lock(mu);
    while (!stop) {
      cv.wait_for(lock, std::chrono::milliseconds(settings.poll_ms), [this] { return stop; });
      if (stop) break;
      lock.unlock();
      PollOnce();
      lock.lock();
    }
  }

  void PollOnce() {
    // The newest incidents, open or not: one that opened and resolved
    // between two polls (a replay, a short blip) still gets its ranking.
    IncidentQuery q;
    q.limit = static_cast<int>(settings.max_incidents);
    auto list = engine->store()->ListIncidents(q);
    if (!list.ok()) {
      spdlog::warn("rca: cannot list open incidents: {}", list.status().ToString());
      return;
    }
    for (const Incident& inc : *list) {
      {
        std::lock_guard<std::mutex> l(mu);
        if (stop) return;
      }
      auto rec = engine->store()->GetRootCauses(inc.id);
      if (!rec.ok()) continue;
      const TimestampMs now = clock->NowMs();
      if (!rec->has_value() && inc.state != IncidentState::kOpen && now - inc.updated_ms > settings.rerank_for_ms) {
        continue;  // long over: nobody is waiting for its ranking
      }
      // Age in evidence time: data replayed ahead of the wall clock (a
      // backfill, the simulator at full speed) has incidents "in the future".
      if (!rec->has_value() && inc.state == IncidentState::kOpen && settings.first_rank_after_ms > 0 &&
          std::max(now, inc.updated_ms) - inc.opened_ms < settings.first_rank_after_ms) {
        continue;  // too young: let the abnormal window fill first
      }
      if (rec->has_value()) {
        const RootCauseRecord& r = **rec;
        if (inc.state != IncidentState::kOpen) continue;
        if (inc.updated_ms <= r.computed_ms) continue;                 // nothing new
        if (now - r.computed_ms < settings.min_interval_ms) continue;  // recently ranked
        if (now - inc.opened_ms > settings.rerank_for_ms) continue;    // settled
      }
      Status s = Rank(inc);
      if (!s.ok()) spdlog::warn("rca: incident {}: {}", inc.id, s.ToString());
    }
  }

  Status Rank(const Incident& inc) {
    const auto t0 = std::chrono::steady_clock::now();
    // The abnormal window runs to now, or to the incident's newest evidence
    // when that is later (data replayed ahead of the wall clock).
    const TimestampMs now = std::max(clock->NowMs(), inc.updated_ms);
    rca::CaseData data;
    data.id = std::to_string(inc.id);
    // Incidents open after some minimum evidence: the fault began a little
    // before. The abnormal window runs from there to now.
    data.incident_ms = inc.opened_ms - settings.onset_lead_ms;
    rca::LocalizeOptions opt;
    opt.abnormal_ms = std::clamp<int64_t>(now - data.incident_ms, 60'000, settings.max_abnormal_ms);
    opt.normal_ms = settings.normal_ms;
    opt.gap_ms = std::min<int64_t>(settings.onset_lead_ms, 60'000);
    const TimestampMs from = data.incident_ms - opt.gap_ms - opt.normal_ms;
    const TimestampMs to = std::max(now, data.incident_ms + opt.abnormal_ms);

    // Metrics: the windows the detectors keep (analysed values: counters as rates).
    std::vector<SeriesInfo> series = engine->FindSeries(SeriesSelector{}, settings.max_series);
    std::vector<Sample> points;
    std::vector<std::pair<std::string, std::string>> peer_calls;
    for (const SeriesInfo& s : series) {
      SeriesInfo info;
      if (!engine->Points(s.id, from, to, &info, &points) || points.size() < 3) continue;
      rca::MetricSeries m;
      m.service = FirstOf(info.labels, {"service", "app", "job"});
      m.instance = FirstOf(info.labels, {"pod", "instance"});
      m.host = FirstOf(info.labels, {"host", "node", "hostname"});
      if (m.service.empty() && m.instance.empty()) continue;
      m.indicator = IndicatorOf(info.labels);
      // A client-side series naming its peer is a call (service -> peer);
      // peers that are no service of the case add no node (below).
      if (std::string peer(info.labels.Get("peer")); !peer.empty() && !m.service.empty() && peer != m.service) {
        peer_calls.emplace_back(m.service, std::move(peer));
      }
      m.ts_ms.reserve(points.size());
      m.values.reserve(points.size());
      for (const Sample& p : points) {
        m.ts_ms.push_back(p.ts_ms);
        m.values.push_back(p.value);
      }
      data.metrics.push_back(std::move(m));
    }
    {
      std::unordered_set<std::string> known;
      for (const rca::MetricSeries& m : data.metrics) known.insert(m.service);
      std::sort(peer_calls.begin(), peer_calls.end());
      peer_calls.erase(std::unique(peer_calls.begin(), peer_calls.end()), peer_calls.end());
      for (auto& c : peer_calls) {
        if (known.count(c.second)) data.dependencies.push_back(std::move(c));
      }
    }
    // Spans of the recent ring around the incident.
    if (TracePipeline* traces = engine->traces()) {
      for (RecentSpan& r : traces->RecentSpans(from, to, settings.max_spans)) data.spans.push_back(std::move(r.span));
    }
    // Deploys and configuration changes.
    EventQuery eq;
    eq.from = from;
    eq.to = to;
    eq.limit = 1000;
    if (auto ev = engine->store()->ListEvents(eq); ev.ok()) data.events = std::move(*ev);
    // Log lines: the newest of the abnormal window and of the normal one.
    if (LogPipeline* logs = engine->logs()) {
      for (auto [lo, hi] : {std::pair{data.incident_ms, to}, std::pair{from, data.incident_ms - opt.gap_ms}}) {
        LogQuery lq;
        lq.from_ms = lo;
        lq.to_ms = hi;
        lq.limit = settings.max_logs;
        auto hits = logs->Search(lq);
        if (!hits.ok()) continue;
        for (LogHit& h : *hits) {
          rca::LogRecord r;
          r.ts_ms = h.ts_ms;
          r.service = FirstOf(h.labels, {"service", "app", "job", "service_name"});
          r.instance = FirstOf(h.labels, {"pod", "instance"});
          r.host = FirstOf(h.labels, {"host", "node", "hostname"});
          r.error = h.severity >= 4;
          r.template_text = std::move(h.template_text);
          if (r.service.empty() && r.instance.empty()) continue;
          data.logs.push_back(std::move(r));
        }
      }
    }
    // Keep what can be connected to the incident (rca/scope.h): another
    // application failing at the same time is not this incident's cause.
    std::vector<std::string> services, instances;
    auto note = [&](std::string svc, std::string inst) {
      if (!svc.empty() && std::find(services.begin(), services.end(), svc) == services.end()) {
        services.push_back(std::move(svc));
      }
      if (!inst.empty()) instances.push_back(std::move(inst));
    };
    note(FirstOf(inc.entity_labels, {"service", "app", "job"}), FirstOf(inc.entity_labels, {"pod", "instance"}));
    auto first_in = [](const std::string& key, std::initializer_list<const char*> names) {
      for (const char* n : names) {
        if (std::string v = ValueInEntityKey(key, n); !v.empty()) return v;
      }
      return std::string();
    };
    for (const std::string& m : inc.members) {
      note(first_in(m, {"service", "app", "job"}), first_in(m, {"pod", "instance"}));
    }
    const rca::Scope scope = rca::ScopeToIncident(&data, services, instances);
    const double gather_ms = MsSince(t0);
    const auto t1 = std::chrono::steady_clock::now();
    rca::Ranking ranking = rca::Localize(data, opt);
    const double compute_ms = MsSince(t1);

    RootCauseRecord rec;
    rec.incident_id = inc.id;
    rec.computed_ms = clock->NowMs();
    rec.compute_us = static_cast<int64_t>((gather_ms + compute_ms) * 1000);
    std::string json = rca::RankingToJson(ranking, compute_ms);
    // Say what the ranking was made from, next to what it found.
    nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
    if (doc.is_object()) {
      doc["gather_ms"] = gather_ms;
      doc["inputs"] = {{"series", data.metrics.size()}, {"spans", data.spans.size()},
                       {"logs", data.logs.size()}, {"events", data.events.size()},
                       {"from_ms", from}, {"incident_ms", data.incident_ms}, {"to_ms", to},
                       {"services_dropped", scope.dropped}};
      json = doc.dump();
    }
    rec.ranking_json = std::move(json);
    Status st = engine->store()->PutRootCauses(&rec);
    {
      std::lock_guard<std::mutex> l(stats_mu);
      if (st.ok()) {
        ++stats.rankings;
      } else {
        ++stats.failures;
      }
      stats.last_compute_ms = compute_ms;
      stats.last_gather_ms = gather_ms;
      stats.max_compute_ms = std::max(stats.max_compute_ms, compute_ms);
      stats.last_series = data.metrics.size();
      stats.last_spans = data.spans.size();
      stats.last_logs = data.logs.size();
    }
    if (!st.ok()) return st;
    // A timeline line for the first ranking and whenever the top cause changes.
    std::string top = ranking.causes.empty() ? "" : ranking.causes.front().service;
    bool changed;
    {
      std::lock_guard<std::mutex> l(stats_mu);
      auto it = top_cause.find(inc.id);
      changed = it == top_cause.end() || it->second != top;
      top_cause[inc.id] = top;
      if (top_cause.size() > 10'000) top_cause.clear();  // bounded; worst case a repeated line
    }
    if (changed && !top.empty()) {
      TimelineEntry e;
      e.incident_id = inc.id;
      e.ts_ms = rec.computed_ms;
      e.kind = "root_causes";
      std::string text = rec.revision == 1 ? "root causes ranked" : "root causes re-ranked";
      char buf[64];
      std::snprintf(buf, sizeof buf, " in %.0f ms:", gather_ms + compute_ms);
      text += buf;
      for (size_t i = 0; i < ranking.causes.size() && i < 3; ++i) {
        const rca::RankedCause& c = ranking.causes[i];
        text += " " + std::to_string(i + 1) + ". " + c.service;
        if (!c.instance.empty()) text += " (" + c.instance + ")";
        if (!c.indicator.empty()) text += " " + c.indicator;
        text += i + 1 < std::min<size_t>(3, ranking.causes.size()) ? ";" : "";
      }
      e.text = std::move(text);
      if (Status ts = engine->store()->AppendTimeline(&e); !ts.ok()) {
        spdlog::warn("rca: timeline of incident {}: {}", inc.id, ts.ToString());
      }
    }
    return Status::Ok();
  }
};

RcaRunner::RcaRunner(const RcaSettings& settings, Engine* engine, const Clock* clock)
    : impl_(std::make_unique<Impl>()) {
  impl_->settings = settings;
  impl_->engine = engine;
  impl_->clock = clock;
}

RcaRunner::~RcaRunner() { Stop(); }

void RcaRunner::Start() {
  if (!impl_->settings.enabled || impl_->started) return;
  impl_->started = true;
  impl_->worker = std::thread([this] { impl_->Run(); });
}

void RcaRunner::Stop() {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
}

RcaRunnerStats RcaRunner::stats() const {
  std::lock_guard<std::mutex> l(impl_->stats_mu);
  return impl_->stats;
}

void RcaRunner::RenderMetrics(std::string* out) const {
  RcaRunnerStats s = stats();
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "# HELP vigil_rca_rankings_total Root-cause rankings computed for incidents.\n"
                "# TYPE vigil_rca_rankings_total counter\n"
                "vigil_rca_rankings_total %llu\n"
                "# HELP vigil_rca_failures_total Rankings that could not be stored.\n"
                "# TYPE vigil_rca_failures_total counter\n"
                "vigil_rca_failures_total %llu\n"
                "# HELP vigil_rca_last_compute_seconds Time the localizers took for the last ranking.\n"
                "# TYPE vigil_rca_last_compute_seconds gauge\n"
                "vigil_rca_last_compute_seconds %.6f\n"
                "# HELP vigil_rca_last_gather_seconds Time collecting the last ranking's data.\n"
                "# TYPE vigil_rca_last_gather_seconds gauge\n"
                "vigil_rca_last_gather_seconds %.6f\n"
                "# HELP vigil_rca_max_compute_seconds Longest localizer time since start.\n"
                "# TYPE vigil_rca_max_compute_seconds gauge\n"
                "vigil_rca_max_compute_seconds %.6f\n",
                static_cast<unsigned long long>(s.rankings), static_cast<unsigned long long>(s.failures),
                s.last_compute_ms / 1000, s.last_gather_ms / 1000, s.max_compute_ms / 1000);
  *out += buf;
}

}  // namespace vigil
