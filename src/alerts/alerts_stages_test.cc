// Unit tests of the alert pipeline's stages, each alone.
#include <gtest/gtest.h>

#include "alerts/aggregation.h"
#include "alerts/alerting_config.h"
#include "alerts/dedup.h"
#include "alerts/inhibit.h"
#include "alerts/matcher.h"
#include "alerts/notification_log.h"
#include "alerts/notify_payloads.h"
#include "alerts/route.h"
#include "alerts/silence.h"
#include "alerts/topology.h"

namespace vigil {
namespace {

Labels L(std::vector<Label> v) { return *Labels::FromPairs(std::move(v)); }

Alert A(std::vector<Label> labels, TimestampMs starts = 1000, TimestampMs ends = 0) {
  Alert a;
  a.labels = L(std::move(labels));
  a.starts_ms = starts;
  a.ends_ms = ends;
  return a;
}

TEST(Fingerprint, LabelsOnlyNotAnnotations) {
  Alert a = A({{"alertname", "X"}, {"service", "s"}});
  Alert b = a;
  b.annotations = L({{"summary", "different"}});
  EXPECT_EQ(FingerprintOf(a.labels), FingerprintOf(b.labels));
  Alert c = A({{"alertname", "X"}, {"service", "t"}});
  EXPECT_NE(FingerprintOf(a.labels), FingerprintOf(c.labels));
}

TEST(Matcher, Operators) {
  Labels l = L({{"alertname", "HighLatency"}, {"service", "checkout"}});
  EXPECT_TRUE(Matcher::Parse("service=\"checkout\"")->Matches(l));
  EXPECT_FALSE(Matcher::Parse("service!=checkout")->Matches(l));
  EXPECT_TRUE(Matcher::Parse("alertname=~\"High.*\"")->Matches(l));
  EXPECT_FALSE(Matcher::Parse("alertname=~\"High\"")->Matches(l));  // anchored
  EXPECT_TRUE(Matcher::Parse("team!~\".+\"")->Matches(l));           // absent label is ""
  EXPECT_FALSE(Matcher::Parse("a=~\"(\"").ok());
  auto ms = ParseMatchers("{service=\"checkout\", alertname=~\"High.*\"}");
  ASSERT_TRUE(ms.ok());
  EXPECT_EQ(ms->size(), 2u);
  EXPECT_TRUE(MatchesAll(*ms, l));
  EXPECT_EQ((*ms)[0].ToString(), "service=\"checkout\"");
}

TEST(Dedup, RepeatsUpdateOneAlert) {
  AlertDedup d(DedupConfig{});
  const TrackedAlert* t = nullptr;
  EXPECT_EQ(d.Observe(A({{"alertname", "X"}, {"severity", "warning"}}), 1000, &t), DedupOutcome::kNew);
  EXPECT_EQ(d.Observe(A({{"alertname", "X"}, {"severity", "warning"}}), 2000, &t), DedupOutcome::kRepeat);
  EXPECT_EQ(t->count, 2);
  EXPECT_EQ(t->last_seen_ms, 2000);
  EXPECT_EQ(d.alerts().size(), 1u);
}

TEST(Dedup, ResolveTimeoutWithoutEndsAt) {
  DedupConfig c;
  c.resolve_timeout_ms = 60'000;
  AlertDedup d(c);
  d.Observe(A({{"alertname", "X"}}), 0);
  EXPECT_TRUE(d.Tick(59'000).empty());
  auto r = d.Tick(60'000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(d.Find(r[0])->firing);
}

TEST(Dedup, EndsAtResolves) {
  AlertDedup d(DedupConfig{});
  EXPECT_EQ(d.Observe(A({{"alertname", "X"}}, 0, 5000), 1000), DedupOutcome::kNew);
  EXPECT_EQ(d.Tick(4000).size(), 0u);
  EXPECT_EQ(d.Tick(5000).size(), 1u);
  EXPECT_EQ(d.Observe(A({{"alertname", "X"}}, 6000, 0), 6000), DedupOutcome::kRefired);
  EXPECT_EQ(d.Observe(A({{"alertname", "X"}}, 6000, 7000), 7000), DedupOutcome::kResolved);
}

TEST(Dedup, FlappingMarkedThenCleared) {
  DedupConfig c;
  c.flap_transitions = 4;
  c.flap_window_ms = 100'000;
  AlertDedup d(c);
  const TrackedAlert* t = nullptr;
  TimestampMs now = 0;
  for (int i = 0; i < 3; ++i) {
    d.Observe(A({{"alertname", "F"}}, now, 0), now, &t);
    now += 10'000;
    d.Observe(A({{"alertname", "F"}}, now - 10'000, now), now, &t);
    now += 10'000;
  }
  EXPECT_TRUE(t->flapping);
  d.Tick(now + 200'000);
  EXPECT_FALSE(d.Find(t->fingerprint) && d.Find(t->fingerprint)->flapping);
}

TEST(Route, TreeContinueAndInheritance) {
  auto cfg = ParseAlertingConfig(R"(
route:
  receiver: default
  group_by: [alertname]
  group_wait: 10s
  routes:
    - matchers: ['team="db"']
      receiver: db
      continue: true
    - matchers: ['severity=~"critical|page"']
      receiver: pager
      group_by: ['...']
      repeat_interval: 1h
    - receiver: never
receivers: [{name: default}, {name: db}, {name: pager}, {name: never}]
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto r = MatchRoutes(cfg->route, L({{"alertname", "X"}, {"team", "db"}, {"severity", "critical"}}));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]->receiver, "db");
  EXPECT_EQ(r[0]->group_wait_ms, 10'000);  // inherited
  EXPECT_EQ(r[1]->receiver, "pager");
  EXPECT_TRUE(r[1]->group_by_all);
  EXPECT_EQ(r[1]->repeat_interval_ms, 3600'000);
  auto w = MatchRoutes(cfg->route, L({{"alertname", "X"}, {"severity", "warning"}}));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0]->receiver, "never");
  Labels g = GroupLabels(*r[0], L({{"alertname", "X"}, {"team", "db"}}));
  EXPECT_EQ(g.ToString(), "{alertname=\"X\"}");
}

TEST(Route, ConfigErrorsNameTheKey) {
  auto bad = ParseAlertingConfig("route: {receiver: a, group_wait: 5x}\nreceivers: [{name: a}]\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("route.group_wait"), std::string::npos) << bad.status().message();
  auto missing = ParseAlertingConfig("route: {receiver: b}\nreceivers: [{name: a}]\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no receiver named \"b\""), std::string::npos);
  auto unknown = ParseAlertingConfig("route: {receiver: a, grup_by: [x]}\nreceivers: [{name: a}]\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("route.grup_by"), std::string::npos);
  auto digest = ParseAlertingConfig("global: {resolved_digest: maybe}\nroute: {receiver: a}\nreceivers: [{name: a}]\n");
  ASSERT_FALSE(digest.ok());
  EXPECT_NE(digest.status().message().find("global.resolved_digest"), std::string::npos);
  auto off = ParseAlertingConfig("global: {resolved_digest: false}\nroute: {receiver: a}\nreceivers: [{name: a}]\n");
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_FALSE(off->resolved_digest);
  EXPECT_TRUE(ParseAlertingConfig("route: {receiver: a}\nreceivers: [{name: a}]\n")->resolved_digest);
  EXPECT_EQ(ParseAlertingConfig("route: {receiver: a}\nreceivers: [{name: a}]\n")->resolved_digest_wait_ms, -1);
  auto wait = ParseAlertingConfig("global: {resolved_digest_wait: 2m}\nroute: {receiver: a}\nreceivers: [{name: a}]\n");
  ASSERT_TRUE(wait.ok()) << wait.status().ToString();
  EXPECT_EQ(wait->resolved_digest_wait_ms, 120'000);
  auto bad_wait = ParseAlertingConfig("global: {resolved_digest_wait: soon}\nroute: {receiver: a}\nreceivers: [{name: a}]\n");
  ASSERT_FALSE(bad_wait.ok());
  EXPECT_NE(bad_wait.status().message().find("global.resolved_digest_wait"), std::string::npos);
  EXPECT_EQ(*ParsePromDuration("1h30m"), 5400'000);
  EXPECT_EQ(*ParsePromDuration("500ms"), 500);
}

TEST(Inhibit, SourceMutesTargetWithEqualLabels) {
  InhibitRule rule;
  rule.source_matchers = *ParseMatchers("severity=\"critical\"");
  rule.target_matchers = *ParseMatchers("severity=\"warning\"");
  rule.equal = {"service"};
  InhibitStage st({rule});
  Labels crit = L({{"alertname", "Down"}, {"service", "db"}, {"severity", "critical"}});
  Labels warn_db = L({{"alertname", "Slow"}, {"service", "db"}, {"severity", "warning"}});
  Labels warn_web = L({{"alertname", "Slow"}, {"service", "web"}, {"severity", "warning"}});
  EXPECT_FALSE(st.Inhibited(2, warn_db));
  st.Update(1, crit, true);
  Fingerprint by = 0;
  EXPECT_TRUE(st.Inhibited(2, warn_db, &by));
  EXPECT_EQ(by, 1u);
  EXPECT_FALSE(st.Inhibited(3, warn_web));
  EXPECT_FALSE(st.Inhibited(1, crit));
  st.Update(1, crit, false);
  EXPECT_FALSE(st.Inhibited(2, warn_db));
}

TEST(Inhibit, TwoSidedAlertsDoNotMuteEachOther) {
  InhibitRule rule;
  rule.source_matchers = *ParseMatchers("alertname=~\"A|B\"");
  rule.target_matchers = *ParseMatchers("alertname=~\"A|B\"");
  InhibitStage st({rule});
  Labels a = L({{"alertname", "A"}}), b = L({{"alertname", "B"}});
  st.Update(1, a, true);
  st.Update(2, b, true);
  EXPECT_FALSE(st.Inhibited(1, a));
  EXPECT_FALSE(st.Inhibited(2, b));
}

Silence S(const char* matchers, TimestampMs start, TimestampMs end) {
  Silence s;
  s.matchers = *ParseMatchers(matchers);
  s.starts_ms = start;
  s.ends_ms = end;
  s.created_by = "ann";
  s.comment = "maintenance";
  return s;
}

TEST(Silences, ActiveWindowAndExpiry) {
  SilenceSet set(7);
  auto id = set.Upsert(S("service=\"db\"", 1000, 5000), 0);
  ASSERT_TRUE(id.ok());
  Labels db = L({{"alertname", "X"}, {"service", "db"}});
  EXPECT_TRUE(set.Muting(db, 500).empty());  // pending
  EXPECT_EQ(set.Muting(db, 1000).size(), 1u);
  EXPECT_TRUE(set.Muting(L({{"alertname", "X"}, {"service", "web"}}), 1000).empty());
  EXPECT_TRUE(set.Expire(*id, 2000).ok());
  EXPECT_TRUE(set.Muting(db, 2000).empty());
  EXPECT_EQ(StateOf(*set.Get(*id), 2000), SilenceState::kExpired);
  EXPECT_FALSE(set.Expire(*id, 2500).ok());
  EXPECT_EQ(set.Expire("nope", 0).code(), StatusCode::kNotFound);
}

TEST(Silences, ValidationAndReplaceOnMatcherChange) {
  SilenceSet set;
  Silence no_author = S("a=\"b\"", 0, 10);
  no_author.created_by.clear();
  EXPECT_NE(set.Upsert(no_author, 0).status().message().find("createdBy"), std::string::npos);
  EXPECT_FALSE(set.Upsert(S("a=\"b\"", 10, 5), 0).ok());
  auto id = set.Upsert(S("a=\"b\"", 0, 10'000), 0);
  ASSERT_TRUE(id.ok());
  Silence longer = S("a=\"b\"", 0, 20'000);
  longer.id = *id;
  EXPECT_EQ(*set.Upsert(longer, 100), *id);  // same matchers: updated in place
  Silence other = S("a=\"c\"", 0, 20'000);
  other.id = *id;
  auto id2 = set.Upsert(other, 200);
  ASSERT_TRUE(id2.ok());
  EXPECT_NE(*id2, *id);
  EXPECT_EQ(StateOf(*set.Get(*id), 200), SilenceState::kExpired);
}

TEST(NotificationLog, NewsKeyDecidesWhatIsNew) {
  NotificationLog log;
  // Alerts 1 and 2 are on service A (key 10), 3 on A too, 4 on B (key 20).
  auto key = [](Fingerprint fp) -> uint64_t { return fp == 4 ? 20 : 10; };
  log.Record({"r", "g", {1, 2}, {}, 0});
  EXPECT_FALSE(log.ShouldNotify("r", "g", {1, 2, 3}, true, true, 1000, 500, key));  // more of A: not news
  EXPECT_TRUE(log.ShouldNotify("r", "g", {1, 2, 3}, true, true, 1000, 500));        // without a key it is
  EXPECT_TRUE(log.ShouldNotify("r", "g", {1, 4}, true, true, 1000, 500, key));      // B is news
  EXPECT_TRUE(log.ShouldNotify("r", "g", {}, false, true, 1000, 500, key));         // the all-clear still goes
}

TEST(NotificationLog, ShownFiringElsewhereLooksAtTheReceiversOtherGroups) {
  NotificationLog log;
  log.Record({"r", "g1", {1, 2}, {}, 0});
  log.Record({"r", "g2", {3}, {}, 0});
  log.Record({"other", "g3", {4}, {}, 0});
  EXPECT_EQ(log.ShownFiringElsewhere("r", "new", {1, 3, 4, 5}), (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ(log.ShownFiringElsewhere("r", "g1", {1, 3}), (std::vector<bool>{false, true}));  // not its own group
}

TEST(NotificationLog, RepeatOnlyAfterIntervalUnlessChanged) {
  NotificationLog log;
  EXPECT_TRUE(log.ShouldNotify("r", "g", {1, 2}, true, true, 1000, 0));
  log.Record({"r", "g", {1, 2}, {}, 0});
  EXPECT_FALSE(log.ShouldNotify("r", "g", {1, 2}, true, true, 1000, 500));
  EXPECT_FALSE(log.ShouldNotify("r", "g", {1}, true, true, 500, 500 - 1));  // one resolved, others fire: not news
  EXPECT_TRUE(log.ShouldNotify("r", "g", {1, 2, 3}, true, true, 1000, 500));
  EXPECT_TRUE(log.ShouldNotify("r", "g", {1, 2}, true, true, 1000, 1000));  // repeat interval
  EXPECT_FALSE(log.ShouldNotify("r", "g", {}, true, true, 1000, 500));      // only muted alerts fire
  EXPECT_TRUE(log.ShouldNotify("r", "g", {}, false, true, 1000, 500));      // all clear
  EXPECT_FALSE(log.ShouldNotify("r", "g", {}, false, false, 1000, 500));    // ... unless send_resolved is off
  log.Record({"r", "g", {}, {1, 2}, 600});
  EXPECT_FALSE(log.ShouldNotify("r", "g", {}, false, true, 1000, 5000));    // all-clear sent once
}

// An all-clear digest names every incident it resolves.
TEST(NotifyPayloads, AllClearDigestListsItsIncidents) {
  TrackedAlert t;
  t.alert = A({{"alertname", "E"}, {"service", "db"}}, 1000, 5000);
  t.firing = false;
  t.resolved_ms = 5000;
  std::vector<TrackedAlert> firing, resolved{t, t};
  GroupMessage m{"oncall", "all-clear:a,b", Labels(), 0, &firing, &resolved, "http://vigil", 0, {3, 5}, ""};
  std::string hook = GroupWebhookV4(m);
  EXPECT_NE(hook.find("\"status\":\"resolved\""), std::string::npos) << hook;
  EXPECT_NE(hook.find("\"vigilIncidents\":[\"http://vigil/incidents/3\",\"http://vigil/incidents/5\"]"), std::string::npos)
      << hook;
  EXPECT_NE(GroupSlack(m, "").find("[RESOLVED] incidents 3, 5"), std::string::npos);
  m.incident_ids.clear();
  EXPECT_EQ(GroupWebhookV4(m).find("vigilIncidents"), std::string::npos);
}

// A split notice: resolved, with the reason in the webhook (vigilNotice),
// on each forwarded alert (annotation vigil_notice) and in the Slack title.
TEST(NotifyPayloads, SplitNoticeSaysWhy) {
  TrackedAlert t;
  t.alert = A({{"alertname", "E"}, {"service", "checkout"}}, 1000, 5000);
  t.firing = false;
  t.resolved_ms = 5000;
  std::vector<TrackedAlert> firing, resolved{t};
  const std::string why = "independent fault on checkout came and went while muted as a symptom of incident 1";
  GroupMessage m{"oncall", "{}:{incident=\"2\"}", Labels(), 2, &firing, &resolved, "http://vigil", 0, {}, why};
  std::string hook = GroupWebhookV4(m);
  EXPECT_NE(hook.find("\"status\":\"resolved\""), std::string::npos) << hook;
  EXPECT_NE(hook.find("\"vigilNotice\":\"" + why + "\""), std::string::npos) << hook;
  EXPECT_NE(GroupAlertsV2(m, 9000).find("\"vigil_notice\":\"" + why + "\""), std::string::npos);
  EXPECT_NE(GroupSlack(m, "").find("[RESOLVED, NOT PAGED] " + why), std::string::npos);
  m.notice.clear();
  EXPECT_EQ(GroupWebhookV4(m).find("vigilNotice"), std::string::npos);
  EXPECT_EQ(GroupAlertsV2(m, 9000).find("vigil_notice"), std::string::npos);
}

TEST(Aggregation, GroupWaitThenInterval) {
  RouteNode r;
  r.receiver = "x";
  r.group_wait_ms = 30'000;
  r.group_interval_ms = 300'000;
  AggregationGroups g;
  Labels gl = L({{"alertname", "X"}});
  std::string key = g.Insert(r, gl, 1, 0);
  EXPECT_TRUE(g.Due(29'999).empty());
  EXPECT_EQ(g.Due(30'000).size(), 1u);
  g.Insert(r, gl, 2, 40'000);
  EXPECT_TRUE(g.Due(100'000).empty());
  auto due = g.Due(330'000);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0]->alerts.size(), 2u);
  g.Remove(key, 1);
  g.Remove(key, 2);
  EXPECT_EQ(g.size(), 0u);
}

TEST(Topology, DependsAndAdjacent) {
  ServiceTopology t;
  t.AddCall("frontend", "checkout");
  t.AddCall("checkout", "payments");
  t.AddCall("frontend", "search");
  EXPECT_TRUE(t.DependsOn("frontend", "payments"));
  EXPECT_FALSE(t.DependsOn("payments", "frontend"));
  EXPECT_TRUE(t.Adjacent("payments", "checkout"));
  EXPECT_FALSE(t.Adjacent("search", "payments"));
  EXPECT_EQ(t.Hops("frontend", "payments"), 2);
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

TEST(Dedup, ResolvedAlertsAreForgottenAfterRetention) {
  DedupConfig c;
  c.retention_ms = 10'000;
  AlertDedup d(c);
  d.Observe(A({{"alertname", "X"}}, 0, 1000), 0);
  std::vector<Fingerprint> gone;
  d.Tick(1000, &gone);
  EXPECT_TRUE(gone.empty());
  d.Tick(12'000, &gone);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(d.alerts().size(), 0u);
}

}  // namespace
}  // namespace vigil
