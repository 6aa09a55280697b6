// The route groups beyond ApiRouter's own, one line each.
#include "server/api.h"
#include "server/api_alerts.h"

namespace vigil {

bool ForecastRoutes(Engine& engine, const HttpRequest& req, HttpResponse& res);  // api_forecast.cc
RouteHandler LogRoutes();  // api_logs.cc
bool DetectRoutes(Engine& engine, const HttpRequest& req, HttpResponse& res);  // api_detect.cc
bool TraceRoutes(Engine& engine, const HttpRequest& req, HttpResponse& res);  // api_traces.cc
bool RcaRoutes(Engine& engine, const HttpRequest& req, HttpResponse& res);  // api_rca.cc

std::span<const RouteHandler> ExtraRoutes() {
  static const RouteHandler kRoutes[] = {
      nullptr,  // placeholder so the array is never empty; skipped below
      ForecastRoutes,
      LogRoutes(),
      HandleAlertRoutes,
      DetectRoutes,
      TraceRoutes,
      RcaRoutes,
  };
  return std::span<const RouteHandler>(kRoutes + 1, kRoutes + std::size(kRoutes));
}

}  // namespace vigil
