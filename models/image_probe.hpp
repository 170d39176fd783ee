#pragma once
/// Reads an encoded image's format and size from its header alone, so that a decompression bomb is refused
/// before a single pixel is allocated. Pure function over bytes.

#include <cstdint>

#include "messages/outcome.hpp"
#include "messages/shared_bytes.hpp"

namespace infermesh {

struct image_header {
  enum class format { png, jpeg, pgm };
  format kind = format::png;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
};

/// The header of a PNG, JPEG or grey PGM (a page of a PDF or TIFF, see document_pages); `unsupported_media` for anything else or a header that is cut short.
outcome<image_header> probe_image(const shared_bytes& encoded);

/// The header of a PNG or JPEG whose claimed size is at most `max_pixels`; `too_large` names the size.
outcome<image_header> probe_image_within(const shared_bytes& encoded, std::uint64_t max_pixels);

}  // namespace infermesh
