// Reading and writing the v1 request map (protocol.md "Request").

#include <cmath>
#include <limits>

#include "messages/base64.hpp"
#include "messages/codec.hpp"

namespace infermesh {
namespace {

constexpr std::size_t max_id_length = 256;
constexpr std::size_t max_string_field = 4096;

error wrong_type(std::string_view field, std::string_view expected, const value& got) {
  return {error_code::bad_request, "field '" + std::string(field) + "' must be " + std::string(expected) + ", not " +
                                       std::string(type_name(got))};
}

/// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF, no cut sequence. A
/// string field is echoed in the reply (a JSON reply must be valid text) or used as a key, so it must be text.
bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte; later ones are always 80..bf
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c == 0xe0) len = 3, lo = 0xa0;                     // no overlong 3-byte forms
    else if (c == 0xed) len = 3, hi = 0x9f;                     // no UTF-16 surrogates
    else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) len = 3;
    else if (c == 0xf0) len = 4, lo = 0x90;                     // no overlong 4-byte forms
    else if (c >= 0xf1 && c <= 0xf3) len = 4;
    else if (c == 0xf4) len = 4, hi = 0x8f;                     // nothing past U+10FFFF
    else return false;                                          // a continuation byte, C0, C1 or F5..FF
    if (n - i < len || p[i + 1] < lo || p[i + 1] > hi) return false;
    for (std::size_t k = 2; k < len; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xbf) return false;
    i += len;
  }
  return true;
}

std::optional<error> read_string(const value& map, std::string_view field, std::size_t max_len,
                                 std::optional<std::string>& out) {
  const value* v = map.find(field);
  if (v == nullptr || v->is_null()) return std::nullopt;
  const auto* s = v->get_if<std::string>();
  if (s == nullptr) return wrong_type(field, "a string", *v);
  if (s->size() > max_len)
    return error{error_code::bad_request, "field '" + std::string(field) + "' is longer than " + std::to_string(max_len)};
  if (!is_valid_utf8(*s)) return error{error_code::bad_request, "field '" + std::string(field) + "' is not valid UTF-8"};
  out = *s;
  return std::nullopt;
}

/// An integer, or a float with an integer's value (JSON clients sometimes send 5000.0).
bool as_integer(const value& v, std::int64_t& out) {
  if (const auto* i = v.get_if<std::int64_t>()) {
    out = *i;
    return true;
  }
  const auto* d = v.get_if<double>();
  // In range first: converting a double outside int64's range is undefined behaviour.
  if (d == nullptr || !(std::fabs(*d) < 9.0e18) || *d != std::trunc(*d)) return false;
  out = static_cast<std::int64_t>(*d);
  return true;
}

std::optional<error> not_a_rotation(std::string_view field, std::int64_t degrees) {
  if (degrees >= 0 && degrees <= 270 && degrees % 90 == 0) return std::nullopt;
  return error{error_code::bad_request, "field '" + std::string(field) + "' must be 0, 90, 180 or 270 (degrees clockwise), not " +
                                            std::to_string(degrees)};
}

std::optional<error> read_int(const value& map, std::string_view field, std::int64_t min, std::int64_t max,
                              std::optional<std::int64_t>& out) {
  const value* v = map.find(field);
  if (v == nullptr || v->is_null()) return std::nullopt;
  std::int64_t n = 0;
  if (!as_integer(*v, n)) return wrong_type(field, "an integer", *v);
  if (n < min || n > max)
    return error{error_code::bad_request, "field '" + std::string(field) + "' must be between " + std::to_string(min) +
                                              " and " + std::to_string(max) + ", not " + std::to_string(n)};
  out = n;
  return std::nullopt;
}

/// `page_rotations`: an array of at most `max_page_rotations` rotations (0/90/180/270).
std::optional<error> read_page_rotations(const value& map, std::vector<std::int64_t>& out) {
  constexpr std::size_t max_page_rotations = 100000;  // the bound of `max_pages`
  const value* v = map.find("page_rotations");
  if (v == nullptr || v->is_null()) return std::nullopt;
  const auto* items = v->get_if<value_array>();
  if (items == nullptr) return wrong_type("page_rotations", "an array of integers", *v);
  if (items->size() > max_page_rotations)
    return error{error_code::bad_request, "field 'page_rotations' has more than " + std::to_string(max_page_rotations) + " items"};
  out.reserve(items->size());
  for (const auto& item : *items) {
    std::int64_t degrees = 0;
    if (!as_integer(item, degrees)) return wrong_type("page_rotations", "an array of integers", item);
    if (auto e = not_a_rotation("page_rotations", degrees)) return *e;
    out.push_back(degrees);
  }
  return std::nullopt;
}

}  // namespace

outcome<request> decode_request(const shared_bytes& payload, const decode_limits& limits) {
  const auto enc = detect_encoding(payload);
  auto tree = decode_value(payload, enc, limits);
  if (!tree) return tree.err();
  if (tree->get_if<value_map>() == nullptr)
    return error{error_code::bad_request, "a request must be a map, not " + std::string(type_name(*tree))};
  const value& m = *tree;
  request req;

  std::optional<std::string> id;
  if (auto e = read_string(m, "id", max_id_length, id)) return *e;
  req.id = id.value_or("");

  if (const value* img = m.find("image"); img != nullptr && !img->is_null()) {
    if (const auto* bytes = img->get_if<shared_bytes>()) {
      req.image = *bytes;
    } else if (const auto* text = img->get_if<std::string>()) {
      if (enc == encoding::json) {
        if (text->size() / 4 * 3 > limits.max_image_bytes + 3)
          return error{error_code::too_large, "field 'image' is over the limit of " +
                                                  std::to_string(limits.max_image_bytes) + " bytes"};
        auto decoded = base64_decode(*text);
        if (!decoded) return error{error_code::bad_request, "field 'image' is not valid base64"};
        req.image = shared_bytes::from_vector(std::move(*decoded));
      } else {
        req.image = shared_bytes::copy_of(*text);  // msgpack str instead of bin: accept the raw bytes
      }
    } else {
      return wrong_type("image", "bytes", *img);
    }
    if (req.image.empty()) return error{error_code::bad_request, "field 'image' is empty"};
    if (req.image.size() > limits.max_image_bytes)
      return error{error_code::too_large, "field 'image' has " + std::to_string(req.image.size()) +
                                              " bytes, over the limit of " + std::to_string(limits.max_image_bytes)};
  }
  if (auto e = read_string(m, "image_path", max_string_field, req.image_path)) return *e;
  if (auto e = read_string(m, "doc_type", max_string_field, req.doc_type)) return *e;
  if (auto e = read_string(m, "reply_to", max_string_field, req.reply_to)) return *e;

  if (const value* ar = m.find("auto_rotate"); ar != nullptr && !ar->is_null()) {
    const auto* b = ar->get_if<bool>();
    if (b == nullptr) return wrong_type("auto_rotate", "a bool", *ar);
    req.auto_rotate = *b;
  }
  std::optional<std::int64_t> n;
  if (auto e = read_int(m, "max_pages", 1, 100000, n)) return *e;
  if (n) req.max_pages = *n;
  n.reset();
  if (auto e = read_int(m, "priority", std::numeric_limits<std::int32_t>::min(),
                        std::numeric_limits<std::int32_t>::max(), n))
    return *e;
  if (n) req.priority = *n;
  // A day bounds the deadline so that now + deadline never overflows a clock.
  if (auto e = read_int(m, "deadline_ms", 1, 24 * 3600 * 1000, req.deadline_ms)) return *e;
  if (auto e = read_int(m, "rotation", 0, 270, req.rotation)) return *e;
  if (req.rotation)
    if (auto e = not_a_rotation("rotation", *req.rotation)) return *e;
  if (auto e = read_page_rotations(m, req.page_rotations)) return *e;
  n.reset();
  if (auto e = read_int(m, "hops", 0, 8, n)) return *e;
  if (n) req.hops = static_cast<int>(*n);

  if (req.image.empty() == !req.image_path.has_value())
    return error{error_code::bad_request, "exactly one of 'image' and 'image_path' is required"};
  return req;
}

std::string encode_request(const request& req, encoding enc) {
  value_map m;
  if (!req.id.empty()) m.emplace_back("id", req.id);
  if (!req.image.empty()) m.emplace_back("image", req.image);
  if (req.image_path) m.emplace_back("image_path", *req.image_path);
  if (req.doc_type) m.emplace_back("doc_type", *req.doc_type);
  if (!req.auto_rotate) m.emplace_back("auto_rotate", false);
  if (req.max_pages != 10) m.emplace_back("max_pages", req.max_pages);
  if (req.deadline_ms) m.emplace_back("deadline_ms", *req.deadline_ms);
  if (req.priority != 0) m.emplace_back("priority", req.priority);
  if (req.reply_to) m.emplace_back("reply_to", *req.reply_to);
  if (req.rotation) m.emplace_back("rotation", *req.rotation);
  if (!req.page_rotations.empty()) {
    value_array rotations(req.page_rotations.begin(), req.page_rotations.end());
    m.emplace_back("page_rotations", std::move(rotations));
  }
  if (req.hops != 0) m.emplace_back("hops", static_cast<std::int64_t>(req.hops));
  return encode_value(value{std::move(m)}, enc);
}

}  // namespace infermesh
