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
  // "wall" (default): incidents age and resolve by the wall clock.
  // "data": by the newest sample timestamp when that is ahead of the wall
  // clock, so that data replayed or simulated faster than real time (stamped
  // ahead of now) resolves incidents on its own time.
  std::string clock = "wall";
};

// Returns the process exit code.
int RunServe(const ServeFlags& flags);

}  // namespace vigil
