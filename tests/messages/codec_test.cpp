#include <boost/test/unit_test.hpp>

#include <random>

#include "messages/codec.hpp"

using namespace infermesh;

namespace {

const decode_limits limits{1u << 20, 1u << 19};  // 1 MiB payload, 512 KiB image: small enough to test both

shared_bytes bytes(const std::string& s) { return shared_bytes::copy_of(s); }

outcome<request> decode(const value& v, encoding enc) { return decode_request(bytes(encode_value(v, enc)), limits); }

void expect_error(const outcome<request>& r, error_code code, const std::string& mentions) {
  BOOST_REQUIRE(!r);
  BOOST_TEST(to_string(r.err().code) == to_string(code));
  BOOST_TEST(r.err().message.find(mentions) != std::string::npos, "message '" << r.err().message << "' names '"
                                                                              << mentions << "'");
}

const shared_bytes png_magic = bytes("\x89PNG\r\n\x1a\n....");

}  // namespace

BOOST_AUTO_TEST_SUITE(codec)

BOOST_AUTO_TEST_CASE(detects_json_by_its_first_byte_and_msgpack_otherwise) {
  BOOST_TEST((detect_encoding(bytes("{\"id\":1}")) == encoding::json));
  BOOST_TEST((detect_encoding(bytes("\x81\xa2id")) == encoding::msgpack));
  BOOST_TEST((detect_encoding(bytes("")) == encoding::msgpack));
}

BOOST_AUTO_TEST_CASE(a_json_request_after_whitespace_or_a_byte_order_mark_is_json_and_answered_in_json) {
  const std::string json = R"({"id": "padded", "image_path": "/x"})";
  for (const std::string& prefix : {std::string(" \t\r\n"), std::string("\xef\xbb\xbf"), std::string("\xef\xbb\xbf\n  ")}) {
    const auto payload = bytes(prefix + json);
    BOOST_TEST((detect_encoding(payload) == encoding::json), "prefix of " << prefix.size() << " bytes");
    auto r = decode_request(payload, limits);
    BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
    BOOST_TEST(r->id == "padded");
  }
  // Bytes that are neither whitespace nor a whole BOM still mean msgpack.
  BOOST_TEST((detect_encoding(bytes("\xef\xbb{")) == encoding::msgpack));
  BOOST_TEST((detect_encoding(bytes(" \x81\xa2id")) == encoding::msgpack));
  BOOST_TEST((detect_encoding(bytes("  ")) == encoding::msgpack));
}

BOOST_AUTO_TEST_CASE(a_string_field_that_is_not_valid_utf8_is_refused_naming_the_field) {
  const std::vector<std::string> not_utf8 = {
      "\xff",              // never a UTF-8 byte
      "ok\xc3",            // a sequence cut short
      "\xc0\xaf",          // overlong '/'
      "\xe0\x80\xaf",      // overlong, 3 bytes
      "\xed\xa0\x80",      // a UTF-16 surrogate
      "\xf4\x90\x80\x80",  // past U+10FFFF
      "\x80",              // a lone continuation byte
  };
  for (const auto& bad : not_utf8) {
    for (const char* field : {"id", "doc_type"}) {
      value_map m;
      m.emplace_back(field, bad);
      m.emplace_back("image_path", std::string("/x"));
      expect_error(decode(value{m}, encoding::msgpack), error_code::bad_request, std::string("'") + field + "'");
    }
  }
  // Valid multi-byte text (2, 3 and 4 bytes) is kept as it came.
  const std::string text = "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x93\x84";
  auto r = decode(value{value_map{{"id", text}, {"image_path", std::string("/x")}}}, encoding::msgpack);
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
  BOOST_TEST(r->id == text);
}

BOOST_AUTO_TEST_CASE(a_json_array_or_object_over_msgpacks_item_limits_is_refused_before_it_is_built) {
  const decode_limits d;  // the node's defaults: what a client meets
  // An 8 MB array of one-digit numbers: 4 million items the parser would otherwise build into a tree.
  std::string items;
  items.reserve(d.max_payload_bytes);
  while (items.size() + 2 < d.max_payload_bytes - 64) items += "1,";
  const std::string huge = R"({"id": "a", "image_path": "/x", "pad": [)" + items + "1]}";
  expect_error(decode_request(bytes(huge), d), error_code::too_large, "max_array_items");
  // Just over, and just at, the limit; commas inside strings are not items.
  auto array_of = [](std::size_t n) {
    std::string a = "[";
    for (std::size_t i = 0; i < n; ++i) a += (i ? ",\"a,b\"" : "\"a,b\"");
    return a + "]";
  };
  expect_error(decode_request(bytes(R"({"image_path": "/x", "pad": )" + array_of(d.max_array_items + 1) + "}"), d),
               error_code::too_large, std::to_string(d.max_array_items));
  BOOST_TEST(static_cast<bool>(decode_request(bytes(R"({"image_path": "/x", "pad": )" + array_of(d.max_array_items) + "}"), d)));
  std::string members = R"({"image_path": "/x")";
  for (std::size_t i = 0; i < d.max_map_items; ++i) members += ",\"k" + std::to_string(i) + "\": 0";
  expect_error(decode_request(bytes(members + "}"), d), error_code::too_large, "max_map_items");
  // msgpack names the same limits.
  value_array long_array(d.max_array_items + 1, value{std::int64_t{1}});
  expect_error(decode(value{value_map{{"image_path", std::string("/x")}, {"pad", long_array}}}, encoding::msgpack),
               error_code::too_large, "max_array_items");
}

BOOST_AUTO_TEST_CASE(nested_arrays_within_each_containers_limit_are_refused_past_the_total_in_both_encodings) {
  const decode_limits d;  // the node's defaults
  // Arrays of max_array_items one-byte items, each within its own limit, side by side: the whole payload holds
  // more items than max_total_items allows (at 8 MB, ~2000 such arrays would build a tree of 8 million values).
  const std::size_t arrays = d.max_total_items / d.max_array_items + 1;
  value_array inner(d.max_array_items, value{std::int64_t{1}});
  value_array outer(arrays, value{inner});
  const value bomb{value_map{{"image_path", std::string("/x")}, {"pad", outer}}};
  expect_error(decode_request(bytes(encode_value(bomb, encoding::msgpack)), d), error_code::too_large, "max_total_items");
  expect_error(decode_request(bytes(encode_value(bomb, encoding::json)), d), error_code::too_large, "max_total_items");
  // Two arrays fewer is within every limit, in both encodings (the map's 2 and the outer array's items count too).
  value_array fewer(arrays - 2, value{inner});
  const value fits{value_map{{"image_path", std::string("/x")}, {"pad", fewer}}};
  BOOST_TEST(static_cast<bool>(decode_request(bytes(encode_value(fits, encoding::msgpack)), d)));
  BOOST_TEST(static_cast<bool>(decode_request(bytes(encode_value(fits, encoding::json)), d)));
}

BOOST_AUTO_TEST_CASE(a_msgpack_header_claiming_more_items_than_the_total_is_refused_before_its_items_are_read) {
  decode_limits d;
  d.max_total_items = 10;
  // A map holding an array that announces 11 items, of which none follow: too_large, not a wait for bytes.
  const std::string head("\x81\xa3pad\xdc\x00\x0b", 8);
  expect_error(decode_request(bytes(head), d), error_code::too_large, "max_total_items");
}

BOOST_AUTO_TEST_CASE(round_trips_every_request_field_in_both_encodings) {
  request in;
  in.id = "req-1";
  in.image = png_magic;
  in.doc_type = "invoice";
  in.auto_rotate = false;
  in.max_pages = 3;
  in.deadline_ms = 2500;
  in.priority = -7;
  in.reply_to = "_INBOX.x";
  in.rotation = 90;
  in.page_rotations = {0, 180, 270};
  in.hops = 1;
  for (auto enc : {encoding::msgpack, encoding::json}) {
    auto out = decode_request(bytes(encode_request(in, enc)), limits);
    BOOST_REQUIRE(out);
    BOOST_TEST(out->id == "req-1");
    BOOST_TEST(out->image.view() == png_magic.view());
    BOOST_TEST(out->doc_type.value() == "invoice");
    BOOST_TEST(out->auto_rotate == false);
    BOOST_TEST(out->max_pages == 3);
    BOOST_TEST(out->deadline_ms.value() == 2500);
    BOOST_TEST(out->priority == -7);
    BOOST_TEST(out->reply_to.value() == "_INBOX.x");
    BOOST_TEST(out->rotation.value() == 90);
    BOOST_TEST((out->page_rotations == std::vector<std::int64_t>{0, 180, 270}));
    BOOST_TEST(out->hops == 1);
  }
}

BOOST_AUTO_TEST_CASE(msgpack_image_bytes_are_a_view_of_the_payload_not_a_copy) {
  request in;
  in.image = png_magic;
  const auto payload = bytes(encode_request(in, encoding::msgpack));
  auto out = decode_request(payload, limits);
  BOOST_REQUIRE(out);
  BOOST_TEST((out->image.data() >= payload.data() && out->image.data() < payload.data() + payload.size()));
}

BOOST_AUTO_TEST_CASE(applies_protocol_defaults_for_absent_fields) {
  auto out = decode(value_map{{"image", png_magic}}, encoding::msgpack);
  BOOST_REQUIRE(out);
  BOOST_TEST(out->id.empty());
  BOOST_TEST(out->auto_rotate);
  BOOST_TEST(out->max_pages == 10);
  BOOST_TEST(!out->deadline_ms.has_value());
  BOOST_TEST(out->priority == 0);
}

BOOST_AUTO_TEST_CASE(ignores_unknown_fields_from_newer_clients) {
  BOOST_TEST(bool(decode(value_map{{"image", png_magic}, {"future_field", value_array{1, 2}}}, encoding::msgpack)));
}

BOOST_AUTO_TEST_CASE(names_the_field_that_has_the_wrong_type) {
  expect_error(decode(value_map{{"image", png_magic}, {"priority", "high"}}, encoding::json), error_code::bad_request,
               "'priority'");
  expect_error(decode(value_map{{"image", png_magic}, {"id", 5}}, encoding::msgpack), error_code::bad_request, "'id'");
  expect_error(decode(value_map{{"image", 42}}, encoding::msgpack), error_code::bad_request, "'image'");
  expect_error(decode(value_map{{"image", png_magic}, {"auto_rotate", "yes"}}, encoding::msgpack),
               error_code::bad_request, "'auto_rotate'");
}

BOOST_AUTO_TEST_CASE(refuses_out_of_range_numbers) {
  expect_error(decode(value_map{{"image", png_magic}, {"deadline_ms", -5}}, encoding::msgpack),
               error_code::bad_request, "'deadline_ms'");
  expect_error(decode(value_map{{"image", png_magic}, {"max_pages", 0}}, encoding::json), error_code::bad_request,
               "'max_pages'");
  expect_error(decode(value_map{{"image", png_magic}, {"priority", std::int64_t{1} << 40}}, encoding::msgpack),
               error_code::bad_request, "'priority'");
  expect_error(decode(value_map{{"image", png_magic}, {"deadline_ms", 1e300}}, encoding::json),
               error_code::bad_request, "'deadline_ms'");
}

BOOST_AUTO_TEST_CASE(refuses_rotations_other_than_quarter_turns) {
  expect_error(decode(value_map{{"image", png_magic}, {"rotation", 45}}, encoding::msgpack), error_code::bad_request,
               "'rotation'");
  expect_error(decode(value_map{{"image", png_magic}, {"page_rotations", value_array{0, 45}}}, encoding::json),
               error_code::bad_request, "'page_rotations'");
  expect_error(decode(value_map{{"image", png_magic}, {"page_rotations", value_array{360}}}, encoding::msgpack),
               error_code::bad_request, "'page_rotations'");
  expect_error(decode(value_map{{"image", png_magic}, {"page_rotations", value_array{"90"}}}, encoding::msgpack),
               error_code::bad_request, "'page_rotations'");
  expect_error(decode(value_map{{"image", png_magic}, {"page_rotations", 90}}, encoding::json), error_code::bad_request,
               "'page_rotations'");
}

BOOST_AUTO_TEST_CASE(requires_exactly_one_of_image_and_image_path) {
  expect_error(decode(value_map{{"id", "x"}}, encoding::msgpack), error_code::bad_request, "exactly one");
  expect_error(decode(value_map{{"image", png_magic}, {"image_path", "/x.png"}}, encoding::msgpack),
               error_code::bad_request, "exactly one");
}

BOOST_AUTO_TEST_CASE(refuses_an_empty_image_and_an_image_over_the_limit) {
  expect_error(decode(value_map{{"image", bytes("")}}, encoding::msgpack), error_code::bad_request, "empty");
  const std::string big(limits.max_image_bytes + 1, 'x');
  expect_error(decode(value_map{{"image", bytes(big)}}, encoding::msgpack), error_code::too_large, "'image'");
  expect_error(decode(value_map{{"image", bytes(big)}}, encoding::json), error_code::too_large, "'image'");
}

BOOST_AUTO_TEST_CASE(refuses_a_payload_over_the_limit_before_parsing_it) {
  const std::string huge(limits.max_payload_bytes + 1, '{');
  expect_error(decode_request(bytes(huge), limits), error_code::too_large, "payload");
}

BOOST_AUTO_TEST_CASE(json_image_must_be_valid_base64) {
  expect_error(decode_request(bytes(R"({"image": "not base64!"})"), limits), error_code::bad_request, "base64");
}

BOOST_AUTO_TEST_CASE(answers_malformed_payloads_with_bad_request) {
  const std::vector<std::string> garbage = {
      "{\"image\": ",                        // truncated JSON
      "{'image': 1}",                        // not JSON
      std::string("\x82\xa2id", 4),          // msgpack map that ends early
      "[1,2,3]",                             // msgpack fixarray-looking text: not a map
      std::string("\x81\x01\x02", 3),        // msgpack map with an integer key
      std::string("\xd4\x01\x00", 3),        // msgpack ext type
      std::string("\x80\x80", 2),            // a map followed by trailing bytes
      "\xc1",                                // msgpack's never-used byte
  };
  for (const auto& g : garbage) {
    auto r = decode_request(bytes(g), limits);
    BOOST_TEST(!r);
    if (!r) BOOST_TEST(to_string(r.err().code) == "bad_request");
  }
}

BOOST_AUTO_TEST_CASE(refuses_size_claims_it_cannot_back_without_allocating_them) {
  // array32 / map32 / bin32 headers claiming 4 billion elements or bytes in a 5-byte payload
  for (const char* head : {"\xdd\xff\xff\xff\xff", "\xdf\xff\xff\xff\xff", "\xc6\xff\xff\xff\xff"}) {
    auto r = decode_request(bytes(std::string(head, 5)), limits);
    BOOST_TEST(!r);
  }
}

BOOST_AUTO_TEST_CASE(refuses_deep_nesting_in_both_encodings) {
  const std::string deep_msgpack(100000, '\x91');  // fixarray of one element, 100k deep
  BOOST_TEST(!decode_request(bytes(deep_msgpack), limits));
  const std::string deep_json = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto r = decode_request(bytes(deep_json), limits);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.err().message.find("nested") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(survives_random_and_mutated_payloads) {
  // Deterministic fuzzing: random bytes, and valid requests with random bytes flipped or cut.
  std::mt19937 rng(20261123);
  request valid;
  valid.id = "fuzz";
  valid.image = png_magic;
  valid.deadline_ms = 100;
  const std::string seeds[] = {encode_request(valid, encoding::msgpack), encode_request(valid, encoding::json)};
  constexpr int rounds = 20000;
  int decoded = 0;
  for (int i = 0; i < rounds; ++i) {
    std::string p;
    if (i % 3 == 0) {
      p.resize(rng() % 64);
      for (auto& c : p) c = static_cast<char>(rng());
    } else {
      p = seeds[i % 2];
      for (int k = 0, n = 1 + rng() % 4; k < n; ++k) p[rng() % p.size()] = static_cast<char>(rng());
      if (rng() % 4 == 0) p.resize(rng() % p.size());
    }
    decoded += bool(decode_request(bytes(p), limits));
  }
  BOOST_TEST_MESSAGE(decoded << " of " << rounds << " fuzzed payloads still decoded");
  BOOST_TEST(decoded < rounds);
}

BOOST_AUTO_TEST_CASE(round_trips_a_reply_with_result_error_timing_and_models) {
  reply ok;
  ok.id = "a";
  ok.ok = true;
  ok.op = "classify";
  ok.result = value_map{{"doc_type", "invoice"}, {"confidence", 0.9}};
  ok.time = {1.5, 2.5, 4.0, 3};
  ok.node = "n1";
  ok.model = model_ref{"m", "2"};
  ok.models = {{"orienter", "1"}, {"m", "2"}};
  for (auto enc : {encoding::msgpack, encoding::json}) {
    auto back = decode_reply(bytes(encode_reply(ok, enc)));
    BOOST_REQUIRE(back);
    BOOST_TEST(back->ok);
    BOOST_TEST(back->id == "a");
    BOOST_TEST(*back->result.find("doc_type")->get_if<std::string>() == "invoice");
    BOOST_TEST(back->time.compute_ms == 2.5);
    BOOST_TEST(back->time.batch_size == 3);
    BOOST_TEST((back->model == model_ref{"m", "2"}));
    BOOST_TEST((back->models == std::vector<model_ref>{{"orienter", "1"}, {"m", "2"}}));
    BOOST_TEST(!back->failure.has_value());
  }
  auto failed = reply::failed("b", "classify", error_code::overloaded, "queue full");
  auto back = decode_reply(bytes(encode_reply(failed, encoding::json)));
  BOOST_REQUIRE(back);
  BOOST_TEST(!back->ok);
  BOOST_TEST(to_string(back->failure->code) == "overloaded");
  BOOST_TEST(back->result.is_null());
}

BOOST_AUTO_TEST_CASE(a_reply_encodes_model_as_one_map_and_every_model_used_in_models) {
  reply ok;
  ok.ok = true;
  ok.op = "process";
  ok.model = model_ref{"tesseract-eng", "5"};
  ok.models = {{"doc-orientation", "1"}, {"doc-classifier", "1"}, {"tesseract-eng", "5"}};
  for (auto enc : {encoding::msgpack, encoding::json}) {
    auto tree = decode_value(bytes(encode_reply(ok, enc)), enc, limits);
    BOOST_REQUIRE(tree);
    const value* model = tree->find("model");
    BOOST_REQUIRE(model != nullptr);
    BOOST_REQUIRE(model->get_if<value_map>() != nullptr);  // a map even though three models were used
    BOOST_TEST(*model->find("name")->get_if<std::string>() == "tesseract-eng");
    const value* models = tree->find("models");
    BOOST_REQUIRE(models != nullptr);
    BOOST_REQUIRE(models->get_if<value_array>() != nullptr);
    BOOST_TEST(models->get_if<value_array>()->size() == 3u);
    BOOST_TEST(*(*models->get_if<value_array>())[0].find("name")->get_if<std::string>() == "doc-orientation");
  }
}

BOOST_AUTO_TEST_CASE(an_error_reply_without_models_has_neither_model_nor_models) {
  auto tree = decode_value(bytes(encode_reply(reply::failed("x", "ocr", error_code::internal, "m"), encoding::json)),
                           encoding::json, limits);
  BOOST_REQUIRE(tree);
  BOOST_TEST(tree->find("model") == nullptr);
  BOOST_TEST(tree->find("models") == nullptr);
}

BOOST_AUTO_TEST_CASE(an_older_nodes_model_array_decodes_as_its_last_model_and_the_models_used) {
  const std::string old_reply =
      R"({"id":"a","ok":true,"op":"classify","result":{},"node":"old",)"
      R"("model":[{"name":"doc-orientation","version":"1"},{"name":"doc-classifier","version":"2"}]})";
  auto back = decode_reply(bytes(old_reply));
  BOOST_REQUIRE(back);
  BOOST_TEST((back->model == model_ref{"doc-classifier", "2"}));
  BOOST_TEST((back->models == std::vector<model_ref>{{"doc-orientation", "1"}, {"doc-classifier", "2"}}));
  auto reencoded = decode_value(bytes(encode_reply(*back, encoding::json)), encoding::json, limits);
  BOOST_REQUIRE(reencoded);
  BOOST_TEST(reencoded->find("model")->get_if<value_map>() != nullptr, "never re-encoded as an array");
}

BOOST_AUTO_TEST_CASE(a_model_that_is_neither_map_nor_array_and_model_entries_that_are_not_maps_are_ignored) {
  auto back = decode_reply(bytes(R"({"id":"a","ok":true,"model":"classifier","models":[3,{"name":"m","version":"1"}]})"));
  BOOST_REQUIRE(back);
  BOOST_TEST(!back->model.has_value());
  BOOST_TEST((back->models == std::vector<model_ref>{{"m", "1"}}));
  auto empty = decode_reply(bytes(R"({"id":"a","ok":true,"model":[]})"));
  BOOST_REQUIRE(empty);
  BOOST_TEST(!empty->model.has_value());
}

BOOST_AUTO_TEST_CASE(json_reply_keeps_the_wire_field_order) {
  auto text = encode_reply(reply::failed("x", "classify", error_code::internal, "m"), encoding::json);
  BOOST_TEST(text.rfind(R"({"id":"x","ok":false,"op":"classify")", 0) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
