#pragma once
/// What the router knows about one request's document as its pipeline runs: the pages, each page's rotation,
/// the classification, the text, the fields. Steps add to it (`absorb`); each op's wire result is read from
/// it (`result_of`); a remote node's reply is turned back into a step's findings (`findings_from_reply`).
/// Plain code: no actors, unit-tested on its own.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/protocol.hpp"
#include "messages/reply.hpp"
#include "models/field_extraction.hpp"

namespace infermesh {

struct document {
  std::vector<shared_bytes> pages;                      ///< page images (an image: itself)
  int total_pages = 1;
  std::vector<std::optional<page_rotation>> rotations;  ///< per page, once known
  std::optional<classification> classified;
  std::optional<std::vector<ocr_page>> text;            ///< per page read
  std::optional<extracted_fields> fields;
  std::string doc_type_asked;                           ///< the request's `doc_type` (extract)
  timing time;
  std::vector<model_ref> models;                   ///< every model used, in pipeline order, each once
  std::map<step_kind, model_ref> produced_by;      ///< the model whose findings of each step were kept

  /// True when `step` has nothing left to do (its findings are in, or were given in the request).
  bool has(step_kind step, bool auto_rotate) const;
  /// Adds a step's findings.
  void absorb(step_reply& found);
  /// The doc_type extraction uses: the request's, else the classifier's.
  std::optional<std::string> doc_type_for_fields() const;
  /// Weighs the classifier's scores by the type words `pages_text` prints (models/text_evidence.hpp) and
  /// chooses the label and confidence again: `process` does, once the pages are read, before extracting.
  /// Nothing changes without a classification, when the request named its doc_type, or when the text names
  /// none of the classifier's labels.
  void weigh_type_by_text(std::string_view pages_text);
};

/// The wire result of `op` (protocol.md "Results") from what the pipeline found.
value result_of(const std::string& op, const document& doc);

/// The wire's `model` of `op`: the model that produced its result — the classifier for `classify`, the OCR
/// engine for `ocr`, `extract` and `process` (empty when the pipeline did not record one).
std::optional<model_ref> result_model(const std::string& op, const document& doc);

/// The wire's `rotation` map of one page.
value rotation_value(const page_rotation& r);

/// What a remote node's reply to a forwarded step says: its rotation, classification and pages, its timing
/// and models (the reply's `model` produced its classification or its text); an error reply is the step's
/// failure with the same code.
step_reply findings_from_reply(const reply& rep);

}  // namespace infermesh
