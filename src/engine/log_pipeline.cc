#include "engine/log_pipeline.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "engine/bounded_queue.h"
#include "engine/selector.h"
#include "ingest/write_batch.h"
#include "logs/header.h"
#include "logs/template_miner.h"
#include "store/log_store.h"

namespace vigil {

namespace {

constexpr size_t kHeaderSample = 200;
// A new stream's header layout is learned from its first kLearnLines lines,
// or from what arrived within kLearnWaitMs: one line says little about
// which leading fields are header. Its lines wait (in order) until then.
constexpr size_t kLearnLines = 64;
constexpr TimestampMs kLearnWaitMs = 2'000;
constexpr int kMaxNewTemplateAnomaliesPerInterval = 20;
constexpr TimestampMs kPersistEveryMs = 10'000;
constexpr TimestampMs kRetentionEveryMs = 60'000;
constexpr int kQuietIntervalsKept = 30;  // a template stays a series this long after its last line

std::string ServiceOf(const Labels& l) {
  for (const char* k : {"service", "service_name", "app", "job"}) {
    if (l.Has(k)) return std::string(l.Get(k));
  }
  return {};
}

std::string Cut(std::string_view s, size_t n) {
  if (s.size() <= n) return std::string(s);
  size_t k = n;
  while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;  // stay on a UTF-8 boundary
  return std::string(s.substr(0, k)) + "...";
}

}  // namespace

Status BuildFtsQuery(std::string_view text, std::string* positive, std::string* exclude) {
  positive->clear();
  exclude->clear();
  size_t i = 0;
  bool negate_next = false;
  auto add = [&](std::string_view term, bool negative) {
    std::string lit = "\"";
    for (char c : term) {
      if (c == '"') lit += "\"\"";
      else lit.push_back(c);
    }
    lit += "\"";
    std::string* out = negative ? exclude : positive;
    if (!out->empty()) *out += negative ? " OR " : " AND ";
    *out += lit;
  };
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    if (i >= text.size()) break;
    bool negative = negate_next;
    negate_next = false;
    if (text[i] == '-' && i + 1 < text.size() && text[i + 1] != ' ') {
      negative = true;
      ++i;
    }
    if (text[i] == '"') {
      size_t close = text.find('"', i + 1);
      if (close == std::string_view::npos) {
        return Status::InvalidArgument("query: the quote at offset " + std::to_string(i) + " is never closed");
      }
      std::string_view phrase = text.substr(i + 1, close - i - 1);
      if (!phrase.empty()) add(phrase, negative);
      i = close + 1;
      continue;
    }
    size_t end = text.find(' ', i);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(i, end - i);
    i = end;
    if (word == "NOT") {
      negate_next = true;
      continue;
    }
    if (word == "AND") continue;
    add(word, negative);
  }
  return Status::Ok();
}

struct LogPipeline::Impl {
  struct Stream {
    int64_t id = 0;
    Labels labels;
    std::string service;
    logs::HeaderSplitter splitter;
    logs::TemplateMiner miner;
    int64_t seq = 0;
    TimestampMs first_seen_ms = 0;
    bool dirty = false;
    std::unordered_map<uint32_t, uint64_t> counts;       // template -> lines this interval
    std::unordered_map<uint32_t, int> quiet_intervals;   // template -> intervals since its last line
    uint64_t errors = 0;
    int new_template_anomalies = 0;
    bool learned = false;                 // header layout known
    std::vector<LogRecord> pending;       // lines waiting for the layout (at most kLearnLines)
  };

  LogSettings cfg;
  const Clock* clock;
  SampleSink sample_sink;
  AnomalySink anomaly_sink;
  std::unique_ptr<LogStore> store;
  BoundedQueue<std::vector<LogRecord>> queue;
  std::atomic<uint64_t> in_flight{0};  // batches queued or being processed, and a LearnWaiting running

  mutable std::mutex mu;  // streams, deploys
  std::map<std::string, std::unique_ptr<Stream>> streams;  // by labels text
  std::unordered_map<int64_t, Stream*> by_id;
  std::unordered_map<std::string, TimestampMs> deploys;    // service -> last deploy

  std::thread worker;
  std::atomic<bool> running{false};
  std::atomic<bool> force_learn{false};
  TimestampMs next_interval = 0, next_persist = 0, next_retention = 0;

  std::atomic<uint64_t> accepted{0}, rejected{0}, refused{0}, new_templates{0}, stored{0}, retention_deleted{0},
      store_errors{0}, samples_dropped{0}, stream_limit_hits{0};

  Impl(const LogSettings& s, const Clock* c) : cfg(s), clock(c), queue(s.queue_lines) {}

  // The stream of `labels`, created on first use (unlearned: its first lines
  // wait in `pending` for the header layout). Null when the store fails.
  Stream* StreamFor(const Labels& labels) {
    std::string key = labels.ToString();
    auto it = streams.find(key);
    if (it != streams.end()) return it->second.get();
    auto id = store->StreamId(key);
    if (!id.ok()) {
      store_errors.fetch_add(1);
      spdlog::error("log store: {}", id.status().ToString());
      return nullptr;
    }
    auto st = std::make_unique<Stream>();
    st->id = *id;
    st->labels = labels;
    st->service = ServiceOf(labels);
    st->first_seen_ms = clock->NowMs();
    st->dirty = true;
    Stream* raw = st.get();
    by_id[raw->id] = raw;
    streams.emplace(key, std::move(st));
    return raw;
  }

  void Restore() {
    auto rows = store->Streams();
    if (!rows.ok()) {
      spdlog::error("log store: cannot list streams: {}", rows.status().ToString());
      return;
    }
    for (auto& row : *rows) {
      auto st = std::make_unique<Stream>();
      st->id = row.id;
      st->learned = true;
      st->seq = row.last_seq;
      st->first_seen_ms = 0;  // restored streams are past their learning period
      // state = header layout, '\n', miner bytes
      size_t nl = row.state.find('\n');
      if (nl != std::string::npos) {
        auto split = logs::HeaderSplitter::Restore(std::string_view(row.state).substr(0, nl));
        auto miner = logs::TemplateMiner::Restore(std::string_view(row.state).substr(nl + 1));
        if (split.ok() && miner.ok()) {
          st->splitter = std::move(split).value();
          st->miner = std::move(miner).value();
        } else {
          spdlog::warn("log stream {}: stored miner state unreadable ({}), starting afresh", row.labels,
                       split.ok() ? miner.status().ToString() : split.status().ToString());
        }
      }
      // Labels from their text form {a="b", ...}: parse the simple form we wrote.
      std::vector<Label> pairs;
      std::string_view t = row.labels;
      if (t.starts_with("{") && t.ends_with("}")) t = t.substr(1, t.size() - 2);
      while (!t.empty()) {
        size_t eq = t.find("=\"");
        if (eq == std::string_view::npos) break;
        std::string name(t.substr(0, eq));
        size_t k = eq + 2;
        std::string value;
        while (k < t.size() && t[k] != '"') {
          if (t[k] == '\\' && k + 1 < t.size()) {
            ++k;
            value.push_back(t[k] == 'n' ? '\n' : t[k]);
          } else {
            value.push_back(t[k]);
          }
          ++k;
        }
        pairs.push_back({name, value});
        t = k + 1 < t.size() ? t.substr(k + 1) : std::string_view();
        if (t.starts_with(",")) t.remove_prefix(1);
        while (t.starts_with(" ")) t.remove_prefix(1);
      }
      st->labels = Labels::FromSorted(std::move(pairs));
      st->service = ServiceOf(st->labels);
      by_id[st->id] = st.get();
      streams.emplace(row.labels, std::move(st));
    }
  }

  void Persist(bool all) {
    std::vector<std::pair<int64_t, std::string>> states;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& [k, st] : streams) {
        if (!st->dirty && !all) continue;
        states.emplace_back(st->id, st->splitter.Serialize() + "\n" + st->miner.Serialize());
        st->dirty = false;
      }
    }
    for (auto& [id, state] : states) {
      Status s = store->SaveStreamState(id, state);
      if (!s.ok()) {
        store_errors.fetch_add(1);
        spdlog::error("log store: cannot save miner state: {}", s.ToString());
      }
    }
  }

  // Mines and records `recs` of one learned stream (mu held).
  // `initial`: the stream's first lines, which waited for its header layout
  // (they are part of its learning period however long they waited).
  void MineLines(Stream* st, const std::vector<const LogRecord*>& recs, TimestampMs now, std::vector<StoredLogLine>* lines,
                 std::vector<Anomaly>* anomalies, bool initial = false) {
    TimestampMs deploy = 0;
    if (auto d = deploys.find(st->service); d != deploys.end()) deploy = d->second;
    bool learning = initial || (st->first_seen_ms != 0 && now - st->first_seen_ms < cfg.learning_period_ms);
    bool after_deploy = deploy != 0 && now - deploy < cfg.deploy_window_ms;
    for (const LogRecord* r : recs) {
      logs::LogHeader h = st->splitter.Split(r->line);
      int severity = r->severity >= 0 ? r->severity : logs::SeverityOf(h.level);
      logs::MineResult m = st->miner.Add(h.message);
      st->dirty = true;
      StoredLogLine l;
      l.stream = st->id;
      l.seq = ++st->seq;
      l.ts_ms = r->ts_ms > 0 ? r->ts_ms : now;
      l.template_id = m.id;
      l.severity = severity;
      l.line = r->line;
      ++st->counts[m.id];
      st->quiet_intervals[m.id] = 0;
      if (severity >= 4) ++st->errors;
      if (m.new_template && (!learning || after_deploy) &&
          st->new_template_anomalies < kMaxNewTemplateAnomaliesPerInterval) {
        ++st->new_template_anomalies;
        new_templates.fetch_add(1);
        anomalies->push_back(NewTemplateAnomaly(*st, m.id, r->line, l.ts_ms, after_deploy));
      }
      lines->push_back(std::move(l));
    }
  }

  Anomaly NewTemplateAnomaly(Stream& st, uint32_t id, const std::string& example, TimestampMs ts, bool after_deploy) {
    Anomaly a;
    std::vector<Label> ls = st.labels.items();
    ls.push_back({"__name__", "vigil_log_new_template"});
    ls.push_back({"template_id", std::to_string(id)});
    ls.push_back({"template", Cut(st.miner.TemplateText(id), 300)});
    ls.push_back({"example", Cut(example, 300)});
    if (after_deploy) ls.push_back({"after_deploy", "true"});
    std::stable_sort(ls.begin(), ls.end(), [](const Label& x, const Label& y) { return x.name < y.name; });
    ls.erase(std::unique(ls.begin(), ls.end(), [](const Label& x, const Label& y) { return x.name == y.name; }), ls.end());
    a.labels = Labels::FromSorted(std::move(ls));
    a.series = SeriesIdOf(a.labels);
    a.ts_ms = ts;
    a.value = 1;
    a.score = after_deploy ? 20 : 12;
    a.direction = Direction::kUp;
    a.detector = "log_new_template";
    a.pattern = "new_template";
    return a;
  }

  // Learns a waiting stream's layout and mines its waiting lines (mu held).
  void LearnPending(Stream* st, TimestampMs now, std::vector<StoredLogLine>* lines, std::vector<Anomaly>* anomalies) {
    std::vector<std::string_view> sample;
    for (const LogRecord& r : st->pending) {
      if (sample.size() >= kHeaderSample) break;
      sample.push_back(r.line);
    }
    st->splitter.Learn(sample);
    st->learned = true;
    std::vector<LogRecord> waiting = std::move(st->pending);
    st->pending.clear();
    std::vector<const LogRecord*> recs;
    for (const LogRecord& r : waiting) recs.push_back(&r);
    MineLines(st, recs, now, lines, anomalies, /*initial=*/true);
  }

  void StoreResults(std::vector<StoredLogLine>& lines, std::vector<Anomaly>& anomalies) {
    if (!lines.empty()) {
      Status s = store->Append(&lines);
      if (!s.ok()) {
        store_errors.fetch_add(1);
        spdlog::error("log store: cannot append {} lines: {}", lines.size(), s.ToString());
      } else {
        stored.fetch_add(lines.size());
      }
    }
    if (!anomalies.empty()) {
      Status as = anomaly_sink(std::move(anomalies));
      if (!as.ok()) spdlog::warn("log anomalies dropped: {}", as.ToString());
    }
  }

  void Process(std::vector<LogRecord>& records) {
    TimestampMs now = clock->NowMs();
    std::vector<StoredLogLine> lines;
    lines.reserve(records.size());
    std::vector<Anomaly> anomalies;
    {
      std::lock_guard<std::mutex> lock(mu);
      std::map<std::string, std::vector<LogRecord*>> groups;
      for (LogRecord& r : records) groups[r.labels.ToString()].push_back(&r);
      for (auto& [key, recs] : groups) {
        Stream* st = StreamFor(recs.front()->labels);
        if (st == nullptr) continue;
        size_t k = 0;
        while (!st->learned && k < recs.size()) {
          st->pending.push_back(std::move(*recs[k++]));
          if (st->pending.size() >= kLearnLines) LearnPending(st, now, &lines, &anomalies);
        }
        std::vector<const LogRecord*> rest(recs.begin() + static_cast<std::ptrdiff_t>(k), recs.end());
        if (!rest.empty()) MineLines(st, rest, now, &lines, &anomalies);
      }
    }
    StoreResults(lines, anomalies);
  }

  // Streams whose first lines waited long enough (or all, when forced).
  void LearnWaiting(bool force) {
    TimestampMs now = clock->NowMs();
    std::vector<StoredLogLine> lines;
    std::vector<Anomaly> anomalies;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& [k, st] : streams) {
        if (!st->learned && !st->pending.empty() && (force || now - st->first_seen_ms >= kLearnWaitMs)) {
          LearnPending(st.get(), now, &lines, &anomalies);
        }
      }
    }
    StoreResults(lines, anomalies);
  }

  void EmitIntervals(TimestampMs now) {
    WriteBatch batch;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& [k, st] : streams) {
        st->new_template_anomalies = 0;
        if (st->quiet_intervals.empty()) continue;
        // The busiest templates first, bounded per stream.
        std::vector<std::pair<uint64_t, uint32_t>> order;
        for (auto& [tid, quiet] : st->quiet_intervals) {
          auto c = st->counts.find(tid);
          order.emplace_back(c == st->counts.end() ? 0 : c->second, tid);
        }
        std::sort(order.rbegin(), order.rend());
        if (order.size() > cfg.max_template_series) order.resize(cfg.max_template_series);
        for (auto& [count, tid] : order) {
          uint32_t canonical = st->miner.Resolve(tid);
          if (canonical == 0) continue;
          TimeSeries& ts = batch.NextSeries();
          std::vector<Label> ls = st->labels.items();
          ls.push_back({"__name__", "vigil_log_template_lines"});
          ls.push_back({"template_id", std::to_string(canonical)});
          std::sort(ls.begin(), ls.end(), [](const Label& x, const Label& y) { return x.name < y.name; });
          ls.erase(std::unique(ls.begin(), ls.end(), [](const Label& x, const Label& y) { return x.name == y.name; }), ls.end());
          ts.labels = Labels::FromSorted(std::move(ls));
          ts.samples.assign(1, Sample{now, static_cast<double>(count)});
          ++batch.sample_count;
        }
        {
          TimeSeries& ts = batch.NextSeries();
          std::vector<Label> ls = st->labels.items();
          ls.push_back({"__name__", "vigil_log_error_lines"});
          std::sort(ls.begin(), ls.end(), [](const Label& x, const Label& y) { return x.name < y.name; });
          ls.erase(std::unique(ls.begin(), ls.end(), [](const Label& x, const Label& y) { return x.name == y.name; }), ls.end());
          ts.labels = Labels::FromSorted(std::move(ls));
          ts.samples.assign(1, Sample{now, static_cast<double>(st->errors)});
          ++batch.sample_count;
        }
        st->counts.clear();
        st->errors = 0;
        for (auto it = st->quiet_intervals.begin(); it != st->quiet_intervals.end();) {
          if (++it->second > kQuietIntervalsKept) it = st->quiet_intervals.erase(it);
          else ++it;
        }
      }
    }
    if (batch.series.empty()) return;
    Status s = sample_sink(&batch);
    if (!s.ok()) {
      samples_dropped.fetch_add(batch.sample_count);
      spdlog::warn("log count series dropped: {}", s.ToString());
    }
  }

  Result<LogSearchQuery> StoreQuery(const LogQuery& q) {
    LogSearchQuery s;
    if (Status st = BuildFtsQuery(q.text, &s.fts, &s.fts_exclude); !st.ok()) return st;
    s.from_ms = q.from_ms;
    s.to_ms = q.to_ms;
    s.limit = std::clamp<size_t>(q.limit, 1, 5000);
    if (!q.selector.empty()) {
      auto sel = SeriesSelector::Parse(q.selector);
      if (!sel.ok()) return sel.status().WithContext("selector");
      s.any_stream = false;
      std::lock_guard<std::mutex> lock(mu);
      for (auto& [k, st] : streams) {
        if (sel->Matches(st->labels)) s.streams.push_back(st->id);
      }
    }
    return s;
  }

  void Run() {
    std::vector<LogRecord> records;
    for (;;) {
      bool got = queue.Pop(&records, std::chrono::milliseconds(200));
      if (got) {
        Process(records);
        in_flight.fetch_sub(1);
      } else if (!running.load() && queue.used() == 0) {
        break;
      }
      // Counted in flight while it runs: it takes the waiting lines out of
      // their stream before it stores them, and Flush must not mistake that
      // moment (nothing pending, nothing queued) for the end of the work.
      in_flight.fetch_add(1);
      LearnWaiting(force_learn.exchange(false) || !running.load());
      in_flight.fetch_sub(1);
      TimestampMs now = clock->NowMs();
      if (now >= next_interval) {
        if (next_interval != 0) EmitIntervals(now);
        next_interval = now - now % cfg.count_interval_ms + cfg.count_interval_ms;
      }
      if (now >= next_persist) {
        Persist(false);
        next_persist = now + kPersistEveryMs;
      }
      if (now >= next_retention) {
        auto d = store->ApplyRetention(now - cfg.retention_ms, cfg.retention_bytes);
        if (d.ok()) retention_deleted.fetch_add(*d);
        else spdlog::error("log retention: {}", d.status().ToString());
        next_retention = now + kRetentionEveryMs;
      }
    }
    Persist(true);
  }
};

LogPipeline::LogPipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LogPipeline::~LogPipeline() { Stop(); }

Result<std::unique_ptr<LogPipeline>> LogPipeline::Open(const LogSettings& settings, const std::string& data_dir,
                                                       const Clock* clock, SampleSink samples, AnomalySink anomalies) {
  auto impl = std::make_unique<Impl>(settings, clock);
  impl->sample_sink = std::move(samples);
  impl->anomaly_sink = std::move(anomalies);
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  auto store = LogStore::Open((std::filesystem::path(data_dir) / "logs.db").string());
  if (!store.ok()) return store.status();
  impl->store = std::move(store).value();
  impl->Restore();
  return std::unique_ptr<LogPipeline>(new LogPipeline(std::move(impl)));
}

void LogPipeline::Start() {
  if (impl_->running.exchange(true)) return;
  impl_->worker = std::thread([this] { impl_->Run(); });
}

void LogPipeline::Stop() {
  if (!impl_ || !impl_->running.exchange(false)) return;
  impl_->queue.Close();
  if (impl_->worker.joinable()) impl_->worker.join();
}

Result<LogIngestOutcome> LogPipeline::Ingest(LogBatch* batch) {
  Impl& d = *impl_;
  LogIngestOutcome out;
  out.rejected = batch->rejected.size();
  for (size_t i = 0; i < batch->rejected.size() && i < 20; ++i) out.reasons.push_back(batch->rejected[i]);
  if (batch->rejected.size() > 20) out.reasons.push_back("... and " + std::to_string(batch->rejected.size() - 20) + " more");
  // Bounded streams: lines that would open a stream beyond logs.max_streams
  // are refused one by one (and counted), the rest goes on.
  {
    std::lock_guard<std::mutex> lock(d.mu);
    if (d.streams.size() + batch->records.size() > d.cfg.max_streams) {
      std::set<std::string> fresh;
      std::vector<LogRecord> kept;
      kept.reserve(batch->records.size());
      for (size_t i = 0; i < batch->records.size(); ++i) {
        std::string key = batch->records[i].labels.ToString();
        if (d.streams.count(key) || fresh.count(key) || d.streams.size() + fresh.size() < d.cfg.max_streams) {
          if (!d.streams.count(key)) fresh.insert(key);
          kept.push_back(std::move(batch->records[i]));
          continue;
        }
        ++out.rejected;
        d.stream_limit_hits.fetch_add(1);
        if (out.reasons.size() < 20) {
          out.reasons.push_back("record " + std::to_string(i) + ": stream limit reached (logs.max_streams=" +
                                std::to_string(d.cfg.max_streams) + ")");
        }
      }
      batch->records = std::move(kept);
    }
  }
  d.rejected.fetch_add(out.rejected);
  size_t n = batch->records.size();
  if (n == 0) return out;
  if (!d.queue.TryReserve(n)) {
    d.refused.fetch_add(1);
    return Status::ResourceExhausted("log queue is full (" + std::to_string(d.queue.used()) + " of " +
                                     std::to_string(d.queue.capacity()) + " lines queued); nothing from this request was "
                                     "applied, retry later");
  }
  d.in_flight.fetch_add(1);
  d.queue.PushReserved(std::move(batch->records), n);
  batch->records.clear();
  d.accepted.fetch_add(n);
  out.accepted = n;
  return out;
}

void LogPipeline::OnEvents(const std::vector<Event>& events) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (const Event& e : events) {
    if (e.kind != "deploy") continue;
    std::string service = ServiceOf(e.labels);
    TimestampMs& t = impl_->deploys[service];
    t = std::max(t, e.ts_ms > 0 ? e.ts_ms : impl_->clock->NowMs());
  }
}

void LogPipeline::Flush() {
  impl_->force_learn.store(true);
  for (int i = 0; i < 6000; ++i) {
    bool waiting = false;
    {
      std::lock_guard<std::mutex> lock(impl_->mu);
      for (auto& [k, st] : impl_->streams) waiting = waiting || !st->pending.empty();
    }
    if (waiting) impl_->force_learn.store(true);
    if (!waiting && impl_->queue.used() == 0 && impl_->in_flight.load() == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}


Result<std::vector<LogHit>> LogPipeline::Search(const LogQuery& q) {
  auto s = impl_->StoreQuery(q);
  if (!s.ok()) return s.status();
  auto rows = impl_->store->Search(*s);
  if (!rows.ok()) return rows.status();
  std::vector<LogHit> out;
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (auto& r : *rows) {
    LogHit h;
    h.id = r.id;
    h.ts_ms = r.ts_ms;
    h.severity = r.severity;
    h.seq = r.seq;
    h.line = std::move(r.line);
    auto st = impl_->by_id.find(r.stream);
    if (st != impl_->by_id.end()) {
      h.labels = st->second->labels;
      h.template_id = st->second->miner.Resolve(r.template_id);
      h.template_text = st->second->miner.TemplateText(r.template_id);
    }
    out.push_back(std::move(h));
  }
  return out;
}

Result<std::vector<LogHit>> LogPipeline::Context(int64_t id, int before, int after) {
  auto line = impl_->store->Get(id);
  if (!line.ok()) return line.status();
  before = std::clamp(before, 0, 1000);
  after = std::clamp(after, 0, 1000);
  auto rows = impl_->store->Range(line->stream, line->seq - before, line->seq + after);
  if (!rows.ok()) return rows.status();
  std::vector<LogHit> out;
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto st = impl_->by_id.find(line->stream);
  for (auto& r : *rows) {
    LogHit h;
    h.id = r.id;
    h.ts_ms = r.ts_ms;
    h.severity = r.severity;
    h.seq = r.seq;
    h.line = std::move(r.line);
    if (st != impl_->by_id.end()) {
      h.labels = st->second->labels;
      h.template_id = st->second->miner.Resolve(r.template_id);
      h.template_text = st->second->miner.TemplateText(r.template_id);
    }
    out.push_back(std::move(h));
  }
  return out;
}

Result<std::vector<LogStatsSeries>> LogPipeline::Stats(const LogQuery& q, TimestampMs step_ms, const std::string& by) {
  bool by_template = by.empty() || by == "template";
  std::string label;
  if (!by_template) {
    if (!by.starts_with("label:") || by.size() <= 6) {
      return Status::InvalidArgument("by: expected \"template\" or \"label:NAME\", got \"" + by + "\"");
    }
    label = by.substr(6);
  }
  if (step_ms < 1000) return Status::InvalidArgument("step must be at least 1s");
  auto s = impl_->StoreQuery(q);
  if (!s.ok()) return s.status();
  if (s->to_ms != INT64_MAX && s->from_ms > 0 && (s->to_ms - s->from_ms) / step_ms > 11000) {
    return Status::InvalidArgument("too many buckets: at most 11000 (raise step)");
  }
  auto rows = impl_->store->Counts(*s, step_ms);
  if (!rows.ok()) return rows.status();
  std::map<std::string, LogStatsSeries> series;
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (const auto& r : *rows) {
    auto st = impl_->by_id.find(r.stream);
    std::string key;
    uint32_t tid = 0;
    if (by_template) {
      if (st != impl_->by_id.end()) {
        tid = st->second->miner.Resolve(r.template_id);
        key = st->second->miner.TemplateText(r.template_id);
      }
    } else if (st != impl_->by_id.end()) {
      key = std::string(st->second->labels.Get(label));
    }
    LogStatsSeries& out = series[key];
    out.key = key;
    out.template_id = tid;
    if (!out.buckets.empty() && out.buckets.back().first == r.bucket_ms) out.buckets.back().second += r.count;
    else out.buckets.emplace_back(r.bucket_ms, r.count);
    out.total += r.count;
  }
  std::vector<LogStatsSeries> out;
  for (auto& [k, v] : series) out.push_back(std::move(v));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.total > b.total; });
  return out;
}

std::vector<LogTemplateInfo> LogPipeline::Templates(const std::string& selector, size_t limit) {
  std::vector<LogTemplateInfo> out;
  std::optional<SeriesSelector> sel;
  if (!selector.empty()) {
    auto p = SeriesSelector::Parse(selector);
    if (p.ok()) sel = std::move(p).value();
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (auto& [k, st] : impl_->streams) {
    if (sel && !sel->Matches(st->labels)) continue;
    for (auto& t : st->miner.Templates()) out.push_back({st->labels, t.id, t.text, t.count});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.count > b.count; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

LogPipelineStats LogPipeline::stats() const {
  const Impl& d = *impl_;
  LogPipelineStats s;
  s.lines_accepted = d.accepted.load();
  s.lines_rejected = d.rejected.load();
  s.requests_refused_full = d.refused.load();
  s.new_template_anomalies = d.new_templates.load();
  s.lines_stored = d.stored.load();
  s.retention_deleted = d.retention_deleted.load();
  s.store_errors = d.store_errors.load();
  s.samples_dropped = d.samples_dropped.load();
  std::lock_guard<std::mutex> lock(d.mu);
  s.streams = d.streams.size();
  for (auto& [k, st] : d.streams) s.templates += st->miner.Templates().size();
  return s;
}

void LogPipeline::RenderMetrics(std::string* out) const {
  LogPipelineStats s = stats();
  auto line = [&](const char* name, const char* type, const char* help, uint64_t v) {
    *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
            std::to_string(v) + "\n";
  };
  line("vigil_log_lines_accepted_total", "counter", "Log lines accepted for mining and storage.", s.lines_accepted);
  line("vigil_log_lines_rejected_total", "counter", "Log lines refused by the decoders (bad UTF-8, NUL, too long, ...).", s.lines_rejected);
  line("vigil_log_requests_refused_full_total", "counter", "Log pushes answered 503 because the log queue was full.", s.requests_refused_full);
  line("vigil_log_lines_stored_total", "counter", "Log lines written to the log store.", s.lines_stored);
  line("vigil_log_new_template_anomalies_total", "counter", "New-template anomalies raised.", s.new_template_anomalies);
  line("vigil_log_streams", "gauge", "Log streams known.", s.streams);
  line("vigil_log_templates", "gauge", "Log templates known across streams.", s.templates);
  line("vigil_log_retention_deleted_total", "counter", "Log lines removed by retention.", s.retention_deleted);
  line("vigil_log_store_errors_total", "counter", "Log store write failures.", s.store_errors);
  line("vigil_log_queue_depth", "gauge", "Log lines waiting to be mined.", impl_->queue.used());
  line("vigil_log_stream_limit_hits_total", "counter", "Log lines refused because logs.max_streams was reached.",
       impl_->stream_limit_hits.load());
}

}  // namespace vigil
