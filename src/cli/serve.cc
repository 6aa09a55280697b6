#include "cli/serve.h"

#include "cli/commands.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <memory>

#include <CLI/CLI.hpp>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "server/api.h"
#include "server/http_server.h"
#include "server/syslog_listener.h"

namespace vigil {

namespace {

Result<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("listen address \"" + listen + "\" must be host:port, e.g. 127.0.0.1:8080");
  }
  std::string host = listen.substr(0, colon);
  if (host.empty()) host = "0.0.0.0";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1) port = -1;
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    return Status::InvalidArgument("listen address \"" + listen + "\" has an invalid port");
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

// The later of the wall clock and the newest sample accepted (--clock data).
class DataClock final : public Clock {
 public:
  void Follow(const EngineStats* stats) { stats_.store(stats); }
  TimestampMs NowMs() const override {
    TimestampMs wall = wall_.NowMs();
    const EngineStats* s = stats_.load();
    return s ? std::max(wall, s->newest_sample_ms.load(std::memory_order_relaxed)) : wall;
  }

 private:
  RealClock wall_;
  std::atomic<const EngineStats*> stats_{nullptr};
};

}  // namespace

int RunServe(const ServeFlags& flags) {
  spdlog::set_level(spdlog::level::from_str(flags.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  ServeConfig cfg;
  if (!flags.config_path.empty()) {
    auto loaded = LoadServeConfig(flags.config_path);
    if (!loaded.ok()) {
      spdlog::error("{}", loaded.status().message());
      return 2;
    }
    cfg = std::move(*loaded);
  }
  if (!flags.listen.empty()) cfg.listen = flags.listen;
  if (!flags.data_dir.empty()) cfg.data_dir = flags.data_dir;
  auto hp = SplitHostPort(cfg.listen);
  if (!hp.ok()) {
    spdlog::error("{}", hp.status().message());
    return 2;
  }

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  if (flags.clock != "wall" && flags.clock != "data") {
    spdlog::error("--clock must be wall or data, got \"{}\"", flags.clock);
    return 2;
  }
  RealClock wall_clock;
  DataClock data_clock;
  const Clock* clock = flags.clock == "data" ? static_cast<const Clock*>(&data_clock) : &wall_clock;
  auto engine = Engine::Open(cfg, clock);
  if (!engine.ok()) {
    spdlog::error("cannot open the store in \"{}\": {}", cfg.data_dir, engine.status().message());
    return 1;
  }
  data_clock.Follow(&(*engine)->stats());
  Status s = (*engine)->Start();
  if (!s.ok()) {
    spdlog::error("cannot start: {}", s.message());
    return 1;
  }
  ApiRouter router(engine->get());
  HttpServer server;
  HttpServerOptions opts;
  opts.address = hp->first;
  opts.port = hp->second;
  opts.threads = cfg.http_threads > 0 ? cfg.http_threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  opts.max_body_bytes = cfg.limits.max_body_bytes;
  s = server.Start(opts, [&router](const HttpRequest& req, HttpResponse& res) { router.Handle(req, res); });
  if (!s.ok()) {
    spdlog::error("{}", s.message());
    (*engine)->Stop();
    return 1;
  }
  spdlog::info("vigil {} listening on http://{}:{} (data in {})", VIGIL_VERSION, opts.address, server.port(),
               cfg.data_dir);
  std::unique_ptr<SyslogListener> syslog;
  if (!cfg.logs.syslog_udp.empty() || !cfg.logs.syslog_tcp.empty()) {
    auto l = SyslogListener::Start(engine->get(), cfg.logs.syslog_udp, cfg.logs.syslog_tcp);
    if (!l.ok()) {
      spdlog::error("{}", l.status().message());
      server.Stop();
      (*engine)->Stop();
      return 1;
    }
    syslog = std::move(l).value();
    spdlog::info("syslog on udp port {} and tcp port {} (0 = off)", syslog->udp_port(), syslog->tcp_port());
  }

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("signal {} received: stopping", sig);
  if (syslog) syslog->Stop();
  server.Stop();
  (*engine)->Stop();
  spdlog::info("stopped cleanly");
  return 0;
}

void AddServeCommand(CommandContext& ctx) {
  auto flags = std::make_shared<ServeFlags>();
  auto* serve = ctx.root->add_subcommand("serve", "Run the daemon: ingest, detect, open incidents, notify");
  serve->add_option("--config", flags->config_path, "YAML config file (every key optional)");
  serve->add_option("--listen", flags->listen, "Address to listen on, host:port (default 127.0.0.1:8080)");
  serve->add_option("--data-dir", flags->data_dir, "Directory of the embedded store (default ./vigil-data)");
  serve->add_option("--log-level", flags->log_level, "trace, debug, info, warn, error")->default_val("info");
  serve->add_option("--clock", flags->clock,
                    "wall, or data: incidents age by the newest sample time when it is ahead of the wall clock "
                    "(replays, accelerated simulations)")
      ->default_val("wall");
  serve->callback([flags, &ctx] { ctx.exit_code = RunServe(*flags); });
}

}  // namespace vigil
