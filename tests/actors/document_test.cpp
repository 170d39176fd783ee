#include <boost/test/unit_test.hpp>

#include "actors/document.hpp"
#include "actors/remote_step.hpp"

using namespace infermesh;

namespace {

document two_pages() {
  document d;
  d.pages = {shared_bytes::copy_of("page 1"), shared_bytes::copy_of("page 2")};
  d.total_pages = 2;
  d.rotations.assign(2, std::nullopt);
  return d;
}

step_reply classified(const std::string& doc_type, int degrees) {
  step_reply r;
  r.classified = classification{doc_type, 0.9, {{doc_type, 0.9}, {"other", 0.1}}};
  r.rotations = {page_rotation{degrees, 0.8, false}};
  r.found_by(step_kind::classify, {"classifier", "1"});
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(document_state)

BOOST_AUTO_TEST_CASE(orientation_is_done_when_every_page_is_known_or_when_not_asked) {
  auto d = two_pages();
  BOOST_TEST(!d.has(step_kind::orient, true));
  BOOST_TEST(d.has(step_kind::orient, false));
  d.rotations = {page_rotation{90, 1, false}, page_rotation{0, 1, false}};
  BOOST_TEST(d.has(step_kind::orient, true));
}

BOOST_AUTO_TEST_CASE(a_remote_classify_asked_for_the_orientation_also_settles_the_classification) {
  auto d = two_pages();
  auto found = classified("invoice", 270);
  d.absorb(found);
  BOOST_TEST(d.rotations[0]->degrees == 270);
  BOOST_TEST(!d.rotations[1]);  // the other pages are left to the OCR step
  BOOST_TEST(d.has(step_kind::classify, true));
  BOOST_TEST(d.models.size() == 1u);
}

BOOST_AUTO_TEST_CASE(findings_already_in_are_not_overwritten_and_models_are_listed_once) {
  auto d = two_pages();
  auto first = classified("invoice", 90), second = classified("letter", 180);
  d.absorb(first);
  d.absorb(second);
  BOOST_TEST(d.classified->doc_type == "invoice");
  BOOST_TEST(d.rotations[0]->degrees == 90);
  BOOST_TEST(d.models.size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_result_model_is_the_classifier_for_classify_and_the_ocr_engine_for_the_other_ops) {
  auto d = two_pages();
  step_reply orient;
  orient.found_by(step_kind::orient, {"doc-orientation", "1"});
  orient.rotations = {page_rotation{0, 0.9, false}, page_rotation{0, 0.9, false}};
  auto found = classified("invoice", 0);
  step_reply read;
  read.text = std::vector<ocr_page>{{"first", 0.9, {}}, {"second", 0.9, {}}};
  read.found_by(step_kind::ocr, {"tesseract-eng", "5"});
  for (auto* step : {&orient, &found, &read}) d.absorb(*step);
  BOOST_TEST((d.models == std::vector<model_ref>{{"doc-orientation", "1"}, {"classifier", "1"}, {"tesseract-eng", "5"}}));
  BOOST_TEST(result_model("classify", d)->name == "classifier");
  for (const char* op : {"ocr", "extract", "process"}) BOOST_TEST(result_model(op, d)->name == "tesseract-eng", op);
}

BOOST_AUTO_TEST_CASE(a_remote_classify_reply_names_its_classifier_as_the_classifications_model) {
  reply remote;
  remote.ok = true;
  remote.result = value_map{{"doc_type", "letter"}, {"confidence", 0.8}, {"scores", value_map{{"letter", 0.8}}}};
  remote.model = model_ref{"doc-classifier", "2"};
  remote.models = {{"doc-orientation", "1"}, {"doc-classifier", "2"}};
  auto d = two_pages();
  auto found = findings_from_reply(remote);
  d.absorb(found);
  BOOST_TEST(result_model("classify", d)->name == "doc-classifier");
  BOOST_TEST(!result_model("process", d).has_value(), "no text yet: no OCR engine to name");
  BOOST_TEST(d.models.size() == 2u);
}

BOOST_AUTO_TEST_CASE(an_older_nodes_reply_without_models_still_lists_its_model_as_used) {
  reply old;
  old.ok = true;
  old.result = value_map{{"total_pages", 1}, {"pages", value_array{value_map{{"text", "x"}}}}};
  old.model = model_ref{"tesseract-eng", "4"};
  auto found = findings_from_reply(old);
  BOOST_TEST((found.models == std::vector<model_ref>{{"tesseract-eng", "4"}}));
}

BOOST_AUTO_TEST_CASE(the_process_result_joins_the_pages_text_and_reports_the_first_pages_rotation) {
  auto d = two_pages();
  auto found = classified("invoice", 180);
  d.absorb(found);
  d.text = std::vector<ocr_page>{{"first", 0.9, {180, 1.0, true}}, {"second", 0.8, {}}};
  d.fields = extracted_fields{{{"total", "12.00"}}, {{"total", true}}};
  auto r = result_of("process", d);
  BOOST_TEST(*r.find("doc_type")->get_if<std::string>() == "invoice");
  BOOST_TEST(*r.find("text")->get_if<std::string>() == "first\fsecond");
  BOOST_TEST(*r.find("rotation")->find("degrees")->get_if<std::int64_t>() == 180);
  BOOST_TEST(*r.find("rotation")->find("corrected")->get_if<bool>());
  BOOST_TEST(*r.find("fields")->find("total")->get_if<std::string>() == "12.00");
  BOOST_TEST(*r.find("total_pages")->get_if<std::int64_t>() == 2);
  auto ocr = result_of("ocr", d);
  BOOST_TEST(ocr.find("pages")->get_if<value_array>()->size() == 2u);
}

BOOST_AUTO_TEST_CASE(reading_overrules_the_orientation_step_on_a_half_turn_and_says_so) {
  auto d = two_pages();
  d.rotations = {page_rotation{0, 0.97, false}, page_rotation{90, 0.99, false}};
  d.text = std::vector<ocr_page>{{"read upside down", 0.9, {180, 0.9, true}}, {"agreed", 0.9, {90, 1.0, true}}};
  const auto result = result_of("ocr", d);
  const auto& pages = *result.find("pages")->get_if<value_array>();
  BOOST_TEST(*pages[0].find("rotation")->find("degrees")->get_if<std::int64_t>() == 180);
  BOOST_TEST(*pages[1].find("rotation")->find("degrees")->get_if<std::int64_t>() == 90);
  double confidence = 0;
  pages[1].find("rotation")->find("confidence")->as_double(confidence);
  BOOST_TEST(confidence == 0.99);  // the orientation step's, when reading agrees
}

BOOST_AUTO_TEST_CASE(extraction_uses_the_requests_doc_type_before_the_classifiers) {
  auto d = two_pages();
  auto found = classified("invoice", 0);
  d.absorb(found);
  BOOST_TEST(*d.doc_type_for_fields() == "invoice");
  d.doc_type_asked = "receipt";
  BOOST_TEST(*d.doc_type_for_fields() == "receipt");
}

BOOST_AUTO_TEST_CASE(the_pages_text_reweighs_an_unsure_classification_before_fields_are_extracted) {
  auto d = two_pages();
  step_reply found;
  found.classified = classification{"receipt", 0.91, {{"invoice", 0.06}, {"letter", 0.03}, {"receipt", 0.91}}};
  d.absorb(found);
  d.weigh_type_by_text("ACME GmbH\nRECHNUNG\nRechnungsnummer: R-2291\f");
  BOOST_TEST(*d.doc_type_for_fields() == "invoice");
  BOOST_TEST(d.classified->doc_type == "invoice");
  BOOST_TEST(d.classified->confidence > 0.9);
  BOOST_TEST(d.classified->scores.size() == 3u);  // every label keeps a score
}

BOOST_AUTO_TEST_CASE(the_text_changes_nothing_when_the_request_named_its_doc_type_or_names_no_type) {
  auto d = two_pages();
  auto found = classified("letter", 0);
  d.absorb(found);
  d.weigh_type_by_text("lorem ipsum 12.50");
  BOOST_TEST(d.classified->doc_type == "letter");
  BOOST_TEST(d.classified->confidence == 0.9);
  d.doc_type_asked = "form";
  d.weigh_type_by_text("INVOICE Invoice No. 2");
  BOOST_TEST(d.classified->doc_type == "letter");
  document none;
  none.weigh_type_by_text("INVOICE");  // nothing classified: nothing to weigh
  BOOST_TEST(!none.classified.has_value());
}

BOOST_AUTO_TEST_CASE(a_remote_reply_becomes_the_steps_findings_and_an_error_keeps_its_code) {
  reply ok;
  ok.ok = true;
  ok.node = "node-b";
  ok.result = value_map{{"total_pages", 3},
                        {"pages", value_array{value_map{{"page", 1}, {"text", "hello"}, {"confidence", 0.5},
                                                        {"rotation", value_map{{"degrees", 90}, {"corrected", true}}}}}}};
  ok.model = model_ref{"tesseract-eng", "5.3"};
  ok.models = {{"doc-orientation", "1"}, {"tesseract-eng", "5.3"}};
  auto found = findings_from_reply(ok);
  BOOST_REQUIRE(found.text);
  BOOST_TEST(found.text->at(0).text == "hello");
  BOOST_TEST(found.text->at(0).rotation.degrees == 90);
  BOOST_TEST(found.total_pages == 3);
  BOOST_TEST(found.models.size() == 2u, "the models used over there are carried through");
  BOOST_TEST(found.produced_by.at(step_kind::ocr).name == "tesseract-eng");
  BOOST_TEST(!found.produced_by.count(step_kind::classify));
  auto failed = findings_from_reply(reply::failed("x", "ocr", error_code::overloaded, "queue full"));
  BOOST_REQUIRE(failed.failure);
  BOOST_TEST((failed.failure->code == error_code::overloaded));
}

BOOST_AUTO_TEST_CASE(a_forwarded_step_carries_id_deadline_priority_and_the_known_rotation) {
  step_request req;
  req.step = step_kind::ocr;
  req.id = "abc";
  req.input = shared_bytes::copy_of("bytes");
  req.pages = {req.input};
  req.rotations = {page_rotation{270, 0.9, false}};
  req.priority = 5;
  auto out = forwarded_request(req, std::chrono::milliseconds(1234));
  BOOST_TEST(out.id == "abc");
  BOOST_TEST(*out.deadline_ms == 1234);
  BOOST_TEST(out.priority == 5);
  BOOST_TEST(*out.rotation == 270);
  BOOST_TEST(out.auto_rotate);  // the OCR there may still settle a half turn by reading
  BOOST_TEST(out.hops == 1);
  req.step = step_kind::orient;
  req.rotations = {std::nullopt};
  auto orient = forwarded_request(req, std::chrono::milliseconds(10));
  BOOST_TEST(orient.auto_rotate);
  BOOST_TEST(!orient.rotation);
  BOOST_TEST(orient.max_pages == 1);
}

BOOST_AUTO_TEST_CASE(a_forwarded_document_carries_the_rotation_of_each_page_when_all_are_known) {
  step_request req;
  req.step = step_kind::ocr;
  req.input = shared_bytes::copy_of("%PDF");
  req.pages = {req.input, req.input, req.input};
  req.rotations = {page_rotation{0, 0.9, false}, page_rotation{180, 0.8, true}, page_rotation{90, 0.7, true}};
  auto out = forwarded_request(req, std::chrono::milliseconds(100));
  BOOST_TEST((out.page_rotations == std::vector<std::int64_t>{0, 180, 90}));
  BOOST_TEST(!out.rotation);
  req.rotations[1].reset();  // one page not oriented here: the other node orients every page itself
  BOOST_TEST(forwarded_request(req, std::chrono::milliseconds(100)).page_rotations.empty());
}

BOOST_AUTO_TEST_SUITE_END()
