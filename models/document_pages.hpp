#pragma once
/// Multi-page input: a PDF (rendered with poppler) or a multi-page TIFF (libtiff) becomes a list of page
/// images, each an in-memory 8-bit grey PGM (`P5`) that every later step decodes like any other image. No
/// tempfiles: poppler and libtiff read the request's bytes where they lie. A PNG or JPEG is one page, passed
/// through untouched. Pure function over bytes; the only file that includes poppler or libtiff.
///
/// Limits are checked before anything big is allocated: page count (`too_large`), each page's pixel count at
/// the render resolution (`too_large`), the pixels of all pages split for one request together
/// (`max_request_pixels`, `too_large`: a page bomb of many small pages is as big as one huge page), encrypted,
/// empty or corrupt documents (`unsupported_media`). libtiff's single allocations are capped too
/// (`tiff_max_single_alloc`): a tile or strip size read from the file cannot make it allocate gigabytes.

#include <chrono>
#include <cstdint>
#include <vector>

#include "messages/outcome.hpp"
#include "messages/shared_bytes.hpp"

namespace infermesh {

struct document_limits {
  std::uint64_t max_pixels = 40'000'000;  ///< per page, after rendering
  /// All pages split for one request together (config `node.max_document_pixels`): 100 M grey pixels is
  /// 100 MB held, about 11 Letter pages at 300 dpi.
  std::uint64_t max_request_pixels = 100'000'000;
  int max_document_pages = 1000;          ///< a document with more pages is refused, not truncated
  int dpi = 300;                          ///< PDF render resolution (Tesseract reads best at ~300)
};

/// The largest single allocation libtiff may make for `limits`: a whole page's strip at 4 samples of 16 bits
/// (the largest a page within `max_pixels` can need), and never less than 16 MiB (its directory reading).
std::uint64_t tiff_max_single_alloc(const document_limits& limits);

struct document_pages {
  std::vector<shared_bytes> pages;  ///< the first `max_pages` pages, in order
  int total_pages = 0;              ///< pages in the document
  std::uint64_t pixels = 0;         ///< of `pages` together (a PNG or JPEG: its header's claim)
};

/// True when `input` starts like a PDF or a TIFF (the inputs that can hold several pages).
bool is_multi_page_format(const shared_bytes& input);

/// True when `input`'s magic bytes are one of the formats the wire contract accepts: PNG, JPEG, PDF or TIFF.
/// A PGM is decodable (it is the page format split_pages produces) but is not one of them.
bool is_wire_format(const shared_bytes& input);

/// Splits `input` into at most `max_pages` page images (a PNG or JPEG is returned as its only page).
/// `deadline`: checked before each page (`deadline_exceeded`).
outcome<document_pages> split_pages(
    const shared_bytes& input, int max_pages, const document_limits& limits,
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

}  // namespace infermesh
