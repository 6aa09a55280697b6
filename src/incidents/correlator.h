// IncidentCorrelator: turns a stream of anomalies into incidents.
//
// An incident is "something is wrong with this entity": anomalies of the
// series of one entity (a host, a service, a pod), joined over time. The
// entity of an anomaly is given by its entity labels (IncidentConfig::
// entity_labels, e.g. instance and job), so every series scraped from one
// node_exporter belongs to the same entity.
//
// Lifecycle (all times are the anomalies' own timestamps, or the `now` the
// caller passes; the correlator has no clock):
//   evidence  Anomalies of an entity without an incident are held as
//             evidence for evidence_window_ms. When min_anomalies of them
//             (from at least RequiredSeries() distinct series, at least one
//             scoring open_score or more) fall within that window, an
//             incident opens with all of them (kOpened).
//   open      Every later anomaly of the entity joins it (kUpdated).
//   resolved  Tick() resolves an incident whose last strong anomaly (score
//             open_score or more) is resolve_after_ms old (kResolved): weak
//             echoes join an incident but do not keep it open.
//   grouped   An entity whose evidence would open an incident joins a related
//             open incident instead (kUpdated, a "joined" timeline line, the
//             entity listed in Incident::members): another pod of the same
//             service (IncidentConfig::group_labels), or a service that calls
//             or is called by one of the incident's services (a peer label on
//             the evidence or on the incident's anomalies, e.g.
//             rpc_client_duration_seconds{peer="cart"}, or a call from traces
//             or AddCall that no peer-labelled series measures), while the
//             incident is young (group_window_ms): a fault spreads along
//             calls within minutes, and one fault is one incident however
//             many pods and callers show it. Later anomalies of a member
//             join the incident like the primary entity's.
//   reopened  A strong anomaly within join_window_ms of a resolved incident's
//             last anomaly reopens that incident rather than starting a new one
//             (kOpened with the incident's id and a "reopened" timeline line),
//             so a flapping problem stays one incident.
//
// Ids. The store assigns incident ids. A new incident comes out of OnAnomaly
// with id 0; once the caller has stored it, it must call
// SetIncidentId(entity, id) before the next call, so later changes carry the
// id. (If storing failed, later changes still carry id 0 and the caller can
// try again with them.) The correlator copies ids into IncidentChange::
// timeline entries when it knows them; callers should set incident_id on
// each entry to the stored id anyway.
//
// Each incident lists its series strongest first (by max score), at most
// max_series of them; anomaly_count counts every anomaly. The title names
// the strongest anomaly so far, e.g.
//   node_cpu_seconds_total{cpu="0",mode="user"} up (rate 0.98/s, expected 0.02)
//   on instance="h:9100",job="node"
// (the series shown without its entity labels, which follow "on").
//
// Not thread-safe: one owner (the engine's converge stage) calls it.
// Memory is bounded: evidence per entity is capped, entities with only stale
// evidence are dropped by Tick().
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>
#include <string>
#include <vector>

#include "core/anomaly.h"
#include "core/incident.h"
#include "core/labels.h"
#include "core/sample.h"
#include "core/status.h"

namespace vigil {

struct IncidentConfig {
  std::vector<std::string> entity_labels = {"instance", "job", "host", "service", "pod"};
  int min_anomalies = 3;                  // evidence needed before an incident opens
  int min_series = 1;                     // ... coming from at least this many distinct series
  // An entity that exports many series (a node_exporter has hundreds) needs
  // corroboration: one series of hundreds moving on its own (dirty pages
  // written back, a buffer refilled) is routine, and a real fault on such an
  // entity shows on several series at once. Entities with fewer series (a
  // service pushing a handful of KPIs) keep min_series. See CountSeries().
  int min_series_large_entity = 2;
  size_t large_entity_series = 20;
  // ... and at least one of them this strong (robust z-score). Anomalies
  // are cheap and all recorded; an incident pages people, so weak evidence
  // alone (a page cache growing by a few MB, score 8) does not open one. It
  // still joins an incident that a strong anomaly opened. 0 = no gate.
  double open_score = 12;
  TimestampMs evidence_window_ms = 60000;
  TimestampMs join_window_ms = 300000;
  TimestampMs resolve_after_ms = 120000;
  // Metrics that describe the monitoring pipeline itself rather than the
  // entity: how long each node_exporter collector took, the exporter's own
  // GC pauses, Prometheus' per-target scrape bookkeeping. They are timing
  // noise of the exporter process (single-point spikes of 10x are routine),
  // so their anomalies are kept as anomalies but are not incident evidence
  // and do not join incidents. Exact metric names.
  // Metrics that account for how the kernel uses memory (page cache, buffers,
  // dirty pages, slab, anonymous pages) rather than show a fault: the page
  // cache grows and shrinks by hundreds of MB as files are read and written,
  // and free memory moves with it. Their anomalies explain an incident (they
  // join an open one, and are listed) but never open or hold one open.
  // Available memory and swap activity are not here: those are symptoms.
  std::vector<std::string> supporting_metrics = {
      "node_memory_Cached_bytes",        "node_memory_Buffers_bytes",         "node_memory_Dirty_bytes",
      "node_memory_Writeback_bytes",     "node_memory_Active_bytes",          "node_memory_Inactive_bytes",
      "node_memory_Active_file_bytes",   "node_memory_Inactive_file_bytes",   "node_memory_Active_anon_bytes",
      "node_memory_Inactive_anon_bytes", "node_memory_AnonPages_bytes",       "node_memory_Mapped_bytes",
      "node_memory_Shmem_bytes",         "node_memory_Slab_bytes",            "node_memory_SReclaimable_bytes",
      "node_memory_SUnreclaim_bytes",    "node_memory_KReclaimable_bytes",    "node_memory_PageTables_bytes",
      "node_memory_Committed_AS_bytes",  "node_memory_MemFree_bytes",         "node_memory_Unevictable_bytes",
      "node_memory_AnonHugePages_bytes", "node_memory_KernelStack_bytes",     "node_memory_Percpu_bytes"};
  std::vector<std::string> self_metrics = {
      "node_scrape_collector_duration_seconds", "node_scrape_collector_success", "go_gc_duration_seconds",
      "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
      "scrape_series_added"};
  // Entities sharing the value of the first of these labels they have (the
  // pods of one service) belong in one incident. Empty = no grouping.
  std::vector<std::string> group_labels = {"service"};
  // Labels naming the service a series' calls go to: a series with one of
  // them shows a call from its own service to that one.
  std::vector<std::string> peer_labels = {"peer", "peer_service", "upstream_service", "destination_service"};
  // An entity joins a related incident opened at most this long before.
  TimestampMs group_window_ms = 300000;
  size_t max_calls = 100000;              // learned caller -> callee pairs
  size_t max_series = 50;                 // series listed per incident
  size_t max_evidence = 1000;             // anomalies held per entity without an incident
  size_t max_entities = 100000;           // entities with evidence; beyond, new ones are ignored until Tick
};

struct IncidentChange {
  enum class Kind { kOpened, kUpdated, kResolved };
  Kind kind = Kind::kUpdated;
  Incident incident;                    // the incident after the change
  std::vector<TimelineEntry> timeline;  // lines to append to its timeline
  std::vector<int64_t> anomaly_ids;     // anomalies to link to the incident
};

const char* IncidentChangeKindName(IncidentChange::Kind kind);

class IncidentCorrelator {
 public:
  explicit IncidentCorrelator(IncidentConfig cfg);

  // Resumes the open incidents of an earlier run (from the store). Call
  // before anything else. Should two share an entity, the newest is kept
  // and the others are resolved by the next Tick().
  void Restore(std::vector<Incident> open_incidents);
  // After Restore: the stored anomalies of the restored incident of
  // `entity` give back the peers they name (`peer_labels`), so a caller
  // whose evidence names the incident's service, or the service its
  // anomalies name, still joins it after a restart. No-op for an entity
  // with no open incident.
  void RestorePeers(const std::string& entity, const std::vector<Anomaly>& anomalies);

  // Canonical entity key of a series: its entity labels (those of
  // IncidentConfig::entity_labels it has), sorted by name, written as
  // instance="h:9100",job="node". A series with none of them is its own
  // entity: the key is its metric name (entity label __name__), or, without
  // a name, its full label set. Sets *entity_labels when not null.
  std::string EntityOf(const Labels& labels, Labels* entity_labels) const;

  // Takes one anomaly (its id already assigned by the store) and returns
  // what changed: nothing (held as evidence, or a self metric, see
  // IncidentConfig::self_metrics), kOpened, or kUpdated.
  std::vector<IncidentChange> OnAnomaly(const Anomaly& a);

  // Resolves open incidents without an anomaly for resolve_after_ms
  // (kResolved, timeline "resolved"); forgets evidence older than
  // evidence_window_ms and resolved incidents past join_window_ms.
  std::vector<IncidentChange> Tick(TimestampMs now);

  // Acknowledges an open incident: kUpdated with the timeline line
  // "acknowledged by <by>". NotFound when no open incident has that id.
  Result<IncidentChange> Acknowledge(int64_t incident_id, const std::string& by, TimestampMs now);

  // Tells the correlator that `caller` calls `callee` (services, the values
  // of group_labels), e.g. from traces or the configured topology.
  void AddCall(const std::string& caller, const std::string& callee);

  // Records the store's id for the incident of `entity` (see "Ids" above).
  // Unknown entities are ignored.
  void SetIncidentId(const std::string& entity, int64_t id);

  size_t open_count() const { return open_.size(); }
  // Entities holding evidence but no incident (for tests and metrics).
  size_t pending_entities() const { return evidence_.size(); }

  // Tells the correlator that a series exists (call once per series, when it
  // is first seen or restored), so it knows how many series each entity has.
  void CountSeries(const Labels& series_labels);
  // Distinct series this entity's evidence must come from before it opens.
  int RequiredSeries(const std::string& entity) const;
  // True for anomalies of IncidentConfig::supporting_metrics.
  bool IsSupporting(const Anomaly& a) const;
  // The open incident of an entity, or null.
  const Incident* FindOpen(const std::string& entity) const;
  // Copies of every open incident (the in-memory state the store mirrors).
  std::vector<Incident> OpenIncidents() const;

 private:
  struct Evidence {
    Labels entity_labels;
    std::deque<Anomaly> anomalies;  // oldest first
  };

  IncidentChange Open(const std::string& entity, Evidence ev);
  // The open incident (its primary entity) that an entity's qualifying
  // evidence should join rather than open its own, or null; `why` says how
  // they are related.
  const std::string* RelatedOpen(const Evidence& ev, TimestampMs now, std::string* why) const;
  IncidentChange JoinGroup(const std::string& primary, const std::string& entity, Evidence ev, const std::string& why);
  std::string GroupOf(const Labels& labels) const;
  std::string PeerOf(const Labels& labels) const;
  // A call from traces or the declared topology that no peer-labelled series
  // measures (measured calls relate incidents only through peer evidence).
  bool UnmeasuredCall(const std::string& caller, const std::string& callee) const;
  void NotePeers(const std::string& primary, const Anomaly& a);
  IncidentChange Join(Incident& inc, const Anomaly& a, IncidentChange::Kind kind);
  void Absorb(Incident& inc, const Anomaly& a, IncidentChange* change);
  std::string Title(const Anomaly& strongest, const std::string& entity) const;
  void TrimEvidence(Evidence& ev, TimestampMs now) const;

  IncidentConfig cfg_;
  std::map<std::string, Incident> open_;        // by (primary) entity
  std::unordered_map<std::string, std::string> member_of_;  // member entity -> primary entity of its open incident
  std::map<std::string, std::vector<std::string>> groups_;  // primary entity -> groups (services) of its entities
  std::set<std::pair<std::string, std::string>> calls_;     // caller, callee
  // Calls whose caller has series labelled with the callee (peer labels):
  // for those, vigil sees whether the calls moved, so a call alone does not
  // relate two incidents; the peer evidence must.
  std::set<std::pair<std::string, std::string>> instrumented_;
  std::map<std::string, std::set<std::string>> peers_;      // primary entity -> peers its anomalies name
  std::map<std::string, Incident> resolved_;    // recently resolved, by entity (join window)
  std::map<std::string, Evidence> evidence_;    // by entity, no incident yet
  std::unordered_map<std::string, size_t> entity_series_;  // series per entity (CountSeries)
  std::vector<Incident> superseded_;            // restored duplicates, resolved at the next Tick
};

}  // namespace vigil
