// The assembled alert pipeline: correlation into incidents, minimum
// evidence, topology symptoms, silences and notification dedup.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "incidents/alert_pipeline.h"

namespace vigil {
namespace {

Alert A(const std::string& name, const std::string& service, TimestampMs starts, TimestampMs ends = 0,
        const std::string& sev = "warning") {
  Alert a;
  a.labels = *Labels::FromPairs({{"alertname", name}, {"service", service}, {"severity", sev}});
  a.starts_ms = starts;
  a.ends_ms = ends;
  return a;
}

// One pod's alert (instance <service>-<i>), as the storm tests send them.
Alert Pod(const std::string& name, const std::string& svc, int i, TimestampMs at, TimestampMs ends = 0,
          const std::string& sev = "") {
  Alert a = A(name, svc, at, ends);
  std::vector<Label> labels{
      {"alertname", name}, {"service", svc}, {"instance", svc + "-" + std::to_string(i)}};
  if (!sev.empty()) labels.push_back({"severity", sev});
  a.labels = *Labels::FromPairs(labels);
  return a;
}

// The endsAt Prometheus sends with a firing alert: four minutes ahead, or
// the real end once it is that close.
TimestampMs Until(TimestampMs now, TimestampMs end) { return now + 240'000 < end ? now + 240'000 : end; }

AlertingConfig Config() {
  auto cfg = ParseAlertingConfig(R"(
route:
  receiver: oncall
  group_by: [incident]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: oncall
    webhook_configs: [{url: "http://127.0.0.1:1/hook"}]
topology:
  frontend: [checkout, search]
  checkout: [payments]
  search: [index]
correlation: {window: 5m, min_alerts: 3, min_duration: 2m, resolve_after: 5m}
)");
  EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
  return std::move(*cfg);
}

// The services of the alerts sent firing in `out`'s notifications.
std::set<std::string> PagedServices(const AlertPipeline::Output& out) {
  std::set<std::string> paged;
  for (const auto& n : out.notifications) {
    for (const auto& t : n.firing) paged.insert(std::string(t.alert.labels.Get("service")));
  }
  return paged;
}

// How many timeline lines in `out` contain `text`.
int TimelineLines(const AlertPipeline::Output& out, const std::string& text) {
  int said = 0;
  for (const auto& ch : out.incidents) {
    for (const auto& e : ch.timeline) said += e.text.find(text) != std::string::npos;
  }
  return said;
}

AlertingConfig PagingCriticalSymptoms() {
  AlertingConfig c = Config();
  c.correlation.page_critical_symptoms = true;
  return c;
}

struct Fixture {
  explicit Fixture(AlertingConfig c = Config()) : p(std::move(c), [this] { return ++ids; }) {}
  int64_t ids = 0;
  AlertPipeline p;
  AlertPipeline::Output out;
  void Run(TimestampMs from, TimestampMs to) {
    for (TimestampMs t = from; t <= to; t += 1000) p.Tick(t, &out);
  }
};

// A silence of `service`'s alerts from 0 to `ends`.
Silence SilenceOn(const std::string& service, TimestampMs ends) {
  Silence s;
  s.matchers = *ParseMatchers("service=\"" + service + "\"");
  s.starts_ms = 0;
  s.ends_ms = ends;
  s.created_by = "ann";
  s.comment = "maintenance";
  return s;
}

TEST(AlertPipeline, CascadeBecomesOneIncidentWithRootAndOneNotification) {
  Fixture f;
  Alert db1 = A("DbErrors", "payments", 1000);
  db1.labels = *Labels::FromPairs({{"alertname", "DbErrors"}, {"service", "payments"}, {"instance", "p-1"}});
  f.p.Receive(A("DbErrors", "payments", 0), 0, &f.out);
  f.p.Receive(db1, 1000, &f.out);
  EXPECT_EQ(f.ids, 0);  // two alerts: not enough evidence yet
  f.p.Receive(A("HighLatency", "checkout", 5000), 5000, &f.out);
  ASSERT_EQ(f.ids, 1);
  f.p.Receive(A("Errors5xx", "frontend", 9000), 9000, &f.out);
  const AlertIncident* inc = f.p.correlator().Find(1);
  ASSERT_NE(inc, nullptr);
  EXPECT_EQ(inc->root_service, "payments");
  EXPECT_EQ(inc->alerts.size(), 4u);
  // An unrelated service far from the fault starts its own candidate.
  f.p.Receive(A("IndexLag", "index", 10000), 10000, &f.out);
  EXPECT_EQ(f.p.correlator().Find(1)->alerts.size(), 4u);
  f.Run(10000, 60000);
  ASSERT_EQ(f.out.notifications.size(), 1u);
  const auto& n = f.out.notifications[0];
  EXPECT_EQ(n.incident_id, 1);
  // checkout and frontend depend on payments: symptoms, muted.
  ASSERT_EQ(n.firing.size(), 2u);
  EXPECT_EQ(n.firing[0].alert.labels.Get("service"), "payments");
  EXPECT_EQ(n.firing[1].alert.labels.Get("service"), "payments");
  // The blip on index resolves quickly and never opens an incident.
  f.p.Receive(A("IndexLag", "index", 10000, 70000), 70000, &f.out);
  f.Run(70000, 250000);
  EXPECT_EQ(f.ids, 1);
  EXPECT_EQ(f.out.notifications.size(), 1u);  // nothing new: no repeat before 4h
  // Not re-sent and without endsAt, the alerts resolve after the 5m resolve
  // timeout; the all-clear falls due at the next group_interval tick and
  // waits one more group_interval for others (resolved_digest_wait).
  f.Run(250000, 400000);
  EXPECT_EQ(f.out.notifications.size(), 1u);
  f.Run(400000, 700000);
  ASSERT_EQ(f.out.notifications.size(), 2u);
  EXPECT_TRUE(f.out.notifications[1].all_resolved());
}

// Topology inhibition mutes a caller's warnings, not its critical alerts (as
// Alertmanager's usual inhibit rule: critical mutes warning): a fault of the
// caller's own that begins while the root's fault spreads still pages.
TEST(AlertPipeline, ACriticalAlertOnACallerIsNotMutedAsASymptom) {
  Fixture f(PagingCriticalSymptoms());  // correlation.page_critical_symptoms
  for (int i = 0; i < 3; ++i) {
    Alert a = A("DbErrors", "payments", i * 1000, 0, "critical");
    a.labels = *Labels::FromPairs({{"alertname", "DbErrors"}, {"service", "payments"}, {"severity", "critical"},
                                   {"instance", "p-" + std::to_string(i)}});
    f.p.Receive(a, i * 1000, &f.out);
  }
  f.Run(3000, 60000);
  ASSERT_EQ(f.out.notifications.size(), 1u);
  f.p.Receive(A("HighLatency", "checkout", 90000), 90000, &f.out);
  f.p.Receive(A("OutOfMemory", "checkout", 100000, 0, "critical"), 100000, &f.out);
  f.Run(100000, 400000);
  const AlertIncident* inc = f.p.correlator().Find(1);
  ASSERT_NE(inc, nullptr);
  EXPECT_EQ(inc->alerts.size(), 5u);
  EXPECT_EQ(inc->root_service, "payments");
  ASSERT_EQ(f.out.notifications.size(), 2u);
  std::set<std::string> paged;
  for (const auto& t : f.out.notifications[1].firing) paged.insert(std::string(t.alert.labels.Get("alertname")));
  EXPECT_TRUE(paged.count("OutOfMemory"));
  EXPECT_FALSE(paged.count("HighLatency"));  // a warning: still a muted symptom
  int said = 0;  // the timeline says why, once
  for (const auto& ch : f.out.incidents) {
    for (const auto& e : ch.timeline) said += e.text.find("not muted as its symptoms") != std::string::npos;
  }
  EXPECT_EQ(said, 1);
}

// A caller whose alerts begin well after everything it depends on in the
// incident began failing (160 s after checkout; a fault reaches a caller
// within a hop) is not muted as the root's symptom: it pages once, as
// news, and the timeline says why. One that begins within symptom_lag
// (60 s) is muted; with symptom_lag 0 so is the late one.
TEST(AlertPipeline, ACallerThatBeganTooLateForASymptomPages) {
  for (TimestampMs lag : {TimestampMs{120'000}, TimestampMs{0}}) {
    AlertingConfig cfg = Config();
    cfg.correlation.symptom_lag_ms = lag;
    Fixture f(std::move(cfg));
    // Re-sent every minute while firing, as Prometheus does.
    for (TimestampMs t = 0; t <= 700'000; t += 1000) {
      if (t % 60'000 == 0) {
        for (int i = 0; i < 3; ++i) f.p.Receive(Pod("DbErrors", "payments", i, 0), t, &f.out);
      }
      if (t >= 40'000 && (t - 40'000) % 60'000 == 0) {
        for (int i = 0; i < 2; ++i) f.p.Receive(Pod("Errors", "checkout", i, 40'000), t, &f.out);
      }
      if (t >= 200'000 && (t - 200'000) % 60'000 == 0) {
        for (int i = 0; i < 2; ++i) f.p.Receive(Pod("Latency", "frontend", i, 200'000), t, &f.out);
      }
      f.p.Tick(t, &f.out);
      if (t == 100'000) {
        ASSERT_EQ(f.out.notifications.size(), 1u);
      }
    }
    const AlertIncident* inc = f.p.correlator().Find(1);
    ASSERT_NE(inc, nullptr);
    EXPECT_EQ(inc->alerts.size(), 7u) << lag;
    EXPECT_EQ(inc->root_service, "payments");
    const TrackedAlert* fe = f.p.alerts().Find(FingerprintOf(Pod("Latency", "frontend", 0, 0).labels));
    const TrackedAlert* co = f.p.alerts().Find(FingerprintOf(Pod("Errors", "checkout", 0, 0).labels));
    ASSERT_TRUE(fe && co);
    EXPECT_TRUE(co->symptom);
    EXPECT_EQ(fe->symptom, lag == 0) << lag;
    std::set<std::string> paged = PagedServices(f.out);
    EXPECT_EQ(paged.count("frontend"), lag ? 1u : 0u) << lag;
    EXPECT_EQ(paged.count("checkout"), 0u);
    EXPECT_EQ(TimelineLines(f.out, "after its nearest failing dependency checkout"), lag ? 1 : 0) << lag;
  }
}

// Three payments and three checkout alerts in incident 1, rooted at
// payments: checkout's muted as its symptoms and never paged, or (`own`)
// not muted and paged.
void ExpectCheckoutPagedAsItsOwn(Fixture& f, bool own) {
  const AlertIncident* inc = f.p.correlator().Find(1);
  ASSERT_NE(inc, nullptr);
  EXPECT_EQ(inc->alerts.size(), 6u) << own;
  EXPECT_EQ(inc->root_service, "payments");
  const TrackedAlert* co = f.p.alerts().Find(FingerprintOf(Pod("Errors", "checkout", 0, 0).labels));
  ASSERT_TRUE(co);
  EXPECT_EQ(co->symptom, !own);
  EXPECT_EQ(PagedServices(f.out).count("checkout"), own ? 1u : 0u) << own;
}

// A caller whose first alert comes within symptom_lag of its callee's
// (85 s after payments) but whose other pods' alerts keep beginning until
// 170 s: a fault's alerts on a service begin within onset_spread (90 s) of
// reaching it, so this failure reached checkout no earlier than 80 s after
// payments began, more than symptom_lag less half an onset_spread (75 s):
// no hop from payments, a fault of checkout's own (storms stop 11: seeds
// 5063, 5094). It pages once, and the timeline says so. A symptom whose
// pods begin at 40-100 s (reached by 10 s at the latest) stays muted.
TEST(AlertPipeline, ACallerWhoseOnsetBurstEndsTooLateForAHopPages) {
  for (bool own : {true, false}) {
    Fixture f;
    const std::vector<TimestampMs> starts = own ? std::vector<TimestampMs>{85'000, 120'000, 170'000}
                                                : std::vector<TimestampMs>{40'000, 60'000, 100'000};
    for (TimestampMs t = 0; t <= 600'000; t += 1000) {
      if (t % 60'000 == 0) {
        for (int i = 0; i < 3; ++i) f.p.Receive(Pod("DbErrors", "payments", i, 0), t, &f.out);
      }
      for (int i = 0; i < 3; ++i) {
        if (t >= starts[i] && (t - starts[i]) % 60'000 == 0) f.p.Receive(Pod("Errors", "checkout", i, starts[i]), t, &f.out);
      }
      f.p.Tick(t, &f.out);
    }
    ExpectCheckoutPagedAsItsOwn(f, own);
    EXPECT_EQ(TimelineLines(f.out, "after its nearest failing dependency payments"), own ? 1 : 0) << own;
  }
}

// A caller that began failing (0-10 s, opening an incident) before
// anything it depends on: payments' alerts, joining it as the deeper root,
// begin at 20, 25 and 110 s, and a fault's alerts on a service begin within
// onset_spread (90 s) of reaching it, so payments' failure began at 20 s
// at the earliest, after checkout's. Checkout is no symptom of it: it
// pages (storms stop 11: seeds 7028, 9071). With payments' alerts at 20,
// 25 and 30 s its failure may have begun 60 s before checkout's: muted.
TEST(AlertPipeline, ACallerThatBeganBeforeItsCalleeCouldReachItPages) {
  for (bool own : {true, false}) {
    Fixture f;
    const std::vector<TimestampMs> callee{20'000, 25'000, own ? 110'000 : 30'000};
    const std::vector<TimestampMs> caller{0, 5'000, 10'000};
    for (TimestampMs t = 0; t <= 600'000; t += 1000) {
      for (int i = 0; i < 3; ++i) {
        if (t >= callee[i] && (t - callee[i]) % 60'000 == 0) f.p.Receive(Pod("DbErrors", "payments", i, callee[i]), t, &f.out);
      }
      for (int i = 0; i < 3; ++i) {
        if (t >= caller[i] && (t - caller[i]) % 60'000 == 0) f.p.Receive(Pod("Errors", "checkout", i, caller[i]), t, &f.out);
      }
      f.p.Tick(t, &f.out);
    }
    ExpectCheckoutPagedAsItsOwn(f, own);
  }
}

// A caller's own fault that began minutes after the root first failed,
// but right after a blip on it that opened an incident of its own, joins
// the blip's incident as its symptom; when the blip has been quiet for a
// window its alerts are handed over to the root's incident. There they
// began long after the root's failure began (its onset, not its latest
// episode): not muted, they page (storms stop 9: seed 2021's missed fault).
TEST(AlertPipeline, ACallerHandedOverLongAfterTheRootBeganPages) {
  Fixture f;
  for (TimestampMs t = 0; t <= 1'500'000; t += 1000) {
    if (t % 60'000 == 0) {
      for (int i = 0; i < 3; ++i) f.p.Receive(Pod("DbErrors", "payments", i, 0), t, &f.out);
    }
    if (t == 600'000) {
      for (int i = 0; i < 3; ++i) f.p.Receive(Pod("DiskFull", "payments", i, 600'000, 660'000), t, &f.out);
    }
    if (t >= 620'000 && (t - 620'000) % 60'000 == 0) {
      for (int i = 0; i < 3; ++i) f.p.Receive(Pod("Errors", "checkout", i, 620'000), t, &f.out);
    }
    f.p.Tick(t, &f.out);
  }
  const TrackedAlert* co = f.p.alerts().Find(FingerprintOf(Pod("Errors", "checkout", 0, 0).labels));
  ASSERT_NE(co, nullptr);
  EXPECT_EQ(co->incident_id, 1);
  EXPECT_FALSE(co->symptom);
  std::set<std::string> paged;
  for (const auto& n : f.out.notifications) {
    for (const auto& t : n.firing) paged.insert(std::string(t.alert.labels.Get("alertname")));
  }
  EXPECT_TRUE(paged.count("Errors"));
}

TEST(AlertPipeline, MorePodsOfAPagedServiceDoNotPageAgain) {
  Fixture f;
  for (int i = 0; i < 3; ++i) {
    Alert a = A("DbErrors", "payments", i * 1000);
    a.labels = *Labels::FromPairs({{"alertname", "DbErrors"}, {"service", "payments"}, {"instance", "p-" + std::to_string(i)}});
    f.p.Receive(a, i * 1000, &f.out);
  }
  f.Run(3000, 60000);
  ASSERT_EQ(f.out.notifications.size(), 1u);
  // Two more pods and another rule on payments: on the incident, no new page.
  for (int i = 3; i < 5; ++i) {
    Alert a = A("DbErrors", "payments", 60000);
    a.labels = *Labels::FromPairs({{"alertname", "DbErrors"}, {"service", "payments"}, {"instance", "p-" + std::to_string(i)}});
    f.p.Receive(a, 60000, &f.out);
  }
  f.p.Receive(A("DbSlow", "payments", 61000), 61000, &f.out);
  f.Run(61000, 400000);
  EXPECT_EQ(f.p.correlator().Find(1)->alerts.size(), 6u);
  EXPECT_EQ(f.out.notifications.size(), 1u);
}

TEST(AlertPipeline, ABlipOnADeeperServiceDoesNotBecomeTheRoot) {
  Fixture f;
  // checkout fails with three rules; one blip on payments (which checkout
  // calls) arrives a little later: checkout stays the suspected root.
  f.p.Receive(A("Errors5xx", "checkout", 0), 0, &f.out);
  f.p.Receive(A("HighLatency", "checkout", 1000), 1000, &f.out);
  f.p.Receive(A("Saturation", "checkout", 2000), 2000, &f.out);
  ASSERT_EQ(f.ids, 1);
  f.p.Receive(A("SlowGC", "payments", 90000), 90000, &f.out);
  const AlertIncident* inc = f.p.correlator().Find(1);
  ASSERT_NE(inc, nullptr);
  EXPECT_EQ(inc->root_service, "checkout");
  // A deeper service that fails first, with several alerts, is the root.
  Fixture g;
  g.p.Receive(A("DbErrors", "payments", 0), 0, &g.out);
  g.p.Receive(A("DbSlow", "payments", 500), 500, &g.out);
  g.p.Receive(A("Errors5xx", "checkout", 20000), 20000, &g.out);
  g.p.Receive(A("HighLatency", "checkout", 21000), 21000, &g.out);
  ASSERT_EQ(g.ids, 1);
  EXPECT_EQ(g.p.correlator().Find(1)->root_service, "payments");
}

TEST(AlertPipeline, AnAlertLongAfterItsServiceEpisodeStartsAfresh) {
  Fixture f;
  f.p.Receive(A("Errors5xx", "checkout", 0), 0, &f.out);
  f.p.Receive(A("HighLatency", "checkout", 1000), 1000, &f.out);
  f.p.Receive(A("Saturation", "checkout", 2000), 2000, &f.out);
  ASSERT_EQ(f.ids, 1);
  // Ten minutes later, still firing, another rule on checkout: not fresh
  // evidence of this incident, so it starts its own candidate.
  for (TimestampMs t = 60000; t <= 600000; t += 60000) {
    for (const char* n : {"Errors5xx", "HighLatency", "Saturation"}) f.p.Receive(A(n, "checkout", 0), t, &f.out);
    f.Run(t - 59000, t);
  }
  f.p.Receive(A("DiskSpaceLow", "checkout", 600500), 600500, &f.out);
  EXPECT_EQ(f.p.correlator().Find(1)->alerts.size(), 3u);
  EXPECT_EQ(f.p.correlator().candidates(), 1u);
}

TEST(AlertPipeline, LongFiringSingleAlertOpensAfterMinDuration) {
  Fixture f;
  f.p.Receive(A("DiskFull", "index", 0), 0, &f.out);
  f.Run(0, 119000);
  EXPECT_EQ(f.ids, 0);
  f.Run(120000, 160000);
  EXPECT_EQ(f.ids, 1);
  EXPECT_EQ(f.out.notifications.size(), 1u);
}

TEST(AlertPipeline, SilenceMutesAndResolvedIsNotified) {
  Fixture f;
  ASSERT_TRUE(f.p.silences().Upsert(SilenceOn("payments", 1000'000), 0).ok());
  for (int i = 0; i < 3; ++i) f.p.Receive(A("E" + std::to_string(i), "payments", 0), 0, &f.out);
  f.Run(0, 60000);
  EXPECT_EQ(f.ids, 1);
  EXPECT_TRUE(f.out.notifications.empty());  // every alert silenced
  f.out = {};
  Fixture g;
  for (int i = 0; i < 3; ++i) g.p.Receive(A("E" + std::to_string(i), "payments", 0), 0, &g.out);
  g.Run(0, 40000);
  ASSERT_EQ(g.out.notifications.size(), 1u);
  for (int i = 0; i < 3; ++i) g.p.Receive(A("E" + std::to_string(i), "payments", 0, 50000), 50000, &g.out);
  g.Run(40000, 700000);
  ASSERT_EQ(g.out.notifications.size(), 2u);
  EXPECT_TRUE(g.out.notifications[1].all_resolved());
  EXPECT_EQ(g.out.notifications[1].resolved.size(), 3u);
  EXPECT_TRUE(g.p.correlator().Find(1)->resolved);
}

// Two incidents that clear a few seconds apart: one all-clear message
// listing both (global.resolved_digest, the default), or one each.
TEST(AlertPipeline, AllClearsDueTogetherGoOutAsOneDigest) {
  for (bool digest : {true, false}) {
    AlertingConfig cfg = Config();
    cfg.resolved_digest = digest;
    Fixture f(cfg);
    for (int i = 0; i < 3; ++i) f.p.Receive(A("E" + std::to_string(i), "payments", 0), 0, &f.out);
    for (int i = 0; i < 3; ++i) f.p.Receive(A("L" + std::to_string(i), "index", 4000), 4000, &f.out);
    for (TimestampMs t = 4000; t <= 60000; t += 1000) f.p.Tick(t, &f.out);
    ASSERT_EQ(f.ids, 2);
    ASSERT_EQ(f.out.notifications.size(), 2u);
    for (int i = 0; i < 3; ++i) f.p.Receive(A("E" + std::to_string(i), "payments", 0, 70000), 70000, &f.out);
    for (int i = 0; i < 3; ++i) f.p.Receive(A("L" + std::to_string(i), "index", 4000, 90000), 90000, &f.out);
    for (TimestampMs t = 61000; t <= 700000; t += 1000) f.p.Tick(t, &f.out);
    if (digest) {
      ASSERT_EQ(f.out.notifications.size(), 3u);
      const auto& n = f.out.notifications[2];
      EXPECT_TRUE(n.all_resolved());
      EXPECT_EQ(n.resolved.size(), 6u);
      EXPECT_EQ(n.group_keys.size(), 2u);
      EXPECT_EQ(n.incident_ids, (std::vector<int64_t>{1, 2}));
      EXPECT_EQ(n.incident_id, 0);
    } else {
      ASSERT_EQ(f.out.notifications.size(), 4u);
      EXPECT_EQ(f.out.notifications[2].incident_id, 1);
      EXPECT_EQ(f.out.notifications[3].incident_id, 2);
      EXPECT_EQ(f.out.notifications[3].resolved.size(), 3u);
    }
  }
}

// All-clears falling due minutes apart: the first waits one group_interval
// (resolved_digest_wait, default) and goes out with the second in one
// message; with the wait off, one each. A group that fires again during the
// wait is not cleared (no all-clear, then a page).
TEST(AlertPipeline, AnAllClearWaitsForOthersToClear) {
  for (TimestampMs wait : {TimestampMs{-1}, TimestampMs{0}}) {
    for (bool refires : {false, true}) {
      SCOPED_TRACE(std::to_string(wait) + (refires ? " refires" : ""));
      AlertingConfig cfg = Config();
      cfg.resolved_digest_wait_ms = wait;
      Fixture f(cfg);
      for (int i = 0; i < 3; ++i) f.p.Receive(A("E" + std::to_string(i), "payments", 0), 0, &f.out);
      for (int i = 0; i < 3; ++i) f.p.Receive(A("L" + std::to_string(i), "index", 4000), 4000, &f.out);
      for (TimestampMs t = 4000; t <= 60000; t += 1000) f.p.Tick(t, &f.out);
      ASSERT_EQ(f.out.notifications.size(), 2u);
      for (int i = 0; i < 3; ++i) f.p.Receive(A("E" + std::to_string(i), "payments", 0, 70000), 70000, &f.out);
      for (TimestampMs t = 61000; t <= 1'600'000; t += 1000) {
        if (t % 60000 == 0 && t < 400000) {
          for (int i = 0; i < 3; ++i) f.p.Receive(A("L" + std::to_string(i), "index", 4000), t, &f.out);  // still firing
        }
        if (t == 400000) {
          for (int i = 0; i < 3; ++i) f.p.Receive(A("L" + std::to_string(i), "index", 4000, 400000), t, &f.out);
        }
        if (refires && t == 350000) f.p.Receive(A("E0", "payments", 350000, 800000), t, &f.out);
        f.p.Tick(t, &f.out);
      }
      std::vector<const GroupNotification*> clears;
      for (const auto& n : f.out.notifications) {
        if (n.all_resolved()) clears.push_back(&n);
      }
      if (refires && wait < 0) {
        // payments fired again before its held all-clear went out: only
        // index is cleared then (payments at the end).
        ASSERT_EQ(clears.size(), 2u);
        EXPECT_EQ(clears[0]->incident_id, 2);
        EXPECT_EQ(clears[1]->incident_id, 1);
      } else if (refires) {
        // Without the wait, payments was cleared, then fired again.
        ASSERT_GE(clears.size(), 2u);
        EXPECT_EQ(clears[0]->incident_id, 1);
        EXPECT_LT(clears[0]->at, 350000);
      } else if (wait < 0) {
        ASSERT_EQ(clears.size(), 1u);
        EXPECT_EQ(clears[0]->incident_ids, (std::vector<int64_t>{1, 2}));
      } else {
        ASSERT_EQ(clears.size(), 2u);
        EXPECT_EQ(clears[0]->incident_id, 1);
        EXPECT_EQ(clears[1]->incident_id, 2);
      }
    }
  }
}

// Two concurrent faults below a caller whose direct callee has not alerted:
// the caller goes with the fault whose front came nearest to it last, not
// with the root that began failing last.
TEST(AlertPipeline, CallerGoesWithTheNearestFront) {
  auto cfg = ParseAlertingConfig(R"(
route: {receiver: oncall, group_by: [incident], group_wait: 30s}
receivers: [{name: oncall}]
topology: {edge: [gw], gw: [checkout, search], checkout: [payments], search: [index]}
correlation: {min_alerts: 3}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  int64_t ids = 0;
  AlertPipeline p(*cfg, [&ids] { return ++ids; });
  AlertPipeline::Output out;
  for (int i = 0; i < 3; ++i) p.Receive(Pod("DbDown", "payments", i, 0), 0, &out);
  for (int i = 0; i < 3; ++i) p.Receive(Pod("IndexLag", "index", i, 10000), 10000, &out);
  ASSERT_EQ(ids, 2);
  for (int i = 0; i < 2; ++i) p.Receive(Pod("Errors", "checkout", i, 60000), 60000, &out);
  const TrackedAlert* c = p.alerts().Find(FingerprintOf(Pod("Errors", "checkout", 0, 0).labels));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->incident_id, 1);
  Alert e = Pod("Latency", "edge", 0, 70000);
  p.Receive(e, 70000, &out);
  const TrackedAlert* t = p.alerts().Find(FingerprintOf(e.labels));
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->incident_id, 1);
}

// Two faults below frontend (which calls checkout and search): payments
// fails at 0 (checkout follows at 40 s, frontend's first alert at 60 s),
// index at `index_at` with `search_alerts` alerts on search at `search_at`.
void TwoFaultsBelowFrontend(Fixture& f, TimestampMs index_at, TimestampMs search_at, int search_alerts) {
  for (int i = 0; i < 3; ++i) f.p.Receive(Pod("DbDown", "payments", i, 0), 0, &f.out);
  for (int i = 0; i < 2; ++i) f.p.Receive(Pod("Errors", "checkout", i, 40'000), 40'000, &f.out);
  f.p.Receive(Pod("Errors", "frontend", 0, 60'000), 60'000, &f.out);
  for (int i = 0; i < 3; ++i) f.p.Receive(Pod("IndexLag", "index", i, index_at), index_at, &f.out);
  for (int i = 0; i < search_alerts; ++i) f.p.Receive(Pod("Timeouts", "search", i, search_at), search_at, &f.out);
}

// A caller-side alert naming the callee it is about (a mesh's
// destination_service, a client's upstream), or `dependency` "" for none.
Alert Named(const std::string& name, const std::string& svc, int i, TimestampMs at, const std::string& label,
            const std::string& dependency) {
  Alert a = Pod(name, svc, i, at);
  std::vector<Label> labels = a.labels.items();
  if (!dependency.empty()) labels.push_back({label, dependency});
  a.labels = *Labels::FromPairs(labels);
  return a;
}

// Two faults begin seconds apart (payments, index); frontend calls both
// roots' callers (checkout, search) and fires the same rule for each.
// Timing and topology cannot tell which of its alerts is whose: without
// dependency labels the same-rule relation sends both to the first. With
// them, each follows the call edge it names (Istio's DNS name or a bare
// service name) into the right incident. Returns the incident of each of
// frontend's alerts, in order: two naming checkout, two naming search,
// then one naming `last` (none when "").
// Two roots failing 5 s apart (payments, index), then their callers
// (checkout, search): two incidents.
void TwoRootsAndTheirCallers(Fixture& f) {
  for (int i = 0; i < 3; ++i) f.p.Receive(Pod("DbDown", "payments", i, 0), 0, &f.out);
  for (int i = 0; i < 3; ++i) f.p.Receive(Pod("IndexLag", "index", i, 5000), 5000, &f.out);
  for (int i = 0; i < 2; ++i) f.p.Receive(Pod("Errors", "checkout", i, 30'000), 30'000, &f.out);
  for (int i = 0; i < 2; ++i) f.p.Receive(Pod("Timeouts", "search", i, 30'000), 30'000, &f.out);
}

std::vector<int64_t> SharedCallerOfTwoRoots(bool dependency_labels, const std::string& last) {
  AlertingConfig cfg = Config();
  if (!dependency_labels) cfg.correlation.dependency_labels.clear();
  Fixture f(std::move(cfg));
  TwoRootsAndTheirCallers(f);
  EXPECT_EQ(f.ids, 2);
  std::vector<Alert> caller = {
      Named("UpstreamErrors", "frontend", 0, 50'000, "destination_service", "checkout.prod.svc.cluster.local"),
      Named("UpstreamErrors", "frontend", 1, 51'000, "destination_service", "checkout.prod.svc.cluster.local"),
      Named("UpstreamErrors", "frontend", 0, 52'000, "upstream", "search"),
      Named("UpstreamErrors", "frontend", 1, 53'000, "upstream", "search"),
      Named("UpstreamErrors", "frontend", 2, 54'000, "upstream", last),
  };
  std::vector<int64_t> got;
  for (const Alert& a : caller) {
    f.p.Receive(a, a.starts_ms, &f.out);
    const TrackedAlert* t = f.p.alerts().Find(FingerprintOf(a.labels));
    got.push_back(t ? t->incident_id : -1);
  }
  return got;
}

TEST(AlertPipeline, ASharedCallersAlertsFollowTheDependencyTheyName) {
  std::vector<int64_t> named = SharedCallerOfTwoRoots(true, "checkout");
  std::vector<int64_t> plain = SharedCallerOfTwoRoots(false, "checkout");
  ASSERT_EQ(named.size(), 5u);
  ASSERT_EQ(plain.size(), 5u);
  EXPECT_EQ(named[0], 1);  // payments' incident, through checkout
  EXPECT_EQ(named[1], 1);
  EXPECT_EQ(named[2], 2);  // index's, through search
  EXPECT_EQ(named[3], 2);
  EXPECT_EQ(named[4], 1);  // the freshest same-rule relation (2) yields to the named edge
  // Without the labels the rule relation takes them all to the first.
  EXPECT_EQ(plain[2], 1);
  EXPECT_EQ(plain[3], 1);
}

// Without dependency labels, the shared caller's first alert is exactly as
// related to both incidents; the tie-break picks one, and the timeline of
// the chosen incident says so once, naming the other, so that an operator
// knows the grouping was a guess and where the alerts might belong. A
// label that names the callee decides, and then nothing is said.
TEST(AlertPipeline, ACallerEquallyRelatedToTwoIncidentsIsSaidToBe) {
  for (bool labels : {false, true}) {
    AlertingConfig cfg = Config();
    if (!labels) cfg.correlation.dependency_labels.clear();
    Fixture f(std::move(cfg));
    TwoRootsAndTheirCallers(f);
    ASSERT_EQ(f.ids, 2);
    const std::string tied = "frontend is as closely related to incident ";
    EXPECT_EQ(TimelineLines(f.out, tied), 0);
    for (int i = 0; i < 2; ++i) {
      Alert a = Named("UpstreamErrors", "frontend", i, 50'000 + i * 1000, "upstream", "search");
      f.p.Receive(a, a.starts_ms, &f.out);
    }
    const TrackedAlert* first =
        f.p.alerts().Find(FingerprintOf(Named("UpstreamErrors", "frontend", 0, 0, "upstream", "search").labels));
    ASSERT_NE(first, nullptr);
    if (labels) {
      EXPECT_EQ(first->incident_id, 2);  // the named edge decided
      EXPECT_EQ(TimelineLines(f.out, tied), 0);
      continue;
    }
    EXPECT_EQ(first->incident_id, 1);
    // Once (the second alert joins a service already there), naming the
    // other incident and its root.
    EXPECT_EQ(TimelineLines(f.out, tied + "2 (suspected root index)"), 1);
    int refs = 0;
    for (const auto& ch : f.out.incidents) {
      for (const auto& e : ch.timeline) {
        refs += e.text.find(tied) != std::string::npos && ch.incident_id == 1 && e.ref_id == 2;
      }
    }
    EXPECT_EQ(refs, 1);
  }
}

TEST(AlertPipeline, DependencyLabelsAreConfigured) {
  const std::string route = "route: {receiver: r}\nreceivers: [{name: r}]\n";
  auto cfg = ParseAlertingConfig(route + "correlation: {dependency_labels: [peer, db]}\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->correlation.dependency_labels, (std::vector<std::string>{"peer", "db"}));
  auto bad = ParseAlertingConfig(route + "correlation: {dependency_labels: peer}\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("correlation.dependency_labels"), std::string::npos) << bad.status().ToString();
}

// A name that is no known service (nor its first DNS label) changes
// nothing: the alert goes where it would without the label.
TEST(AlertPipeline, ADependencyLabelNamingNoKnownServiceFallsBack) {
  std::vector<int64_t> unknown = SharedCallerOfTwoRoots(true, "ledger.prod.svc.cluster.local");
  std::vector<int64_t> none = SharedCallerOfTwoRoots(true, "");
  ASSERT_EQ(unknown.size(), 5u);
  ASSERT_EQ(none.size(), 5u);
  EXPECT_EQ(none[4], 2);  // the same rule, most recent evidence (search's alerts)
  EXPECT_EQ(unknown[4], none[4]);
}

// Two faults reach a shared caller two minutes apart. Its first fault's
// alerts there began together; a new pod firing the same rule 100 s later
// (beyond onset_spread) came with the second fault, whose callee has just
// begun failing in another incident: the fresh path wins over the late
// same-rule relation. With onset_spread 0 it goes with the rule, as before.
TEST(AlertPipeline, ALateAlertOnASharedCallerGoesWithTheFreshFront) {
  for (TimestampMs spread : {TimestampMs{90'000}, TimestampMs{0}}) {
    AlertingConfig cfg = Config();
    cfg.correlation.onset_spread_ms = spread;
    Fixture f(std::move(cfg));
    TwoFaultsBelowFrontend(f, 100'000, 130'000, 2);
    ASSERT_EQ(f.ids, 2);
    Alert late = Pod("Errors", "frontend", 1, 160'000);
    f.p.Receive(late, 160'000, &f.out);
    const TrackedAlert* t = f.p.alerts().Find(FingerprintOf(late.labels));
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->incident_id, spread ? 2 : 1) << spread;
  }
}

// The same, when the second fault's callee has a single alert so far (a
// fast fault: the caller's first alert comes before the callee's second):
// against a late relation, one alert on a callee that just began is enough.
// Without a late relation it is not (an alert with no other relation does
// not join an incident by one alert on its callee).
TEST(AlertPipeline, OneAlertOnAJustFailingCalleeBeatsALateRelation) {
  Fixture f;
  TwoFaultsBelowFrontend(f, 100'000, 150'000, 1);
  ASSERT_EQ(f.ids, 2);
  const TrackedAlert* callee = f.p.alerts().Find(FingerprintOf(Pod("Timeouts", "search", 0, 0).labels));
  ASSERT_NE(callee, nullptr);
  ASSERT_EQ(callee->incident_id, 2);
  Alert late = Pod("Latency", "frontend", 2, 160'000);
  f.p.Receive(late, 160'000, &f.out);
  const TrackedAlert* t = f.p.alerts().Find(FingerprintOf(late.labels));
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->incident_id, 2);
  // Early in frontend's episode (not late), the service relation holds.
  Alert early = Pod("Latency", "frontend", 3, 61'000);
  Fixture g;
  TwoFaultsBelowFrontend(g, 50'000, 55'000, 1);
  ASSERT_EQ(g.ids, 2);
  g.p.Receive(early, 61'000, &g.out);
  const TrackedAlert* e = g.p.alerts().Find(FingerprintOf(early.labels));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->incident_id, 1);
}

// A fast fault: the caller's first alerts start a candidate of their own
// before the root's candidate has the two alerts that pull callers in. Once
// the root's incident opens, the caller's candidate (nothing paged about it)
// joins it instead of opening a second incident.
TEST(AlertPipeline, CallersCandidateJoinsTheRootsIncident) {
  Fixture f;
  f.p.Receive(Pod("DbErrors", "payments", 0, 0), 0, &f.out);
  f.p.Receive(Pod("Errors5xx", "checkout", 0, 1000), 1000, &f.out);
  f.p.Receive(Pod("Errors5xx", "checkout", 1, 2000), 2000, &f.out);
  f.p.Receive(Pod("DbErrors", "payments", 1, 3000), 3000, &f.out);
  f.p.Receive(Pod("DbErrors", "payments", 2, 4000), 4000, &f.out);
  ASSERT_EQ(f.ids, 1);
  EXPECT_EQ(f.p.correlator().Find(1)->root_service, "payments");
  f.p.Receive(Pod("Errors5xx", "checkout", 2, 5000), 5000, &f.out);
  EXPECT_EQ(f.ids, 1);
  EXPECT_EQ(f.p.correlator().Find(1)->alerts.size(), 6u);
  EXPECT_EQ(f.p.correlator().candidates(), 0u);
  for (int i = 0; i < 3; ++i) {
    const TrackedAlert* t = f.p.alerts().Find(FingerprintOf(Pod("Errors5xx", "checkout", i, 0).labels));
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->incident_id, 1);
    EXPECT_TRUE(t->symptom);
  }
}

// A blip during a fault: an alert on a symptom's pod that fires for a
// minute and resolves while the suspected root keeps failing is not one of
// the fault's symptoms (they last as long as the fault); it leaves the
// incident when it resolves, and its group (it pages nobody). One that
// fired longer than a propagation window stays.
TEST(AlertPipeline, ABlipThatResolvesWhileTheRootFailsLeavesTheIncident) {
  for (TimestampMs lasted : {TimestampMs{60'000}, TimestampMs{200'000}}) {
    SCOPED_TRACE(lasted);
    Fixture f;
    for (int i = 0; i < 3; ++i) f.p.Receive(Pod("DbErrors", "payments", i, 0), 1000 * i, &f.out);
    f.p.Receive(Pod("Errors5xx", "checkout", 0, 30'000), 30'000, &f.out);
    ASSERT_EQ(f.ids, 1);
    Alert blip = Pod("DiskFull", "checkout", 4, 120'000);
    f.p.Receive(blip, 120'000, &f.out);
    Fingerprint fp = FingerprintOf(blip.labels);
    ASSERT_EQ(f.p.alerts().Find(fp)->incident_id, 1);
    for (TimestampMs now = 120'000; now <= 700'000; now += 1000) {
      if (now % 60'000 == 0) {  // the fault goes on: re-sent as Prometheus does
        for (int i = 0; i < 3; ++i) f.p.Receive(Pod("DbErrors", "payments", i, 0, now + 240'000), now, &f.out);
        f.p.Receive(Pod("Errors5xx", "checkout", 0, 30'000, now + 240'000), now, &f.out);
      }
      if (now == 120'000 + lasted) {
        blip.ends_ms = now;
        f.p.Receive(blip, now, &f.out);
      }
      f.p.Tick(now, &f.out);
    }
    const TrackedAlert* t = f.p.alerts().Find(fp);
    ASSERT_NE(t, nullptr);
    EXPECT_FALSE(t->firing);
    bool left = lasted < Config().correlation.propagation_window_ms;
    EXPECT_EQ(t->incident_id, left ? 0 : 1);
    EXPECT_EQ(f.p.correlator().Find(1)->alerts.count(fp), left ? 0u : 1u);
    EXPECT_EQ(f.p.correlator().Find(1)->services.count("checkout"), 1u);
  }
}

// A blip on the root's own service, begun with its onset (here the first
// alert there: it began the candidate the fault's alerts joined), is
// spared by the blip rule when it resolves (a root pod may recover with
// the fault), but once the root has kept failing for a propagation window
// after it resolved, it was no part of the fault: it leaves the incident.
// When the root's alerts resolve with it (the fault ended), it stays.
TEST(AlertPipeline, ABlipOnTheRootLeavesOnceTheRootKeptFailing) {
  for (bool root_kept_failing : {true, false}) {
    SCOPED_TRACE(root_kept_failing);
    Fixture f;
    Alert blip = Pod("DiskFull", "payments", 4, 0);
    f.p.Receive(blip, 0, &f.out);
    const TimestampMs root_end = root_kept_failing ? 900'000 : 75'000;
    for (TimestampMs now = 0; now <= 700'000; now += 1000) {
      if (now % 60'000 == 5'000 || now == root_end) {  // re-sent as Prometheus does
        for (int i = 0; i < 3; ++i) {
          if (now <= root_end) f.p.Receive(Pod("DbErrors", "payments", i, 5'000, Until(now, root_end)), now, &f.out);
        }
      }
      if (now == 60'000) {
        blip.ends_ms = now;
        f.p.Receive(blip, now, &f.out);
      }
      f.p.Tick(now, &f.out);
    }
    const TrackedAlert* t = f.p.alerts().Find(FingerprintOf(blip.labels));
    ASSERT_NE(t, nullptr);
    EXPECT_FALSE(t->firing);
    ASSERT_EQ(f.ids, 1);
    EXPECT_EQ(t->incident_id, root_kept_failing ? 0 : 1);
    EXPECT_EQ(f.p.correlator().Find(1)->alerts.count(t->fingerprint), root_kept_failing ? 0u : 1u);
    EXPECT_EQ(TimelineLines(f.out, "kept failing for a propagation window after (a blip"), root_kept_failing ? 1 : 0);
  }
}

// A blip that came and went on a service before a fault began there
// (its candidate still fresh: the fault's first alerts joined it by the
// same service) is no part of the incident that opens; one still firing
// when the fault's first alert began, that fired longer than a propagation
// window, stays (nothing tells it apart).
TEST(AlertPipeline, ABlipThatEndedBeforeTheFaultBeganIsNotInItsIncident) {
  for (TimestampMs blip_end : {TimestampMs{40'000}, TimestampMs{250'000}}) {
    SCOPED_TRACE(blip_end);
    Fixture f;
    Alert blip = Pod("DiskFull", "payments", 4, 0);
    for (TimestampMs now = 0; now <= 400'000; now += 1000) {
      if (now == 0 || now == blip_end) {
        blip.ends_ms = now == blip_end ? now : 0;
        f.p.Receive(blip, now, &f.out);
      }
      if (now >= 100'000 && now % 60'000 == 40'000) {  // the fault, from 100 s, re-sent every minute
        for (int i = 0; i < 3; ++i) f.p.Receive(Pod("DbErrors", "payments", i, 100'000 + 1000 * i, now + 240'000), now, &f.out);
      }
      f.p.Tick(now, &f.out);
    }
    ASSERT_EQ(f.ids, 1);
    const AlertIncident* inc = f.p.correlator().Find(1);
    ASSERT_NE(inc, nullptr);
    EXPECT_EQ(inc->root_service, "payments");
    const TrackedAlert* t = f.p.alerts().Find(FingerprintOf(blip.labels));
    ASSERT_NE(t, nullptr);
    const bool before = blip_end < 100'000;
    EXPECT_EQ(t->incident_id, before ? 0 : 1);
    EXPECT_EQ(inc->alerts.count(t->fingerprint), before ? 0u : 1u);
    EXPECT_EQ(inc->alerts.size(), before ? 3u : 4u);
  }
}

// A second fault whose root (checkout) calls the first fault's root
// (payments) a minute later looks exactly like propagation and joins its
// incident. Once payments has been quiet for a propagation window, what
// still fires on checkout, none of which ended with payments, is another
// fault: it moves to a new incident, which pages (it is no symptom now).
// A service some of whose alerts ended with the root stays.
TEST(AlertPipeline, StillFiringAfterTheRootRecoveredBecomesItsOwnIncident) {
  for (bool one_ended_with_root : {false, true}) {
    SCOPED_TRACE(one_ended_with_root);
    Fixture f;
    // Prometheus re-sends firing alerts every minute with endsAt ahead.
    auto send = [&](TimestampMs now) {
      for (int i = 0; i < 3; ++i) {
        TimestampMs db_end = now < 300'000 ? now + 240'000 : 300'000;
        f.p.Receive(Pod("DbErrors", "payments", i, i * 1000, db_end), now, &f.out);
        if (now >= 60'000) {
          TimestampMs end = one_ended_with_root && i == 0 && now >= 300'000 ? 300'000 : now + 240'000;
          f.p.Receive(Pod("Saturation", "checkout", i, 60'000, end), now, &f.out);
        }
      }
    };
    for (TimestampMs t = 0; t <= 900'000; t += 1000) {
      if (t % 60'000 == 0 && t <= 360'000) send(t);
      if (t > 360'000 && t % 60'000 == 0) {
        for (int i = 0; i < 3; ++i) {
          if (one_ended_with_root && i == 0) continue;
          f.p.Receive(Pod("Saturation", "checkout", i, 60'000, t + 240'000), t, &f.out);
        }
      }
      f.p.Tick(t, &f.out);
    }
    const AlertIncident* first = f.p.correlator().Find(1);
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->root_service, "payments");
    const TrackedAlert* sat = f.p.alerts().Find(FingerprintOf(Pod("Saturation", "checkout", 1, 0, 0).labels));
    ASSERT_NE(sat, nullptr);
    ASSERT_TRUE(sat->firing);
    if (one_ended_with_root) {
      EXPECT_EQ(f.ids, 1);
      EXPECT_EQ(sat->incident_id, 1);
      continue;
    }
    ASSERT_EQ(f.ids, 2);
    EXPECT_EQ(sat->incident_id, 2);
    EXPECT_FALSE(sat->symptom);
    const AlertIncident* second = f.p.correlator().Find(2);
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(second->root_service, "checkout");
    EXPECT_EQ(second->alerts.size(), 3u);
    EXPECT_EQ(first->alerts.size(), 3u);
    EXPECT_EQ(first->services.count("checkout"), 0u);
    bool paged = false;
    for (const auto& n : f.out.notifications) paged = paged || (n.incident_id == 2 && !n.firing.empty());
    EXPECT_TRUE(paged);
  }
}

// The same with critical alerts on checkout: paged in payments' incident
// (not muted), they move to a new incident once payments recovered, which
// does not page again (the receiver heard of checkout failing).
TEST(AlertPipeline, AlertsAlreadyPagedThatMoveToANewIncidentDoNotPageAgain) {
  Fixture f(PagingCriticalSymptoms());  // correlation.page_critical_symptoms
  auto pod = [](const std::string& name, const std::string& svc, int i, TimestampMs at, TimestampMs ends) {
    return Pod(name, svc, i, at, ends, "critical");
  };
  for (TimestampMs t = 0; t <= 1'200'000; t += 1000) {
    if (t % 60'000 == 0) {
      for (int i = 0; i < 3; ++i) {
        if (t <= 360'000) f.p.Receive(pod("DbErrors", "payments", i, i * 1000, t < 300'000 ? t + 240'000 : 300'000), t, &f.out);
        if (t >= 60'000) f.p.Receive(pod("Saturation", "checkout", i, 60'000, t + 240'000), t, &f.out);
      }
    }
    f.p.Tick(t, &f.out);
  }
  ASSERT_EQ(f.ids, 2);
  const TrackedAlert* sat = f.p.alerts().Find(FingerprintOf(pod("Saturation", "checkout", 1, 0, 0).labels));
  ASSERT_NE(sat, nullptr);
  EXPECT_EQ(sat->incident_id, 2);
  std::map<int64_t, std::vector<std::set<std::string>>> pages;  // incident -> services of each firing page
  for (const auto& n : f.out.notifications) {
    if (n.firing.empty()) continue;
    std::set<std::string> svcs;
    for (const auto& t : n.firing) svcs.insert(std::string(t.alert.labels.Get("service")));
    pages[n.incident_id].push_back(svcs);
  }
  ASSERT_EQ(pages[1].size(), 2u);
  EXPECT_EQ(pages[1][1].count("checkout"), 1u);  // critical: not muted as payments' symptom
  EXPECT_EQ(pages.count(2), 0u);
}

// checkout, muted as payments' symptom, clears while payments keeps failing:
// its alerts were not payments' symptoms (a fault's symptoms clear with it);
// a propagation window later they move to an incident of their own, which
// pages nobody (nothing in it fires). When payments recovers within that
// window of checkout clearing, they stay.
TEST(AlertPipeline, ASymptomThatClearedWhileItsRootKeptFailingSplitsOff) {
  for (bool root_recovers : {false, true}) {
    SCOPED_TRACE(root_recovers);
    Fixture f;
    const TimestampMs checkout_end = 420'000, root_end = root_recovers ? 480'000 : 1'500'000;
    for (TimestampMs t = 0; t <= 900'000; t += 1000) {
      if (t % 60'000 == 0) {
        for (int i = 0; i < 3; ++i) {
          if (t <= root_end) f.p.Receive(Pod("DbErrors", "payments", i, i * 1000, std::min(t + 240'000, root_end)), t, &f.out);
          if (t >= 60'000 && t <= checkout_end) {
            f.p.Receive(Pod("Saturation", "checkout", i, 60'000, std::min(t + 240'000, checkout_end)), t, &f.out);
          }
        }
      }
      f.p.Tick(t, &f.out);
    }
    const TrackedAlert* sat = f.p.alerts().Find(FingerprintOf(Pod("Saturation", "checkout", 1, 0, 0).labels));
    ASSERT_NE(sat, nullptr);
    EXPECT_FALSE(sat->firing);
    // Recovering with it, payments explains checkout: nothing moves.
    ASSERT_EQ(sat->incident_id, f.ids);
    ASSERT_EQ(f.ids, root_recovers ? 1 : 2);
    if (root_recovers) continue;
    EXPECT_EQ(f.p.correlator().Find(2)->root_service, "checkout");
    EXPECT_EQ(f.p.correlator().Find(1)->services.count("checkout"), 0u);
    int said = 0;
    for (const auto& ch : f.out.incidents) {
      for (const auto& e : ch.timeline) said += e.text.find("kept failing (not its symptoms") != std::string::npos;
    }
    EXPECT_EQ(said, 1);
    // Nothing of checkout was paged while it fired; the split off incident
    // says so once, resolved (below: SplitNotice...).
    for (const auto& n : f.out.notifications) {
      if (n.incident_id == 2) {
        EXPECT_FALSE(n.notice.empty());
      }
    }
  }
}

// The scenario above with the root failing throughout: payments fails from
// 0 s on; checkout (which calls it) fails from 60 s to 420 s, joins its
// incident and is muted as its symptom. Sends and ticks of [from, to].
void ClearedWhileRootFails(Fixture& f, TimestampMs from, TimestampMs to) {
  for (TimestampMs t = from; t <= to; t += 1000) {
    if (t % 60'000 == 0) {
      for (int i = 0; i < 3; ++i) {
        f.p.Receive(Pod("DbErrors", "payments", i, i * 1000, t + 240'000), t, &f.out);
        if (t >= 60'000 && t <= 420'000) {
          f.p.Receive(Pod("Saturation", "checkout", i, 60'000, std::min<TimestampMs>(t + 240'000, 420'000)), t, &f.out);
        }
      }
    }
    f.p.Tick(t, &f.out);
  }
}

std::vector<GroupNotification> Notices(const AlertPipeline::Output& out) {
  std::vector<GroupNotification> n;
  for (const auto& x : out.notifications) {
    if (!x.notice.empty()) n.push_back(x);
  }
  return n;
}

// ASymptomThatClearedWhileItsRootKeptFailingSplitsOff with payments recovering `lead` after checkout began to
// clear (420 s). A symptom cannot begin to clear before its cause's fault
// ended, and the root's fastest rules resolve within an evaluation and a
// gauge's lag of that: 165 s before payments resolved anything (storms stop
// 15: 23011's core-6, 24 alerts from 73 s after data-3's, began to clear
// 165 s before data-3 did), checkout was not its symptom and splits off with
// a notice; 100 s before, payments' recovery may have taken it along.
TEST(AlertPipeline, ACallerThatBeganToClearWellBeforeItsRootSplitsOff) {
  for (TimestampMs lead : {165'000, 100'000}) {
    SCOPED_TRACE(lead);
    Fixture f;
    const TimestampMs checkout_end = 420'000, root_end = checkout_end + lead;
    for (TimestampMs t = 0; t <= 1'200'000; t += 1000) {
      if (t % 60'000 == 0 || t == root_end) {
        for (int i = 0; i < 3; ++i) {
          if (t <= root_end) f.p.Receive(Pod("DbErrors", "payments", i, i * 1000, Until(t, root_end)), t, &f.out);
          if (t >= 60'000 && t <= checkout_end) {
            f.p.Receive(Pod("Saturation", "checkout", i, 60'000, Until(t, checkout_end)), t, &f.out);
          }
        }
      }
      f.p.Tick(t, &f.out);
    }
    const TrackedAlert* sat = f.p.alerts().Find(FingerprintOf(Pod("Saturation", "checkout", 1, 0, 0).labels));
    ASSERT_NE(sat, nullptr);
    int about_checkout = 0;
    for (const auto& n : Notices(f.out)) about_checkout += n.notice.find("checkout") != std::string::npos;
    if (lead == 165'000) {
      EXPECT_NE(sat->incident_id, 1);
      EXPECT_EQ(about_checkout, 1);
    } else {
      EXPECT_EQ(sat->incident_id, 1);
      EXPECT_EQ(about_checkout, 0);
    }
  }
}

// payments fails 0-1000 s; checkout 60-420 s, its restart-count rule on
// two pods until 650 s and `last_restart`. Sends and ticks of [0, to].
void CheckoutWithLaggingRestarts(Fixture& f, TimestampMs last_restart, TimestampMs to) {
  const TimestampMs root_end = 1'000'000, checkout_end = 420'000;
  const TimestampMs restarts_end[] = {650'000, last_restart};
  for (TimestampMs t = 0; t <= to; t += 1000) {
    if (t % 60'000 == 0 || t == 650'000 || t == last_restart) {
      for (int i = 0; i < 3; ++i) {
        if (t <= root_end) f.p.Receive(Pod("DbErrors", "payments", i, i * 1000, Until(t, root_end)), t, &f.out);
        if (t >= 60'000 && t <= checkout_end) {
          f.p.Receive(Pod("Saturation", "checkout", i, 60'000, Until(t, checkout_end)), t, &f.out);
        }
        if (i < 2 && t >= 60'000 && t <= restarts_end[i]) {
          f.p.Receive(Pod("Restarts", "checkout", i, 60'000, Until(t, restarts_end[i])), t, &f.out);
        }
      }
    }
    f.p.Tick(t, &f.out);
  }
}

// ASymptomThatClearedWhileItsRootKeptFailingSplitsOff with lagging rules
// (storms stop 6): checkout's fault ends at
// 420 s, but its restart-count rule holds on two pods until 650 s and
// 900 s, while payments keeps failing until 1000 s. checkout began to
// clear (420 s) long before payments did, so it still splits off with a
// notice. Judged by its last resolution (900 s, within a window of the
// root's), or with runs broken by gaps of one window (650 -> 900 s), it
// stayed muted inside payments' incident and nobody heard of it.
TEST(AlertPipeline, ASymptomWhoseRulesClearSlowlyStillSplitsOffByWhenItBeganToClear) {
  Fixture f;
  CheckoutWithLaggingRestarts(f, 900'000, 1'300'000);
  ASSERT_EQ(f.ids, 2);
  for (const char* rule : {"Saturation", "Restarts"}) {
    const TrackedAlert* a = f.p.alerts().Find(FingerprintOf(Pod(rule, "checkout", 1, 0, 0).labels));
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->incident_id, 2) << rule;
  }
  EXPECT_EQ(f.p.correlator().Find(2)->root_service, "checkout");
  EXPECT_EQ(Notices(f.out).size(), 1u);
}

// The test above with checkout's second restart-count pod holding on past
// payments' recovery (1000 s -> 1150 s): checkout never cleared entirely
// while payments failed, so a check once all of it resolved came after the
// root stopped failing and nobody heard of checkout (seed 5083, storms stop
// 12). Once three quarters of its alerts resolved (650 s) it is judged:
// the resolved ones split off with a notice; the last pod leaves payments'
// incident once it outlived it (RegroupAfterRoot).
TEST(AlertPipeline, ASymptomMostlyClearedWhileItsRootKeptFailingSplitsOff) {
  Fixture f;
  CheckoutWithLaggingRestarts(f, 1'150'000, 1'340'000);
  auto home = [&](const char* rule, int pod) {  // the incident holding the alert
    for (const auto& [id, inc] : f.p.correlator().incidents()) {
      if (inc.alerts.count(FingerprintOf(Pod(rule, "checkout", pod, 0, 0).labels))) return id;
    }
    return int64_t{0};
  };
  EXPECT_EQ(home("Saturation", 1), 2);
  EXPECT_EQ(home("Restarts", 0), 2);
  EXPECT_NE(home("Restarts", 1), 1);  // it outlived payments: not its symptom either
  EXPECT_EQ(Notices(f.out).size(), 1u);
  for (const auto& n : f.out.notifications) {
    for (const auto& t : n.firing) EXPECT_NE(t.alert.labels.Get("service"), "checkout");
  }
}

// checkout calls payments and ledger. ledger failed from 0 s (its fault
// over by 400 s, one restart-count pod holding on to 900 s); payments fails
// from 500 s on; checkout fails 540-840 s, muted as payments' symptom, and
// clears while payments keeps failing. ledger's last pod resolving then
// does not explain checkout: checkout began more than two windows after
// ledger did, so it was no symptom of ledger's (storms stop 12, seed 5083).
TEST(AlertPipeline, ALongFailingRootsLastAlertDoesNotExplainALateCallerClearing) {
  AlertingConfig cfg = Config();
  cfg.topology.AddCall("checkout", "ledger");
  Fixture f(std::move(cfg));
  for (TimestampMs t = 0; t <= 1'500'000; t += 1000) {
    if (t % 60'000 == 0) {
      for (int i = 0; i < 3; ++i) {
        TimestampMs ledger_end = i == 0 ? 900'000 : 400'000;
        if (t <= ledger_end) f.p.Receive(Pod("DiskFull", "ledger", i, i * 1000, Until(t, ledger_end)), t, &f.out);
        if (t >= 480'000) f.p.Receive(Pod("DbErrors", "payments", i, 480'000 + i * 1000, t + 240'000), t, &f.out);
        if (t >= 540'000 && t <= 840'000) {
          f.p.Receive(Pod("Saturation", "checkout", i, 540'000, Until(t, 840'000)), t, &f.out);
        }
      }
    }
    f.p.Tick(t, &f.out);
  }
  const TrackedAlert* sat = f.p.alerts().Find(FingerprintOf(Pod("Saturation", "checkout", 1, 0, 0).labels));
  ASSERT_NE(sat, nullptr);
  const AlertIncident* home = f.p.correlator().Find(sat->incident_id);
  ASSERT_NE(home, nullptr);
  EXPECT_EQ(home->root_service, "checkout");
  EXPECT_EQ(Notices(f.out).size(), 1u);
}

// A restart: a new pipeline from what the engine stores (alerts, incidents,
// notification log), as AlertService does.
void Restart(Fixture& from, Fixture& to, TimestampMs now) {
  to.ids = from.ids;
  for (const auto& [fp, t] : from.p.alerts().alerts()) to.p.RestoreAlert(t);
  for (const auto& [id, inc] : from.p.correlator().incidents()) to.p.RestoreIncident(inc);
  for (const auto& e : from.p.nflog().Entries()) to.p.RestoreNotificationLog(e);
  to.p.Reroute(now);
}

// checkout's alerts came and went muted as payments' symptoms, and split
// off once payments had kept failing a propagation window: nobody was
// paged about checkout. Its incident's receiver hears of it once, resolved,
// with the reason; later flushes do not repeat it.
TEST(AlertPipeline, SplitNoticeIsSentOnceForAFaultThatCameAndWentMuted) {
  Fixture f;
  ClearedWhileRootFails(f, 0, 1'500'000);
  ASSERT_EQ(f.ids, 2);
  auto notices = Notices(f.out);
  ASSERT_EQ(notices.size(), 1u);
  const GroupNotification& n = notices[0];
  EXPECT_EQ(n.incident_id, 2);
  EXPECT_EQ(n.receiver, "oncall");
  EXPECT_TRUE(n.firing.empty());
  EXPECT_EQ(n.resolved.size(), 3u);
  EXPECT_FALSE(n.all_resolved());  // not an all-clear
  EXPECT_NE(n.notice.find("independent fault on checkout came and went while muted as a symptom of incident 1"),
            std::string::npos)
      << n.notice;
  for (const auto& t : n.resolved) EXPECT_EQ(f.p.correlator().ServiceOf(t.alert.labels), "checkout");
  // Recorded: in the notification log written with it, and on the incident
  // (persisted in the same commit), so it is never decided twice.
  bool logged = false;
  for (const auto& e : f.out.nflog) logged = logged || (e.firing.empty() && e.resolved.size() == 3);
  EXPECT_TRUE(logged);
  EXPECT_EQ(f.p.correlator().Find(2)->notice_done.count("oncall"), 1u);
  // Nothing else about checkout was sent, and payments' incident pages as before.
  int about_one = 0;
  for (const auto& x : f.out.notifications) {
    about_one += x.incident_id == 1;
    for (const auto& t : x.firing) EXPECT_NE(f.p.correlator().ServiceOf(t.alert.labels), "checkout");
  }
  EXPECT_GE(about_one, 1);
}

TEST(AlertPipeline, SplitNoticeIsNotRepeatedNorLostAfterARestart) {
  // Restarted just after the notice went out (its incident still open, its
  // alerts routed again): not sent again.
  {
    Fixture f;
    TimestampMs sent = 0;
    for (TimestampMs t = 0; t <= 900'000 && !sent; t += 1000) {
      ClearedWhileRootFails(f, t, t);
      if (!Notices(f.out).empty()) sent = t;
    }
    ASSERT_GT(sent, 0);
    ASSERT_FALSE(f.p.correlator().Find(2)->resolved);
    Fixture g;
    Restart(f, g, sent);
    ClearedWhileRootFails(g, sent + 1000, 1'500'000);
    EXPECT_TRUE(Notices(g.out).empty());
  }
  // Restarted between the split and its group's first flush: sent once, by
  // the restarted pipeline; also when back only after the split incident
  // (nothing firing) would have resolved.
  for (TimestampMs down : {0, 10 * 60'000}) {
    Fixture f;
    TimestampMs split = 0;
    for (TimestampMs t = 0; t <= 900'000 && !split; t += 1000) {
      ClearedWhileRootFails(f, t, t);
      if (f.p.correlator().Find(2)) split = t;
    }
    ASSERT_GT(split, 0);
    EXPECT_TRUE(Notices(f.out).empty());
    Fixture g;
    Restart(f, g, split + down);
    ClearedWhileRootFails(g, split + down + 1000, 1'800'000);
    EXPECT_EQ(Notices(g.out).size(), 1u) << down;
  }
  // Restarted after checkout cleared (420 s) and before the check a
  // propagation window later (the pending check is in memory only): the
  // restarted pipeline derives it again from the stored alerts, splits and
  // sends the notice.
  {
    Fixture f;
    ClearedWhileRootFails(f, 0, 500'000);
    ASSERT_EQ(f.ids, 1);
    Fixture g;
    Restart(f, g, 500'000);
    ClearedWhileRootFails(g, 501'000, 1'500'000);
    EXPECT_EQ(g.ids, 2);
    EXPECT_EQ(Notices(g.out).size(), 1u);
  }
}

// ClearedWhileRootFails, and checkout's other callee ledger starts to fail
// just after checkout's alerts split off: its alerts join the split-off
// incident (checkout calls ledger; payments' incident does not relate to
// it) before that incident's group first flushes, so the group fires. The
// notice about checkout goes out all the same, once, as a notification of
// its own; ledger's alerts page as usual (storms stop 13, seed 17063: the
// notice was lost, as it was sent only from a flush with nothing firing).
// Not repeated after a restart, and a silence over checkout still keeps it
// quiet.
TEST(AlertPipeline, SplitNoticeIsSentWhenTheSplitIncidentFiresAgainBeforeItsFirstFlush) {
  for (bool restart : {false, true}) {
    for (bool silenced : {false, true}) {
      AlertingConfig cfg = Config();
      cfg.topology.AddCall("checkout", "ledger");
      Fixture f(cfg);
      if (silenced) {
        ASSERT_TRUE(f.p.silences().Upsert(SilenceOn("checkout", 2'000'000), 0).ok());
      }
      TimestampMs split = 0;
      for (TimestampMs t = 0; t <= 900'000 && !split; t += 1000) {
        ClearedWhileRootFails(f, t, t);
        if (f.p.correlator().Find(2)) split = t;
      }
      ASSERT_GT(split, 0);
      for (int i = 0; i < 3; ++i) {
        f.p.Receive(Pod("DiskFull", "ledger", i, split + 2000, split + 242'000), split + 2000, &f.out);
      }
      const TrackedAlert* disk = f.p.alerts().Find(FingerprintOf(Pod("DiskFull", "ledger", 0, 0, 0).labels));
      ASSERT_NE(disk, nullptr);
      ASSERT_EQ(disk->incident_id, 2);
      Fixture g(cfg);
      Fixture& run = restart ? g : f;
      if (restart) {
        ClearedWhileRootFails(f, split + 3000, split + 60'000);  // the notice is sent
        Restart(f, g, split + 60'000);
      }
      ClearedWhileRootFails(run, restart ? split + 61'000 : split + 3000, 1'500'000);
      auto notices = Notices(f.out);
      if (restart) {
        EXPECT_TRUE(Notices(g.out).empty()) << "not repeated after a restart";
      }
      if (silenced) {
        EXPECT_TRUE(notices.empty());
        EXPECT_EQ(f.p.correlator().Find(2)->notice_done.count("oncall"), 1u);
        continue;
      }
      ASSERT_EQ(notices.size(), 1u) << restart;
      EXPECT_EQ(notices[0].incident_id, 2);
      EXPECT_TRUE(notices[0].firing.empty());
      ASSERT_EQ(notices[0].resolved.size(), 3u);
      for (const auto& t : notices[0].resolved) EXPECT_EQ(t.alert.labels.Get("service"), "checkout");
      std::set<std::string> paged = PagedServices(f.out);
      for (const auto& s : PagedServices(g.out)) paged.insert(s);
      EXPECT_EQ(paged.count("ledger"), 1u);
    }
  }
}

// A silence over checkout (set before the split): the notice stays silent,
// and says so on the timeline; it is not sent once the silence expires.
TEST(AlertPipeline, SplitNoticeRespectsSilences) {
  Fixture f;
  ASSERT_TRUE(f.p.silences().Upsert(SilenceOn("checkout", 800'000), 0).ok());
  ClearedWhileRootFails(f, 0, 1'500'000);
  ASSERT_EQ(f.ids, 2);
  EXPECT_TRUE(Notices(f.out).empty());
  for (const auto& n : f.out.notifications) EXPECT_NE(n.incident_id, 2);
  int said = 0;
  for (const auto& ch : f.out.incidents) {
    for (const auto& e : ch.timeline) said += e.text.find("split notice to oncall not sent") != std::string::npos;
  }
  EXPECT_EQ(said, 1);
  EXPECT_EQ(f.p.correlator().Find(2)->notice_done.count("oncall"), 1u);
}

// An inhibition rule (payments' DbErrors mutes checkout), as Alertmanager's
// mute stage applies it to resolved alerts: with payments still firing when
// the notice falls due, checkout's alerts are inhibited; no notice.
TEST(AlertPipeline, SplitNoticeRespectsInhibitionRules) {
  AlertingConfig c = Config();
  InhibitRule r;
  r.source_matchers = *ParseMatchers("alertname=\"DbErrors\"");
  r.target_matchers = *ParseMatchers("service=\"checkout\"");
  c.inhibit_rules.push_back(r);
  Fixture f(std::move(c));
  ClearedWhileRootFails(f, 0, 1'500'000);
  ASSERT_EQ(f.ids, 2);
  EXPECT_TRUE(Notices(f.out).empty());
  EXPECT_EQ(f.p.correlator().Find(2)->notice_done.count("oncall"), 1u);
}

// orders and users both call db and joined db's incident; db recovers while
// both keep failing. Neither depends on the other, so they were two faults
// (a fault spreads to callers, not sideways): each gets an incident of its
// own, and api, which calls both, goes with the one that began last.
TEST(AlertPipeline, ServicesThatOutlivedTheRootSplitOffPerFault) {
  auto cfg = ParseAlertingConfig(R"(
route: {receiver: oncall, group_by: [incident], group_wait: 30s, group_interval: 5m, repeat_interval: 4h}
receivers: [{name: oncall, webhook_configs: [{url: "http://127.0.0.1:1/hook"}]}]
topology: {api: [orders, users], orders: [db], users: [db]}
correlation: {window: 5m, min_alerts: 3, min_duration: 2m, resolve_after: 5m}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  int64_t ids = 0;
  AlertPipeline p{std::move(*cfg), [&ids] { return ++ids; }};
  AlertPipeline::Output out;
  for (TimestampMs t = 0; t <= 900'000; t += 1000) {
    if (t % 60'000 == 0) {
      for (int i = 0; i < 3; ++i) {
        if (t <= 240'000) p.Receive(Pod("DbErrors", "db", i, 0, std::min<TimestampMs>(t + 240'000, 240'000)), t, &out);
        if (t >= 60'000) p.Receive(Pod("Errors", "orders", i, 60'000, t + 240'000), t, &out);
        if (t >= 60'000) p.Receive(Pod("Latency", "users", i, 60'000, t + 240'000), t, &out);
        if (t >= 120'000) p.Receive(Pod("Errors5xx", "api", i, 120'000, t + 240'000), t, &out);
      }
    }
    p.Tick(t, &out);
  }
  auto incident_of = [&](const std::string& name, const std::string& svc) {
    const TrackedAlert* t = p.alerts().Find(FingerprintOf(Pod(name, svc, 0, 0, 0).labels));
    return t ? t->incident_id : -1;
  };
  EXPECT_EQ(incident_of("DbErrors", "db"), 1);
  int64_t orders = incident_of("Errors", "orders"), users = incident_of("Latency", "users");
  EXPECT_GT(orders, 1);
  EXPECT_GT(users, 1);
  EXPECT_NE(orders, users);
  int64_t api = incident_of("Errors5xx", "api");
  EXPECT_TRUE(api == orders || api == users);
}

// payments fails from 0 s; its fault ends at 600 s, a restart-count pod
// holding on to 900 s. checkout began 40 s after payments (muted as its
// symptom) but is a fault of its own: one pod's alert resolves at 880 s,
// while payments' last pod still fires, the others fire on to 1300 s.
// A symptom begins to clear within a propagation window of its root (its
// fastest rules clear within an evaluation, a lag and a hop); checkout
// began 280 s after payments did, so that one alert did not end "with the
// root": checkout outlived payments, moves out and pages (storms stop 13:
// seed 17067 and 13001-13100's misses had this shape). Beginning to clear
// with the root (at 620 s) it stays, muted, as before.
TEST(AlertPipeline, ACallerThatBeganToClearLongAfterItsRootOutlivedIt) {
  for (TimestampMs first_clear : {880'000, 620'000}) {
    SCOPED_TRACE(first_clear);
    Fixture f;
    for (TimestampMs t = 0; t <= 1'700'000; t += 1000) {
      if (t % 60'000 == 0 || t == 600'000 || t == 900'000 || t == first_clear) {
        for (int i = 0; i < 3; ++i) {
          TimestampMs root_end = i == 0 ? 900'000 : 600'000;
          if (t <= root_end) f.p.Receive(Pod("DbErrors", "payments", i, i * 1000, Until(t, root_end)), t, &f.out);
          TimestampMs own_end = i == 0 ? first_clear : 1'300'000;
          if (t >= 40'000 && t <= own_end) {
            f.p.Receive(Pod("Saturation", "checkout", i, 40'000, Until(t, own_end)), t, &f.out);
          }
        }
      }
      f.p.Tick(t, &f.out);
    }
    const TrackedAlert* sat = f.p.alerts().Find(FingerprintOf(Pod("Saturation", "checkout", 1, 0, 0).labels));
    ASSERT_NE(sat, nullptr);
    if (first_clear == 880'000) {
      EXPECT_NE(sat->incident_id, 1);
      EXPECT_EQ(PagedServices(f.out).count("checkout"), 1u);
    } else {
      EXPECT_EQ(sat->incident_id, 1);
    }
  }
}

// Replays payments (three pods from 0 s: one holding on to 900 s, the
// others to 600 s) and checkout, its caller, on a fault of its own from
// 40 s, its four pods resolving at `checkout_end`; with `ledger_from` >= 0
// also ledger's own fault from then to 1500 s. Alerts are re-sent every
// minute and at each end, as Prometheus sends them. Returns how many split
// notices name checkout.
int ReplayCheckoutOutlivingPayments(Fixture& f, const TimestampMs (&checkout_end)[4], TimestampMs ledger_from) {
  for (TimestampMs t = 0; t <= 1'800'000; t += 1000) {
    bool send = t % 60'000 == 0 || t == 600'000 || t == 900'000;
    for (TimestampMs e : checkout_end) send = send || t == e;
    if (send) {
      for (int i = 0; i < 3; ++i) {
        TimestampMs root_end = i == 0 ? 900'000 : 600'000;
        if (t <= root_end) f.p.Receive(Pod("DbErrors", "payments", i, i * 1000, Until(t, root_end)), t, &f.out);
        if (ledger_from >= 0 && t >= ledger_from && t <= 1'500'000) {
          f.p.Receive(Pod("DiskFull", "ledger", i, ledger_from + i * 1000, Until(t, 1'500'000)), t, &f.out);
        }
      }
      for (int i = 0; i < 4; ++i) {
        if (t >= 40'000 && t <= checkout_end[i]) {
          f.p.Receive(Pod("Saturation", "checkout", i, 40'000, Until(t, checkout_end[i])), t, &f.out);
        }
      }
    }
    f.p.Tick(t, &f.out);
  }
  int about_checkout = 0;
  for (const auto& n : Notices(f.out)) about_checkout += n.notice.find("checkout") != std::string::npos;
  return about_checkout;
}

// payments fails from 0 s (one restart-count pod holding on to 900 s, the
// others to 600 s); checkout, which calls payments and ledger, fails from
// 40 s on a fault of its own, muted as payments' symptom, and begins to
// clear at 880 s (its last pod at 1100 s): it outlived payments. ledger
// fails from `ledger_from` to 1500 s in an incident of its own. Begun at
// 400 s, after every checkout alert had begun, ledger cannot be why
// checkout fails: once payments recovered, checkout, mostly resolved by
// then, moves out with a split notice (nobody was paged about it; storms
// stop 14: 17067's core-5 was muted so as a symptom of three roots begun
// minutes after it). Begun at 0 s, ledger may be its cause: checkout stays
// muted where it is, as before.
TEST(AlertPipeline, ACallerOutlivingItsRootIsNoSymptomOfRootsBegunAfterIt) {
  for (TimestampMs ledger_from : {400'000, 0}) {
    SCOPED_TRACE(ledger_from);
    AlertingConfig cfg = Config();
    cfg.topology.AddCall("checkout", "ledger");
    Fixture f(std::move(cfg));
    const TimestampMs checkout_end[] = {880'000, 1'000'000, 1'020'000, 1'100'000};
    const int about_checkout = ReplayCheckoutOutlivingPayments(f, checkout_end, ledger_from);
    const bool paged = PagedServices(f.out).count("checkout") > 0;
    if (ledger_from == 400'000) {
      EXPECT_EQ(about_checkout, 1);
    } else {
      EXPECT_EQ(about_checkout, 0);
      EXPECT_FALSE(paged);
    }
  }
}

// payments fails from 0 s (one restart-count pod holding on to 900 s, the
// others to 600 s); checkout, its caller, fails from 40 s on a fault of its
// own, muted as payments' symptom, and outlives payments: its first alert
// resolves at `first_end`. Its alerts move out a propagation window after
// payments' last one (about 1080 s). All resolved by then (the last at
// 1060 s), they were heard of by nobody: the new incident sends a split
// notice (storms stop 15: 23042's core-5). Still firing at the new group's
// first flush (to 1300 s), they page there as news: no notice besides.
// Begun to clear at 880 s, within two propagation windows of payments'
// recovery (600 s), checkout may be a symptom whose rules clear slowly:
// moved, but no notice (nor page), as before.
TEST(AlertPipeline, ACallerThatOutlivedItsRootAndResolvedBeforeItMovedGetsANotice) {
  for (auto [first_end, last_end] : {std::pair<TimestampMs, TimestampMs>{980'000, 1'060'000},
                                     {980'000, 1'300'000}, {880'000, 1'060'000}}) {
    SCOPED_TRACE(testing::Message() << first_end << " " << last_end);
    Fixture f;
    const TimestampMs checkout_end[] = {first_end, 1'000'000, 1'020'000, last_end};
    const int about_checkout = ReplayCheckoutOutlivingPayments(f, checkout_end, -1);
    const bool paged = PagedServices(f.out).count("checkout") > 0;
    EXPECT_EQ(about_checkout, first_end == 980'000 && last_end == 1'060'000 ? 1 : 0);
    EXPECT_EQ(paged, last_end == 1'300'000);
  }
}

// Two concurrent faults (payments, index) reach one caller (frontend);
// while both fail, its alerts go to the nearest front (index, begun last).
// They clear when payments recovers while index still fails: they were
// payments' symptoms and move to its incident, resolved, with a timeline
// line on both. When both roots clear together nothing moves (either
// could have held them), nor does an alert that cleared before payments did.
TEST(AlertPipeline, AlertsThatClearedWithARootMoveToItsIncident) {
  for (bool both_recover : {false, true}) {
    SCOPED_TRACE(both_recover);
    Fixture f;
    const TimestampMs payments_end = 300'000, index_end = both_recover ? 300'000 : 900'000;
    // Prometheus re-sends firing alerts every minute with endsAt ahead,
    // then once with the real end.
    for (TimestampMs t = 0; t <= 1'000'000; t += 1000) {
      if (t % 60'000 == 0 || t == 10'000) {
        for (int i = 0; i < 3; ++i) {
          if (t <= payments_end) f.p.Receive(Pod("DbErrors", "payments", i, 0, Until(t, payments_end)), t, &f.out);
          if (t >= 10'000 && t <= index_end) {
            f.p.Receive(Pod("IndexLag", "index", i, 10'000, Until(t, index_end)), t, &f.out);
          }
          if (t >= 60'000 && t <= payments_end + 10'000) {
            f.p.Receive(Pod("Latency", "frontend", i, 60'000, Until(t, payments_end + 10'000)), t, &f.out);
          }
        }
        // A blip on frontend that cleared well before payments recovered.
        if (t == 120'000 || t == 180'000) f.p.Receive(Pod("Errors5xx", "frontend", 0, 120'000, Until(t, 180'000)), t, &f.out);
      }
      if (t == 250'000) {
        ASSERT_EQ(f.ids, 2);
        const TrackedAlert* l = f.p.alerts().Find(FingerprintOf(Pod("Latency", "frontend", 0, 0, 0).labels));
        ASSERT_NE(l, nullptr);
        ASSERT_EQ(l->incident_id, 2) << "precondition: the nearest front (index) took them";
      }
      f.p.Tick(t, &f.out);
    }
    const TrackedAlert* blip = f.p.alerts().Find(FingerprintOf(Pod("Errors5xx", "frontend", 0, 0, 0).labels));
    ASSERT_NE(blip, nullptr);
    for (int i = 0; i < 3; ++i) {
      const TrackedAlert* l = f.p.alerts().Find(FingerprintOf(Pod("Latency", "frontend", i, 0, 0).labels));
      ASSERT_NE(l, nullptr);
      EXPECT_FALSE(l->firing);
      EXPECT_EQ(l->incident_id, both_recover ? 2 : 1) << i;
    }
    if (blip->incident_id != 0) {
      EXPECT_NE(blip->incident_id, 1);
    }
    bool line = false;
    for (const auto& ch : f.out.incidents) {
      for (const auto& e : ch.timeline) line = line || e.kind == "reattributed";
    }
    EXPECT_EQ(line, !both_recover);
    if (!both_recover) {
      EXPECT_EQ(f.p.correlator().Find(1)->services.count("frontend"), 1u);
    }
  }
}

// Replays a scenario on the test clock: `send(t)` every minute and at the
// `extra` instants, a Tick every second, then `check(t)` (when given).
void Replay(Fixture& f, TimestampMs until, std::set<TimestampMs> extra, const std::function<void(TimestampMs)>& send,
            const std::function<void(TimestampMs)>& check = nullptr) {
  for (TimestampMs t = 0; t <= until; t += 1000) {
    if (t % 60'000 == 0 || extra.count(t)) send(t);
    f.p.Tick(t, &f.out);
    if (check) check(t);
  }
}

// The incident of each of frontend's three Latency alerts (-1: gone).
std::vector<int64_t> LatencyIncidents(Fixture& f) {
  std::vector<int64_t> got;
  for (int i = 0; i < 3; ++i) {
    const TrackedAlert* l = f.p.alerts().Find(FingerprintOf(Pod("Latency", "frontend", i, 0, 0).labels));
    got.push_back(l ? l->incident_id : -1);
  }
  return got;
}

// Two pods of a rule on frontend begin 55 s before payments' first alert
// (within the jitter slack), a third 70 s before (beyond it): alone that
// one would stay with index when the others move to payments' incident on
// its recovery. It began with them (within onset_spread) and cleared within
// payments' span, so it goes with them: a rule's pods that began together
// are one symptom (storms stop 9).
TEST(AlertPipeline, APodOfAReclaimedRuleMovesWithIt) {
  Fixture f;
  const TimestampMs payments_end = 300'000, index_end = 900'000;
  Replay(
      f, 1'000'000, {30'000, 45'000, 100'000},
      [&](TimestampMs t) {
        for (int i = 0; i < 3; ++i) {
          if (t <= index_end) f.p.Receive(Pod("IndexLag", "index", i, 0, Until(t, index_end)), t, &f.out);
          if (t >= 100'000 && t <= payments_end) {
            f.p.Receive(Pod("DbErrors", "payments", i, 100'000, Until(t, payments_end)), t, &f.out);
          }
          TimestampMs start = i == 2 ? 30'000 : 45'000;
          if (t >= start && t <= payments_end + 10'000) {
            f.p.Receive(Pod("Latency", "frontend", i, start, Until(t, payments_end + 10'000)), t, &f.out);
          }
        }
      },
      [&](TimestampMs t) {
        if (t == 250'000) {
          ASSERT_EQ(f.ids, 2);
          EXPECT_EQ(LatencyIncidents(f), (std::vector<int64_t>{1, 1, 1})) << "precondition: index's incident took them";
        }
      });
  ASSERT_EQ(f.p.correlator().Find(2)->root_service, "payments");
  EXPECT_EQ(LatencyIncidents(f), (std::vector<int64_t>{2, 2, 2}));
}

// Frontend's alerts went to payments' incident (the nearest front). When
// payments recovers, one pod's alert of the rule ends with it, another's
// fires on for five minutes (its rate window): it began with the first and
// stays with it, instead of being handed over to index's failing root as
// an alert that outlived payments (storms stop 9).
TEST(AlertPipeline, APodWhoseRuleEndedWithTheRootIsNotHandedOver) {
  Fixture f;
  const TimestampMs payments_end = 300'000, index_end = 900'000;
  Replay(
      f, 700'000, {10'000},
      [&](TimestampMs t) {
        for (int i = 0; i < 3; ++i) {
          if (t <= index_end) f.p.Receive(Pod("IndexLag", "index", i, 0, Until(t, index_end)), t, &f.out);
          if (t >= 10'000 && t <= payments_end) {
            f.p.Receive(Pod("DbErrors", "payments", i, 10'000, Until(t, payments_end)), t, &f.out);
          }
          TimestampMs end = i == 2 ? payments_end + 300'000 : payments_end + 10'000;
          if (t >= 60'000 && t <= end) f.p.Receive(Pod("Latency", "frontend", i, 60'000, Until(t, end)), t, &f.out);
        }
      },
      [&](TimestampMs t) {
        if (t == 250'000) {
          ASSERT_EQ(f.ids, 2);
          EXPECT_EQ(LatencyIncidents(f), (std::vector<int64_t>{2, 2, 2})) << "precondition: payments' incident took them";
        }
      });
  EXPECT_EQ(LatencyIncidents(f), (std::vector<int64_t>{2, 2, 2}));
}

// Pod i's alerts at `t` (as Prometheus re-sends them) of index (IndexLag),
// payments (DbErrors) and frontend (Latency), each firing over its span.
struct Span {
  TimestampMs start, end;
};
void SendPods(Fixture& f, TimestampMs t, int i, Span index, Span payments, Span frontend) {
  auto send = [&](const char* rule, const char* svc, Span s) {
    if (t >= s.start && t <= s.end) f.p.Receive(Pod(rule, svc, i, s.start, Until(t, s.end)), t, &f.out);
  };
  send("IndexLag", "index", index);
  send("DbErrors", "payments", payments);
  send("Latency", "frontend", frontend);
}

// Payments' pods clear at 300, 600 and 900 s (a restart count keeps the
// last firing): its recovery began at 300 s. Frontend's alerts, which went
// to payments' incident, fire until 800 s, more than two propagation
// windows after payments began to clear, while index still fails: they
// outlived payments and are handed over to index's incident, although
// payments' last alert resolved after them (storms stop 10).
TEST(AlertPipeline, AlertsOutlivingTheRootsRecoveryByTwoWindowsAreHandedOver) {
  Fixture f;
  const TimestampMs payments_end[] = {300'000, 600'000, 900'000};
  const TimestampMs index_end = 1'500'000, frontend_end = 800'000;
  Replay(
      f, 1'300'000, {10'000, payments_end[0], payments_end[1], payments_end[2], frontend_end},
      [&](TimestampMs t) {
        for (int i = 0; i < 3; ++i) SendPods(f, t, i, {0, index_end}, {10'000, payments_end[i]}, {60'000, frontend_end});
      },
      [&](TimestampMs t) {
        if (t == 250'000) {
          ASSERT_EQ(f.ids, 2);
          EXPECT_EQ(LatencyIncidents(f), (std::vector<int64_t>{2, 2, 2})) << "precondition: payments' incident took them";
        }
      });
  EXPECT_EQ(LatencyIncidents(f), (std::vector<int64_t>{1, 1, 1}));
}

// A symptom's fast rule (a gauge) may resolve a little before its root's
// slower rules (rate windows) do: frontend's alerts, index's symptoms,
// resolve at 310 s, while payments recovers (300 s) and 20 s before index
// begins to clear (330 s). That is within the jitter slack of index's own
// clearing, so they stay with index (storms stop 6: they used to move to
// payments' incident, which only "before index's first resolution" kept
// them from).
TEST(AlertPipeline, AlertsThatClearedJustBeforeTheirRootBeganToClearStay) {
  Fixture f;
  const TimestampMs payments_end = 300'000, frontend_end = 310'000;
  const TimestampMs index_end[] = {330'000, 330'000, 900'000};
  for (TimestampMs t = 0; t <= 1'000'000; t += 1000) {
    if (t % 60'000 == 0 || t == 10'000 || t == frontend_end || t == index_end[0]) {
      for (int i = 0; i < 3; ++i) SendPods(f, t, i, {10'000, index_end[i]}, {0, payments_end}, {60'000, frontend_end});
    }
    if (t == 250'000) {
      const TrackedAlert* l = f.p.alerts().Find(FingerprintOf(Pod("Latency", "frontend", 0, 0, 0).labels));
      ASSERT_NE(l, nullptr);
      ASSERT_EQ(l->incident_id, 2) << "precondition: the nearest front (index) took them";
    }
    f.p.Tick(t, &f.out);
  }
  for (int i = 0; i < 3; ++i) {
    const TrackedAlert* l = f.p.alerts().Find(FingerprintOf(Pod("Latency", "frontend", i, 0, 0).labels));
    ASSERT_NE(l, nullptr);
    EXPECT_FALSE(l->firing);
    EXPECT_EQ(l->incident_id, 2) << i;
  }
}

// The converse: the nearest front (index) took frontend's alerts, index
// recovers first and they keep firing through its recovery while payments
// still fails: they were payments' symptoms and move to its incident. One
// that resolved with index and fired again since stays (it may be index's
// alert that payments carried on).
TEST(AlertPipeline, AlertsFiringThroughARootsRecoveryMoveToTheFailingRoot) {
  Fixture f;
  const TimestampMs index_end = 300'000, payments_end = 900'000;
  for (TimestampMs t = 0; t <= 1'000'000; t += 1000) {
    if (t % 60'000 == 0 || t == 10'000) {
      for (int i = 0; i < 3; ++i) {
        if (t <= payments_end) f.p.Receive(Pod("DbErrors", "payments", i, 0, Until(t, payments_end)), t, &f.out);
        if (t >= 10'000 && t <= index_end) f.p.Receive(Pod("IndexLag", "index", i, 10'000, Until(t, index_end)), t, &f.out);
        if (t >= 60'000 && t <= payments_end) {
          // Pod 0 resolves with index and fires again a little later.
          bool gap = i == 0 && t >= index_end && t < index_end + 60'000;
          TimestampMs starts = i == 0 && t >= index_end + 60'000 ? index_end + 60'000 : 60'000;
          if (!gap) f.p.Receive(Pod("Latency", "frontend", i, starts, Until(t, payments_end)), t, &f.out);
        }
      }
    }
    if (t == index_end) {
      f.p.Receive(Pod("Latency", "frontend", 0, 60'000, index_end), t, &f.out);
      const TrackedAlert* l = f.p.alerts().Find(FingerprintOf(Pod("Latency", "frontend", 1, 0, 0).labels));
      ASSERT_NE(l, nullptr);
      ASSERT_EQ(l->incident_id, 2) << "precondition: the nearest front (index) took them";
    }
    f.p.Tick(t, &f.out);
    if (t == 700'000) {
      for (int i = 0; i < 3; ++i) {
        const TrackedAlert* l = f.p.alerts().Find(FingerprintOf(Pod("Latency", "frontend", i, 0, 0).labels));
        ASSERT_NE(l, nullptr);
        EXPECT_TRUE(l->firing);
        EXPECT_EQ(l->incident_id, i == 0 ? 2 : 1) << i;
      }
    }
  }
  bool line = false;
  for (const auto& ch : f.out.incidents) {
    for (const auto& e : ch.timeline) line = line || (e.kind == "reattributed" && ch.incident_id == 1);
  }
  EXPECT_TRUE(line);
  EXPECT_EQ(f.ids, 2);
}

// Two faults whose roots call each other (checkout -> payments) begin
// together: one incident, payments its root. checkout's alerts end two
// minutes after payments' (before the check a propagation window after
// payments' last alert): they outlived the root, so they were another
// fault's and move, resolved, into their own incident.
TEST(AlertPipeline, AlertsThatOutlivedTheRootMoveEvenOnceResolved) {
  Fixture f;
  const TimestampMs payments_end = 300'000, checkout_end = 420'000;
  for (TimestampMs t = 0; t <= 900'000; t += 1000) {
    if (t % 60'000 == 0) {
      for (int i = 0; i < 3; ++i) {
        if (t <= payments_end) f.p.Receive(Pod("DbErrors", "payments", i, 0, Until(t, payments_end)), t, &f.out);
        if (t >= 5000 && t <= checkout_end) f.p.Receive(Pod("Saturation", "checkout", i, 5000, Until(t, checkout_end)), t, &f.out);
      }
    }
    if (t == 5000) {
      for (int i = 0; i < 3; ++i) f.p.Receive(Pod("Saturation", "checkout", i, 5000, Until(t, checkout_end)), t, &f.out);
    }
    if (t == 250'000) {
      ASSERT_EQ(f.ids, 1);
      ASSERT_EQ(f.p.correlator().Find(1)->root_service, "payments");
    }
    f.p.Tick(t, &f.out);
  }
  ASSERT_EQ(f.ids, 2);
  const TrackedAlert* sat = f.p.alerts().Find(FingerprintOf(Pod("Saturation", "checkout", 1, 0, 0).labels));
  ASSERT_NE(sat, nullptr);
  EXPECT_FALSE(sat->firing);
  EXPECT_EQ(sat->incident_id, 2);
  EXPECT_EQ(f.p.correlator().Find(1)->services.count("checkout"), 0u);
  EXPECT_EQ(f.p.correlator().Find(2)->root_service, "checkout");
}

// A blip on payments that resolved a minute before payments' fault began
// does not date the fault's episode there: a new rule on a new pod of
// payments three minutes after the blip still joins the fault's incident.
TEST(AlertPipeline, AResolvedBlipDoesNotAgeTheServiceEpisode) {
  Fixture f;
  f.p.Receive(Pod("SlowGC", "payments", 9, 0, 240'000), 0, &f.out);
  f.p.Receive(Pod("SlowGC", "payments", 9, 0, 60'000), 60'000, &f.out);  // resolved
  f.Run(0, 110'000);
  for (int i = 0; i < 3; ++i) f.p.Receive(Pod("DbErrors", "payments", i, 120'000, 600'000), 120'000 + i * 1000, &f.out);
  f.Run(123'000, 200'000);
  ASSERT_EQ(f.ids, 1);
  f.p.Receive(Pod("ConnPoolFull", "payments", 5, 200'000, 600'000), 200'000, &f.out);
  const TrackedAlert* late = f.p.alerts().Find(FingerprintOf(Pod("ConnPoolFull", "payments", 5, 0, 0).labels));
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(late->incident_id, 1);
  EXPECT_EQ(f.p.correlator().candidates(), 0u);
}

TEST(AlertPipeline, MergeAndSplit) {
  Fixture f;
  for (int i = 0; i < 3; ++i) f.p.Receive(A("P" + std::to_string(i), "payments", 0), 0, &f.out);
  for (int i = 0; i < 3; ++i) f.p.Receive(A("I" + std::to_string(i), "index", 0), 0, &f.out);
  ASSERT_EQ(f.ids, 2);
  ASSERT_TRUE(f.p.Merge(1, 2, 1000, &f.out).ok());
  EXPECT_EQ(f.p.correlator().Find(1)->alerts.size(), 6u);
  EXPECT_TRUE(f.p.correlator().Find(2)->resolved);
  std::vector<Fingerprint> idx;
  for (const auto& [fp, t] : f.p.alerts().alerts()) {
    if (t.alert.labels.Get("service") == "index") idx.push_back(fp);
  }
  auto id = f.p.Split(1, idx, 2000, &f.out);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(f.p.correlator().Find(*id)->alerts.size(), 3u);
  EXPECT_EQ(f.p.correlator().Find(1)->alerts.size(), 3u);
  EXPECT_EQ(f.p.FindAlert(idx[0])->incident_id, *id);
  EXPECT_FALSE(f.p.Merge(1, 99, 0, &f.out).ok());
}

TEST(AlertPipeline, FlappingAlertIsHeld) {
  Fixture f;
  for (int i = 0; i < 3; ++i) f.p.Receive(A("P" + std::to_string(i), "payments", 0), 0, &f.out);
  f.Run(0, 40000);
  ASSERT_EQ(f.out.notifications.size(), 1u);
  // A fourth alert on payments flaps: it joins, but is held.
  TimestampMs now = 40000;
  for (int i = 0; i < 3; ++i) {
    f.p.Receive(A("Flappy", "payments", now), now, &f.out);
    now += 20000;
    f.p.Receive(A("Flappy", "payments", now - 20000, now), now, &f.out);
    now += 20000;
  }
  f.p.Receive(A("Flappy", "payments", now), now, &f.out);
  Fingerprint fp = FingerprintOf(A("Flappy", "payments", 0).labels);
  EXPECT_TRUE(f.p.FindAlert(fp)->flapping);
  EXPECT_TRUE(f.p.MutedNow(*f.p.FindAlert(fp), now).flapping);
}

}  // namespace
}  // namespace vigil

#include "incidents/storm_eval.h"

namespace vigil {
namespace {

// The storm of `seed` (default generator settings) run through the default
// storm configuration.
StormScore ScoreStorm(uint64_t seed, TimestampMs symptom_lag_ms = CorrelationConfig{}.symptom_lag_ms) {
  StormConfig sc;
  sc.seed = seed;
  Storm storm = GenerateStorm(sc);
  AlertingConfig cfg = StormAlertingConfig(storm);
  cfg.correlation.symptom_lag_ms = symptom_lag_ms;
  return RunStorm(storm, cfg);
}

TEST(StormEval, DeterministicAndCompresses) {
  StormConfig sc;
  sc.seed = 3;
  Storm a = GenerateStorm(sc), b = GenerateStorm(sc);
  ASSERT_EQ(a.sends.size(), b.sends.size());
  EXPECT_GT(a.alert_episodes, 200);
  StormScore s = RunStorm(a, StormAlertingConfig(a));
  // Floors a little below the figures measured at this commit (seed 3;
  // storms stop 6, rules clearing at their own pace).
  EXPECT_GT(s.compression(), 0.978);  // measured 0.981
  EXPECT_GT(s.purity(), 0.91);        // measured 0.929 (0.971 while every alert cleared within 2 min)
  EXPECT_GT(s.completeness(), 0.92);  // measured 0.941 (0.994 so)
  EXPECT_EQ(s.missed_faults, 0);
  EXPECT_EQ(s.faults, 6);
}

// Rules clear at their own pace once their fault ended (storms stop 6):
// rate windows for a few minutes, a restart count or a backlog for up to
// ten; never before the fault ended. (Every alert used to resolve within
// two minutes of its fault's end, sharper than real storms.)
TEST(StormEval, AlertsClearOverMinutesAfterTheirFaultEnded) {
  StormConfig sc;
  sc.seed = 3;
  Storm storm = GenerateStorm(sc);
  std::map<Fingerprint, int> fault_of(storm.truth.begin(), storm.truth.end());
  int late = 0, all = 0;
  TimestampMs latest = 0;
  for (const auto& s : storm.sends) {
    Fingerprint fp = FingerprintOf(s.alert.labels);
    if (s.alert.ends_ms > s.at || fault_of[fp] < 0 || storm.shared.count(fp)) continue;
    TimestampMs lag = s.at - storm.faults[fault_of[fp]].end_ms;
    EXPECT_GE(lag, 0);
    latest = std::max(latest, lag);
    late += lag > 120'000;
    ++all;
  }
  ASSERT_GT(all, 200);
  EXPECT_GT(latest, 6 * 60'000);
  EXPECT_GT(late, all / 4);
}

// One rule on one pod is one alert: where two faults fire it at overlapping
// times the storm sends one episode (one startsAt, never resolved in
// between), and the scorer leaves such shared alerts out of the pairs.
TEST(StormEval, OverlappingFaultsFireOneContinuousAlert) {
  StormConfig sc;
  sc.seed = 4;
  Storm storm = GenerateStorm(sc);
  ASSERT_FALSE(storm.shared.empty());
  std::map<Fingerprint, std::set<TimestampMs>> starts;
  std::map<Fingerprint, TimestampMs> resolved_at;
  for (const auto& s : storm.sends) {
    Fingerprint fp = FingerprintOf(s.alert.labels);
    if (!storm.shared.count(fp)) continue;
    starts[fp].insert(s.alert.starts_ms);
    auto r = resolved_at.find(fp);
    if (r != resolved_at.end()) {
      EXPECT_GT(s.at - r->second, sc.resend_ms) << "re-fired right after resolving";
    }
    if (s.alert.ends_ms <= s.at) resolved_at[fp] = s.at;
  }
  for (const auto& [fp, st] : starts) EXPECT_EQ(st.size(), 1u) << SeriesIdToHex(fp);
  StormScore s = RunStorm(storm, StormAlertingConfig(storm));
  EXPECT_EQ(s.shared_alerts, static_cast<int64_t>(storm.shared.size()));
  // Pairs leave the shared alerts out: fewer than over every fault alert.
  std::map<int, double> per_fault;
  for (const auto& [fp, f] : storm.truth) {
    if (f >= 0) per_fault[f] += 1;
  }
  double all_pairs = 0;
  for (const auto& [f, n] : per_fault) all_pairs += n * (n - 1) / 2;
  EXPECT_LT(s.same_fault_pairs, all_pairs);
}

// --explain accounts for every fault and names the alerts that went to an
// incident another fault dominates (seed 4: two faults reaching the same
// callers share their alerts there).
TEST(StormEval, ExplainNamesMisplacedAlerts) {
  StormConfig sc;
  sc.seed = 4;
  Storm storm = GenerateStorm(sc);
  std::string explain;
  StormScore s = RunStorm(storm, StormAlertingConfig(storm), &explain);
  for (const auto& f : storm.faults) {
    EXPECT_NE(explain.find("fault " + std::to_string(f.id) + " root " + f.root_service), std::string::npos) << f.id;
  }
  ASSERT_LT(s.purity(), 0.999);
  EXPECT_NE(explain.find("alert in incident"), std::string::npos) << explain;
  // The breakdown by failure mode: seed 4 loses alerts on callers of two
  // concurrent faults' roots.
  EXPECT_NE(explain.find("modes: "), std::string::npos) << explain;
  EXPECT_NE(explain.find("pairs: wrong="), std::string::npos) << explain;
  EXPECT_NE(explain.find("shared-"), std::string::npos) << explain;
  StormScore quiet = RunStorm(storm, StormAlertingConfig(storm));
  EXPECT_EQ(quiet.notifications, s.notifications);
  EXPECT_DOUBLE_EQ(quiet.purity(), s.purity());
}

// Seed 5: a fault whose root calls the root of a fault begun two minutes
// earlier joined that fault's incident; since the first root recovered it
// has its own (measured 0.978 / 0.975 / 1.000, 0 missed; 0.846 purity
// before). Since storms stop 10 two of data-6's slowest-clearing alerts,
// firing more than two propagation windows after data-6 began to clear,
// are handed over to core-2's incident (0.978 / 0.974 / 0.973): the price
// of the hand-over's bound, which gains on the large pools.
TEST(StormEval, FaultBehindAnEarlierRootGetsItsOwnIncident) {
  StormScore s = ScoreStorm(5);
  EXPECT_GE(s.compression(), 0.97);
  EXPECT_GE(s.purity(), 0.97);
  EXPECT_GE(s.completeness(), 0.97);
  EXPECT_EQ(s.missed_faults, 0);
}

// Seed 621: a fault on core-5 began 108 s after one on data-2 (which core-5
// calls) and ended six minutes before it; its alerts joined data-2's
// incident and, muted as symptoms, paged nobody (missed before split
// notices). With page_critical_symptoms its critical alerts page while they
// fire (measured 0.984 / 0.841 / 0.774, 0 missed, by default).
TEST(StormEval, ACallersOwnFaultInsideAnotherIncidentPagesWithCriticalSymptomsOn) {
  StormConfig sc;
  sc.seed = 621;
  Storm storm = GenerateStorm(sc);
  AlertingConfig cfg = StormAlertingConfig(storm);
  StormScore quiet = RunStorm(storm, cfg);
  cfg.correlation.page_critical_symptoms = true;
  StormScore paging = RunStorm(storm, cfg);
  // Muted by default while it fired; its split notice tells of it after.
  EXPECT_EQ(quiet.missed_faults, 0);
  EXPECT_GT(quiet.split_notices, 0);
  EXPECT_EQ(paging.missed_faults, 0);
  EXPECT_EQ(paging.split_notices, 0) << "its critical alerts were paged: nothing to say afterwards";
  EXPECT_GT(paging.notifications, quiet.notifications);
}

// A floor under `vigil eval storms` on a storm the correlator was not tuned
// on (seed 101; measured 0.986 / 0.982 / 0.996, 0 missed).
TEST(StormEval, HeldOutStormFloor) {
  StormScore s = ScoreStorm(101);
  EXPECT_GE(s.compression(), 0.98);
  EXPECT_GE(s.purity(), 0.96);
  EXPECT_GE(s.completeness(), 0.98);
  EXPECT_EQ(s.missed_faults, 0);
}

// Seeds 2010, 2012, 2034 of the fresh pool: each a caller's own fault that
// began while its callee's fault spread, was muted as its symptom and ended
// first (missed before split notices; each now one split notice; with
// rules clearing at their own pace, only since the split is judged by when
// the caller began to clear). Measured with symptom_lag off: since it is
// on, 2012's fault (its alerts began more than two minutes after its
// callee's) pages while it fires, so it needs no notice.
TEST(StormEval, FaultsThatCameAndWentMutedGetASplitNotice) {
  StormScore total, lagged;
  for (uint64_t seed : {2010, 2012, 2034}) {
    total.Add(ScoreStorm(seed, 0));
    lagged.Add(ScoreStorm(seed));
  }
  EXPECT_EQ(total.missed_faults, 0);
  EXPECT_GE(total.split_notices, 3);
  EXPECT_GE(total.compression(), 0.98);
  EXPECT_EQ(lagged.missed_faults, 0);
  EXPECT_EQ(lagged.split_notices, 2);
  EXPECT_GE(lagged.compression(), 0.98);
}

// Callers' own faults that look like symptoms by their first alerts
// (storms stop 11, each missed before it): 5063 and 5094 begin within
// symptom_lag of their callee but their onset bursts end too late for a
// hop; 7028 and 9071 began before their callee's failure could have
// reached them; 5038's fault came and went muted, and its split notice
// stays although its service later looks as if it began before its cause;
// 5083 is caught once most of its caller cleared (storms stop 12); 17063's
// split notice goes out though an alert joined its incident before the
// flush, and 13003's caller began to clear long after its root (stop 13);
// 17067's caller outlived its root and was no symptom of the roots begun
// after it (stop 14).
TEST(StormEval, CallersOwnFaultsThatLookLikeSymptomsPage) {
  StormScore total;
  for (uint64_t seed : {5063, 5094, 7028, 9071, 5038, 5083, 17063, 13003, 17067, 23042, 23011, 15060}) {
    StormScore s = ScoreStorm(seed);
    EXPECT_EQ(s.missed_faults, 0) << seed;
    total.Add(s);
  }
  EXPECT_GE(total.compression(), 0.98);  // measured 0.983 on the first eight (53 notifications, 3146 alerts)
}

// --dependency-labels: call-side rules of callers name the callee their
// fault came through (never a root's rules, never CPU or memory rules);
// the faults themselves are the storm generated without labels, and at 0
// (the storm suite) no alert carries one.
TEST(StormEval, DependencyLabelsNameTheCalleeOnCallSideRulesOnly) {
  StormConfig plain_cfg;
  plain_cfg.seed = 3;
  StormConfig named_cfg = plain_cfg;
  named_cfg.dependency_label_fraction = 1.0;
  Storm plain = GenerateStorm(plain_cfg), named = GenerateStorm(named_cfg);
  ASSERT_EQ(plain.faults.size(), named.faults.size());
  std::set<std::string> roots;
  for (size_t i = 0; i < plain.faults.size(); ++i) {
    EXPECT_EQ(plain.faults[i].root_service, named.faults[i].root_service);
    EXPECT_EQ(plain.faults[i].start_ms, named.faults[i].start_ms);
    EXPECT_EQ(plain.faults[i].end_ms, named.faults[i].end_ms);
    roots.insert(plain.faults[i].root_service);
  }
  const std::vector<std::string> dependency = {"destination_service", "upstream", "peer"};
  auto named_callee = [&](const Labels& l) {
    for (const auto& n : dependency) {
      std::string v(l.Get(n));
      if (!v.empty()) return v.substr(0, v.find('.'));
    }
    return std::string();
  };
  for (const auto& send : plain.sends) EXPECT_EQ(named_callee(send.alert.labels), "");
  int labelled = 0;
  for (const auto& send : named.sends) {
    std::string callee = named_callee(send.alert.labels);
    std::string_view rule = send.alert.labels.Get("alertname");
    bool call_side = rule == "UpstreamErrors" || rule == "ConnectionErrors" || rule == "TimeoutsHigh";
    if (callee.empty()) continue;
    ++labelled;
    EXPECT_TRUE(call_side) << rule;
    std::string svc(send.alert.labels.Get("service"));
    EXPECT_TRUE(named.topology.Callees(svc).count(callee)) << svc << " -> " << callee;
  }
  EXPECT_GT(labelled, 50);
}

}  // namespace
}  // namespace vigil
