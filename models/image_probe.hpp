#pragma once
/// Reads an encoded image's format and size from its header alone, so that a decompression bomb is refused
/// before a single pixel is allocated. Pure function over bytes.

#include <cstddef>
#include <cstdint>

#include "messages/outcome.hpp"
#include "messages/shared_bytes.hpp"

namespace infermesh {

/// A JPEG with more scans than this is refused (`too_large`) from its header walk, before decoding: an
/// encoder's progressive script has about 10 (libjpeg's default: 10 for colour, 6 for grey), so 100 refuses no
/// real image, while each scan costs a pass over the whole image (the scan bomb of issue 14).
inline constexpr std::size_t max_jpeg_scans = 100;

struct image_header {
  enum class format { png, jpeg, pgm };
  format kind = format::png;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
};

/// The header of a PNG, JPEG or grey PGM (a page of a PDF or TIFF, see document_pages); `unsupported_media` for
/// anything else or a header that is cut short; `too_large` for a JPEG of more than `max_jpeg_scans` scans.
outcome<image_header> probe_image(const shared_bytes& encoded);

/// The header of a PNG or JPEG whose claimed size is at most `max_pixels`; `too_large` names the size.
outcome<image_header> probe_image_within(const shared_bytes& encoded, std::uint64_t max_pixels);

}  // namespace infermesh
