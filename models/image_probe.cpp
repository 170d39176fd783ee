#include "models/image_probe.hpp"

#include <cctype>
#include <cstring>
#include <optional>
#include <string>

namespace infermesh {
namespace {

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

outcome<image_header> probe_png(const shared_bytes& b) {
  // signature (8) | IHDR length (4) | "IHDR" (4) | width (4) | height (4)
  if (b.size() < 24 || std::memcmp(b.data() + 12, "IHDR", 4) != 0)
    return error{error_code::unsupported_media, "PNG header is truncated or has no IHDR chunk"};
  return image_header{image_header::format::png, be32(b.data() + 16), be32(b.data() + 20)};
}

bool is_start_of_frame(std::uint8_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

/// The end of the entropy-coded data that starts at `i`: the next marker that is not a stuffed 0xFF00, a
/// restart marker or fill.
std::size_t skip_entropy_coded(const shared_bytes& b, std::size_t i) {
  const std::uint8_t* p = b.data();
  for (; i + 1 < b.size(); ++i) {
    if (p[i] != 0xFF) continue;
    const std::uint8_t next = p[i + 1];
    if (next == 0x00 || (next >= 0xD0 && next <= 0xD7) || next == 0xFF) continue;
    return i;
  }
  return b.size();
}

/// The frame header's size, after walking every segment to count the scans: a progressive image of thousands
/// of (empty) scans makes the decoder pass over every coefficient once per scan, so it is refused by its count
/// (libjpeg-turbo's advice for untrusted input is a scan limit: djpeg -maxscans, TJPARAM_SCANLIMIT).
outcome<image_header> probe_jpeg(const shared_bytes& b) {
  const std::uint8_t* p = b.data();
  std::optional<image_header> frame;
  std::size_t scans = 0;
  std::size_t i = 2;
  while (i + 4 <= b.size()) {
    if (p[i] != 0xFF) return error{error_code::unsupported_media, "JPEG is corrupt: expected a marker"};
    std::uint8_t marker = p[i + 1];
    if (marker == 0xFF) { ++i; continue; }                                           // fill byte
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) { i += 2; continue; }  // no length
    if (marker == 0xD9) break;  // end of image
    std::uint16_t length = be16(p + i + 2);
    if (length < 2) return error{error_code::unsupported_media, "JPEG is corrupt: bad segment length"};
    if (is_start_of_frame(marker) && !frame) {
      if (i + 9 > b.size()) break;
      frame = image_header{image_header::format::jpeg, be16(p + i + 7), be16(p + i + 5)};
    }
    if (marker == 0xDA) {
      if (!frame) break;  // a scan before any frame header
      if (++scans > max_jpeg_scans)
        return error{error_code::too_large, "JPEG has more than " + std::to_string(max_jpeg_scans) +
                                                " scans (a progressive image needs about 10): refused before decoding"};
      i = skip_entropy_coded(b, i + 2 + length);
      continue;
    }
    i += 2 + length;
  }
  if (frame) return *frame;
  return error{error_code::unsupported_media, "JPEG has no frame header (truncated or corrupt)"};
}

/// Binary grey PNM (`P5`), the page format of document_pages: "P5" width height maxval, separated by
/// whitespace (and `#` comments), then one byte per pixel.
outcome<image_header> probe_pgm(const shared_bytes& b) {
  std::size_t i = 2;
  std::uint64_t fields[3] = {0, 0, 0};
  for (auto& field : fields) {
    while (i < b.size() && (std::isspace(b.data()[i]) || b.data()[i] == '#')) {
      if (b.data()[i] == '#')
        while (i < b.size() && b.data()[i] != '\n') ++i;
      else
        ++i;
    }
    const std::size_t start = i;
    while (i < b.size() && std::isdigit(b.data()[i]) && i - start < 9) field = field * 10 + (b.data()[i++] - '0');
    if (i == start) return error{error_code::unsupported_media, "PGM header is truncated or corrupt"};
  }
  if (fields[2] != 255) return error{error_code::unsupported_media, "PGM must have 8-bit samples (maxval 255)"};
  if (b.size() < i + 1 + fields[0] * fields[1])
    return error{error_code::unsupported_media, "PGM is truncated: fewer pixels than its header claims"};
  return image_header{image_header::format::pgm, static_cast<std::uint32_t>(fields[0]),
                      static_cast<std::uint32_t>(fields[1])};
}

}  // namespace

outcome<image_header> probe_image(const shared_bytes& b) {
  static constexpr std::uint8_t png_signature[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  outcome<image_header> header = error{error_code::unsupported_media, "image is not a PNG, JPEG, TIFF or PDF file"};
  if (b.size() >= 8 && std::memcmp(b.data(), png_signature, 8) == 0) header = probe_png(b);
  else if (b.size() >= 3 && b.data()[0] == 0xFF && b.data()[1] == 0xD8 && b.data()[2] == 0xFF) header = probe_jpeg(b);
  else if (b.size() >= 3 && b.data()[0] == 'P' && b.data()[1] == '5' && std::isspace(b.data()[2])) header = probe_pgm(b);
  if (header && (header->width == 0 || header->height == 0))
    return error{error_code::unsupported_media, "image header claims a size of 0 pixels"};
  return header;
}

outcome<image_header> probe_image_within(const shared_bytes& encoded, std::uint64_t max_pixels) {
  auto header = probe_image(encoded);
  if (!header) return header;
  const std::uint64_t pixels = std::uint64_t{header->width} * header->height;
  if (pixels > max_pixels)
    return error{error_code::too_large, "image is " + std::to_string(header->width) + "x" +
                                            std::to_string(header->height) + " = " + std::to_string(pixels) +
                                            " pixels, over the limit of " + std::to_string(max_pixels)};
  return header;
}

}  // namespace infermesh
