#include "models/document_pages.hpp"

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page-renderer.h>
#include <poppler/cpp/poppler-page.h>
#include <tiffio.h>

#include <algorithm>
#include <cstring>
#include <cstdarg>
#include <limits>
#include <new>
#include <optional>
#include <memory>
#include <string>

#include "models/image_probe.hpp"

namespace infermesh {
namespace {

bool starts_with(const shared_bytes& b, std::string_view prefix) {
  return b.size() >= prefix.size() && std::memcmp(b.data(), prefix.data(), prefix.size()) == 0;
}
bool is_pdf(const shared_bytes& b) { return starts_with(b, "%PDF-"); }
bool is_tiff(const shared_bytes& b) {
  return starts_with(b, std::string_view("II*\0", 4)) || starts_with(b, std::string_view("MM\0*", 4));
}

/// A grey PGM image of `width` x `height` whose rows the caller fills; the bytes are owned by the result.
struct pgm_writer {
  std::vector<std::uint8_t> bytes;
  std::size_t header = 0;
  pgm_writer(int width, int height) {
    const std::string h = "P5\n" + std::to_string(width) + " " + std::to_string(height) + "\n255\n";
    bytes.resize(h.size() + std::size_t(width) * std::size_t(height));
    std::memcpy(bytes.data(), h.data(), h.size());
    header = h.size();
  }
  std::uint8_t* row(int y, int width) { return bytes.data() + header + std::size_t(y) * std::size_t(width); }
};

error too_many_pages(const char* kind, int pages, const document_limits& limits) {
  return {error_code::too_large, std::string(kind) + " has " + std::to_string(pages) + " pages, over the limit of " +
                                     std::to_string(limits.max_document_pages)};
}

error page_too_large(int page, std::uint64_t w, std::uint64_t h, const document_limits& limits) {
  return {error_code::too_large, "page " + std::to_string(page) + " is " + std::to_string(w) + "x" +
                                     std::to_string(h) + " pixels, over the limit of " +
                                     std::to_string(limits.max_pixels)};
}

error over_budget(int page, std::uint64_t total, const document_limits& limits) {
  return {error_code::too_large, "pages 1-" + std::to_string(page) + " of this document are " +
                                     std::to_string(total) + " pixels together, over the request's budget of " +
                                     std::to_string(limits.max_request_pixels) + " (node.max_document_pixels)"};
}

/// Adds page `page`'s `pixels` to the request's total; the error when that passes the budget.
std::optional<error> spend(document_pages& out, int page, std::uint64_t pixels, const document_limits& limits) {
  out.pixels += pixels;
  if (out.pixels > limits.max_request_pixels) return over_budget(page, out.pixels, limits);
  return std::nullopt;
}

using time_point = std::chrono::steady_clock::time_point;

/// `deadline_exceeded` when the deadline passed before page `page` was split.
std::optional<error> past(time_point deadline, int page) {
  if (std::chrono::steady_clock::now() < deadline) return std::nullopt;
  return error{error_code::deadline_exceeded, "the deadline passed before page " + std::to_string(page) + " was split"};
}

void quiet_poppler(const std::string&, void*) {}

outcome<document_pages> split_pdf(const shared_bytes& input, int max_pages, const document_limits& limits,
                                  time_point deadline) {
  if (input.size() > std::size_t(std::numeric_limits<int>::max()))
    return error{error_code::too_large, "PDF is larger than 2 GiB"};
  static const bool silenced = (poppler::set_debug_error_function(quiet_poppler, nullptr), true);
  (void)silenced;
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(input.chars(), static_cast<int>(input.size())));
  if (!doc) return error{error_code::unsupported_media, "PDF could not be read (corrupt, truncated or encrypted)"};
  if (doc->is_locked()) return error{error_code::unsupported_media, "PDF is encrypted: it needs a password"};
  document_pages out;
  out.total_pages = doc->pages();
  if (out.total_pages <= 0) return error{error_code::unsupported_media, "PDF has no pages"};
  if (out.total_pages > limits.max_document_pages) return too_many_pages("PDF", out.total_pages, limits);
  poppler::page_renderer renderer;
  renderer.set_render_hints(poppler::page_renderer::antialiasing | poppler::page_renderer::text_antialiasing);
  renderer.set_image_format(poppler::image::format_gray8);
  const double scale = limits.dpi / 72.0;
  for (int i = 0; i < std::min(max_pages, out.total_pages); ++i) {
    if (auto late = past(deadline, i + 1)) return *late;
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) return error{error_code::unsupported_media, "PDF page " + std::to_string(i + 1) + " is unreadable"};
    const auto box = page->page_rect();
    const double w = std::max(0.0, box.width() * scale), h = std::max(0.0, box.height() * scale);
    if (w < 1 || h < 1) return error{error_code::unsupported_media, "PDF page " + std::to_string(i + 1) + " is empty"};
    if (w * h > double(limits.max_pixels)) return page_too_large(i + 1, std::uint64_t(w), std::uint64_t(h), limits);
    // (poppler rounds the size up: at most one more row and column than w x h)
    if (auto e = spend(out, i + 1, (std::uint64_t(w) + 1) * (std::uint64_t(h) + 1), limits)) return *e;
    const poppler::image img = renderer.render_page(page.get(), limits.dpi, limits.dpi);
    if (!img.is_valid() || img.width() <= 0 || img.height() <= 0)
      return error{error_code::unsupported_media, "PDF page " + std::to_string(i + 1) + " could not be rendered"};
    // Splash gives a 1x1 image when it cannot allocate the page's bitmap (the sandbox's memory limit).
    if (img.width() + 2 < w || img.height() + 2 < h)
      return error{error_code::too_large, "PDF page " + std::to_string(i + 1) + " could not be rendered at " +
                                              std::to_string(std::uint64_t(w)) + "x" + std::to_string(std::uint64_t(h)) +
                                              " pixels: the renderer ran out of memory"};
    pgm_writer pgm(img.width(), img.height());
    for (int y = 0; y < img.height(); ++y)
      std::memcpy(pgm.row(y, img.width()), img.const_data() + std::size_t(y) * img.bytes_per_row(),
                  std::size_t(img.width()));
    out.pages.push_back(shared_bytes::from_vector(std::move(pgm.bytes)));
  }
  return out;
}

/// libtiff reads the request's bytes in place through these callbacks.
struct tiff_source {
  const shared_bytes* bytes;
  toff_t at = 0;
};
tsize_t tiff_read(thandle_t h, tdata_t buf, tsize_t n) {
  auto* s = static_cast<tiff_source*>(h);
  const toff_t left = s->at < s->bytes->size() ? s->bytes->size() - s->at : 0;
  const auto count = static_cast<toff_t>(std::min<toff_t>(left, static_cast<toff_t>(n)));
  std::memcpy(buf, s->bytes->data() + s->at, count);
  s->at += count;
  return static_cast<tsize_t>(count);
}
tsize_t tiff_write(thandle_t, tdata_t, tsize_t) { return 0; }
toff_t tiff_seek(thandle_t h, toff_t off, int whence) {
  auto* s = static_cast<tiff_source*>(h);
  const toff_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? s->at : s->bytes->size();
  s->at = base + off;
  return s->at;
}
int tiff_close(thandle_t) { return 0; }
toff_t tiff_size(thandle_t h) { return static_cast<tiff_source*>(h)->bytes->size(); }
int tiff_map(thandle_t, tdata_t*, toff_t*) { return 0; }
void tiff_unmap(thandle_t, tdata_t, toff_t) {}
/// libtiff's messages (a corrupt file's complaints) are dropped: the error the client sees is ours.
int tiff_quiet(TIFF*, void*, const char*, const char*, va_list) { return 1; }

outcome<document_pages> split_tiff(const shared_bytes& input, int max_pages, const document_limits& limits,
                                   time_point deadline) {
  static const bool silenced = (TIFFSetWarningHandler(nullptr), TIFFSetErrorHandler(nullptr), true);
  (void)silenced;
  tiff_source source{&input};
  // The allocation cap is per handle (libtiff 4.5): a tile or strip size from the file over it fails that
  // read instead of allocating it.
  std::unique_ptr<TIFFOpenOptions, void (*)(TIFFOpenOptions*)> options(TIFFOpenOptionsAlloc(), TIFFOpenOptionsFree);
  if (!options) throw std::bad_alloc();
  TIFFOpenOptionsSetMaxSingleMemAlloc(options.get(), static_cast<tmsize_t>(tiff_max_single_alloc(limits)));
  TIFFOpenOptionsSetErrorHandlerExtR(options.get(), tiff_quiet, nullptr);
  TIFFOpenOptionsSetWarningHandlerExtR(options.get(), tiff_quiet, nullptr);
  std::unique_ptr<TIFF, void (*)(TIFF*)> tif(
      TIFFClientOpenExt("request", "rm", &source, tiff_read, tiff_write, tiff_seek, tiff_close, tiff_size, tiff_map,
                        tiff_unmap, options.get()),
      TIFFClose);
  if (!tif) return error{error_code::unsupported_media, "TIFF could not be read (corrupt or truncated)"};
  document_pages out;
  out.total_pages = TIFFNumberOfDirectories(tif.get());
  if (out.total_pages <= 0) return error{error_code::unsupported_media, "TIFF has no pages"};
  if (out.total_pages > limits.max_document_pages) return too_many_pages("TIFF", out.total_pages, limits);
  for (int i = 0; i < std::min(max_pages, out.total_pages); ++i) {
    if (auto late = past(deadline, i + 1)) return *late;
    if (!TIFFSetDirectory(tif.get(), static_cast<tdir_t>(i)))
      return error{error_code::unsupported_media, "TIFF page " + std::to_string(i + 1) + " is unreadable"};
    std::uint32_t w = 0, h = 0;
    TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &h);
    if (w == 0 || h == 0) return error{error_code::unsupported_media, "TIFF page " + std::to_string(i + 1) + " is empty"};
    if (std::uint64_t{w} * h > limits.max_pixels) return page_too_large(i + 1, w, h, limits);
    if (auto e = spend(out, i + 1, std::uint64_t{w} * h, limits)) return *e;
    std::vector<std::uint32_t> rgba(std::size_t{w} * h);
    if (!TIFFReadRGBAImageOriented(tif.get(), w, h, rgba.data(), ORIENTATION_TOPLEFT, 0))
      return error{error_code::unsupported_media, "TIFF page " + std::to_string(i + 1) + " could not be decoded"};
    pgm_writer pgm(static_cast<int>(w), static_cast<int>(h));
    for (std::uint32_t y = 0; y < h; ++y) {
      std::uint8_t* row = pgm.row(static_cast<int>(y), static_cast<int>(w));
      for (std::uint32_t x = 0; x < w; ++x) {
        const std::uint32_t px = rgba[std::size_t{y} * w + x];  // ITU-R 601 luma, as OpenCV's grey conversion
        row[x] = static_cast<std::uint8_t>((299 * TIFFGetR(px) + 587 * TIFFGetG(px) + 114 * TIFFGetB(px)) / 1000);
      }
    }
    out.pages.push_back(shared_bytes::from_vector(std::move(pgm.bytes)));
  }
  return out;
}

}  // namespace

std::uint64_t tiff_max_single_alloc(const document_limits& limits) {
  return std::max<std::uint64_t>(limits.max_pixels * 8, std::uint64_t{16} << 20);
}

bool is_multi_page_format(const shared_bytes& input) { return is_pdf(input) || is_tiff(input); }

bool is_wire_format(const shared_bytes& input) {
  return is_multi_page_format(input) || starts_with(input, "\x89PNG\r\n\x1a\n") || starts_with(input, "\xff\xd8\xff");
}

outcome<document_pages> split_pages(const shared_bytes& input, int max_pages, const document_limits& limits,
                                    time_point deadline) {
  if (max_pages < 1) return error{error_code::bad_request, "'max_pages' must be at least 1"};
  if (is_pdf(input)) return split_pdf(input, max_pages, limits, deadline);
  if (is_tiff(input)) return split_tiff(input, max_pages, limits, deadline);
  auto header = probe_image_within(input, limits.max_pixels);
  if (!header) return header.err();
  return document_pages{{input}, 1, std::uint64_t{header->width} * header->height};
}

}  // namespace infermesh
