#pragma once
/// What a model needs to load and to be fed: backend, file, device, threads, input preprocessing, labels.
/// Plain values, validated once by runtime/config when the node starts.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/tesseract_ocr.hpp"

namespace infermesh {

/// How an encoded image becomes the model's input tensor (must match how the model was trained).
struct input_spec {
  enum class color_order { rgb, bgr };
  enum class interpolation { linear, area, nearest, cubic };
  int width = 224;
  int height = 224;
  color_order color = color_order::rgb;
  interpolation resize = interpolation::linear;
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};  ///< per channel, in `color` order, on [0,1] values
  std::array<float, 3> stddev{0.229f, 0.224f, 0.225f};
  std::uint64_t max_pixels = 40'000'000;  ///< images whose header claims more are refused before decoding
  /// false: decode every image at full size. true: decode a JPEG at 1/2, 1/4 or 1/8 scale (libjpeg's DCT
  /// scaling, several times faster) when the smaller image still covers width x height.
  bool fast_jpeg_decode = false;

  std::size_t tensor_size() const { return 3u * static_cast<std::size_t>(width) * static_cast<std::size_t>(height); }
};

/// A test and simulation back-end with the same interface as a real model (like Triton's identity backend).
struct synthetic_spec {
  std::chrono::microseconds latency{1000};          ///< per batch
  std::chrono::microseconds per_item_latency{0};    ///< added per item of a batch
  std::chrono::milliseconds load_time{0};           ///< loading takes this long (a big model's reload)
  /// A "poison" input: a batch holding an input whose mean value (after normalisation) is above this fails,
  /// as a real model may throw on one bad input. Off when absent.
  std::optional<double> poison_mean_above;
};

struct model_config {
  enum class backend_kind { torchscript, synthetic, tesseract };
  std::string name;
  std::string version = "1";
  std::vector<std::string> serves; ///< the pipeline steps it serves: classify | orient (batched models), ocr [+ orient]
  backend_kind backend = backend_kind::torchscript;
  std::string path;                ///< TorchScript file (absolute after config loading)
  std::string device = "cpu";      ///< "cpu" or "cuda:N"
  int threads = 1;                 ///< intra-op threads (process-wide in LibTorch's OpenMP)
  input_spec input;
  std::vector<std::string> labels;  ///< index -> label of the model's output
  synthetic_spec synthetic;
  ocr_config ocr;                  ///< tesseract back-end
  int workers = 2;                 ///< tesseract back-end: engines (threads) reading pages in parallel
};

}  // namespace infermesh
