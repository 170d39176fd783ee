#include "models/image_preprocess.hpp"

#include <optional>
#include <string>
#include <utility>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "models/image_probe.hpp"

namespace infermesh {
namespace {

int cv_interpolation(input_spec::interpolation i) {
  switch (i) {
    case input_spec::interpolation::area: return cv::INTER_AREA;
    case input_spec::interpolation::nearest: return cv::INTER_NEAREST;
    case input_spec::interpolation::cubic: return cv::INTER_CUBIC;
    case input_spec::interpolation::linear: break;
  }
  return cv::INTER_LINEAR;
}

/// IMREAD_COLOR, or a reduced-size JPEG decode when allowed and the result, once turned upright, still covers
/// the input size.
int decode_flags(const image_header& header, const input_spec& spec, int upright_rotation) {
  if (!spec.fast_jpeg_decode || header.kind != image_header::format::jpeg) return cv::IMREAD_COLOR;
  std::uint32_t w = static_cast<std::uint32_t>(spec.width), h = static_cast<std::uint32_t>(spec.height);
  if (upright_rotation == 90 || upright_rotation == 270) std::swap(w, h);
  for (auto [factor, flag] : {std::pair{8u, cv::IMREAD_REDUCED_COLOR_8}, std::pair{4u, cv::IMREAD_REDUCED_COLOR_4},
                              std::pair{2u, cv::IMREAD_REDUCED_COLOR_2}})
    if (header.width / factor >= w && header.height / factor >= h) return flag;
  return cv::IMREAD_COLOR;
}

}  // namespace

void use_single_threaded_image_codecs() { cv::setNumThreads(1); }

outcome<std::vector<float>> preprocess_image(const shared_bytes& encoded, const input_spec& spec,
                                             int upright_rotation, std::chrono::steady_clock::time_point deadline) {
  auto past_deadline = [deadline](const char* stage) -> std::optional<error> {
    if (std::chrono::steady_clock::now() < deadline) return std::nullopt;
    return error{error_code::deadline_exceeded, std::string("the deadline passed ") + stage};
  };
  auto header = probe_image_within(encoded, spec.max_pixels);
  if (!header) return header.err();
  if (auto late = past_deadline("before the image was decoded")) return *late;
  cv::Mat decoded;
  try {
    // A header over the raw bytes, no copy.
    const cv::Mat raw(1, static_cast<int>(encoded.size()), CV_8U, const_cast<std::uint8_t*>(encoded.data()));
    decoded = cv::imdecode(raw, decode_flags(*header, spec, upright_rotation));  // BGR, 8-bit; grey and alpha are converted
  } catch (const cv::Exception& e) {
    return error{error_code::unsupported_media, std::string("image could not be decoded: ") + e.what()};
  }
  if (decoded.empty()) return error{error_code::unsupported_media, "image could not be decoded (truncated or corrupt)"};
  if (auto late = past_deadline("while the image was decoded")) return *late;
  if (upright_rotation == 90) cv::rotate(decoded, decoded, cv::ROTATE_90_COUNTERCLOCKWISE);
  else if (upright_rotation == 180) cv::rotate(decoded, decoded, cv::ROTATE_180);
  else if (upright_rotation == 270) cv::rotate(decoded, decoded, cv::ROTATE_90_CLOCKWISE);
  cv::Mat resized;
  cv::resize(decoded, resized, cv::Size(spec.width, spec.height), 0, 0, cv_interpolation(spec.resize));
  // Resizing works per channel, so swapping channels afterwards (in the loop below) gives the same values as
  // converting BGR->RGB first, on width x height pixels instead of the whole image.
  const bool swap_to_rgb = spec.color == input_spec::color_order::rgb;

  std::vector<float> out(spec.tensor_size());
  const std::size_t plane = static_cast<std::size_t>(spec.width) * static_cast<std::size_t>(spec.height);
  for (int y = 0; y < resized.rows; ++y) {
    const auto* row = resized.ptr<cv::Vec3b>(y);
    for (int x = 0; x < resized.cols; ++x) {
      const std::size_t at = static_cast<std::size_t>(y) * static_cast<std::size_t>(spec.width) + x;
      for (int c = 0; c < 3; ++c) {
        // Same float32 operations, in the same order, as the training script's numpy code.
        float v = static_cast<float>(row[x][swap_to_rgb ? 2 - c : c]) / 255.0f;
        out[c * plane + at] = (v - spec.mean[c]) / spec.stddev[c];
      }
    }
  }
  return out;
}

}  // namespace infermesh
