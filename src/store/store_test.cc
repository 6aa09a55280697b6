#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include <gtest/gtest.h>

#include "store/blob_columns.h"
#include "store/sqlite_store.h"

// Queries below are written as designated initializers that name only the
// fields a test sets; g++ 12 flags the omitted ones under -Wextra.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace vigil {
namespace {

namespace fs = std::filesystem;

Labels L(std::vector<Label> pairs) { return Labels::FromSorted(std::move(pairs)); }

// A fresh data directory per test, removed afterwards.
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "vigil-store-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    root_ = templ;
    dir_ = root_ + "/data";
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::permissions(root_, fs::perms::owner_all, ec);
    fs::remove_all(root_, ec);
  }
  void Reopen() {
    store_.reset();
    auto s = Store::Open(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  // Runs one SQL statement on the database file behind the store's back.
  void RawSql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/vigil.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << msg;
  }
  int64_t RawInt(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ + "/vigil.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
  }

  std::string root_, dir_;
  std::unique_ptr<Store> store_;
};

Anomaly MakeAnomaly(SeriesId series, TimestampMs ts, double score = 7) {
  Anomaly a;
  a.series = series;
  a.labels = L({{"__name__", "latency_ms"}, {"service", "checkout"}});
  a.ts_ms = ts;
  a.value = 120.5;
  a.expected = 20;
  a.lower = 10;
  a.upper = 30;
  a.score = score;
  a.direction = Direction::kUp;
  a.detector = "robust_median_mad";
  a.pattern = "spike";
  return a;
}

Incident MakeIncident(TimestampMs opened, IncidentState state = IncidentState::kOpen, TimestampMs resolved = 0) {
  Incident inc;
  inc.entity = "service=\"checkout\"";
  inc.entity_labels = L({{"service", "checkout"}});
  inc.title = "checkout latency up";
  inc.state = state;
  inc.opened_ms = opened;
  inc.updated_ms = opened;
  inc.resolved_ms = resolved;
  return inc;
}

std::vector<int64_t> Ids(const auto& rows) {
  std::vector<int64_t> out;
  for (const auto& r : rows) out.push_back(r.id);
  return out;
}

// ---------------------------------------------------------------------------
// Round trips

TEST_F(StoreTest, AnomalyRoundTripsEveryField) {
  Anomaly a;
  a.series = 0xfedcba9876543210ULL;  // top bit set: stored bit-cast as a negative int64
  a.labels = L({{"__name__", "odd"}, {"bytes", std::string("nul\0\xff\"q", 7)}, {"empty", ""}});
  a.ts_ms = -5;
  a.value = -1.5;
  a.expected = std::numeric_limits<double>::quiet_NaN();
  a.lower = -std::numeric_limits<double>::infinity();
  a.upper = std::numeric_limits<double>::infinity();
  a.score = 1e300;
  a.direction = Direction::kDown;
  a.detector = "d";
  a.pattern = "";
  a.is_rate = true;
  std::vector<Anomaly> batch = {a, MakeAnomaly(1, 10)};
  ASSERT_TRUE(store_->InsertAnomalies(&batch).ok());
  EXPECT_GT(batch[0].id, 0);
  EXPECT_GT(batch[1].id, batch[0].id);

  Reopen();
  auto got = store_->ListAnomalies({.series = a.series});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 1u);
  const Anomaly& b = got->front();
  EXPECT_EQ(b.id, batch[0].id);
  EXPECT_EQ(b.series, a.series);
  EXPECT_EQ(b.labels, a.labels);
  EXPECT_EQ(b.labels.items()[1].value.size(), 7u);
  EXPECT_EQ(b.ts_ms, a.ts_ms);
  EXPECT_EQ(b.value, a.value);
  EXPECT_TRUE(std::isnan(b.expected));
  EXPECT_EQ(b.lower, a.lower);
  EXPECT_EQ(b.upper, a.upper);
  EXPECT_EQ(b.score, a.score);
  EXPECT_EQ(b.direction, Direction::kDown);
  EXPECT_EQ(b.detector, "d");
  EXPECT_EQ(b.pattern, "");
  EXPECT_TRUE(b.is_rate);
}

TEST_F(StoreTest, EventRoundTripsAndIdsFollowInputOrder) {
  Event e;
  e.ts_ms = 1'700'000'000'000;
  e.kind = "deploy";
  e.labels = L({{"service", "checkout"}, {"version", "1.4.2"}});
  e.text = "deploy 1.4.2\nwith a newline";
  auto id = store_->InsertEvent(e);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  Event f = e;
  f.kind = "config";
  f.labels = Labels();
  f.text = "";
  auto ids = store_->InsertEvents({f, e});
  ASSERT_TRUE(ids.ok());
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_LT(*id, (*ids)[0]);
  EXPECT_LT((*ids)[0], (*ids)[1]);
  auto empty_batch = store_->InsertEvents({});
  ASSERT_TRUE(empty_batch.ok());
  EXPECT_TRUE(empty_batch->empty());

  Reopen();
  auto got = store_->ListEvents({});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 3u);
  // Same timestamp: newest id first.
  EXPECT_EQ(Ids(*got), (std::vector<int64_t>{(*ids)[1], (*ids)[0], *id}));
  const Event& g = got->back();
  EXPECT_EQ(g.ts_ms, e.ts_ms);
  EXPECT_EQ(g.kind, e.kind);
  EXPECT_EQ(g.labels, e.labels);
  EXPECT_EQ(g.text, e.text);
  EXPECT_EQ((*got)[1].kind, "config");
  EXPECT_TRUE((*got)[1].labels.empty());
}

TEST_F(StoreTest, IncidentRoundTripsAndUpdatesEveryField) {
  Incident inc = MakeIncident(1000);
  inc.entity_labels = L({{"instance", "h:9100"}, {"job", "node"}});
  inc.last_anomaly_ms = 1500;
  inc.max_score = 9.5;
  inc.anomaly_count = 4;
  inc.series = {{0xffffffffffffffffULL, "cpu{mode=\"user\"}", 9.5, 3, 1500}, {7, "", 2.0, 1, 1200}};
  ASSERT_TRUE(store_->UpsertIncident(&inc).ok());
  ASSERT_GT(inc.id, 0);

  Reopen();
  auto got = store_->GetIncident(inc.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  const Incident& g = **got;
  EXPECT_EQ(g.entity, inc.entity);
  EXPECT_EQ(g.entity_labels, inc.entity_labels);
  EXPECT_EQ(g.title, inc.title);
  EXPECT_EQ(g.state, IncidentState::kOpen);
  EXPECT_EQ(g.opened_ms, 1000);
  EXPECT_EQ(g.last_anomaly_ms, 1500);
  EXPECT_FALSE(g.acknowledged);
  EXPECT_EQ(g.max_score, 9.5);
  EXPECT_EQ(g.anomaly_count, 4);
  ASSERT_EQ(g.series.size(), 2u);
  EXPECT_EQ(g.series[0].series, 0xffffffffffffffffULL);
  EXPECT_EQ(g.series[0].name, "cpu{mode=\"user\"}");
  EXPECT_EQ(g.series[0].max_score, 9.5);
  EXPECT_EQ(g.series[0].anomalies, 3);
  EXPECT_EQ(g.series[0].last_anomaly_ms, 1500);
  EXPECT_EQ(g.series[1].series, 7u);

  // Update: every field, the series list shrinking included.
  inc.title = "resolved title";
  inc.entity_labels = L({{"job", "node"}});
  inc.state = IncidentState::kResolved;
  inc.updated_ms = 3000;
  inc.resolved_ms = 3000;
  inc.acknowledged = true;
  inc.acknowledged_by = "alice";
  inc.anomaly_count = 5;
  inc.series.pop_back();
  int64_t id = inc.id;
  ASSERT_TRUE(store_->UpsertIncident(&inc).ok());
  EXPECT_EQ(inc.id, id);
  got = store_->GetIncident(id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->title, "resolved title");
  EXPECT_EQ((*got)->entity_labels, inc.entity_labels);
  EXPECT_EQ((*got)->state, IncidentState::kResolved);
  EXPECT_EQ((*got)->resolved_ms, 3000);
  EXPECT_TRUE((*got)->acknowledged);
  EXPECT_EQ((*got)->acknowledged_by, "alice");
  EXPECT_EQ((*got)->anomaly_count, 5);
  EXPECT_EQ((*got)->series.size(), 1u);
}

TEST_F(StoreTest, MissingIncidentsAreNotFoundOrEmpty) {
  auto got = store_->GetIncident(42);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  Incident inc = MakeIncident(1);
  inc.id = 42;
  Status s = store_->UpsertIncident(&inc);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("incident 42"), std::string::npos);
}

TEST_F(StoreTest, TimelineIsOldestFirstWithTiesInInsertionOrder) {
  Incident inc = MakeIncident(100);
  ASSERT_TRUE(store_->UpsertIncident(&inc).ok());
  std::vector<TimelineEntry> entries = {
      {0, inc.id, 300, "anomaly", "second at 300", 11},
      {0, inc.id, 100, "opened", "opened", 0},
      {0, inc.id, 300, "event", "third at 300", 5},
      {0, inc.id + 1, 200, "opened", "other incident", 0},
  };
  for (TimelineEntry& e : entries) {
    ASSERT_TRUE(store_->AppendTimeline(&e).ok());
    EXPECT_GT(e.id, 0);
  }
  auto got = store_->Timeline(inc.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(Ids(*got), (std::vector<int64_t>{entries[1].id, entries[0].id, entries[2].id}));
  EXPECT_EQ((*got)[1].kind, "anomaly");
  EXPECT_EQ((*got)[1].text, "second at 300");
  EXPECT_EQ((*got)[1].ref_id, 11);
  EXPECT_EQ((*got)[1].incident_id, inc.id);
  auto none = store_->Timeline(999);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(StoreTest, NotificationQueue) {
  NotificationRecord n;
  n.incident_id = 3;
  n.receiver = "ops";
  n.kind = "webhook";
  n.url = "http://127.0.0.1:5001/hook";
  n.payload = R"({"status":"firing"})";
  n.status = "pending";
  n.next_attempt_ms = 1000;
  n.created_ms = n.updated_ms = 900;
  NotificationRecord later = n;
  later.next_attempt_ms = 2000;
  NotificationRecord sent = n;
  sent.status = "sent";
  NotificationRecord other = n;
  other.incident_id = 4;
  other.kind = "alertmanager";
  other.next_attempt_ms = 500;
  for (NotificationRecord* r : {&n, &later, &sent, &other}) ASSERT_TRUE(store_->EnqueueNotification(r).ok());
  EXPECT_GT(n.id, 0);

  auto due = store_->DueNotifications(1000, 10);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(Ids(*due), (std::vector<int64_t>{other.id, n.id}));  // earliest due first; sent never due
  due = store_->DueNotifications(5000, 2);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(Ids(*due), (std::vector<int64_t>{other.id, n.id}));
  EXPECT_EQ(store_->DueNotifications(499, 10)->size(), 0u);

  n.status = "failed";
  n.attempts = 3;
  n.last_error = "connection refused";
  n.next_attempt_ms = 9000;
  n.updated_ms = 1100;
  n.created_ms = 12345;  // ignored by UpdateNotification
  ASSERT_TRUE(store_->UpdateNotification(n).ok());
  Reopen();
  auto mine = store_->NotificationsFor(3);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(Ids(*mine), (std::vector<int64_t>{n.id, later.id, sent.id}));
  const NotificationRecord& g = mine->front();
  EXPECT_EQ(g.incident_id, 3);
  EXPECT_EQ(g.receiver, "ops");
  EXPECT_EQ(g.kind, "webhook");
  EXPECT_EQ(g.url, n.url);
  EXPECT_EQ(g.payload, n.payload);
  EXPECT_EQ(g.status, "failed");
  EXPECT_EQ(g.attempts, 3);
  EXPECT_EQ(g.next_attempt_ms, 9000);
  EXPECT_EQ(g.last_error, "connection refused");
  EXPECT_EQ(g.created_ms, 900);
  EXPECT_EQ(g.updated_ms, 1100);
  EXPECT_EQ(Ids(*store_->DueNotifications(5000, 10)), (std::vector<int64_t>{other.id, later.id}));

  NotificationRecord ghost = n;
  ghost.id = 777;
  EXPECT_EQ(store_->UpdateNotification(ghost).code(), StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------
// Queries

TEST_F(StoreTest, AnomalyQueriesFilterOrderAndLimit) {
  std::vector<Anomaly> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(MakeAnomaly(i % 2 == 0 ? 100 : 200, 1000 + i * 10));
  batch.push_back(MakeAnomaly(100, 1050));  // ties with batch[5] on time
  ASSERT_TRUE(store_->InsertAnomalies(&batch).ok());

  auto all = store_->ListAnomalies({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 11u);
  EXPECT_EQ(all->front().ts_ms, 1090);
  EXPECT_EQ(all->back().ts_ms, 1000);
  for (size_t i = 1; i < all->size(); ++i) {
    const Anomaly &prev = (*all)[i - 1], &cur = (*all)[i];
    EXPECT_TRUE(prev.ts_ms > cur.ts_ms || (prev.ts_ms == cur.ts_ms && prev.id > cur.id));
  }

  auto range = store_->ListAnomalies({.from = 1020, .to = 1050});  // inclusive both ends
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(Ids(*range), (std::vector<int64_t>{batch[10].id, batch[5].id, batch[4].id, batch[3].id, batch[2].id}));

  auto series = store_->ListAnomalies({.series = 200});
  ASSERT_TRUE(series.ok());
  EXPECT_EQ(series->size(), 5u);
  for (const Anomaly& a : *series) EXPECT_EQ(a.series, 200u);

  auto limited = store_->ListAnomalies({.series = 100, .limit = 2});
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(Ids(*limited), (std::vector<int64_t>{batch[8].id, batch[6].id}));

  Incident inc = MakeIncident(1000);
  ASSERT_TRUE(store_->UpsertIncident(&inc).ok());
  ASSERT_TRUE(store_->LinkAnomaly(batch[1].id, inc.id).ok());
  ASSERT_TRUE(store_->LinkAnomaly(batch[7].id, inc.id).ok());
  auto linked = store_->ListAnomalies({.incident_id = inc.id});
  ASSERT_TRUE(linked.ok());
  EXPECT_EQ(Ids(*linked), (std::vector<int64_t>{batch[7].id, batch[1].id}));
  auto both = store_->ListAnomalies({.from = 1000, .to = 1030, .series = 200, .incident_id = inc.id});
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(Ids(*both), (std::vector<int64_t>{batch[1].id}));

  EXPECT_EQ(store_->LinkAnomaly(99999, inc.id).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->LinkAnomaly(batch[0].id, 99999).code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, EventQueriesMatchLabels) {
  auto mk = [](TimestampMs ts, std::vector<Label> labels) {
    Event e;
    e.ts_ms = ts;
    e.kind = "deploy";
    e.labels = L(std::move(labels));
    return e;
  };
  auto ids = store_->InsertEvents({
      mk(100, {{"service", "checkout"}, {"version", "1"}}),
      mk(200, {{"service", "checkout"}, {"version", "2"}, {"region", "eu"}}),
      mk(300, {{"service", "cart"}, {"version", "2"}}),
      mk(400, {}),
  });
  ASSERT_TRUE(ids.ok());
  auto list = [&](EventQuery q) {
    auto r = store_->ListEvents(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? Ids(*r) : std::vector<int64_t>{};
  };
  const auto& id = *ids;
  EXPECT_EQ(list({}), (std::vector<int64_t>{id[3], id[2], id[1], id[0]}));
  EXPECT_EQ(list({.from = 200, .to = 300}), (std::vector<int64_t>{id[2], id[1]}));
  EXPECT_EQ(list({.limit = 1}), (std::vector<int64_t>{id[3]}));
  EXPECT_EQ(list({.match = {{"service", "checkout"}}}), (std::vector<int64_t>{id[1], id[0]}));
  EXPECT_EQ(list({.match = {{"version", "2"}, {"service", "checkout"}}}), (std::vector<int64_t>{id[1]}));
  EXPECT_EQ(list({.match = {{"version", "2"}, {"region", ""}}}), (std::vector<int64_t>{id[2]}));
  EXPECT_EQ(list({.match = {{"service", "nope"}}}), (std::vector<int64_t>{}));
  EXPECT_EQ(list({.from = 0, .to = 150, .match = {{"version", "2"}}}), (std::vector<int64_t>{}));
  // A value must match exactly, not as a prefix.
  EXPECT_EQ(list({.match = {{"service", "check"}}}), (std::vector<int64_t>{}));
}

TEST_F(StoreTest, IncidentQueriesOverlapStateOrderAndLimit) {
  // Lifetimes: a [100,200] resolved, b [150,open), c [300,400] resolved, d [500,open).
  Incident a = MakeIncident(100, IncidentState::kResolved, 200);
  Incident b = MakeIncident(150);
  Incident c = MakeIncident(300, IncidentState::kResolved, 400);
  Incident d = MakeIncident(500);
  for (Incident* i : {&a, &b, &c, &d}) ASSERT_TRUE(store_->UpsertIncident(i).ok());
  auto list = [&](IncidentQuery q) {
    auto r = store_->ListIncidents(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? Ids(*r) : std::vector<int64_t>{};
  };
  EXPECT_EQ(list({}), (std::vector<int64_t>{d.id, c.id, b.id, a.id}));
  EXPECT_EQ(list({.limit = 2}), (std::vector<int64_t>{d.id, c.id}));
  EXPECT_EQ(list({.state = IncidentState::kOpen}), (std::vector<int64_t>{d.id, b.id}));
  EXPECT_EQ(list({.state = IncidentState::kResolved}), (std::vector<int64_t>{c.id, a.id}));
  EXPECT_EQ(list({.from = 250, .to = 280}), (std::vector<int64_t>{b.id}));
  EXPECT_EQ(list({.from = 200, .to = 300}), (std::vector<int64_t>{c.id, b.id, a.id}));  // touching ends count
  EXPECT_EQ(list({.from = 1000, .to = 2000}), (std::vector<int64_t>{d.id, b.id}));
  EXPECT_EQ(list({.from = 0, .to = 99}), (std::vector<int64_t>{}));
  EXPECT_EQ(list({.state = IncidentState::kResolved, .from = 0, .to = 120}), (std::vector<int64_t>{a.id}));

  auto open = store_->LoadOpenIncidents();
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(Ids(*open), (std::vector<int64_t>{b.id, d.id}));  // oldest first
}

TEST_F(StoreTest, NonPositiveLimitsAreRejected) {
  EXPECT_EQ(store_->ListAnomalies({.limit = 0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListEvents({.limit = -1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListIncidents({.limit = 0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->DueNotifications(0, 0).status().code(), StatusCode::kInvalidArgument);
  EventQuery many;
  for (int i = 0; i < 40; ++i) many.match.push_back({"l" + std::to_string(i), "v"});
  EXPECT_EQ(store_->ListEvents(many).status().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Snapshots

TEST_F(StoreTest, SnapshotsRoundTripCompressedAndReplace) {
  std::string blob;
  for (int i = 0; i < 100000; ++i) blob += "detector state " + std::to_string(i % 100) + "\n";
  ASSERT_TRUE(store_->PutSnapshot("detect/shard-0", blob).ok());
  ASSERT_TRUE(store_->PutSnapshot("empty", "").ok());
  std::string binary("\0\x01\xff\x80", 4);
  ASSERT_TRUE(store_->PutSnapshot("binary", binary).ok());

  Reopen();
  auto got = store_->GetSnapshot("detect/shard-0");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, blob);
  EXPECT_EQ(**store_->GetSnapshot("empty"), "");
  EXPECT_EQ(**store_->GetSnapshot("binary"), binary);
  EXPECT_FALSE(store_->GetSnapshot("missing")->has_value());

  // Compressed at rest: far smaller than the raw text.
  int64_t stored = RawInt("SELECT length(data) FROM snapshots WHERE key = 'detect/shard-0'");
  EXPECT_GT(stored, 0);
  EXPECT_LT(stored, static_cast<int64_t>(blob.size()) / 20);

  ASSERT_TRUE(store_->PutSnapshot("detect/shard-0", "v2").ok());
  EXPECT_EQ(**store_->GetSnapshot("detect/shard-0"), "v2");
  EXPECT_EQ(RawInt("SELECT count(*) FROM snapshots"), 3);
}

TEST_F(StoreTest, CorruptSnapshotIsReportedNotReturned) {
  std::string blob;
  for (int i = 0; i < 5000; ++i) blob += static_cast<char>('a' + (i * i) % 26);
  ASSERT_TRUE(store_->PutSnapshot("k", blob).ok());
  store_.reset();

  // Flip one bit in the last byte of the frame: the content checksum.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/vigil.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT data FROM snapshots WHERE key = 'k'", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  std::string packed(static_cast<const char*>(sqlite3_column_blob(st, 0)), sqlite3_column_bytes(st, 0));
  sqlite3_finalize(st);
  packed.back() ^= 1;
  ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE snapshots SET data = ? WHERE key = 'k'", -1, &st, nullptr), SQLITE_OK);
  sqlite3_bind_blob(st, 1, packed.data(), static_cast<int>(packed.size()), SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(db);

  Reopen();
  auto got = store_->GetSnapshot("k");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kCorruption);
  EXPECT_NE(got.status().message().find("snapshot \"k\""), std::string::npos) << got.status().ToString();
  EXPECT_NE(got.status().message().find("vigil.db"), std::string::npos);

  // A frame whose header disagrees with the stored size.
  store_.reset();
  RawSql("UPDATE snapshots SET data = x'28b52ffd0000' WHERE key = 'k'");
  Reopen();
  got = store_->GetSnapshot("k");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kCorruption);
}

// ---------------------------------------------------------------------------
// Retention

TEST_F(StoreTest, RootCausesAreReplacedAndCountRevisions) {
  Incident inc = MakeIncident(100);
  ASSERT_TRUE(store_->UpsertIncident(&inc).ok());
  EXPECT_FALSE(store_->GetRootCauses(inc.id)->has_value());
  RootCauseRecord first{.incident_id = inc.id, .computed_ms = 1000, .compute_us = 250,
                        .ranking_json = R"({"ranking":[{"service":"cart"}]})"};
  ASSERT_TRUE(store_->PutRootCauses(&first).ok());
  EXPECT_EQ(first.revision, 1);
  RootCauseRecord second{.incident_id = inc.id, .computed_ms = 2000, .compute_us = 300,
                         .ranking_json = R"({"ranking":[{"service":"db"}]})"};
  ASSERT_TRUE(store_->PutRootCauses(&second).ok());
  EXPECT_EQ(second.revision, 2);
  auto got = store_->GetRootCauses(inc.id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->computed_ms, 2000);
  EXPECT_EQ((*got)->compute_us, 300);
  EXPECT_EQ((*got)->revision, 2);
  EXPECT_EQ((*got)->ranking_json, second.ranking_json);
  EXPECT_EQ((*got)->first_computed_ms, 1000);
  EXPECT_EQ((*got)->first_ranking_json, first.ranking_json);
  EXPECT_EQ(second.first_computed_ms, 1000);
}

TEST_F(StoreTest, RetentionDeletesOldRowsAndKeepsOpenIncidents) {
  std::vector<Anomaly> anomalies = {MakeAnomaly(1, 100), MakeAnomaly(1, 999), MakeAnomaly(1, 1000),
                                    MakeAnomaly(1, 2000)};
  ASSERT_TRUE(store_->InsertAnomalies(&anomalies).ok());
  Event old_event;
  old_event.ts_ms = 500;
  old_event.kind = "deploy";
  old_event.labels = L({{"service", "checkout"}});
  Event new_event = old_event;
  new_event.ts_ms = 1500;
  ASSERT_TRUE(store_->InsertEvents({old_event, new_event}).ok());

  Incident old_resolved = MakeIncident(100, IncidentState::kResolved, 900);
  Incident new_resolved = MakeIncident(100, IncidentState::kResolved, 1000);
  Incident old_open = MakeIncident(50);
  for (Incident* i : {&old_resolved, &new_resolved, &old_open}) ASSERT_TRUE(store_->UpsertIncident(i).ok());
  for (Incident* i : {&old_resolved, &new_resolved, &old_open}) {
    TimelineEntry e{0, i->id, 100, "opened", "opened", 0};
    ASSERT_TRUE(store_->AppendTimeline(&e).ok());
    NotificationRecord n;
    n.incident_id = i->id;
    n.status = "sent";
    ASSERT_TRUE(store_->EnqueueNotification(&n).ok());
  }
  ASSERT_TRUE(store_->PutSnapshot("s", "keep me").ok());
  for (Incident* i : {&old_resolved, &old_open}) {
    RootCauseRecord rc{.incident_id = i->id, .computed_ms = 100, .ranking_json = "{}"};
    ASSERT_TRUE(store_->PutRootCauses(&rc).ok());
  }

  auto deleted = store_->ApplyRetention(1000);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  // 2 anomalies + 1 event + 1 incident + its timeline entry + its notification.
  EXPECT_EQ(*deleted, 6);

  EXPECT_EQ(Ids(*store_->ListAnomalies({})), (std::vector<int64_t>{anomalies[3].id, anomalies[2].id}));
  auto events = store_->ListEvents({.match = {{"service", "checkout"}}});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().ts_ms, 1500);
  EXPECT_EQ(RawInt("SELECT count(*) FROM event_labels"), 1);
  EXPECT_FALSE(store_->GetIncident(old_resolved.id)->has_value());
  EXPECT_TRUE(store_->GetIncident(new_resolved.id)->has_value());
  EXPECT_TRUE(store_->GetIncident(old_open.id)->has_value());
  EXPECT_TRUE(store_->Timeline(old_resolved.id)->empty());
  EXPECT_TRUE(store_->NotificationsFor(old_resolved.id)->empty());
  EXPECT_EQ(store_->Timeline(old_open.id)->size(), 1u);
  EXPECT_EQ(store_->NotificationsFor(new_resolved.id)->size(), 1u);
  EXPECT_EQ(**store_->GetSnapshot("s"), "keep me");
  EXPECT_FALSE(store_->GetRootCauses(old_resolved.id)->has_value());
  EXPECT_TRUE(store_->GetRootCauses(old_open.id)->has_value());

  auto again = store_->ApplyRetention(1000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
}

// ---------------------------------------------------------------------------
// Durability, files and errors

TEST_F(StoreTest, MigratesAVersionOneDatabase) {
  // A database written before root causes existed: v1 schema, one incident.
  Incident inc = MakeIncident(100);
  ASSERT_TRUE(store_->UpsertIncident(&inc).ok());
  store_.reset();
  RawSql(
      "DROP TABLE root_causes; DROP TABLE notification_incidents; ALTER TABLE incidents DROP COLUMN members; "
      "PRAGMA user_version = 1;");
  Reopen();
  EXPECT_EQ(RawInt("PRAGMA user_version"), 4);
  auto got = store_->GetIncident(inc.id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_TRUE((*got)->members.empty());
  RootCauseRecord rc{.incident_id = inc.id, .ranking_json = "{}"};
  EXPECT_TRUE(store_->PutRootCauses(&rc).ok());
}

TEST_F(StoreTest, DigestNotificationIsListedWithEachIncidentItCovers) {
  // An all-clear digest closes several incidents in one message: it belongs
  // to none of them (incident_id 0) and is listed with each.
  Incident a = MakeIncident(100, IncidentState::kResolved, 900);
  Incident b = MakeIncident(100, IncidentState::kResolved, 2000);
  Incident c = MakeIncident(100);
  for (Incident* i : {&a, &b, &c}) ASSERT_TRUE(store_->UpsertIncident(i).ok());
  NotificationRecord own;
  own.incident_id = a.id;
  own.status = "sent";
  NotificationRecord digest;
  digest.covers = {a.id, b.id};
  digest.status = "sent";
  digest.created_ms = 950;
  for (NotificationRecord* n : {&own, &digest}) ASSERT_TRUE(store_->EnqueueNotification(n).ok());
  Reopen();
  EXPECT_EQ(Ids(*store_->NotificationsFor(a.id)), (std::vector<int64_t>{own.id, digest.id}));
  EXPECT_EQ(Ids(*store_->NotificationsFor(b.id)), (std::vector<int64_t>{digest.id}));
  EXPECT_TRUE(store_->NotificationsFor(c.id)->empty());

  // Retention takes a's rows and links; the digest stays while b is kept.
  ASSERT_TRUE(store_->ApplyRetention(1000).ok());
  EXPECT_TRUE(store_->NotificationsFor(a.id)->empty());
  EXPECT_EQ(Ids(*store_->NotificationsFor(b.id)), (std::vector<int64_t>{digest.id}));
  // ... and goes with the last incident it covers.
  ASSERT_TRUE(store_->ApplyRetention(3000).ok());
  EXPECT_EQ(RawInt("SELECT count(*) FROM notifications"), 0);
  EXPECT_EQ(RawInt("SELECT count(*) FROM notification_incidents"), 0);
}

TEST_F(StoreTest, IncidentMembersRoundTrip) {
  Incident inc = MakeIncident(100);
  inc.members = {R"(instance="cart-1",service="cart")", R"(instance="odd\nname",service="front")"};
  ASSERT_TRUE(store_->UpsertIncident(&inc).ok());
  auto got = store_->GetIncident(inc.id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->members, inc.members);
  inc.members.push_back(R"(service="db")");
  ASSERT_TRUE(store_->UpsertIncident(&inc).ok());
  EXPECT_EQ((*store_->GetIncident(inc.id))->members.size(), 3u);
}

TEST_F(StoreTest, OpensInWalModeWithVersionedSchema) {
  EXPECT_TRUE(fs::exists(dir_ + "/vigil.db"));
  EXPECT_EQ(store_->db_path(), dir_ + "/vigil.db");
  EXPECT_EQ(RawInt("PRAGMA user_version"), 4);
  EXPECT_EQ(RawInt("PRAGMA application_id"), 0x5647494c);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/vigil.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(StoreTest, ReopenKeepsDataAndSizeGrows) {
  int64_t before = store_->SizeBytes();
  EXPECT_GT(before, 0);
  std::vector<Anomaly> batch;
  for (int i = 0; i < 2000; ++i) batch.push_back(MakeAnomaly(i, i));
  ASSERT_TRUE(store_->InsertAnomalies(&batch).ok());
  EXPECT_GT(store_->SizeBytes(), before);
  Incident inc = MakeIncident(5);
  ASSERT_TRUE(store_->UpsertIncident(&inc).ok());
  for (int i = 0; i < 3; ++i) Reopen();
  EXPECT_EQ(store_->ListAnomalies({.limit = 5000})->size(), 2000u);
  EXPECT_EQ(Ids(*store_->LoadOpenIncidents()), (std::vector<int64_t>{inc.id}));
  // New ids keep increasing after a reopen.
  std::vector<Anomaly> more = {MakeAnomaly(1, 1)};
  ASSERT_TRUE(store_->InsertAnomalies(&more).ok());
  EXPECT_GT(more[0].id, batch.back().id);
}

TEST_F(StoreTest, SurvivesKillNine) {
  store_.reset();
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: no gtest assertions here (they would report into a process that
    // is about to die); any failure exits with a distinct code instead.
    close(pipefd[0]);
    auto store = Store::Open(dir_);
    if (!store.ok()) _exit(10);
    Event e;
    e.ts_ms = 1'700'000'000'000;
    e.kind = "deploy";
    e.labels = L({{"service", "checkout"}});
    e.text = "before the crash";
    auto id = (*store)->InsertEvent(e);
    if (!id.ok()) _exit(11);
    Incident inc = MakeIncident(1'700'000'000'000);
    if (!(*store)->UpsertIncident(&inc).ok()) _exit(12);
    inc.acknowledged = true;
    inc.acknowledged_by = "alice";
    if (!(*store)->UpsertIncident(&inc).ok()) _exit(13);
    int64_t marker[2] = {*id, inc.id};
    if (write(pipefd[1], marker, sizeof marker) != sizeof marker) _exit(14);
    raise(SIGKILL);
    _exit(15);  // not reached
  }
  close(pipefd[1]);
  int64_t marker[2] = {0, 0};
  ssize_t n = read(pipefd[0], marker, sizeof marker);
  close(pipefd[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with code " << WEXITSTATUS(status);
  ASSERT_EQ(WTERMSIG(status), SIGKILL);
  ASSERT_EQ(n, static_cast<ssize_t>(sizeof marker));
  // The WAL was never checkpointed: the rows live only there.
  EXPECT_TRUE(fs::exists(dir_ + "/vigil.db-wal"));

  Reopen();
  auto events = store_->ListEvents({});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().id, marker[0]);
  EXPECT_EQ(events->front().text, "before the crash");
  auto inc = store_->GetIncident(marker[1]);
  ASSERT_TRUE(inc.ok());
  ASSERT_TRUE(inc->has_value());
  EXPECT_TRUE((*inc)->acknowledged);
  EXPECT_EQ((*inc)->acknowledged_by, "alice");
}

TEST_F(StoreTest, ConcurrentCallersAreSerialized) {
  constexpr int kThreads = 4, kPerThread = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::vector<Anomaly> one = {MakeAnomaly(t, i)};
        if (!store_->InsertAnomalies(&one).ok()) ++failures;
        Event e;
        e.ts_ms = i;
        e.kind = "k";
        e.labels = L({{"thread", std::to_string(t)}});
        if (!store_->InsertEvent(e).ok()) ++failures;
        if (!store_->ListEvents({.limit = 5, .match = {{"thread", std::to_string(t)}}}).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store_->ListAnomalies({.limit = 10000})->size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(store_->ListEvents({.limit = 10000, .match = {{"thread", "2"}}})->size(), size_t{kPerThread});
}

TEST_F(StoreTest, DataDirThatIsAFileNamesThePath) {
  store_.reset();
  std::string file = root_ + "/not-a-dir";
  std::ofstream(file) << "x";
  auto s = Store::Open(file);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kIOError);
  EXPECT_NE(s.status().message().find(file), std::string::npos) << s.status().ToString();
  // A data dir below a file cannot be created either.
  s = Store::Open(file + "/sub");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(file + "/sub"), std::string::npos) << s.status().ToString();
}

TEST_F(StoreTest, UnwritableDataDirNamesThePath) {
  store_.reset();
  // /proc refuses new directories even to root.
  auto s = Store::Open("/proc/vigil-store-test/data");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kIOError);
  EXPECT_NE(s.status().message().find("/proc/vigil-store-test/data"), std::string::npos) << s.status().ToString();
}

TEST_F(StoreTest, ReadOnlyDataDirNamesTheDatabaseFile) {
  store_.reset();
  if (geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  std::string ro = root_ + "/readonly";
  fs::create_directory(ro);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
  auto s = Store::Open(ro);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kIOError);
  EXPECT_NE(s.status().message().find(ro + "/vigil.db"), std::string::npos) << s.status().ToString();
}

TEST_F(StoreTest, GarbageDatabaseFileIsCorruptionNamingThePath) {
  store_.reset();
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  {
    std::ofstream f(dir_ + "/vigil.db", std::ios::binary);
    for (int i = 0; i < 4096; ++i) f << static_cast<char>(i * 31);
  }
  auto s = Store::Open(dir_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption) << s.status().ToString();
  EXPECT_NE(s.status().message().find(dir_ + "/vigil.db"), std::string::npos) << s.status().ToString();
}

TEST_F(StoreTest, ForeignOrNewerDatabaseIsRefused) {
  store_.reset();
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  RawSql("CREATE TABLE something_else (x)");
  auto s = Store::Open(dir_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
  EXPECT_NE(s.status().message().find("not vigil's"), std::string::npos) << s.status().ToString();

  fs::remove_all(dir_);
  Reopen();
  store_.reset();
  RawSql("PRAGMA user_version = 99");
  s = Store::Open(dir_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("schema version 99"), std::string::npos) << s.status().ToString();
  EXPECT_NE(s.status().message().find(dir_ + "/vigil.db"), std::string::npos);
}

TEST_F(StoreTest, CorruptRowIsReportedWithItsId) {
  std::vector<Anomaly> batch = {MakeAnomaly(1, 1)};
  ASSERT_TRUE(store_->InsertAnomalies(&batch).ok());
  store_.reset();
  RawSql("UPDATE anomalies SET labels = x'05' WHERE id = " + std::to_string(batch[0].id));
  Reopen();
  auto got = store_->ListAnomalies({});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kCorruption);
  EXPECT_NE(got.status().message().find("anomaly " + std::to_string(batch[0].id)), std::string::npos)
      << got.status().ToString();
}

// ---------------------------------------------------------------------------
// Column encodings

TEST(BlobColumns, LabelsRejectTruncationAndTrailingBytes) {
  std::string enc = blob_columns::EncodeLabels(L({{"a", "1"}, {"b", "2"}}));
  for (size_t n = 0; n < enc.size(); ++n) {
    EXPECT_FALSE(blob_columns::DecodeLabels(enc.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(blob_columns::DecodeLabels(enc + "x").ok());
  auto back = blob_columns::DecodeLabels(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ToString(), "{a=\"1\",b=\"2\"}");
}

TEST(BlobColumns, IncidentSeriesRoundTripAndRejectTruncation) {
  std::vector<IncidentSeries> series = {{1, "x", 2.5, -3, -4}, {~0ULL, std::string("\0", 1), 0, 1 << 30, 5}};
  std::string enc = blob_columns::EncodeIncidentSeries(series);
  auto back = blob_columns::DecodeIncidentSeries(enc);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].anomalies, -3);
  EXPECT_EQ((*back)[0].last_anomaly_ms, -4);
  EXPECT_EQ((*back)[1].series, ~0ULL);
  EXPECT_EQ((*back)[1].name, std::string("\0", 1));
  EXPECT_EQ((*back)[1].anomalies, 1 << 30);
  for (size_t n = 0; n < enc.size(); ++n) {
    EXPECT_FALSE(blob_columns::DecodeIncidentSeries(enc.substr(0, n)).ok()) << n;
  }
  EXPECT_TRUE(blob_columns::DecodeIncidentSeries(blob_columns::EncodeIncidentSeries({})).ok());
}

}  // namespace
}  // namespace vigil
