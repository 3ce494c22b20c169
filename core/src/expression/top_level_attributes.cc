// ConditionExpression::TopLevelAttributes and ProjectionExpression::TopLevelAttributes: the
// attribute names their paths start with.
#include <algorithm>

#include "expression/compiled.h"

namespace tidewater {

std::vector<std::string> ConditionExpression::TopLevelAttributes() const {
  using expression_internal::Node;
  using expression_internal::NodeKind;
  std::vector<std::string> names;
  if (!compiled_->ast->condition) return names;
  std::vector<const Node*> pending{compiled_->ast->condition.get()};
  while (!pending.empty()) {
    const Node* node = pending.back();
    pending.pop_back();
    if (node->kind == NodeKind::kPath && !node->path.empty()) {
      const std::string& name =
          expression_internal::ElementName(node->path.front(), compiled_->binding);
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
    for (auto it = node->args.rbegin(); it != node->args.rend(); ++it) pending.push_back(it->get());
  }
  return names;
}

std::vector<std::string> ProjectionExpression::TopLevelAttributes() const {
  std::vector<std::string> names;
  for (const expression_internal::Path& path : compiled_->ast->projection) {
    if (path.empty()) continue;
    const std::string& name = expression_internal::ElementName(path.front(), compiled_->binding);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

}  // namespace tidewater
