#include "engine/config.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "engine/selector.h"

namespace vigil {

Result<TimestampMs> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("invalid duration \"" + std::string(text) +
                                   "\": expected a number with a unit (ms, s, m, h, d, w)");
  };
  if (text.empty()) return bad();
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || !std::isfinite(v) || v < 0) return bad();
  std::string_view unit(ptr, text.data() + text.size() - ptr);
  double mult;
  if (unit.empty() || unit == "s") mult = 1000;
  else if (unit == "ms") mult = 1;
  else if (unit == "m") mult = 60'000;
  else if (unit == "h") mult = 3'600'000;
  else if (unit == "d") mult = 86'400'000;
  else if (unit == "w") mult = 7 * 86'400'000.0;
  else return bad();
  return static_cast<TimestampMs>(std::llround(v * mult));
}

namespace {

// Walks a YAML map, checking that every key is known.
class Section {
 public:
  Section(const YAML::Node& node, std::string path, Status* err) : node_(node), path_(std::move(path)), err_(err) {
    if (node_ && !node_.IsMap() && err_->ok()) {
      *err_ = Status::InvalidArgument("config: \"" + path_ + "\" must be a map");
    }
  }
  ~Section() {
    if (!node_ || !node_.IsMap() || !err_->ok()) return;
    for (const auto& kv : node_) {
      auto key = kv.first.as<std::string>();
      if (!seen_.count(key)) {
        *err_ = Status::InvalidArgument("config: unknown key \"" + Join(key) + "\"");
        return;
      }
    }
  }

  YAML::Node Get(const std::string& key) {
    seen_.insert(key);
    if (!node_ || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    return node_[key];
  }
  std::string Join(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  template <typename T>
  void Scalar(const std::string& key, T* out) {
    YAML::Node n = Get(key);
    if (!n || !err_->ok()) return;
    try {
      *out = n.as<T>();
    } catch (const YAML::Exception&) {
      *err_ = Status::InvalidArgument("config: \"" + Join(key) + "\" has an invalid value \"" + Dump(n) + "\"");
    }
  }
  void Duration(const std::string& key, TimestampMs* out) {
    YAML::Node n = Get(key);
    if (!n || !err_->ok()) return;
    auto d = ParseDuration(n.Scalar());
    if (!d.ok()) {
      *err_ = d.status().WithContext("config: \"" + Join(key) + "\"");
      return;
    }
    *out = *d;
  }
  void CapacityRules(const std::string& key, std::vector<CapacityRule>* out) {
    YAML::Node n = Get(key);
    if (!n || !err_->ok()) return;
    if (!n.IsSequence()) {
      *err_ = Status::InvalidArgument("config: \"" + Join(key) + "\" must be a list of {match, threshold, horizon}");
      return;
    }
    for (size_t i = 0; i < n.size(); ++i) {
      CapacityRule r;
      std::string path = Join(key) + "[" + std::to_string(i) + "]";
      Section s(n[i], path, err_);
      s.Scalar("match", &r.match);
      s.Scalar("threshold", &r.threshold);
      s.Duration("horizon", &r.horizon_ms);
      s.Scalar("direction", &r.direction);
      s.Duration("repeat", &r.repeat_ms);
      if (!err_->ok()) return;
      if (!n[i]["match"] || !n[i]["threshold"]) {
        *err_ = Status::InvalidArgument("config: \"" + path + "\" needs match and threshold");
        return;
      }
      auto sel = SeriesSelector::Parse(r.match);
      if (!sel.ok()) {
        *err_ = sel.status().WithContext("config: \"" + path + ".match\"");
        return;
      }
      if (!std::isfinite(r.threshold) || r.horizon_ms <= 0 ||
          (r.direction != "auto" && r.direction != "up" && r.direction != "down")) {
        *err_ = Status::InvalidArgument("config: \"" + path +
                                        "\": threshold must be a number, horizon positive, direction up, down or auto");
        return;
      }
      out->push_back(std::move(r));
    }
  }
  void Targets(const std::string& key, std::vector<NotifyTarget>* out) {
    YAML::Node n = Get(key);
    if (!n || !err_->ok()) return;
    if (!n.IsSequence()) {
      *err_ = Status::InvalidArgument("config: \"" + Join(key) + "\" must be a list of {url: ...}");
      return;
    }
    for (size_t i = 0; i < n.size(); ++i) {
      NotifyTarget t;
      Section s(n[i], Join(key) + "[" + std::to_string(i) + "]", err_);
      s.Scalar("url", &t.url);
      s.Scalar("name", &t.name);
      if (!err_->ok()) return;
      if (t.url.rfind("http://", 0) != 0 && t.url.rfind("https://", 0) != 0) {
        *err_ = Status::InvalidArgument("config: \"" + Join(key) + "[" + std::to_string(i) +
                                        "].url\" must start with http:// or https://, got \"" + t.url + "\"");
        return;
      }
      if (t.name.empty()) t.name = t.url;
      out->push_back(std::move(t));
    }
  }

 private:
  static std::string Dump(const YAML::Node& n) {
    YAML::Emitter e;
    e << n;
    return e.c_str();
  }
  YAML::Node node_;
  std::string path_;
  Status* err_;
  std::set<std::string> seen_;
};

Status Validate(const ServeConfig& c) {
  if (c.detector.window < 8) return Status::InvalidArgument("config: detector.window must be at least 8");
  if (c.detector.warmup < 3 || c.detector.warmup > c.detector.window) {
    return Status::InvalidArgument("config: detector.warmup must be between 3 and detector.window");
  }
  if (!(c.detector.threshold > 0)) return Status::InvalidArgument("config: detector.threshold must be positive");
  if (c.incidents.min_anomalies < 1) return Status::InvalidArgument("config: incidents.min_anomalies must be >= 1");
  if (c.limits.window_points < 2) return Status::InvalidArgument("config: limits.window_points must be >= 2");
  if (c.limits.queue_samples < 1000) return Status::InvalidArgument("config: limits.queue_samples must be >= 1000");
  if (c.detect.capacity_interval_ms < 1000) {
    return Status::InvalidArgument("config: detect.capacity_interval must be at least 1s");
  }
  const MultivariateSettings& mv = c.detect.multivariate;
  if (mv.interval_ms < 1000 || mv.max_metrics < 2 || mv.min_rows < 10) {
    return Status::InvalidArgument(
        "config: detect.multivariate needs interval >= 1s, max_metrics >= 2 and min_rows >= 10");
  }
  const ChangeRiskSettings& cr = c.detect.change_risk;
  if (cr.before_ms <= cr.gap_ms || cr.after_ms <= 0 || cr.max_series < 1 || cr.max_reports < 1) {
    return Status::InvalidArgument(
        "config: detect.change_risk needs before > gap, after > 0, max_series and max_reports >= 1");
  }
  const TraceSettings& t = c.traces;
  if (t.queue_spans < 1000 || t.max_open_traces < 1 || t.max_open_spans < 1 || t.max_spans_per_trace < 1 ||
      t.idle_timeout_ms < 100 || t.idle_flush_ms < 100 || t.graph_window_ms < 60'000 || t.bucket_ms < 1000 ||
      !(t.z_threshold > 0) || t.max_edges < 1 || t.max_operations < 1) {
    return Status::InvalidArgument(
        "config: traces needs queue_spans >= 1000, positive bounds, idle_timeout and idle_flush >= 100ms, "
        "graph_window >= 1m, bucket >= 1s and z_threshold > 0");
  }
  const RcaSettings& r = c.rca;
  if (r.poll_ms < 100 || r.min_interval_ms < 1000 || r.max_incidents < 1 || r.max_series < 1 || r.max_spans < 1 ||
      r.max_logs < 1 || r.normal_ms < 60'000 || r.max_abnormal_ms < 60'000 || r.onset_lead_ms < 0 ||
      r.first_rank_after_ms < 0) {
    return Status::InvalidArgument(
        "config: rca needs poll >= 100ms, min_interval >= 1s, normal_window and max_abnormal_window >= 1m, "
        "onset_lead and first_rank_after >= 0 and positive bounds");
  }
  if (c.detector_threads < 0 || c.detector_threads > 256) {
    return Status::InvalidArgument("config: detector_threads must be between 0 and 256");
  }
  return Status::Ok();
}

}  // namespace

Result<ServeConfig> ParseServeConfig(const std::string& yaml_text) {
  ServeConfig c;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("config: YAML error at line " + std::to_string(e.mark.line + 1) + ", column " +
                                   std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return c;
  Status err;
  {
    Section top(root, "", &err);
    top.Scalar("listen", &c.listen);
    top.Scalar("data_dir", &c.data_dir);
    top.Scalar("detector_threads", &c.detector_threads);
    top.Scalar("http_threads", &c.http_threads);
    top.Duration("retention", &c.retention_ms);
    top.Duration("snapshot_interval", &c.snapshot_interval_ms);
    top.Scalar("alerting_config", &c.alerting_config);
    {
      Section d(top.Get("detector"), "detector", &err);
      d.Scalar("window", &c.detector.window);
      d.Scalar("warmup", &c.detector.warmup);
      d.Scalar("threshold", &c.detector.threshold);
    }
    {
      Section s(top.Get("incidents"), "incidents", &err);
      s.Scalar("entity_labels", &c.incidents.entity_labels);
      s.Scalar("min_anomalies", &c.incidents.min_anomalies);
      s.Scalar("min_series", &c.incidents.min_series);
      s.Scalar("min_series_large_entity", &c.incidents.min_series_large_entity);
      s.Scalar("large_entity_series", &c.incidents.large_entity_series);
      s.Scalar("open_score", &c.incidents.open_score);
      s.Duration("evidence_window", &c.incidents.evidence_window_ms);
      s.Duration("join_window", &c.incidents.join_window_ms);
      s.Duration("resolve_after", &c.incidents.resolve_after_ms);
      s.Scalar("group_labels", &c.incidents.group_labels);
      s.Scalar("peer_labels", &c.incidents.peer_labels);
      s.Duration("group_window", &c.incidents.group_window_ms);
    }
    {
      Section s(top.Get("notify"), "notify", &err);
      s.Targets("webhooks", &c.notify.webhooks);
      s.Targets("alertmanagers", &c.notify.alertmanagers);
      s.Duration("resend_interval", &c.notify.resend_interval_ms);
      s.Scalar("external_url", &c.notify.external_url);
    }
    {
      Section s(top.Get("detect"), "detect", &err);
      s.CapacityRules("capacity", &c.detect.capacity);
      s.Duration("capacity_interval", &c.detect.capacity_interval_ms);
      Section mv(s.Get("multivariate"), "detect.multivariate", &err);
      mv.Scalar("entity_label", &c.detect.multivariate.entity_label);
      mv.Duration("interval", &c.detect.multivariate.interval_ms);
      mv.Scalar("max_entities", &c.detect.multivariate.max_entities);
      mv.Scalar("max_metrics", &c.detect.multivariate.max_metrics);
      mv.Scalar("min_rows", &c.detect.multivariate.min_rows);
      Section r(s.Get("change_risk"), "detect.change_risk", &err);
      ChangeRiskSettings& cr = c.detect.change_risk;
      r.Scalar("kinds", &cr.kinds);
      r.Scalar("scope_labels", &cr.scope_labels);
      r.Duration("before", &cr.before_ms);
      r.Duration("gap", &cr.gap_ms);
      r.Duration("after", &cr.after_ms);
      r.Scalar("max_series", &cr.max_series);
      r.Scalar("max_reports", &cr.max_reports);
    }
    {
      Section s(top.Get("limits"), "limits", &err);
      s.Scalar("max_series", &c.limits.max_series);
      s.Scalar("window_points", &c.limits.window_points);
      s.Scalar("queue_samples", &c.limits.queue_samples);
      s.Scalar("anomaly_queue", &c.limits.anomaly_queue);
      s.Scalar("max_body_bytes", &c.limits.max_body_bytes);
    }
    {
      Section s(top.Get("logs"), "logs", &err);
      s.Scalar("queue_lines", &c.logs.queue_lines);
      s.Scalar("retention_bytes", &c.logs.retention_bytes);
      s.Duration("retention", &c.logs.retention_ms);
      s.Duration("learning_period", &c.logs.learning_period_ms);
      s.Duration("deploy_window", &c.logs.deploy_window_ms);
      s.Duration("count_interval", &c.logs.count_interval_ms);
      s.Scalar("max_template_series", &c.logs.max_template_series);
      s.Scalar("max_streams", &c.logs.max_streams);
      s.Scalar("syslog_udp", &c.logs.syslog_udp);
      s.Scalar("syslog_tcp", &c.logs.syslog_tcp);
    }
    {
      Section s(top.Get("traces"), "traces", &err);
      TraceSettings& t = c.traces;
      s.Scalar("queue_spans", &t.queue_spans);
      s.Scalar("recent_spans", &t.recent_spans);
      s.Duration("recent_window", &t.recent_window_ms);
      s.Duration("idle_timeout", &t.idle_timeout_ms);
      s.Duration("idle_flush", &t.idle_flush_ms);
      s.Scalar("max_open_traces", &t.max_open_traces);
      s.Scalar("max_open_spans", &t.max_open_spans);
      s.Scalar("max_spans_per_trace", &t.max_spans_per_trace);
      s.Duration("graph_window", &t.graph_window_ms);
      s.Scalar("max_edges", &t.max_edges);
      s.Duration("bucket", &t.bucket_ms);
      s.Scalar("z_threshold", &t.z_threshold);
      s.Scalar("min_baseline_calls", &t.min_baseline_calls);
      s.Scalar("max_operations", &t.max_operations);
      s.Scalar("topology_to_alerts", &t.topology_to_alerts);
    }
    {
      Section s(top.Get("rca"), "rca", &err);
      RcaSettings& r = c.rca;
      s.Scalar("enabled", &r.enabled);
      s.Duration("poll", &r.poll_ms);
      s.Duration("min_interval", &r.min_interval_ms);
      s.Duration("first_rank_after", &r.first_rank_after_ms);
      s.Duration("rerank_for", &r.rerank_for_ms);
      s.Duration("onset_lead", &r.onset_lead_ms);
      s.Duration("normal_window", &r.normal_ms);
      s.Duration("max_abnormal_window", &r.max_abnormal_ms);
      s.Scalar("max_incidents", &r.max_incidents);
      s.Scalar("max_series", &r.max_series);
      s.Scalar("max_spans", &r.max_spans);
      s.Scalar("max_logs", &r.max_logs);
    }
  }
  if (!err.ok()) return err;
  Status v = Validate(c);
  if (!v.ok()) return v;
  return c;
}

Result<ServeConfig> LoadServeConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read config file \"" + path + "\"");
  std::stringstream ss;
  ss << in.rdbuf();
  auto c = ParseServeConfig(ss.str());
  if (!c.ok()) return c.status().WithContext(path);
  return c;
}

}  // namespace vigil
