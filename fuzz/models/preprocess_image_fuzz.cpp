/// libFuzzer target: preprocess_image (probe, decode with OpenCV, rotate, resize, normalise) over any bytes,
/// with the node's default input_spec. The last byte also picks the rotation, the resize and the fast JPEG
/// decode, so every path is reached from one corpus without changing what the image bytes are. Holds: a
/// tensor of spec.tensor_size() finite floats, or `unsupported_media` / `too_large`.

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_check.hpp"
#include "models/image_preprocess.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace infermesh;
  static const bool single_threaded = (use_single_threaded_image_codecs(), true);  // as the node starts
  (void)single_threaded;
  input_spec spec;  // 224 x 224 RGB, ImageNet mean/std, 40 MP
  const std::uint8_t last = size > 0 ? data[size - 1] : 0;
  const int rotation = 90 * (last & 3);
  spec.fast_jpeg_decode = (last & 4) != 0;
  spec.resize = static_cast<input_spec::interpolation>((last >> 3) & 3);
  const auto tensor =
      preprocess_image(shared_bytes::copy_of({reinterpret_cast<const char*>(data), size}), spec, rotation);
  if (!tensor) {
    FUZZ_CHECK(fuzz::is_one_of(tensor.err().code, error_code::unsupported_media, error_code::too_large),
               tensor.err().message.c_str());
    return 0;
  }
  FUZZ_CHECK(tensor->size() == spec.tensor_size(), "one float per channel and pixel of the input size");
  for (const float v : *tensor) FUZZ_CHECK(std::isfinite(v), "normalised values are finite");
  return 0;
}
