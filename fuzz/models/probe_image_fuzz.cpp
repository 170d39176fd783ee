/// libFuzzer target: probe_image_within over any bytes, with the node's default pixel limit. Holds: a header
/// that is accepted claims 1..limit pixels; anything else is `unsupported_media` or `too_large`.

#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_check.hpp"
#include "models/image_probe.hpp"
#include "models/model_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace infermesh;
  const std::uint64_t max_pixels = input_spec{}.max_pixels;  // 40 MP, the node's default
  const auto header = probe_image_within(shared_bytes::copy_of({reinterpret_cast<const char*>(data), size}), max_pixels);
  if (!header) {
    FUZZ_CHECK(fuzz::is_one_of(header.err().code, error_code::unsupported_media, error_code::too_large),
               header.err().message.c_str());
    return 0;
  }
  const std::uint64_t pixels = std::uint64_t{header->width} * header->height;
  FUZZ_CHECK(pixels >= 1 && pixels <= max_pixels, "an accepted header claims 1..max_pixels pixels");
  return 0;
}
