// ingest_loadgen: drives a Prometheus remote_write receiver the way Prometheus
// does, and reports how many samples it accepted per second.
//
// The workload imitates a fleet of node_exporter targets scraped every
// --interval-ms: --series series (about 100 metric names, with instance, job,
// cpu, mode, device, le labels), one scrape round per interval, 500 samples
// per request with one TimeSeries per sample (what Prometheus 2.42 sends).
// Every request is encoded before the clock starts, so the figures measure the
// receiver, not the encoder. Requests are sharded over --connections
// keep-alive connections by series block, so each series' samples arrive in
// time order, as with Prometheus' own sharding.
//
// A 2xx reply counts the request's samples as accepted; 429 and 503 are
// retried after a short sleep (the receiver asked for backpressure); any other
// reply or a transport error counts as an error and the request is dropped.
//
// Prints one JSON object:
//   {"samples":..., "seconds":..., "samples_per_s":..., "errors":..., ...}
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/labels.h"
#include "core/sample.h"
#include "ingest/remote_write.h"

namespace {

struct Options {
  std::string url;
  int series = 20000;
  int per_request = 500;
  int connections = 4;
  int rounds = 200;  // scrape rounds encoded up front
  int64_t interval_ms = 1000;
  double duration_s = 30;  // stop sending after this long, even if rounds remain
  int64_t end_ms = 0;      // timestamp of the last round; 0 = now
  int first_round = 0;     // value index of the first round (continue an earlier run's counters)
  bool quiet = false;
};

void Usage() {
  std::fprintf(stderr,
               "usage: ingest_loadgen --url URL [--series N] [--per-request N] [--connections K]\n"
               "                      [--rounds R] [--interval-ms MS] [--duration S] [--end-ms T]\n"
               "                      [--first-round F] [--quiet]\n"
               "  Sends R scrape rounds of N node_exporter-like series (N*R samples) as remote_write\n"
               "  requests of --per-request samples over K keep-alive connections; stops after S seconds\n"
               "  if not done. The last round is stamped T (default now); values continue from round F\n"
               "  (so a second run can follow a first one without counter resets).\n"
               "  Prints JSON: samples, seconds, samples_per_s, errors.\n");
}

bool ParseOptions(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](const char* what) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "ingest_loadgen: %s needs a value\n", what);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--url") o->url = next("--url");
    else if (a == "--series") o->series = std::atoi(next("--series"));
    else if (a == "--per-request") o->per_request = std::atoi(next("--per-request"));
    else if (a == "--connections") o->connections = std::atoi(next("--connections"));
    else if (a == "--rounds") o->rounds = std::atoi(next("--rounds"));
    else if (a == "--interval-ms") o->interval_ms = std::atoll(next("--interval-ms"));
    else if (a == "--duration") o->duration_s = std::atof(next("--duration"));
    else if (a == "--end-ms") o->end_ms = std::atoll(next("--end-ms"));
    else if (a == "--first-round") o->first_round = std::atoi(next("--first-round"));
    else if (a == "--quiet") o->quiet = true;
    else if (a == "-h" || a == "--help") {
      Usage();
      std::exit(0);
    } else {
      std::fprintf(stderr, "ingest_loadgen: unknown argument %s\n", a.c_str());
      return false;
    }
  }
  if (o->url.empty() || o->series <= 0 || o->per_request <= 0 || o->connections <= 0 || o->rounds <= 0) {
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- workload

// How a metric's series differ within one target.
enum class Shape { kPerCpu, kPerDevice, kPerBucket };

struct Metric {
  std::string name;
  Shape shape;
  bool counter;
};

// Counters by Prometheus naming convention; the rest is generated as gauges.
bool IsCounterName(const char* n) {
  const std::string_view s(n);
  for (std::string_view suffix : {"_total", "_bucket", "_count", "_sum"}) {
    if (s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix) return true;
  }
  return false;
}

// About 100 metric names in the proportions node_exporter has them.
std::vector<Metric> MetricCatalog() {
  std::vector<Metric> m;
  const char* per_cpu[] = {"node_cpu_seconds_total", "node_cpu_guest_seconds_total",
                           "node_schedstat_running_seconds_total", "node_schedstat_waiting_seconds_total",
                           "node_schedstat_timeslices_total", "node_softnet_processed_total",
                           "node_softnet_dropped_total", "node_softnet_times_squeezed_total",
                           "node_cpu_scaling_frequency_hertz", "node_cpu_frequency_max_hertz"};
  for (const char* n : per_cpu) m.push_back({n, Shape::kPerCpu, IsCounterName(n)});
  const char* per_device[] = {
      "node_disk_read_bytes_total", "node_disk_written_bytes_total", "node_disk_reads_completed_total",
      "node_disk_writes_completed_total", "node_disk_io_time_seconds_total", "node_disk_read_time_seconds_total",
      "node_disk_write_time_seconds_total", "node_disk_io_now", "node_disk_discards_completed_total",
      "node_disk_flush_requests_total", "node_network_receive_bytes_total", "node_network_transmit_bytes_total",
      "node_network_receive_packets_total", "node_network_transmit_packets_total",
      "node_network_receive_errs_total", "node_network_transmit_errs_total", "node_network_receive_drop_total",
      "node_network_transmit_drop_total", "node_network_up", "node_network_mtu_bytes",
      "node_network_speed_bytes", "node_network_carrier", "node_filesystem_avail_bytes",
      "node_filesystem_free_bytes", "node_filesystem_size_bytes", "node_filesystem_files",
      "node_filesystem_files_free", "node_filesystem_readonly", "node_hwmon_temp_celsius",
      "node_hwmon_temp_max_celsius"};
  for (const char* n : per_device) m.push_back({n, Shape::kPerDevice, IsCounterName(n)});
  const char* gauges[] = {"node_load1", "node_load5", "node_load15", "node_memory_MemTotal_bytes",
                          "node_memory_MemFree_bytes", "node_memory_MemAvailable_bytes", "node_memory_Buffers_bytes",
                          "node_memory_Cached_bytes", "node_memory_Active_bytes", "node_memory_Inactive_bytes",
                          "node_memory_Dirty_bytes", "node_memory_Slab_bytes", "node_memory_Shmem_bytes",
                          "node_memory_SwapFree_bytes", "node_memory_Committed_AS_bytes", "node_procs_running",
                          "node_procs_blocked", "node_entropy_available_bits", "node_filefd_allocated",
                          "node_sockstat_TCP_inuse", "node_sockstat_TCP_tw", "node_sockstat_UDP_inuse",
                          "node_netstat_Tcp_CurrEstab", "node_nf_conntrack_entries", "node_timex_offset_seconds",
                          "node_boot_time_seconds", "node_time_seconds", "node_pressure_cpu_waiting_seconds_total",
                          "node_pressure_io_stalled_seconds_total", "node_pressure_memory_stalled_seconds_total",
                          "node_context_switches_total", "node_intr_total", "node_forks_total",
                          "node_vmstat_pgfault", "node_vmstat_pgmajfault", "node_vmstat_pgpgin",
                          "node_vmstat_pgpgout", "node_vmstat_pswpin", "node_vmstat_pswpout",
                          "node_netstat_Tcp_InSegs"};
  for (const char* n : gauges) m.push_back({n, Shape::kPerBucket, IsCounterName(n)});
  const char* histograms[] = {"go_gc_duration_seconds", "promhttp_metric_handler_request_duration_seconds_bucket",
                              "node_scrape_collector_duration_seconds", "process_cpu_seconds_total",
                              "process_resident_memory_bytes", "process_open_fds", "go_goroutines",
                              "go_memstats_alloc_bytes", "go_memstats_heap_inuse_bytes",
                              "node_scrape_collector_success", "http_request_duration_seconds_bucket",
                              "http_requests_total", "node_textfile_scrape_error", "node_exporter_build_info",
                              "node_os_info", "node_uname_info", "node_dmi_info", "node_selinux_enabled",
                              "node_systemd_units", "node_rapl_package_joules_total"};
  for (const char* n : histograms) m.push_back({n, Shape::kPerBucket, IsCounterName(n)});
  return m;
}

constexpr int kPerMetricPerTarget = 10;  // series of one metric on one target

// Label set of series `i` (0 <= i < series): target i / (metrics * 10), then
// metric, then the metric's k-th series on that target.
vigil::Labels SeriesLabels(const std::vector<Metric>& catalog, int i) {
  static const char* kModes[] = {"idle", "user", "system", "iowait", "irq", "softirq", "steal", "nice"};
  static const char* kDevices[] = {"sda", "sdb", "nvme0n1", "nvme1n1", "dm-0", "eth0", "eth1", "lo", "docker0", "bond0"};
  static const char* kBuckets[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"};
  const int per_target = static_cast<int>(catalog.size()) * kPerMetricPerTarget;
  const int target = i / per_target;
  const int j = i % per_target;
  const Metric& m = catalog[j % catalog.size()];
  const int k = j / static_cast<int>(catalog.size());
  std::vector<vigil::Label> l;
  l.push_back({"__name__", m.name});
  char inst[64];
  std::snprintf(inst, sizeof inst, "10.%d.%d.%d:9100", (target >> 16) & 255, (target >> 8) & 255, target & 255);
  l.push_back({"instance", inst});
  l.push_back({"job", "node"});
  switch (m.shape) {
    case Shape::kPerCpu:
      l.push_back({"cpu", std::to_string(k)});
      l.push_back({"mode", kModes[(k * 3) % 8]});
      break;
    case Shape::kPerDevice:
      l.push_back({"device", kDevices[k]});
      break;
    case Shape::kPerBucket:
      l.push_back({"le", kBuckets[k]});
      break;
  }
  return vigil::Labels::FromSorted(std::move(l));
}

// Deterministic per-series value stream: counters rise at a per-series rate
// with jitter, gauges wander around a per-series level.
double SeriesValue(bool counter, uint64_t series_seed, int round) {
  uint64_t x = series_seed * 6364136223846793005ULL + static_cast<uint64_t>(round) * 1442695040888963407ULL;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  const double jitter = static_cast<double>(x % 1000) / 1000.0;  // [0, 1)
  const double level = 1.0 + static_cast<double>(series_seed % 997);
  // the step per round is level * 0.1 + 1 + (jitter difference in (-1, 1)): always positive,
  // so the counter never looks reset
  if (counter) return level * 1000.0 + round * (level * 0.1 + 1.0) + jitter;
  return level * (1.0 + 0.02 * (jitter - 0.5));
}

struct Request {
  std::string body;
  int samples = 0;
};

// requests[round * blocks + block]: block b of a round holds series
// [b * per_request, (b + 1) * per_request), one TimeSeries per sample.
std::vector<Request> EncodeAll(const Options& o, int* blocks_out) {
  const auto catalog = MetricCatalog();
  std::vector<vigil::Labels> labels;
  labels.reserve(o.series);
  for (int i = 0; i < o.series; ++i) labels.push_back(SeriesLabels(catalog, i));
  const int blocks = (o.series + o.per_request - 1) / o.per_request;
  *blocks_out = blocks;
  const int64_t end_ms = o.end_ms ? o.end_ms
                                  : std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();
  const int64_t start_ms = end_ms - static_cast<int64_t>(o.rounds - 1) * o.interval_ms;
  std::vector<Request> out(static_cast<size_t>(o.rounds) * blocks);
  std::vector<vigil::TimeSeries> ts;
  for (int r = 0; r < o.rounds; ++r) {
    const int64_t t = start_ms + r * o.interval_ms;
    for (int b = 0; b < blocks; ++b) {
      ts.clear();
      const int lo = b * o.per_request;
      const int hi = std::min(o.series, lo + o.per_request);
      for (int i = lo; i < hi; ++i) {
        const Metric& m = catalog[(i % (catalog.size() * kPerMetricPerTarget)) % catalog.size()];
        ts.push_back({labels[i], {{t, SeriesValue(m.counter, static_cast<uint64_t>(i) + 1, o.first_round + r)}}});
      }
      Request& req = out[static_cast<size_t>(r) * blocks + b];
      req.body = vigil::EncodeRemoteWrite(ts);
      req.samples = hi - lo;
    }
  }
  return out;
}

// ---------------------------------------------------------------- sending

struct Totals {
  std::atomic<int64_t> samples{0};
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> errors{0};
  std::atomic<int64_t> retries{0};
  std::atomic<int64_t> bytes{0};
  std::atomic<int> last_error_status{0};
};

size_t Discard(char*, size_t size, size_t nmemb, void*) { return size * nmemb; }

// One connection: sends the blocks b with b % connections == shard, round by round.
void SendShard(const Options& o, const std::vector<Request>& reqs, int blocks, int shard,
               std::chrono::steady_clock::time_point deadline, Totals* totals) {
  CURL* h = curl_easy_init();
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Encoding: snappy");
  headers = curl_slist_append(headers, "Content-Type: application/x-protobuf");
  headers = curl_slist_append(headers, "X-Prometheus-Remote-Write-Version: 0.1.0");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(h, CURLOPT_URL, o.url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "vigil-ingest-loadgen");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  for (int r = 0; r < o.rounds; ++r) {
    for (int b = shard; b < blocks; b += o.connections) {
      const Request& req = reqs[static_cast<size_t>(r) * blocks + b];
      for (int attempt = 0;; ++attempt) {
        if (std::chrono::steady_clock::now() >= deadline) goto done;
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
        const CURLcode rc = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        totals->requests.fetch_add(1, std::memory_order_relaxed);
        if (rc == CURLE_OK && status >= 200 && status < 300) {
          totals->samples.fetch_add(req.samples, std::memory_order_relaxed);
          totals->bytes.fetch_add(static_cast<int64_t>(req.body.size()), std::memory_order_relaxed);
          break;
        }
        if (rc == CURLE_OK && (status == 429 || status == 503) && attempt < 1000) {
          totals->retries.fetch_add(1, std::memory_order_relaxed);
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          continue;
        }
        totals->errors.fetch_add(1, std::memory_order_relaxed);
        totals->last_error_status.store(rc == CURLE_OK ? static_cast<int>(status) : -static_cast<int>(rc));
        if (rc != CURLE_OK) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        break;
      }
    }
  }
done:
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseOptions(argc, argv, &o)) {
    Usage();
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);

  const auto enc_start = std::chrono::steady_clock::now();
  int blocks = 0;
  const std::vector<Request> reqs = EncodeAll(o, &blocks);
  size_t encoded_bytes = 0;
  for (const Request& r : reqs) encoded_bytes += r.body.size();
  const double enc_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - enc_start).count();
  if (!o.quiet) {
    std::fprintf(stderr, "ingest_loadgen: encoded %zu requests (%d series x %d rounds, %.1f MB) in %.1fs\n",
                 reqs.size(), o.series, o.rounds, encoded_bytes / 1e6, enc_s);
  }

  Totals totals;
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::duration<double>(o.duration_s));
  std::vector<std::thread> threads;
  const int conns = std::min(o.connections, blocks);
  Options eff = o;
  eff.connections = conns;
  for (int k = 0; k < conns; ++k) {
    threads.emplace_back(SendShard, std::cref(eff), std::cref(reqs), blocks, k, deadline, &totals);
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int64_t samples = totals.samples.load();
  const int64_t total_samples = static_cast<int64_t>(o.series) * o.rounds;

  std::printf(
      "{\"samples\":%" PRId64 ",\"seconds\":%.3f,\"samples_per_s\":%.0f,\"errors\":%" PRId64
      ",\"requests\":%" PRId64 ",\"retries\":%" PRId64 ",\"last_error_status\":%d,\"bytes\":%" PRId64
      ",\"connections\":%d,\"series\":%d,\"rounds\":%d,\"planned_samples\":%" PRId64 ",\"complete\":%s}\n",
      samples, seconds, seconds > 0 ? samples / seconds : 0.0, totals.errors.load(), totals.requests.load(),
      totals.retries.load(), totals.last_error_status.load(), totals.bytes.load(), conns, o.series, o.rounds,
      total_samples, samples == total_samples ? "true" : "false");
  curl_global_cleanup();
  return totals.errors.load() == 0 ? 0 : 1;
}
