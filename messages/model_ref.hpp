#pragma once
/// `{name, version}` of a model: the wire's `model` and `models` entries (PROTOCOL.md "Reply").

#include <string>

namespace infermesh {

/// One model, as a reply names it.
struct model_ref {
  std::string name;
  std::string version;

  /// The same model: name and version both equal.
  bool operator==(const model_ref& other) const { return name == other.name && version == other.version; }
  /// Not the same model.
  bool operator!=(const model_ref& other) const { return !(*this == other); }
};

}  // namespace infermesh
