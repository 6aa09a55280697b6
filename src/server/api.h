// ApiRouter: vigil's HTTP API (docs/api-contract.md) on top of an Engine.
// Thread-safe: Handle() is called from every HTTP I/O thread.
#pragma once

#include <span>

#include "server/http_server.h"

namespace vigil {

class Engine;

class ApiRouter {
 public:
  explicit ApiRouter(Engine* engine);
  void Handle(const HttpRequest& req, HttpResponse& res);

 private:
  Engine* engine_;
};

// A group of routes kept in its own file (api_<area>.cc): returns true when it
// handled the request. ExtraRoutes() (api_routes.cc) lists them; ApiRouter
// tries them in order after its own routes.
using RouteHandler = bool (*)(Engine& engine, const HttpRequest& req, HttpResponse& res);
std::span<const RouteHandler> ExtraRoutes();

// Builds a JSON error response {"error": message}.
void JsonError(HttpResponse& res, int status, const std::string& message);

}  // namespace vigil
