#pragma once
/// Multi-page input: a PDF (rendered with poppler) or a multi-page TIFF (libtiff) becomes a list of page
/// images, each an in-memory 8-bit grey PGM (`P5`) that every later step decodes like any other image. No
/// tempfiles: poppler and libtiff read the request's bytes where they lie. A PNG or JPEG is one page, passed
/// through untouched. Pure function over bytes; the only file that includes poppler or libtiff.
///
/// Limits are checked before anything big is allocated: page count (`too_large`), each page's pixel count at
/// the render resolution (`too_large`), encrypted, empty or corrupt documents (`unsupported_media`).

#include <cstdint>
#include <vector>

#include "messages/outcome.hpp"
#include "messages/shared_bytes.hpp"

namespace infermesh {

struct document_limits {
  std::uint64_t max_pixels = 40'000'000;  ///< per page, after rendering
  int max_document_pages = 1000;          ///< a document with more pages is refused, not truncated
  int dpi = 300;                          ///< PDF render resolution (Tesseract reads best at ~300)
};

struct document_pages {
  std::vector<shared_bytes> pages;  ///< the first `max_pages` pages, in order
  int total_pages = 0;              ///< pages in the document
};

/// True when `input` starts like a PDF or a TIFF (the inputs that can hold several pages).
bool is_multi_page_format(const shared_bytes& input);

/// True when `input`'s magic bytes are one of the formats the wire contract accepts: PNG, JPEG, PDF or TIFF.
/// A PGM is decodable (it is the page format split_pages produces) but is not one of them.
bool is_wire_format(const shared_bytes& input);

/// Splits `input` into at most `max_pages` page images (a PNG or JPEG is returned as its only page).
outcome<document_pages> split_pages(const shared_bytes& input, int max_pages, const document_limits& limits);

}  // namespace infermesh
