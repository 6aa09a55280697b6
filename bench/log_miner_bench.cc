// log_miner_bench: end-to-end template mining speed on one core.
//
// Builds a corpus of --lines lines (default 2,000,000) from the 16 Loghub-2k
// systems: each sample file is repeated with every digit re-drawn at random
// (seeded), so numbers, addresses and ids differ from copy to copy and no two
// copies are byte-identical. Each system is one stream with its own header
// layout (learned from its first 200 lines) and its own miner, as in the
// engine. The timed loop is raw line -> header split -> mask -> template id,
// single-threaded. Prints lines/s, bytes/s and peak memory, and writes the
// figures as JSON (--out) so bench/log_miner_compare.sh can put two builds
// side by side on the same corpus.
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "logs/header.h"
#include "logs/template_miner.h"

namespace {

namespace fs = std::filesystem;
using vigil::logs::HeaderSplitter;
using vigil::logs::TemplateMiner;

long PeakRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

long CurrentRssKb() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * 4;
}

struct Stream {
  std::string name;
  std::vector<std::string> lines;
};

}  // namespace

int main(int argc, char** argv) {
  std::string data = VIGIL_SHARED_DATA "/loghub-2k";
  size_t target = 2000000;
  std::string out_path, corpus_path;
  std::string label = "vigil";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--data") data = next();
    else if (a == "--lines") target = std::stoul(next());
    else if (a == "--out") out_path = next();
    else if (a == "--corpus") corpus_path = next();
    else if (a == "--label") label = next();
    else {
      std::fprintf(stderr, "usage: log_miner_bench [--data DIR] [--lines N] [--out FILE.json] [--corpus FILE] [--label NAME]\n");
      return 2;
    }
  }
  std::vector<Stream> streams;
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(data)) {
    if (e.is_directory()) dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());
  std::vector<std::vector<std::string>> samples;
  for (const auto& d : dirs) {
    std::ifstream in(d / (d.filename().string() + "_2k.log"));
    if (!in) continue;
    std::vector<std::string> lines;
    std::string l;
    while (std::getline(in, l)) lines.push_back(l);
    streams.push_back({d.filename().string(), {}});
    samples.push_back(std::move(lines));
  }
  if (streams.empty()) {
    std::fprintf(stderr, "log_miner_bench: no <S>/<S>_2k.log under %s\n", data.c_str());
    return 2;
  }
  std::mt19937_64 rng(20240917);
  size_t per_stream = target / streams.size() + 1;
  size_t total_lines = 0, total_bytes = 0;
  for (size_t s = 0; s < streams.size(); ++s) {
    const auto& sample = samples[s];
    auto& lines = streams[s].lines;
    lines.reserve(per_stream);
    for (size_t copy = 0; lines.size() < per_stream; ++copy) {
      for (size_t k = 0; k < sample.size() && lines.size() < per_stream; ++k) {
        std::string l = sample[k];
        if (copy > 0) {
          for (char& c : l) {
            if (c >= '0' && c <= '9') c = static_cast<char>('0' + (rng() >> 59) % 10);
          }
        }
        total_bytes += l.size() + 1;
        lines.push_back(std::move(l));
      }
    }
    total_lines += lines.size();
  }
  if (!corpus_path.empty()) {
    std::ofstream c(corpus_path);
    for (const auto& s : streams) {
      for (const auto& l : s.lines) c << l << '\n';
    }
  }
  long rss_before = CurrentRssKb();

  std::vector<TemplateMiner> miners(streams.size());
  std::vector<HeaderSplitter> splitters(streams.size());
  for (size_t s = 0; s < streams.size(); ++s) {
    std::vector<std::string_view> head(streams[s].lines.begin(), streams[s].lines.begin() + 200);
    splitters[s].Learn(head);
  }
  uint64_t checksum = 0;
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  };
  double cpu0 = cpu_now();
  auto t0 = std::chrono::steady_clock::now();
  // Streams are interleaved in blocks of 1,000 lines, as a server sees them.
  constexpr size_t kBlock = 1000;
  for (size_t base = 0; base < per_stream; base += kBlock) {
    for (size_t s = 0; s < streams.size(); ++s) {
      const auto& lines = streams[s].lines;
      size_t end = std::min(lines.size(), base + kBlock);
      for (size_t k = base; k < end; ++k) {
        checksum += miners[s].Add(splitters[s].Split(lines[k]).message).id;
      }
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // CPU time of this thread: on a shared machine the wall clock also counts
  // the time other processes had the core.
  double cpu_secs = cpu_now() - cpu0;
  long rss_after = CurrentRssKb();
  size_t templates = 0;
  for (const auto& m : miners) templates += m.Templates().size();

  double lps = static_cast<double>(total_lines) / secs;
  double bps = static_cast<double>(total_bytes) / secs;
  double cpu_lps = static_cast<double>(total_lines) / cpu_secs;
  double cpu_bps = static_cast<double>(total_bytes) / cpu_secs;
  std::printf("%s: %zu lines (%.1f MB) from %zu streams in %.3f s wall, %.3f s CPU\n", label.c_str(), total_lines,
              total_bytes / 1e6, streams.size(), secs, cpu_secs);
  std::printf("  lines/s        %12.0f wall   %12.0f per CPU second\n", lps, cpu_lps);
  std::printf("  bytes/s        %12.0f wall   %12.0f per CPU second (%.1f MB/s)\n", bps, cpu_bps, cpu_bps / 1e6);
  std::printf("  peak RSS       %9ld kB (corpus in memory: %ld kB; miner state: %ld kB)\n", PeakRssKb(), rss_before,
              rss_after - rss_before);
  std::printf("  templates      %9zu   checksum %llu\n", templates, static_cast<unsigned long long>(checksum));
  if (!out_path.empty()) {
    std::ofstream o(out_path);
    o << "{\"label\":\"" << label << "\",\"lines\":" << total_lines << ",\"bytes\":" << total_bytes
      << ",\"seconds\":" << secs << ",\"cpu_seconds\":" << cpu_secs << ",\"lines_per_s\":" << lps
      << ",\"bytes_per_s\":" << bps << ",\"lines_per_cpu_s\":" << cpu_lps << ",\"bytes_per_cpu_s\":" << cpu_bps
      << ",\"peak_rss_kb\":" << PeakRssKb() << ",\"miner_state_kb\":" << (rss_after - rss_before)
      << ",\"templates\":" << templates << "}\n";
  }
  return 0;
}
