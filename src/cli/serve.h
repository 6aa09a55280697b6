// `vigil serve`: loads the config, opens the engine, serves HTTP until
// SIGINT/SIGTERM, then stops cleanly (final snapshot).
#pragma once

#include <string>

namespace vigil {

struct ServeFlags {
  std::string config_path;
  std::string listen;    // overrides the config when set
  std::string data_dir;  // overrides the config when set
  std::string log_level = "info";
};

// Returns the process exit code.
int RunServe(const ServeFlags& flags);

}  // namespace vigil
