// vigil: the daemon (`vigil serve`) and the command-line tools.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/serve.h"

int main(int argc, char** argv) {
  CLI::App app{"vigil: streaming anomaly detection, incidents and notification for metrics"};
  app.require_subcommand(1);
  app.footer("Run `vigil SUBCOMMAND --help` for the flags of one subcommand.");

  vigil::ServeFlags serve_flags;
  auto* serve = app.add_subcommand("serve", "Run the daemon: ingest, detect, open incidents, notify");
  serve->add_option("--config", serve_flags.config_path, "YAML config file (every key optional)");
  serve->add_option("--listen", serve_flags.listen, "Address to listen on, host:port (default 127.0.0.1:8080)");
  serve->add_option("--data-dir", serve_flags.data_dir, "Directory of the embedded store (default ./vigil-data)");
  serve->add_option("--log-level", serve_flags.log_level, "trace, debug, info, warn, error")->default_val("info");

  auto* version = app.add_subcommand("version", "Print the version");

  CLI11_PARSE(app, argc, argv);

  if (version->parsed()) {
    std::printf("vigil %s\n", VIGIL_VERSION);
    return 0;
  }
  if (serve->parsed()) return vigil::RunServe(serve_flags);
  return 0;
}
