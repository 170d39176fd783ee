#pragma once
/// Turns a classifier's probabilities into the wire's classify result
/// `{doc_type, confidence, scores: {label: probability}}`.

#include <string>
#include <vector>

#include "messages/value.hpp"

namespace infermesh {

value classify_result(const std::vector<std::string>& labels, const std::vector<float>& probabilities);

}  // namespace infermesh
