#include "actors/pipeline.hpp"

#include <algorithm>

namespace infermesh {

std::string_view step_name(step_kind s) {
  switch (s) {
    case step_kind::orient: return "orient";
    case step_kind::classify: return "classify";
    case step_kind::ocr: return "ocr";
    case step_kind::extract: return "extract";
  }
  return "?";
}

std::optional<step_kind> parse_step(std::string_view name) {
  for (auto s : {step_kind::orient, step_kind::classify, step_kind::ocr, step_kind::extract})
    if (step_name(s) == name) return s;
  return std::nullopt;
}

const std::map<std::string, pipeline>& default_pipelines() {
  using s = step_kind;
  static const std::map<std::string, pipeline> defaults{
      {"classify", {s::orient, s::classify}},
      {"ocr", {s::orient, s::ocr}},
      {"extract", {s::orient, s::ocr, s::extract}},
      {"process", {s::orient, s::classify, s::ocr, s::extract}},
  };
  return defaults;
}

std::string pipeline_problem(const std::string& op, const pipeline& steps) {
  if (!default_pipelines().count(op)) return "unknown op '" + op + "' (ops: classify, ocr, extract, process)";
  if (steps.empty()) return "a pipeline needs at least one step";
  auto has = [&](step_kind s) { return std::find(steps.begin(), steps.end(), s) != steps.end(); };
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (std::count(steps.begin(), steps.end(), steps[i]) > 1)
      return "step '" + std::string(step_name(steps[i])) + "' appears twice";
    if (steps[i] == step_kind::orient && i != 0) return "'orient' must be the first step";
  }
  const auto extract = std::find(steps.begin(), steps.end(), step_kind::extract);
  if (extract != steps.end() && std::find(steps.begin(), extract, step_kind::ocr) == extract)
    return "'extract' needs an 'ocr' step before it";
  // What each op's result is made of (protocol.md, "Results").
  if (op == "classify" && !has(step_kind::classify)) return "'classify' needs the step 'classify'";
  if (op == "ocr" && !has(step_kind::ocr)) return "'ocr' needs the step 'ocr'";
  if (op == "extract" && !has(step_kind::extract)) return "'extract' needs the step 'extract'";
  if (op == "process" && !(has(step_kind::classify) && has(step_kind::extract)))
    return "'process' needs the steps 'classify', 'ocr' and 'extract'";
  return {};
}

bool needs_pages(step_kind s) { return s != step_kind::extract; }

bool reads_every_page(const pipeline& steps) {
  return std::find(steps.begin(), steps.end(), step_kind::ocr) != steps.end();
}

std::string remote_op_of(step_kind step) {
  switch (step) {
    case step_kind::orient:
    case step_kind::classify: return "classify";
    case step_kind::ocr: return "ocr";
    case step_kind::extract: return "extract";
  }
  return "";
}

}  // namespace infermesh
