#pragma once
/// Turns pages read by OCR into the wire's ocr result
/// `{total_pages, pages: [{page, text, confidence, rotation: {degrees, confidence, corrected}}]}`.

#include <vector>

#include "messages/value.hpp"
#include "models/tesseract_ocr.hpp"

namespace infermesh {

/// The wire's `rotation` map of one page.
value rotation_value(const page_rotation& r);

value ocr_pages_result(const std::vector<ocr_page>& pages);

}  // namespace infermesh
