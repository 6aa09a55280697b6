#include "alerts/alerting_config.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace vigil {

bool Receiver::SendResolved() const {
  for (const auto& w : webhooks) if (w.send_resolved) return true;
  for (const auto& s : slack) if (s.send_resolved) return true;
  return !alertmanagers.empty();
}

const Receiver* AlertingConfig::FindReceiver(const std::string& name) const {
  for (const auto& r : receivers) if (r.name == name) return &r;
  return nullptr;
}

Result<TimestampMs> ParsePromDuration(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("bad duration \"\"");
  TimestampMs total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start) return Status::InvalidArgument("bad duration \"" + std::string(text) + "\"");
    long long n = std::stoll(std::string(text.substr(start, i - start)));
    size_t us = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(us, i - us);
    long long mul;
    if (unit == "ms") mul = 1;
    else if (unit == "s" || unit.empty()) mul = 1000;
    else if (unit == "m") mul = 60'000;
    else if (unit == "h") mul = 3600'000;
    else if (unit == "d") mul = 86'400'000;
    else if (unit == "w") mul = 7 * 86'400'000LL;
    else if (unit == "y") mul = 365 * 86'400'000LL;
    else return Status::InvalidArgument("bad duration \"" + std::string(text) + "\": unknown unit \"" + std::string(unit) + "\"");
    if (unit.empty() && i != text.size()) return Status::InvalidArgument("bad duration \"" + std::string(text) + "\"");
    total += n * mul;
  }
  return total;
}

namespace {

using Node = YAML::Node;

Status Bad(const std::string& path, const std::string& what) { return Status::InvalidArgument(path + ": " + what); }

Status CheckKeys(const Node& n, const std::string& path, std::initializer_list<const char*> allowed,
                 std::initializer_list<const char*> unsupported = {}) {
  if (!n.IsMap()) return Bad(path, "expected a mapping");
  for (const auto& kv : n) {
    std::string k = kv.first.as<std::string>();
    if (std::find_if(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; }) != allowed.end()) continue;
    if (std::find_if(unsupported.begin(), unsupported.end(), [&](const char* a) { return k == a; }) != unsupported.end())
      return Bad(path + "." + k, "is Alertmanager configuration vigil does not implement");
    return Bad(path + "." + k, "unknown key");
  }
  return Status::Ok();
}

Status GetString(const Node& n, const std::string& path, std::string* out) {
  if (!n.IsScalar()) return Bad(path, "expected a string");
  *out = n.as<std::string>();
  return Status::Ok();
}

Status GetBool(const Node& n, const std::string& path, bool* out) {
  try {
    *out = n.as<bool>();
  } catch (const YAML::Exception&) {
    return Bad(path, "expected true or false, got \"" + (n.IsScalar() ? n.as<std::string>() : std::string("?")) + "\"");
  }
  return Status::Ok();
}

Status GetInt(const Node& n, const std::string& path, int* out) {
  try {
    *out = n.as<int>();
  } catch (const YAML::Exception&) {
    return Bad(path, "expected an integer");
  }
  return Status::Ok();
}

Status GetDuration(const Node& n, const std::string& path, TimestampMs* out) {
  if (!n.IsScalar()) return Bad(path, "expected a duration");
  auto d = ParsePromDuration(n.as<std::string>());
  if (!d.ok()) return Bad(path, d.status().message());
  *out = *d;
  return Status::Ok();
}

Status GetStrings(const Node& n, const std::string& path, std::vector<std::string>* out) {
  if (!n.IsSequence()) return Bad(path, "expected a list");
  out->clear();
  for (size_t i = 0; i < n.size(); ++i) {
    std::string s;
    Status st = GetString(n[i], path + "[" + std::to_string(i) + "]", &s);
    if (!st.ok()) return st;
    out->push_back(s);
  }
  return Status::Ok();
}

// `matchers: ['a="b"', ...]`, or the older `match:` / `match_re:` maps.
Status GetMatchers(const Node& parent, const std::string& path, const char* list_key, const char* eq_key,
                   const char* re_key, std::vector<Matcher>* out) {
  if (const Node& l = parent[list_key]) {
    std::vector<std::string> items;
    Status st = GetStrings(l, path + "." + list_key, &items);
    if (!st.ok()) return st;
    for (size_t i = 0; i < items.size(); ++i) {
      auto ms = ParseMatchers(items[i]);
      if (!ms.ok()) return Bad(path + "." + list_key + "[" + std::to_string(i) + "]", ms.status().message());
      out->insert(out->end(), ms->begin(), ms->end());
    }
  }
  for (auto [key, op] : {std::pair{eq_key, MatchOp::kEqual}, std::pair{re_key, MatchOp::kRegex}}) {
    const Node& m = parent[key];
    if (!m) continue;
    if (!m.IsMap()) return Bad(path + "." + key, "expected a mapping of label to value");
    for (const auto& kv : m) {
      auto mt = Matcher::Make(kv.first.as<std::string>(), op, kv.second.as<std::string>());
      if (!mt.ok()) return Bad(path + "." + key, mt.status().message());
      out->push_back(std::move(*mt));
    }
  }
  return Status::Ok();
}

Status ParseRoute(const Node& n, const std::string& path, const RouteNode* parent, RouteNode* r) {
  Status st = CheckKeys(n, path,
                        {"receiver", "group_by", "continue", "matchers", "match", "match_re", "group_wait",
                         "group_interval", "repeat_interval", "routes"},
                        {"mute_time_intervals", "active_time_intervals"});
  if (!st.ok()) return st;
  if (parent) {
    r->receiver = parent->receiver;
    r->group_by = parent->group_by;
    r->group_by_all = parent->group_by_all;
    r->group_wait_ms = parent->group_wait_ms;
    r->group_interval_ms = parent->group_interval_ms;
    r->repeat_interval_ms = parent->repeat_interval_ms;
  }
  if (n["receiver"]) {
    st = GetString(n["receiver"], path + ".receiver", &r->receiver);
    if (!st.ok()) return st;
  }
  if (n["group_by"]) {
    std::vector<std::string> g;
    st = GetStrings(n["group_by"], path + ".group_by", &g);
    if (!st.ok()) return st;
    r->group_by_all = std::find(g.begin(), g.end(), "...") != g.end();
    if (r->group_by_all && g.size() > 1) return Bad(path + ".group_by", "\"...\" must be the only entry");
    if (r->group_by_all) g.clear();
    std::sort(g.begin(), g.end());
    g.erase(std::unique(g.begin(), g.end()), g.end());
    r->group_by = g;
  }
  if (n["continue"]) {
    st = GetBool(n["continue"], path + ".continue", &r->continue_matching);
    if (!st.ok()) return st;
  }
  st = GetMatchers(n, path, "matchers", "match", "match_re", &r->matchers);
  if (!st.ok()) return st;
  for (auto [key, field] : {std::pair{"group_wait", &r->group_wait_ms}, std::pair{"group_interval", &r->group_interval_ms},
                            std::pair{"repeat_interval", &r->repeat_interval_ms}}) {
    if (!n[key]) continue;
    st = GetDuration(n[key], path + "." + key, field);
    if (!st.ok()) return st;
  }
  if (r->group_interval_ms <= 0) return Bad(path + ".group_interval", "must be positive");
  if (r->repeat_interval_ms <= 0) return Bad(path + ".repeat_interval", "must be positive");
  if (const Node& kids = n["routes"]) {
    if (!kids.IsSequence()) return Bad(path + ".routes", "expected a list");
    for (size_t i = 0; i < kids.size(); ++i) {
      RouteNode child;
      st = ParseRoute(kids[i], path + ".routes[" + std::to_string(i) + "]", r, &child);
      if (!st.ok()) return st;
      r->routes.push_back(std::move(child));
    }
  }
  return Status::Ok();
}

Status ParseReceiver(const Node& n, const std::string& path, Receiver* r) {
  Status st = CheckKeys(n, path, {"name", "webhook_configs", "slack_configs", "alertmanager_configs"},
                        {"email_configs", "pagerduty_configs", "opsgenie_configs", "pushover_configs",
                         "victorops_configs", "wechat_configs", "telegram_configs", "sns_configs", "discord_configs",
                         "webex_configs", "msteams_configs"});
  if (!st.ok()) return st;
  if (!n["name"]) return Bad(path + ".name", "required");
  st = GetString(n["name"], path + ".name", &r->name);
  if (!st.ok()) return st;
  if (const Node& w = n["webhook_configs"]) {
    for (size_t i = 0; i < w.size(); ++i) {
      std::string p = path + ".webhook_configs[" + std::to_string(i) + "]";
      st = CheckKeys(w[i], p, {"url", "send_resolved", "max_alerts"}, {"http_config", "url_file"});
      if (!st.ok()) return st;
      WebhookTarget t;
      if (!w[i]["url"]) return Bad(p + ".url", "required");
      st = GetString(w[i]["url"], p + ".url", &t.url);
      if (st.ok() && w[i]["send_resolved"]) st = GetBool(w[i]["send_resolved"], p + ".send_resolved", &t.send_resolved);
      if (st.ok() && w[i]["max_alerts"]) st = GetInt(w[i]["max_alerts"], p + ".max_alerts", &t.max_alerts);
      if (!st.ok()) return st;
      r->webhooks.push_back(t);
    }
  }
  if (const Node& s = n["slack_configs"]) {
    for (size_t i = 0; i < s.size(); ++i) {
      std::string p = path + ".slack_configs[" + std::to_string(i) + "]";
      st = CheckKeys(s[i], p, {"api_url", "channel", "send_resolved"},
                     {"http_config", "api_url_file", "title", "text", "username", "color", "fields", "actions"});
      if (!st.ok()) return st;
      SlackTarget t;
      if (!s[i]["api_url"]) return Bad(p + ".api_url", "required");
      st = GetString(s[i]["api_url"], p + ".api_url", &t.api_url);
      if (st.ok() && s[i]["channel"]) st = GetString(s[i]["channel"], p + ".channel", &t.channel);
      if (st.ok() && s[i]["send_resolved"]) st = GetBool(s[i]["send_resolved"], p + ".send_resolved", &t.send_resolved);
      if (!st.ok()) return st;
      r->slack.push_back(t);
    }
  }
  if (const Node& a = n["alertmanager_configs"]) {
    for (size_t i = 0; i < a.size(); ++i) {
      std::string p = path + ".alertmanager_configs[" + std::to_string(i) + "]";
      st = CheckKeys(a[i], p, {"url"});
      if (!st.ok()) return st;
      AlertmanagerTarget t;
      if (!a[i]["url"]) return Bad(p + ".url", "required");
      st = GetString(a[i]["url"], p + ".url", &t.url);
      if (!st.ok()) return st;
      while (!t.url.empty() && t.url.back() == '/') t.url.pop_back();
      r->alertmanagers.push_back(t);
    }
  }
  return Status::Ok();
}

Status CheckReceivers(const RouteNode& r, const AlertingConfig& cfg, const std::string& path) {
  if (r.receiver.empty()) return Bad(path + ".receiver", "required on the root route");
  if (!cfg.FindReceiver(r.receiver)) return Bad(path + ".receiver", "no receiver named \"" + r.receiver + "\"");
  for (size_t i = 0; i < r.routes.size(); ++i) {
    Status st = CheckReceivers(r.routes[i], cfg, path + ".routes[" + std::to_string(i) + "]");
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

Status ParseDocument(const Node& root, AlertingConfig* cfg) {
  Status st = CheckKeys(root, "config",
                        {"global", "route", "receivers", "inhibit_rules", "templates", "topology", "correlation", "dedup"},
                        {"time_intervals", "mute_time_intervals"});
  if (!st.ok()) return st;
  if (const Node& g = root["global"]) {
    for (const auto& kv : g) {
      std::string k = kv.first.as<std::string>();
      if (k == "resolve_timeout") {
        st = GetDuration(kv.second, "global.resolve_timeout", &cfg->dedup.resolve_timeout_ms);
        if (!st.ok()) return st;
      } else if (k == "resolved_digest") {
        bool b = false;
        if (!kv.second.IsScalar() || !YAML::convert<bool>::decode(kv.second, b)) {
          return Bad("global.resolved_digest", "expected true or false");
        }
        cfg->resolved_digest = b;
      } else if (k == "resolved_digest_wait") {
        st = GetDuration(kv.second, "global.resolved_digest_wait", &cfg->resolved_digest_wait_ms);
        if (!st.ok()) return st;
      }
      // Other global keys configure notifiers vigil does not implement
      // (smtp, pagerduty, ...) or HTTP clients; they do not change
      // routing, so they are accepted.
    }
  }
  if (const Node& rs = root["receivers"]) {
    if (!rs.IsSequence()) return Bad("receivers", "expected a list");
    std::set<std::string> names;
    for (size_t i = 0; i < rs.size(); ++i) {
      Receiver r;
      st = ParseReceiver(rs[i], "receivers[" + std::to_string(i) + "]", &r);
      if (!st.ok()) return st;
      if (!names.insert(r.name).second) return Bad("receivers[" + std::to_string(i) + "].name", "duplicate \"" + r.name + "\"");
      cfg->receivers.push_back(std::move(r));
    }
  }
  if (const Node& r = root["route"]) {
    RouteNode route;
    st = ParseRoute(r, "route", nullptr, &route);
    if (!st.ok()) return st;
    cfg->route = std::move(route);
  } else {
    return Bad("route", "required");
  }
  st = CheckReceivers(cfg->route, *cfg, "route");
  if (!st.ok()) return st;
  NumberRoutes(&cfg->route);
  if (const Node& ir = root["inhibit_rules"]) {
    for (size_t i = 0; i < ir.size(); ++i) {
      std::string p = "inhibit_rules[" + std::to_string(i) + "]";
      st = CheckKeys(ir[i], p, {"source_matchers", "target_matchers", "source_match", "source_match_re", "target_match",
                                "target_match_re", "equal"});
      if (!st.ok()) return st;
      InhibitRule rule;
      st = GetMatchers(ir[i], p, "source_matchers", "source_match", "source_match_re", &rule.source_matchers);
      if (st.ok()) st = GetMatchers(ir[i], p, "target_matchers", "target_match", "target_match_re", &rule.target_matchers);
      if (st.ok() && ir[i]["equal"]) st = GetStrings(ir[i]["equal"], p + ".equal", &rule.equal);
      if (!st.ok()) return st;
      cfg->inhibit_rules.push_back(std::move(rule));
    }
  }
  if (const Node& t = root["topology"]) {
    if (!t.IsMap()) return Bad("topology", "expected a mapping of service to the services it calls");
    for (const auto& kv : t) {
      std::string caller = kv.first.as<std::string>();
      std::vector<std::string> callees;
      st = GetStrings(kv.second, "topology." + caller, &callees);
      if (!st.ok()) return st;
      for (const auto& c : callees) cfg->topology.AddCall(caller, c);
    }
  }
  if (const Node& c = root["correlation"]) {
    st = CheckKeys(c, "correlation", {"window", "propagation_window", "onset_spread", "symptom_lag", "min_alerts", "min_duration", "resolve_after", "service_labels",
                                      "entity_labels", "dependency_labels", "max_incidents", "page_critical_symptoms"});
    if (!st.ok()) return st;
    CorrelationConfig& cc = cfg->correlation;
    if (c["window"]) st = GetDuration(c["window"], "correlation.window", &cc.window_ms);
    if (st.ok() && c["propagation_window"])
      st = GetDuration(c["propagation_window"], "correlation.propagation_window", &cc.propagation_window_ms);
    if (st.ok() && c["onset_spread"])
      st = GetDuration(c["onset_spread"], "correlation.onset_spread", &cc.onset_spread_ms);
    if (st.ok() && c["symptom_lag"]) st = GetDuration(c["symptom_lag"], "correlation.symptom_lag", &cc.symptom_lag_ms);
    if (st.ok() && c["min_alerts"]) st = GetInt(c["min_alerts"], "correlation.min_alerts", &cc.min_alerts);
    if (st.ok() && c["min_duration"]) st = GetDuration(c["min_duration"], "correlation.min_duration", &cc.min_duration_ms);
    if (st.ok() && c["resolve_after"]) st = GetDuration(c["resolve_after"], "correlation.resolve_after", &cc.resolve_after_ms);
    if (st.ok() && c["service_labels"]) st = GetStrings(c["service_labels"], "correlation.service_labels", &cc.service_labels);
    if (st.ok() && c["entity_labels"]) st = GetStrings(c["entity_labels"], "correlation.entity_labels", &cc.entity_labels);
    if (st.ok() && c["dependency_labels"])
      st = GetStrings(c["dependency_labels"], "correlation.dependency_labels", &cc.dependency_labels);
    if (st.ok() && c["page_critical_symptoms"]) {
      st = GetBool(c["page_critical_symptoms"], "correlation.page_critical_symptoms", &cc.page_critical_symptoms);
    }
    if (st.ok() && c["max_incidents"]) {
      int m = 0;
      st = GetInt(c["max_incidents"], "correlation.max_incidents", &m);
      if (st.ok() && m <= 0) st = Bad("correlation.max_incidents", "must be positive");
      cc.max_incidents = static_cast<size_t>(m);
    }
    if (!st.ok()) return st;
    if (cc.min_alerts < 1) return Bad("correlation.min_alerts", "must be at least 1");
  }
  if (const Node& d = root["dedup"]) {
    st = CheckKeys(d, "dedup", {"flap_transitions", "flap_window", "max_alerts"});
    if (!st.ok()) return st;
    if (d["flap_transitions"]) st = GetInt(d["flap_transitions"], "dedup.flap_transitions", &cfg->dedup.flap_transitions);
    if (st.ok() && d["flap_window"]) st = GetDuration(d["flap_window"], "dedup.flap_window", &cfg->dedup.flap_window_ms);
    if (st.ok() && d["max_alerts"]) {
      int m = 0;
      st = GetInt(d["max_alerts"], "dedup.max_alerts", &m);
      if (st.ok() && m <= 0) st = Bad("dedup.max_alerts", "must be positive");
      cfg->dedup.max_alerts = static_cast<size_t>(m);
    }
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

}  // namespace

AlertingConfig DefaultAlertingConfig() {
  AlertingConfig cfg;
  cfg.receivers.push_back(Receiver{"default", {}, {}, {}});
  cfg.route.receiver = "default";
  cfg.route.group_by = {kIncidentGroupLabel};
  NumberRoutes(&cfg.route);
  return cfg;
}

Result<AlertingConfig> ParseAlertingConfig(const std::string& yaml_text) {
  AlertingConfig cfg;
  try {
    Node root = YAML::Load(yaml_text);
    if (!root || root.IsNull()) return DefaultAlertingConfig();
    Status st = ParseDocument(root, &cfg);
    if (!st.ok()) return st;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("alerting config: ") + e.what());
  }
  return cfg;
}

Result<AlertingConfig> LoadAlertingConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read alerting config " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto cfg = ParseAlertingConfig(ss.str());
  if (!cfg.ok()) return cfg.status().WithContext(path);
  return cfg;
}

}  // namespace vigil
