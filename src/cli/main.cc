// vigil: the daemon (`vigil serve`) and the command-line tools.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace vigil {

void AddVersionCommand(CommandContext& ctx) {
  auto* version = ctx.root->add_subcommand("version", "Print the version");
  version->callback([] { std::printf("vigil %s\n", VIGIL_VERSION); });
}

}  // namespace vigil

int main(int argc, char** argv) {
  CLI::App app{"vigil: streaming anomaly detection, incidents and notification for metrics"};
  app.require_subcommand(1);
  app.footer("Run `vigil SUBCOMMAND --help` for the flags of one subcommand.");

  vigil::CommandContext ctx;
  ctx.root = &app;
  ctx.eval = app.add_subcommand("eval", "Score vigil's algorithms on public datasets (see docs/)");
  ctx.eval->require_subcommand(1);

  // One line per subcommand, in the order of `vigil --help`.
  vigil::AddServeCommand(ctx);
  vigil::AddLogsCommand(ctx);
  vigil::AddEvalLoghubCommand(ctx);
  vigil::AddSimCommand(ctx);
  vigil::AddBenchCommand(ctx);
  vigil::AddDetectCommand(ctx);
  vigil::AddEvalKpiCommands(ctx);
  vigil::AddVersionCommand(ctx);
  vigil::AddForecastCommand(ctx);
  vigil::AddEvalStormsCommand(ctx);
  vigil::AddEvalSmdCommand(ctx);
  vigil::AddRcaCommand(ctx);
  vigil::AddRcaCasesCommands(ctx);
  vigil::AddTracesCommand(ctx);

  CLI11_PARSE(app, argc, argv);
  return ctx.exit_code;
}
