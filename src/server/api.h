// ApiRouter: vigil's HTTP API (docs/api-contract.md) on top of an Engine.
// Thread-safe: Handle() is called from every HTTP I/O thread.
#pragma once

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

// Builds a JSON error response {"error": message}.
void JsonError(HttpResponse& res, int status, const std::string& message);

}  // namespace vigil
