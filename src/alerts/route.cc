#include "alerts/route.h"

namespace vigil {

namespace {

bool MatchInto(const RouteNode& node, const Labels& labels, std::vector<const RouteNode*>* out) {
  if (!MatchesAll(node.matchers, labels)) return false;
  bool child_matched = false;
  for (const auto& child : node.routes) {
    if (MatchInto(child, labels, out)) {
      child_matched = true;
      if (!child.continue_matching) break;
    }
  }
  if (!child_matched) out->push_back(&node);
  return true;
}

void Number(RouteNode* node, int* next) {
  node->id = (*next)++;
  for (auto& c : node->routes) Number(&c, next);
}

}  // namespace

std::vector<const RouteNode*> MatchRoutes(const RouteNode& root, const Labels& labels) {
  std::vector<const RouteNode*> out;
  // The root matches everything, whatever its matchers say (Alertmanager).
  bool child_matched = false;
  for (const auto& child : root.routes) {
    if (MatchInto(child, labels, &out)) {
      child_matched = true;
      if (!child.continue_matching) break;
    }
  }
  if (!child_matched) out.push_back(&root);
  return out;
}

Labels GroupLabels(const RouteNode& route, const Labels& labels) {
  if (route.group_by_all) return labels;
  std::vector<Label> out;
  for (const auto& name : route.group_by) {
    std::string_view v = labels.Get(name);
    if (!v.empty()) out.push_back({name, std::string(v)});
  }
  return Labels::FromSorted(std::move(out));
}

std::string GroupKey(const RouteNode& route, const Labels& group_labels) {
  std::string key = "{route=" + std::to_string(route.id);
  for (const auto& m : route.matchers) key += "," + m.ToString();
  key += "}:{";
  bool first = true;
  for (const auto& l : group_labels.items()) {
    if (!first) key += ", ";
    first = false;
    key += l.name + "=\"" + l.value + "\"";
  }
  return key + "}";
}

void NumberRoutes(RouteNode* root) {
  int next = 0;
  Number(root, &next);
}

}  // namespace vigil
