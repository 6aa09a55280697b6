// The route groups beyond ApiRouter's own, one line each.
#include "server/api.h"
#include "server/api_alerts.h"

namespace vigil {

std::span<const RouteHandler> ExtraRoutes() {
  static constexpr RouteHandler kRoutes[] = {
      nullptr,  // placeholder so the array is never empty; skipped below
      HandleAlertRoutes,
  };
  return std::span<const RouteHandler>(kRoutes + 1, kRoutes + std::size(kRoutes));
}

}  // namespace vigil
