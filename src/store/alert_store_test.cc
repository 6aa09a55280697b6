// AlertStore: documents and outbox rows commit together.
#include "store/alert_store.h"

#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(AlertStore, DocumentsAndOutboxInOneTransaction) {
  std::string dir = "/tmp/vigil-alert-store-XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  {
    auto store = Store::Open(dir);
    ASSERT_TRUE(store.ok());
    auto docs = AlertStore::Open(dir);
    ASSERT_TRUE(docs.ok()) << docs.status().ToString();
    NotificationRecord n;
    n.incident_id = 7;
    n.receiver = "oncall";
    n.kind = "webhook";
    n.url = "http://127.0.0.1:1/hook";
    n.payload = "{}";
    n.status = "pending";
    std::vector<NotificationRecord> outbox{n};
    ASSERT_TRUE((*docs)->Commit({{"alert", "a1", "{\"x\":1}"}, {"nflog", "r\ng", "{}"}}, &outbox).ok());
    EXPECT_GT(outbox[0].id, 0);
    auto due = (*store)->DueNotifications(0, 10);
    ASSERT_TRUE(due.ok());
    ASSERT_EQ(due->size(), 1u);
    EXPECT_EQ((*due)[0].receiver, "oncall");
    ASSERT_TRUE((*docs)->Commit({{"alert", "a1", ""}, {"alert", "a2", "{\"y\":2}"}}).ok());
  }
  auto docs = AlertStore::Open(dir);
  ASSERT_TRUE(docs.ok());
  auto alerts = (*docs)->Load("alert");
  ASSERT_TRUE(alerts.ok());
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ((*alerts)[0].first, "a2");
  EXPECT_EQ((*docs)->Load("nflog")->size(), 1u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil
