// The route groups beyond ApiRouter's own, one line each.
#include "server/api.h"

namespace vigil {

bool DetectRoutes(Engine& engine, const HttpRequest& req, HttpResponse& res);  // api_detect.cc

std::span<const RouteHandler> ExtraRoutes() {
  static constexpr RouteHandler kRoutes[] = {
      nullptr,  // placeholder so the array is never empty; skipped below
      DetectRoutes,
  };
  return std::span<const RouteHandler>(kRoutes + 1, kRoutes + std::size(kRoutes));
}

}  // namespace vigil
