/// libFuzzer target: split_pages (PDF through poppler, TIFF through libtiff, PNG/JPEG passed through) over any
/// bytes, with the node's default document_limits and the largest `max_pages` its default config lets a
/// request ask for. Holds: 1..max_pages pages, each a PGM (or the input itself) that probe_image accepts
/// within the per-page limit, or `unsupported_media` / `too_large`.

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_check.hpp"
#include "models/document_pages.hpp"
#include "models/image_probe.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace infermesh;
  constexpr int max_pages = 100;  // node.max_pages of cluster-config/single-node.yaml
  const document_limits limits;   // 40 MP per page, 1000 pages, 300 dpi
  const auto split = split_pages(shared_bytes::copy_of({reinterpret_cast<const char*>(data), size}), max_pages, limits);
  if (!split) {
    FUZZ_CHECK(fuzz::is_one_of(split.err().code, error_code::unsupported_media, error_code::too_large),
               split.err().message.c_str());
    return 0;
  }
  FUZZ_CHECK(!split->pages.empty() && split->pages.size() <= std::size_t(max_pages), "1..max_pages pages");
  FUZZ_CHECK(split->pages.size() == std::size_t(std::min(max_pages, split->total_pages)), "no page left out");
  for (const auto& page : split->pages) FUZZ_CHECK(probe_image_within(page, limits.max_pixels), "a page is an image");
  return 0;
}
