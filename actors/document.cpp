#include "actors/document.hpp"

#include <algorithm>

#include "models/text_evidence.hpp"

namespace infermesh {

bool document::has(step_kind step, bool auto_rotate) const {
  switch (step) {
    case step_kind::orient:
      return !auto_rotate || std::all_of(rotations.begin(), rotations.end(), [](const auto& r) { return r.has_value(); });
    case step_kind::classify: return classified.has_value();
    case step_kind::ocr: return text.has_value();
    case step_kind::extract: return fields.has_value();
  }
  return false;
}

void document::absorb(step_reply& found) {
  for (std::size_t i = 0; i < std::min(found.rotations.size(), rotations.size()); ++i)
    if (found.rotations[i] && !rotations[i]) rotations[i] = found.rotations[i];
  if (found.classified && !classified) classified = std::move(found.classified);
  if (found.text && !text) {
    text = std::move(found.text);
    for (std::size_t i = 0; i < std::min(text->size(), rotations.size()); ++i)
      if (!rotations[i] && (*text)[i].rotation.corrected) rotations[i] = (*text)[i].rotation;
    if (found.total_pages > 0) total_pages = found.total_pages;
  }
  time.queue_ms += found.queue_ms;
  time.compute_ms += found.compute_ms;
  time.batch_size = std::max(time.batch_size, found.batch_size);
  for (const auto& used : found.models)
    if (std::find(models.begin(), models.end(), used) == models.end()) models.push_back(used);
  for (const auto& [step, m] : found.produced_by) produced_by.try_emplace(step, m);  // findings kept: the first
}

std::optional<model_ref> result_model(const std::string& op, const document& doc) {
  const auto found = doc.produced_by.find(op == "classify" ? step_kind::classify : step_kind::ocr);
  if (found == doc.produced_by.end()) return std::nullopt;
  return found->second;
}

std::optional<std::string> document::doc_type_for_fields() const {
  if (!doc_type_asked.empty()) return doc_type_asked;
  if (classified && !classified->doc_type.empty()) return classified->doc_type;
  return std::nullopt;
}

void document::weigh_type_by_text(std::string_view pages_text) {
  if (!classified || !doc_type_asked.empty()) return;
  classified->scores = combine_with_text(classified->scores, pages_text);
  classified->confidence = 0;
  for (const auto& [label, p] : classified->scores)
    if (p > classified->confidence) classified->doc_type = label, classified->confidence = p;
}

value rotation_value(const page_rotation& r) {
  return value_map{{"degrees", r.degrees}, {"confidence", r.confidence}, {"corrected", r.corrected}};
}

namespace {

/// A page's rotation as reported: `corrected` when the page was turned before it was read or classified.
page_rotation reported(const std::optional<page_rotation>& r) {
  if (!r) return {};
  page_rotation out = *r;
  out.corrected = out.degrees != 0;
  return out;
}

/// How page `i` was turned when it was read: as the OCR engine read it (reading may overrule the orientation
/// step on a half turn), with the orientation step's confidence when they agree.
page_rotation page_rotation_of(const document& doc, std::size_t i) {
  page_rotation read = (*doc.text)[i].rotation;
  if (i < doc.rotations.size() && doc.rotations[i] && doc.rotations[i]->degrees == read.degrees)
    read = reported(doc.rotations[i]);
  return read;
}

value classification_value(const document& doc) {
  value_map scores;
  const auto& c = *doc.classified;
  for (const auto& [label, p] : c.scores) scores.emplace_back(label, p);
  value_map out{{"doc_type", c.doc_type.empty() ? value{} : value{c.doc_type}},
                {"confidence", c.confidence},
                {"scores", std::move(scores)}};
  if (!doc.rotations.empty() && doc.rotations[0]) out.emplace_back("rotation", rotation_value(reported(doc.rotations[0])));
  return out;
}

value pages_value(const document& doc) {
  value_array pages;
  for (std::size_t i = 0; i < doc.text->size(); ++i) {
    const auto& p = (*doc.text)[i];
    pages.push_back(value_map{{"page", static_cast<std::int64_t>(i + 1)},
                              {"text", p.text},
                              {"confidence", p.confidence},
                              {"rotation", rotation_value(page_rotation_of(doc, i))}});
  }
  return value_map{{"total_pages", static_cast<std::int64_t>(doc.total_pages)}, {"pages", std::move(pages)}};
}

std::pair<value, value> fields_value(const document& doc) {
  value_map found, valid;
  if (doc.fields) {
    for (const auto& [name, v] : doc.fields->fields) found.emplace_back(name, v);
    for (const auto& [name, ok] : doc.fields->valid) valid.emplace_back(name, ok);
  }
  return {std::move(found), std::move(valid)};
}

/// All pages' text, pages separated by a form feed (as Tesseract separates pages).
std::string all_text(const document& doc) {
  std::string out;
  if (!doc.text) return out;
  for (std::size_t i = 0; i < doc.text->size(); ++i) out += (i ? "\f" : "") + (*doc.text)[i].text;
  return out;
}

}  // namespace

value result_of(const std::string& op, const document& doc) {
  if (op == "classify") return doc.classified ? classification_value(doc) : value{};
  if (op == "ocr") return doc.text ? pages_value(doc) : value{};
  auto [fields, valid] = fields_value(doc);
  const auto doc_type = doc.doc_type_for_fields();
  if (op == "extract")
    return value_map{{"doc_type", doc_type ? value{*doc_type} : value{}}, {"fields", std::move(fields)},
                     {"valid", std::move(valid)}};
  // process: {doc_type, confidence, fields, valid, text, rotation} (+ total_pages, an optional extension)
  value_map out{{"doc_type", doc_type ? value{*doc_type} : value{}},
                {"confidence", doc.classified ? doc.classified->confidence : 0.0},
                {"fields", std::move(fields)},
                {"valid", std::move(valid)},
                {"text", all_text(doc)},
                {"rotation", rotation_value(doc.text && !doc.text->empty()
                                                ? page_rotation_of(doc, 0)
                                                : reported(doc.rotations.empty() ? std::nullopt : doc.rotations[0]))},
                {"total_pages", static_cast<std::int64_t>(doc.total_pages)}};
  return out;
}

namespace {

std::optional<page_rotation> rotation_from_value(const value* v) {
  if (v == nullptr || v->find("degrees") == nullptr) return std::nullopt;
  page_rotation r;
  if (const auto* d = v->find("degrees")->get_if<std::int64_t>()) r.degrees = static_cast<int>(*d);
  if (const auto* c = v->find("confidence")) c->as_double(r.confidence);
  if (const auto* k = v->find("corrected"); k && k->get_if<bool>()) r.corrected = *k->get_if<bool>();
  return r;
}

}  // namespace

step_reply findings_from_reply(const reply& rep) {
  step_reply out;
  if (!rep.ok) {
    out.failure = rep.failure.value_or(error{error_code::internal, "remote node answered an error without a code"});
    out.failure->message = "node '" + rep.node + "': " + out.failure->message;
    return out;
  }
  const value& r = rep.result;
  if (const auto* doc_type = r.find("doc_type"); doc_type && r.find("scores")) {
    classification c;
    if (const auto* s = doc_type->get_if<std::string>()) c.doc_type = *s;
    if (const auto* conf = r.find("confidence")) conf->as_double(c.confidence);
    if (const auto* scores = r.find("scores")->get_if<value_map>())
      for (const auto& [label, p] : *scores) {
        double prob = 0;
        p.as_double(prob);
        c.scores.emplace_back(label, prob);
      }
    out.classified = std::move(c);
    out.rotations = {rotation_from_value(r.find("rotation"))};
  }
  if (const auto* pages = r.find("pages"); pages && pages->get_if<value_array>()) {
    std::vector<ocr_page> text;
    for (const auto& p : *pages->get_if<value_array>()) {
      ocr_page page;
      if (const auto* t = p.find("text"); t && t->get_if<std::string>()) page.text = *t->get_if<std::string>();
      if (const auto* c = p.find("confidence")) c->as_double(page.confidence);
      if (auto rot = rotation_from_value(p.find("rotation"))) page.rotation = *rot;
      text.push_back(std::move(page));
    }
    out.text = std::move(text);
    if (const auto* total = r.find("total_pages"); total && total->get_if<std::int64_t>())
      out.total_pages = static_cast<int>(*total->get_if<std::int64_t>());
  }
  out.queue_ms = rep.time.queue_ms;
  out.compute_ms = rep.time.compute_ms;
  out.batch_size = rep.time.batch_size;
  out.models = rep.models;
  if (out.models.empty() && rep.model) out.models = {*rep.model};
  if (rep.model) {  // the remote op's result model found what its result carries
    if (out.classified) out.produced_by[step_kind::classify] = *rep.model;
    if (out.text) out.produced_by[step_kind::ocr] = *rep.model;
  }
  return out;
}

}  // namespace infermesh
