#include "sim/topology.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

namespace vigil::sim {

const char* RuntimeName(Runtime r) {
  switch (r) {
    case Runtime::kGo: return "go";
    case Runtime::kJava: return "java";
    case Runtime::kNode: return "node";
    case Runtime::kPython: return "python";
    case Runtime::kDotnet: return "dotnet";
    case Runtime::kCache: return "cache";
    case Runtime::kDatabase: return "database";
  }
  return "go";
}

namespace {

bool RuntimeFromName(const std::string& s, Runtime* r) {
  for (Runtime x : {Runtime::kGo, Runtime::kJava, Runtime::kNode, Runtime::kPython, Runtime::kDotnet, Runtime::kCache,
                    Runtime::kDatabase}) {
    if (s == RuntimeName(x)) {
      *r = x;
      return true;
    }
  }
  return false;
}

// Builds a topology from names: endpoints refer to "service:endpoint".
class Builder {
 public:
  explicit Builder(std::string name) { t_.name = std::move(name); }

  Builder& Svc(const std::string& name, Runtime rt, int instances, bool db = false) {
    Service s;
    s.name = name;
    s.runtime = rt;
    s.instances = instances;
    s.has_db_pool = db;
    switch (rt) {
      case Runtime::kJava: s.memory_mb = 700; s.memory_limit_mb = 1536; break;
      case Runtime::kCache: s.memory_mb = 120; s.memory_limit_mb = 512; break;
      case Runtime::kDatabase: s.memory_mb = 900; s.memory_limit_mb = 2048; break;
      case Runtime::kNode: s.memory_mb = 180; s.memory_limit_mb = 512; break;
      case Runtime::kPython: s.memory_mb = 150; s.memory_limit_mb = 512; break;
      case Runtime::kDotnet: s.memory_mb = 250; s.memory_limit_mb = 768; break;
      case Runtime::kGo: s.memory_mb = 60; s.memory_limit_mb = 256; break;
    }
    t_.services.push_back(std::move(s));
    return *this;
  }
  // Adds an endpoint to the last service; calls are "svc:endpoint" or "svc"
  // (its first endpoint), resolved in Build().
  Builder& Ep(const std::string& name, const std::string& method, double latency_ms,
              std::vector<std::string> calls = {}) {
    Endpoint e;
    e.name = name;
    e.method = method;
    e.latency_ms = latency_ms;
    t_.services.back().endpoints.push_back(std::move(e));
    pending_.push_back({static_cast<int>(t_.services.size()) - 1,
                        static_cast<int>(t_.services.back().endpoints.size()) - 1, std::move(calls)});
    return *this;
  }
  Builder& Req(const std::string& name, const std::string& entry, double rps) {
    reqs_.push_back({name, entry, rps});
    return *this;
  }
  Topology Build() {
    for (auto& p : pending_) {
      for (const auto& c : p.calls) t_.services[p.svc].endpoints[p.ep].calls.push_back(Resolve(c));
    }
    for (auto& r : reqs_) t_.requests.push_back({r.name, Resolve(r.entry), r.rps});
    return std::move(t_);
  }

 private:
  CallRef Resolve(const std::string& ref) {
    size_t colon = ref.find(':');
    std::string svc = ref.substr(0, colon);
    int s = t_.FindService(svc);
    if (s < 0) throw std::logic_error("builtin topology: unknown service " + svc);
    int e = 0;
    if (colon != std::string::npos) {
      std::string ep = ref.substr(colon + 1);
      auto& eps = t_.services[s].endpoints;
      auto it = std::find_if(eps.begin(), eps.end(), [&](const Endpoint& x) { return x.name == ep; });
      if (it == eps.end()) throw std::logic_error("builtin topology: unknown endpoint " + ref);
      e = static_cast<int>(it - eps.begin());
    }
    return {s, e};
  }
  struct Pending {
    int svc, ep;
    std::vector<std::string> calls;
  };
  struct PendingReq {
    std::string name, entry;
    double rps;
  };
  Topology t_;
  std::vector<Pending> pending_;
  std::vector<PendingReq> reqs_;
};

// Sets each service's CPU cost per request so that its pods run at
// `target_util` of their CPU limit at the mean traffic: the built-in rates
// are guesses, the utilisation a real team provisions for is not.
void Calibrate(Topology* t, double target_util) {
  std::vector<std::vector<double>> rate(t->services.size());
  for (size_t s = 0; s < t->services.size(); ++s) rate[s].assign(t->services[s].endpoints.size(), 0);
  std::function<void(CallRef, double, int)> flow = [&](CallRef c, double rps, int depth) {
    if (depth > 64) return;
    rate[c.service][c.endpoint] += rps;
    for (const CallRef& d : t->services[c.service].endpoints[c.endpoint].calls) flow(d, rps, depth + 1);
  };
  for (const auto& r : t->requests) flow(r.entry, r.rps, 0);
  for (size_t s = 0; s < t->services.size(); ++s) {
    double total = 0;
    for (double x : rate[s]) total += x;
    Service& svc = t->services[s];
    double per_pod = total / std::max(1, svc.instances);
    if (per_pod <= 0) continue;
    svc.cpu_ms_per_request = std::clamp(target_util * svc.cpu_limit_cores * 1000.0 / per_pod, 0.05, 200.0);
  }
}

}  // namespace

int Topology::FindService(const std::string& n) const {
  for (size_t i = 0; i < services.size(); ++i) {
    if (services[i].name == n) return static_cast<int>(i);
  }
  return -1;
}

size_t Topology::PodCount() const {
  size_t n = 0;
  for (const auto& s : services) n += static_cast<size_t>(s.instances);
  return n;
}

Result<std::vector<int>> Topology::CalleesFirst() const {
  // Depth-first post-order over the service graph; grey = on the stack.
  std::vector<int> state(services.size(), 0), order;
  order.reserve(services.size());
  std::string cycle;
  std::function<bool(int)> visit = [&](int s) {
    if (state[s] == 2) return true;
    if (state[s] == 1) {
      cycle = services[s].name;
      return false;
    }
    state[s] = 1;
    for (const auto& e : services[s].endpoints) {
      for (const auto& c : e.calls) {
        if (c.service != s && !visit(c.service)) return false;
        if (c.service == s) {
          cycle = services[s].name;
          return false;
        }
      }
    }
    state[s] = 2;
    order.push_back(s);
    return true;
  };
  for (size_t s = 0; s < services.size(); ++s) {
    if (!visit(static_cast<int>(s))) {
      return Status::InvalidArgument("topology \"" + name + "\": the call graph has a cycle through service \"" +
                                     cycle + "\"");
    }
  }
  return order;
}

Status Topology::Validate() const {
  if (services.empty()) return Status::InvalidArgument("topology \"" + name + "\": no services");
  for (size_t s = 0; s < services.size(); ++s) {
    const Service& svc = services[s];
    std::string where = "services[" + std::to_string(s) + "] (" + svc.name + ")";
    if (svc.name.empty()) return Status::InvalidArgument(where + ": empty name");
    if (FindService(svc.name) != static_cast<int>(s)) return Status::InvalidArgument(where + ": duplicate name");
    if (svc.instances < 1 || svc.instances > 1000) {
      return Status::InvalidArgument(where + ": instances must be 1..1000, got " + std::to_string(svc.instances));
    }
    if (svc.endpoints.empty()) return Status::InvalidArgument(where + ": no endpoints");
    if (svc.cpu_limit_cores <= 0 || svc.memory_limit_mb <= svc.memory_mb) {
      return Status::InvalidArgument(where + ": cpu_limit must be > 0 and memory_limit_mb above memory_mb");
    }
    for (const auto& e : svc.endpoints) {
      for (const auto& c : e.calls) {
        if (c.service < 0 || c.service >= static_cast<int>(services.size()) || c.endpoint < 0 ||
            c.endpoint >= static_cast<int>(services[c.service].endpoints.size())) {
          return Status::InvalidArgument(where + ": endpoint \"" + e.name + "\" calls an unknown endpoint");
        }
      }
    }
  }
  if (requests.empty()) return Status::InvalidArgument("topology \"" + name + "\": no requests (traffic entry points)");
  for (const auto& r : requests) {
    if (r.entry.service < 0 || r.entry.service >= static_cast<int>(services.size()) || r.rps < 0) {
      return Status::InvalidArgument("topology \"" + name + "\": request \"" + r.name + "\" has a bad entry or rps");
    }
  }
  auto order = CalleesFirst();
  return order.ok() ? Status::Ok() : order.status();
}

Topology OnlineBoutique() {
  // Services, runtimes and calls as in GoogleCloudPlatform/microservices-demo.
  Builder b("ob");
  b.Svc("redis-cart", Runtime::kCache, 1).Ep("HGET", "redis.hget", 0.3).Ep("HSET", "redis.hset", 0.4);
  b.Svc("productcatalogservice", Runtime::kGo, 2)
      .Ep("ListProducts", "productcatalog.ListProducts", 3)
      .Ep("GetProduct", "productcatalog.GetProduct", 1.5)
      .Ep("SearchProducts", "productcatalog.SearchProducts", 4);
  b.Svc("currencyservice", Runtime::kNode, 2)
      .Ep("GetSupportedCurrencies", "currency.getSupportedCurrencies", 1)
      .Ep("Convert", "currency.convert", 1.2);
  // The cart can keep its state in a SQL database (the AlloyDB variant of
  // the demo): a connection pool.
  b.Svc("cartservice", Runtime::kDotnet, 2, true)
      .Ep("GetCart", "CartService.GetCart", 2, {"redis-cart:HGET"})
      .Ep("AddItem", "CartService.AddItem", 3, {"redis-cart:HGET", "redis-cart:HSET"})
      .Ep("EmptyCart", "CartService.EmptyCart", 2, {"redis-cart:HSET"});
  b.Svc("recommendationservice", Runtime::kPython, 2)
      .Ep("ListRecommendations", "recommendation_server.ListRecommendations", 6,
          {"productcatalogservice:ListProducts"});
  b.Svc("shippingservice", Runtime::kGo, 2).Ep("GetQuote", "shipping.GetQuote", 1.5).Ep("ShipOrder", "shipping.ShipOrder", 2.5);
  b.Svc("paymentservice", Runtime::kNode, 2).Ep("Charge", "charge.js:charge", 4);
  b.Svc("emailservice", Runtime::kPython, 2).Ep("SendOrderConfirmation", "email_server.SendOrderConfirmation", 8);
  b.Svc("adservice", Runtime::kJava, 2).Ep("GetAds", "AdService.getAds", 3);
  b.Svc("checkoutservice", Runtime::kGo, 2)
      .Ep("PlaceOrder", "checkout.PlaceOrder", 5,
          {"cartservice:GetCart", "productcatalogservice:GetProduct", "currencyservice:Convert",
           "shippingservice:GetQuote", "currencyservice:Convert", "paymentservice:Charge", "shippingservice:ShipOrder",
           "cartservice:EmptyCart", "emailservice:SendOrderConfirmation"});
  b.Svc("frontend", Runtime::kGo, 3)
      .Ep("GET /", "frontend.homeHandler", 4,
          {"currencyservice:GetSupportedCurrencies", "productcatalogservice:ListProducts", "cartservice:GetCart",
           "currencyservice:Convert", "adservice:GetAds"})
      .Ep("GET /product", "frontend.productHandler", 4,
          {"productcatalogservice:GetProduct", "currencyservice:GetSupportedCurrencies", "cartservice:GetCart",
           "currencyservice:Convert", "recommendationservice:ListRecommendations", "adservice:GetAds"})
      .Ep("POST /cart", "frontend.addToCartHandler", 3, {"productcatalogservice:GetProduct", "cartservice:AddItem"})
      .Ep("GET /cart", "frontend.viewCartHandler", 4,
          {"currencyservice:GetSupportedCurrencies", "cartservice:GetCart",
           "recommendationservice:ListRecommendations", "shippingservice:GetQuote", "currencyservice:Convert"})
      .Ep("POST /cart/checkout", "frontend.placeOrderHandler", 4,
          {"checkoutservice:PlaceOrder", "recommendationservice:ListRecommendations",
           "currencyservice:GetSupportedCurrencies"});
  b.Req("home", "frontend:GET /", 40)
      .Req("product", "frontend:GET /product", 60)
      .Req("add-to-cart", "frontend:POST /cart", 12)
      .Req("view-cart", "frontend:GET /cart", 15)
      .Req("checkout", "frontend:POST /cart/checkout", 4);
  Topology t = b.Build();
  Calibrate(&t, 0.3);
  return t;
}

Topology SockShop() {
  // Weaveworks Sock Shop: front-end (Node) and its services and stores.
  Builder b("sockshop");
  b.Svc("catalogue-db", Runtime::kDatabase, 1).Ep("SELECT", "mysqld.dispatch_command", 1.5);
  b.Svc("carts-db", Runtime::kDatabase, 1).Ep("find", "mongod.find", 1).Ep("update", "mongod.update", 1.5);
  b.Svc("orders-db", Runtime::kDatabase, 1).Ep("find", "mongod.find", 1).Ep("insert", "mongod.insert", 2);
  b.Svc("user-db", Runtime::kDatabase, 1).Ep("find", "mongod.find", 1);
  b.Svc("session-db", Runtime::kCache, 1).Ep("GET", "redis.get", 0.3);
  b.Svc("rabbitmq", Runtime::kCache, 1).Ep("publish", "rabbit_channel.publish", 0.8);
  b.Svc("queue-master", Runtime::kJava, 1).Ep("consume", "ShippingTaskHandler.handleMessage", 3);
  b.Svc("catalogue", Runtime::kGo, 2, true)
      .Ep("GET /catalogue", "catalogue.List", 2, {"catalogue-db:SELECT"})
      .Ep("GET /catalogue/{id}", "catalogue.Get", 1.5, {"catalogue-db:SELECT"});
  b.Svc("user", Runtime::kGo, 2, true)
      .Ep("GET /customers/{id}", "users.GetCustomer", 2, {"user-db:find"})
      .Ep("POST /login", "users.Login", 4, {"user-db:find"});
  b.Svc("carts", Runtime::kJava, 2, true)
      .Ep("GET /carts/{id}", "CartsController.get", 4, {"carts-db:find"})
      .Ep("POST /carts/{id}/items", "ItemsController.addToCart", 6, {"carts-db:find", "carts-db:update"});
  b.Svc("payment", Runtime::kGo, 2).Ep("POST /paymentAuth", "payment.Authorise", 2);
  b.Svc("shipping", Runtime::kJava, 2).Ep("POST /shipping", "ShippingController.postShipping", 3, {"rabbitmq:publish"});
  b.Svc("orders", Runtime::kJava, 2, true)
      .Ep("POST /orders", "OrdersController.newOrder", 8,
          {"user:GET /customers/{id}", "carts:GET /carts/{id}", "payment:POST /paymentAuth", "shipping:POST /shipping",
           "orders-db:insert"})
      .Ep("GET /orders", "OrdersController.list", 3, {"orders-db:find"});
  b.Svc("front-end", Runtime::kNode, 2)
      .Ep("GET /", "index.js:home", 3, {"session-db:GET", "catalogue:GET /catalogue"})
      .Ep("GET /detail", "catalogue/index.js:detail", 3, {"session-db:GET", "catalogue:GET /catalogue/{id}"})
      .Ep("POST /cart", "cart/index.js:add", 3,
          {"session-db:GET", "catalogue:GET /catalogue/{id}", "carts:POST /carts/{id}/items"})
      .Ep("GET /basket", "cart/index.js:get", 3, {"session-db:GET", "carts:GET /carts/{id}"})
      .Ep("POST /login", "user/index.js:login", 3, {"session-db:GET", "user:POST /login"})
      .Ep("POST /orders", "orders/index.js:create", 4, {"session-db:GET", "orders:POST /orders"});
  b.Req("browse", "front-end:GET /", 40)
      .Req("detail", "front-end:GET /detail", 50)
      .Req("add-to-cart", "front-end:POST /cart", 10)
      .Req("basket", "front-end:GET /basket", 12)
      .Req("login", "front-end:POST /login", 5)
      .Req("order", "front-end:POST /orders", 3);
  Topology t = b.Build();
  // queue-master consumes what shipping publishes: modelled as a consumer
  // of rabbitmq's traffic without a synchronous call; give it a request type.
  t.requests.push_back({"ship-task", {t.FindService("queue-master"), 0}, 3});
  Calibrate(&t, 0.3);
  return t;
}

Topology TrainTicket() {
  // Train Ticket (FudanSELab) sized: 41 Java services behind a gateway, most
  // with their own database (a connection pool each).
  Builder b("trainticket");
  auto leaf = [&](const char* n, const char* m, double ms, bool db = true) {
    b.Svc(n, Runtime::kJava, 1, db).Ep(std::string("GET /api/v1/") + n, m, ms);
  };
  auto mid = [&](const char* n, const char* m, double ms, std::vector<std::string> calls, int inst = 1) {
    b.Svc(n, Runtime::kJava, inst, true).Ep(std::string("POST /api/v1/") + n, m, ms, std::move(calls));
  };
  leaf("ts-verification-code-service", "VerifyCodeController.verifyCode", 2, false);
  leaf("ts-station-service", "StationController.query", 2);
  leaf("ts-train-service", "TrainController.query", 2);
  leaf("ts-route-service", "RouteController.queryById", 2);
  leaf("ts-config-service", "ConfigController.retrieve", 1.5);
  leaf("ts-price-service", "PriceController.query", 2);
  leaf("ts-contacts-service", "ContactsController.getContactsByAccountId", 2);
  leaf("ts-order-service", "OrderController.queryOrders", 4);
  leaf("ts-order-other-service", "OrderOtherController.queryOrders", 4);
  leaf("ts-user-service", "UserController.getUserByUserId", 2);
  leaf("ts-payment-service", "PaymentController.pay", 5);
  leaf("ts-notification-service", "NotificationController.preserveSuccess", 6, false);
  leaf("ts-assurance-service", "AssuranceController.getAllAssuranceType", 2);
  leaf("ts-food-map-service", "FoodMapController.getAllFoodStores", 3);
  leaf("ts-consign-price-service", "ConsignPriceController.getPriceByWeightAndRegion", 2);
  leaf("ts-news-service", "NewsController.hello", 1, false);
  leaf("ts-avatar-service", "AvatarController.upload", 10, false);
  leaf("ts-delivery-service", "DeliveryController.deliver", 3);
  mid("ts-auth-service", "UserController.getToken", 6, {"ts-verification-code-service", "ts-user-service"});
  mid("ts-basic-service", "BasicController.queryForTravel", 3, {"ts-station-service", "ts-train-service",
                                                                 "ts-route-service", "ts-price-service"});
  mid("ts-ticketinfo-service", "TicketInfoController.queryForTravel", 2, {"ts-basic-service"});
  mid("ts-seat-service", "SeatController.getLeftTicketOfInterval", 3,
      {"ts-order-service", "ts-config-service", "ts-order-other-service"});
  mid("ts-travel-service", "TravelController.queryInfo", 5,
      {"ts-route-service", "ts-train-service", "ts-ticketinfo-service", "ts-seat-service"}, 2);
  mid("ts-travel2-service", "Travel2Controller.queryInfo", 5,
      {"ts-route-service", "ts-train-service", "ts-ticketinfo-service", "ts-seat-service"});
  mid("ts-security-service", "SecurityController.check", 2, {"ts-order-service", "ts-order-other-service"});
  mid("ts-food-service", "FoodController.getAllFood", 3, {"ts-food-map-service", "ts-travel-service",
                                                           "ts-station-service"});
  mid("ts-consign-service", "ConsignController.insertConsign", 3, {"ts-consign-price-service"});
  mid("ts-inside-payment-service", "InsidePaymentController.pay", 4,
      {"ts-order-service", "ts-order-other-service", "ts-payment-service"});
  mid("ts-route-plan-service", "RoutePlanController.getCheapestRoutes", 6,
      {"ts-travel-service", "ts-travel2-service", "ts-station-service", "ts-route-service"});
  mid("ts-travel-plan-service", "TravelPlanController.getByCheapest", 4, {"ts-route-plan-service", "ts-seat-service"});
  mid("ts-preserve-service", "PreserveController.preserve", 8,
      {"ts-security-service", "ts-contacts-service", "ts-travel-service", "ts-station-service", "ts-seat-service",
       "ts-order-service", "ts-assurance-service", "ts-food-service", "ts-consign-service", "ts-user-service",
       "ts-notification-service"});
  mid("ts-preserve-other-service", "PreserveOtherController.preserve", 8,
      {"ts-security-service", "ts-contacts-service", "ts-travel2-service", "ts-station-service", "ts-seat-service",
       "ts-order-other-service", "ts-assurance-service", "ts-user-service"});
  mid("ts-cancel-service", "CancelController.cancelTicket", 5,
      {"ts-order-service", "ts-order-other-service", "ts-inside-payment-service", "ts-notification-service",
       "ts-user-service"});
  mid("ts-rebook-service", "RebookController.rebook", 6,
      {"ts-order-service", "ts-travel-service", "ts-seat-service", "ts-station-service", "ts-inside-payment-service"});
  mid("ts-execute-service", "ExecuteController.executeTicket", 3, {"ts-order-service", "ts-order-other-service"});
  mid("ts-admin-order-service", "AdminOrderController.getAllOrders", 4, {"ts-order-service", "ts-order-other-service"});
  mid("ts-admin-basic-info-service", "AdminBasicInfoController.getAllStations", 3,
      {"ts-station-service", "ts-train-service", "ts-config-service", "ts-price-service", "ts-contacts-service"});
  mid("ts-admin-route-service", "AdminRouteController.getAllRoutes", 3, {"ts-route-service", "ts-station-service"});
  mid("ts-admin-travel-service", "AdminTravelController.getAllTravels", 4,
      {"ts-travel-service", "ts-travel2-service", "ts-train-service", "ts-station-service"});
  mid("ts-admin-user-service", "AdminUserController.getAllUsers", 2, {"ts-user-service"});
  mid("ts-wait-order-service", "WaitListOrderController.createNewOrder", 3, {"ts-order-service", "ts-contacts-service"});
  b.Svc("ts-gateway-service", Runtime::kJava, 2)
      .Ep("POST /api/v1/users/login", "GatewayFilter.login", 1, {"ts-auth-service"})
      .Ep("POST /api/v1/travelservice/trips/left", "GatewayFilter.travel", 1, {"ts-travel-service"})
      .Ep("POST /api/v1/travel2service/trips/left", "GatewayFilter.travel2", 1, {"ts-travel2-service"})
      .Ep("POST /api/v1/travelplanservice/travelPlan/cheapest", "GatewayFilter.travelPlan", 1, {"ts-travel-plan-service"})
      .Ep("POST /api/v1/preserveservice/preserve", "GatewayFilter.preserve", 1, {"ts-preserve-service"})
      .Ep("POST /api/v1/preserveotherservice/preserveOther", "GatewayFilter.preserveOther", 1,
          {"ts-preserve-other-service"})
      .Ep("GET /api/v1/orderservice/order", "GatewayFilter.orders", 1, {"ts-order-service"})
      .Ep("POST /api/v1/inside_pay_service/inside_payment", "GatewayFilter.pay", 1, {"ts-inside-payment-service"})
      .Ep("GET /api/v1/cancelservice/cancel", "GatewayFilter.cancel", 1, {"ts-cancel-service"})
      .Ep("POST /api/v1/rebookservice/rebook", "GatewayFilter.rebook", 1, {"ts-rebook-service"})
      .Ep("GET /api/v1/executeservice/execute", "GatewayFilter.execute", 1, {"ts-execute-service"})
      .Ep("POST /api/v1/consignservice/consigns", "GatewayFilter.consign", 1, {"ts-consign-service"})
      .Ep("GET /api/v1/foodservice/foods", "GatewayFilter.food", 1, {"ts-food-service"})
      .Ep("GET /api/v1/adminorderservice/adminorder", "GatewayFilter.adminOrder", 1, {"ts-admin-order-service"})
      .Ep("GET /api/v1/adminbasicservice/adminbasic", "GatewayFilter.adminBasic", 1, {"ts-admin-basic-info-service"})
      .Ep("GET /api/v1/adminrouteservice/adminroute", "GatewayFilter.adminRoute", 1, {"ts-admin-route-service"})
      .Ep("GET /api/v1/admintravelservice/admintravel", "GatewayFilter.adminTravel", 1, {"ts-admin-travel-service"})
      .Ep("GET /api/v1/adminuserservice/users", "GatewayFilter.adminUser", 1, {"ts-admin-user-service"})
      .Ep("POST /api/v1/waitorderservice/order", "GatewayFilter.waitOrder", 1, {"ts-wait-order-service"})
      .Ep("GET /api/v1/newsservice/news", "GatewayFilter.news", 1, {"ts-news-service"})
      .Ep("POST /api/v1/avatar", "GatewayFilter.avatar", 1, {"ts-avatar-service"})
      .Ep("POST /api/v1/deliveryservice/delivery", "GatewayFilter.delivery", 1, {"ts-delivery-service"});
  b.Svc("ts-ui-dashboard", Runtime::kNode, 2)
      .Ep("GET /index.html", "nginx.static", 1)
      .Ep("proxy /api", "nginx.proxy_pass", 0.5, {"ts-gateway-service:POST /api/v1/travelservice/trips/left"});
  // The dashboard's proxied API calls go straight to gateway routes: one
  // request type per route.
  Topology t = b.Build();
  const int gw = t.FindService("ts-gateway-service");
  const double rps[] = {8, 40, 15, 6, 5, 3, 12, 4, 1.5, 1.5, 1, 1, 4, 1, 1, 1, 1, 1, 1, 2, 0.5, 0.5};
  for (size_t e = 0; e < t.services[gw].endpoints.size(); ++e) {
    t.requests.push_back({t.services[gw].endpoints[e].name, {gw, static_cast<int>(e)}, rps[e % 22]});
  }
  t.requests.push_back({"static", {t.FindService("ts-ui-dashboard"), 0}, 30});
  Calibrate(&t, 0.3);
  return t;
}

Topology Generated(int services, int instances, uint64_t seed) {
  // A random tree (each service called by one earlier service) plus ~15%
  // cross edges to later services, so the graph stays acyclic and the load
  // of a service is its caller's, not a product over the path.
  Topology t;
  t.name = "generated-" + std::to_string(services);
  services = std::max(services, 1);
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  auto next = [&x]() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  const Runtime rts[] = {Runtime::kGo, Runtime::kJava, Runtime::kNode, Runtime::kPython, Runtime::kJava};
  for (int i = 0; i < services; ++i) {
    Service s;
    char name[32];
    std::snprintf(name, sizeof name, "svc-%04d", i);
    s.name = name;
    s.runtime = rts[next() % 5];
    s.instances = std::max(1, instances);
    s.has_db_pool = next() % 3 == 0;
    s.memory_mb = s.runtime == Runtime::kJava ? 600 : 150;
    s.memory_limit_mb = s.memory_mb * 2.5;
    int eps = 1 + static_cast<int>(next() % 3);
    for (int e = 0; e < eps; ++e) {
      Endpoint ep;
      ep.name = "GET /api/" + s.name + "/op" + std::to_string(e);
      ep.method = s.name + ".Handler.op" + std::to_string(e);
      ep.latency_ms = 1 + static_cast<double>(next() % 8);
      s.endpoints.push_back(std::move(ep));
    }
    t.services.push_back(std::move(s));
  }
  for (int i = 1; i < services; ++i) {
    int parent = static_cast<int>(next() % static_cast<uint64_t>(i));
    auto& peps = t.services[parent].endpoints;
    peps[next() % peps.size()].calls.push_back({i, static_cast<int>(next() % t.services[i].endpoints.size())});
    if (next() % 100 < 15 && i + 1 < services) {
      int later = i + 1 + static_cast<int>(next() % static_cast<uint64_t>(services - i - 1));
      auto& eps = t.services[i].endpoints;
      eps[next() % eps.size()].calls.push_back({later, 0});
    }
  }
  for (size_t e = 0; e < t.services[0].endpoints.size(); ++e) {
    t.requests.push_back({"entry-" + std::to_string(e), {0, static_cast<int>(e)}, 50});
  }
  Calibrate(&t, 0.3);
  return t;
}

Result<Topology> BuiltinTopology(const std::string& name) {
  if (name == "ob" || name == "online-boutique") return OnlineBoutique();
  if (name == "sockshop" || name == "sock-shop") return SockShop();
  if (name == "trainticket" || name == "train-ticket") return TrainTicket();
  return Status::NotFound("unknown topology \"" + name + "\" (built-ins: ob, sockshop, trainticket; or a .yaml file)");
}

Result<Topology> ParseTopologyYaml(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("topology YAML: " + std::string(e.what()));
  }
  Topology t;
  try {
    t.name = root["name"] ? root["name"].as<std::string>() : "custom";
    if (root["pods_per_host"]) t.pods_per_host = root["pods_per_host"].as<int>();
    const YAML::Node svcs = root["services"];
    if (!svcs || !svcs.IsSequence()) return Status::InvalidArgument("topology YAML: \"services\" must be a list");
    std::vector<std::vector<std::vector<std::string>>> calls;  // [service][endpoint] -> refs
    for (size_t i = 0; i < svcs.size(); ++i) {
      const YAML::Node n = svcs[i];
      const std::string where = "services[" + std::to_string(i) + "]";
      Service s;
      if (!n["name"]) return Status::InvalidArgument("topology YAML: " + where + ".name is required");
      s.name = n["name"].as<std::string>();
      std::string rt = n["runtime"] ? n["runtime"].as<std::string>() : "go";
      if (!RuntimeFromName(rt, &s.runtime)) {
        return Status::InvalidArgument("topology YAML: " + where + ".runtime: unknown \"" + rt +
                                       "\" (go, java, node, python, dotnet, cache, database)");
      }
      s.instances = n["instances"] ? n["instances"].as<int>() : 1;
      if (n["db_pool"]) s.has_db_pool = n["db_pool"].as<bool>();
      if (n["cpu_limit"]) s.cpu_limit_cores = n["cpu_limit"].as<double>();
      if (n["memory_mb"]) s.memory_mb = n["memory_mb"].as<double>();
      s.memory_limit_mb = n["memory_limit_mb"] ? n["memory_limit_mb"].as<double>() : s.memory_mb * 3;
      const YAML::Node eps = n["endpoints"];
      calls.emplace_back();
      if (!eps || !eps.IsSequence() || eps.size() == 0) {
        return Status::InvalidArgument("topology YAML: " + where + ".endpoints must be a non-empty list");
      }
      for (size_t j = 0; j < eps.size(); ++j) {
        Endpoint e;
        const std::string ew = where + ".endpoints[" + std::to_string(j) + "]";
        if (!eps[j]["name"]) return Status::InvalidArgument("topology YAML: " + ew + ".name is required");
        e.name = eps[j]["name"].as<std::string>();
        e.method = eps[j]["method"] ? eps[j]["method"].as<std::string>() : s.name + "." + e.name;
        if (eps[j]["latency_ms"]) e.latency_ms = eps[j]["latency_ms"].as<double>();
        if (eps[j]["error_rate"]) e.error_rate = eps[j]["error_rate"].as<double>();
        std::vector<std::string> refs;
        if (eps[j]["calls"]) {
          for (const auto& c : eps[j]["calls"]) refs.push_back(c.as<std::string>());
        }
        calls.back().push_back(std::move(refs));
        s.endpoints.push_back(std::move(e));
      }
      t.services.push_back(std::move(s));
    }
    auto resolve = [&](const std::string& ref, const std::string& where) -> Result<CallRef> {
      size_t colon = ref.find(':');
      int s = t.FindService(ref.substr(0, colon));
      if (s < 0) return Status::InvalidArgument("topology YAML: " + where + ": unknown service in \"" + ref + "\"");
      if (colon == std::string::npos) return CallRef{s, 0};
      const std::string ep = ref.substr(colon + 1);
      const auto& eps = t.services[s].endpoints;
      for (size_t e = 0; e < eps.size(); ++e) {
        if (eps[e].name == ep) return CallRef{s, static_cast<int>(e)};
      }
      return Status::InvalidArgument("topology YAML: " + where + ": unknown endpoint in \"" + ref + "\"");
    };
    for (size_t s = 0; s < calls.size(); ++s) {
      for (size_t e = 0; e < calls[s].size(); ++e) {
        for (const auto& ref : calls[s][e]) {
          auto c = resolve(ref, "services[" + std::to_string(s) + "].endpoints[" + std::to_string(e) + "].calls");
          if (!c.ok()) return c.status();
          t.services[s].endpoints[e].calls.push_back(*c);
        }
      }
    }
    const YAML::Node reqs = root["requests"];
    if (reqs && reqs.IsSequence()) {
      for (size_t i = 0; i < reqs.size(); ++i) {
        const std::string where = "requests[" + std::to_string(i) + "]";
        if (!reqs[i]["entry"]) return Status::InvalidArgument("topology YAML: " + where + ".entry is required");
        auto c = resolve(reqs[i]["entry"].as<std::string>(), where + ".entry");
        if (!c.ok()) return c.status();
        RequestType r;
        r.name = reqs[i]["name"] ? reqs[i]["name"].as<std::string>() : "req-" + std::to_string(i);
        r.entry = *c;
        r.rps = reqs[i]["rps"] ? reqs[i]["rps"].as<double>() : 10;
        t.requests.push_back(std::move(r));
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("topology YAML: " + std::string(e.what()));
  }
  Status st = t.Validate();
  if (!st.ok()) return st;
  bool has_cpu = false;
  for (const auto& s : t.services) has_cpu = has_cpu || s.cpu_ms_per_request != 2;
  if (!has_cpu) Calibrate(&t, 0.3);
  return t;
}

Result<Topology> LoadTopologyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read topology file \"" + path + "\"");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseTopologyYaml(ss.str());
}

}  // namespace vigil::sim
