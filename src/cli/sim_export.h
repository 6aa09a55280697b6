// `vigil sim --export-cases DIR`: the simulator's scenario suite written as
// Nezha-layout case directories (see rca/nezha_cases.h), one fault per
// one-hour slot, fault-free stretches on their own day (the normal period).
#pragma once

#include <string>

#include "core/sample.h"
#include "core/status.h"

namespace vigil {

struct ExportCasesOptions {
  std::string dir;
  std::string only;          // comma-separated scenario id prefixes ("" = the whole suite)
  int traces_per_step = 3;   // sampled traces per 10 s step
  // Added to every scenario's seed: another draw of the same suite (same
  // faults and topologies, other noise, pod names and routine events), for
  // checking that nothing was tuned to one draw.
  uint64_t seed_offset = 0;
  // Start of the first day (UTC midnight); fixed so exports are identical
  // from run to run.
  TimestampMs start_ms = 1767571200000;  // 2026-01-05
};

struct ExportSummary {
  int cases = 0, fault_free = 0, days = 0;
  size_t spans = 0, log_lines = 0, metric_rows = 0;
};

Result<ExportSummary> ExportSimCases(const ExportCasesOptions& options);
// The CLI's `vigil sim --export-cases DIR`: exports and prints a summary; exit code.
int RunExportCases(const std::string& dir);

}  // namespace vigil
