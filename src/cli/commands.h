// The subcommands of the `vigil` binary. Each lives in its own file and is
// added to the command tree by one call in main.cc; a command runs from its
// CLI11 callback and stores the process exit code in ctx.exit_code.
#pragma once

namespace CLI {
class App;
}

namespace vigil {

struct CommandContext {
  CLI::App* root = nullptr;  // `vigil`
  CLI::App* eval = nullptr;  // `vigil eval` (scorers on public datasets)
  int exit_code = 0;
};

void AddServeCommand(CommandContext& ctx);    // serve.cc
void AddVersionCommand(CommandContext& ctx);  // main.cc
void AddForecastCommand(CommandContext& ctx);  // forecast.cc: forecast, eval forecast
void AddLogsCommand(CommandContext& ctx);     // logs.cc
void AddEvalLoghubCommand(CommandContext& ctx);  // eval_loghub.cc
void AddSimCommand(CommandContext& ctx);      // sim.cc
void AddBenchCommand(CommandContext& ctx);    // bench_e2e.cc
void AddDetectCommand(CommandContext& ctx);   // detect.cc
void AddEvalKpiCommands(CommandContext& ctx); // eval_kpi.cc: `eval nab`, `eval kpi`
void AddEvalStormsCommand(CommandContext& ctx);  // eval_storms.cc
void AddEvalSmdCommand(CommandContext& ctx);   // eval_smd.cc: eval smd
void AddRcaCommand(CommandContext& ctx);      // rca.cc: rca multidim, eval multidim
void AddRcaCasesCommands(CommandContext& ctx);  // rca_cases.cc: rca DIR, eval rca (after AddRcaCommand)
void AddTracesCommand(CommandContext& ctx);   // traces.cc: traces topology

}  // namespace vigil
