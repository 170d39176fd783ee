#include "messages/request_fingerprint.hpp"

#include <functional>

namespace infermesh {

request_fingerprint fingerprint_of(const request& req) {
  request_fingerprint f;
  f.image_size = req.image.size();
  f.image_hash = std::hash<std::string_view>{}(req.image.view());
  f.image_path = req.image_path;
  f.doc_type = req.doc_type;
  f.auto_rotate = req.auto_rotate;
  f.max_pages = req.max_pages;
  f.rotation = req.rotation;
  f.page_rotations = req.page_rotations;
  return f;
}

std::string first_difference(const request_fingerprint& a, const request_fingerprint& b) {
  if (a.image_size != b.image_size || a.image_hash != b.image_hash) return "image";
  if (a.image_path != b.image_path) return "image_path";
  if (a.doc_type != b.doc_type) return "doc_type";
  if (a.auto_rotate != b.auto_rotate) return "auto_rotate";
  if (a.max_pages != b.max_pages) return "max_pages";
  if (a.rotation != b.rotation) return "rotation";
  if (a.page_rotations != b.page_rotations) return "page_rotations";
  return "";
}

}  // namespace infermesh
