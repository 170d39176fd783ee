#include "models/tesseract_ocr.hpp"

#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>
#include <tesseract/ocrclass.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <tuple>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "models/card_crop.hpp"
#include "models/image_probe.hpp"

namespace infermesh {
namespace {

constexpr int osd_long_side = 1400;    // OSD reads glyph shapes: scale pages so text is neither tiny nor huge
constexpr int osd_resolution = 200;    // dpi told to Tesseract for the scaled page (images carry none)
constexpr int probe_long_side = 1000;  // pages scaled for the cheaper OCR pass that settles a doubtful OSD

cv::Mat rotate_upright(const cv::Mat& page, int clockwise_degrees) {
  cv::Mat out;
  switch (clockwise_degrees) {
    case 90: cv::rotate(page, out, cv::ROTATE_90_COUNTERCLOCKWISE); return out;
    case 180: cv::rotate(page, out, cv::ROTATE_180); return out;
    case 270: cv::rotate(page, out, cv::ROTATE_90_CLOCKWISE); return out;
    default: return page;
  }
}

/// `deadline_exceeded` once `deadline` has passed, naming the stage.
std::optional<error> past(ocr_deadline deadline, const char* stage) {
  if (std::chrono::steady_clock::now() < deadline) return std::nullopt;
  return error{error_code::deadline_exceeded, std::string("the deadline passed ") + stage};
}

cv::Mat scaled_to(const cv::Mat& page, int long_side) {
  const double f = static_cast<double>(long_side) / std::max(page.cols, page.rows);
  if (f >= 1.0) return page;
  cv::Mat out;
  cv::resize(page, out, cv::Size(), f, f, cv::INTER_AREA);
  return out;
}

}  // namespace

/// The page as 8-bit grey, after the same header checks as the classifier's preprocessing.
static outcome<cv::Mat> tesseract_ocr_decode(const shared_bytes& image, std::uint64_t max_pixels);

struct tesseract_ocr::impl {
  ocr_config config;
  tesseract::TessBaseAPI osd;
  tesseract::TessBaseAPI reader;

  ~impl() {
    osd.End();
    reader.End();
  }

  /// Tesseract's mean word confidence of `page`, 0..1, and its text; `deadline_exceeded` when the deadline
  /// passes first (the monitor cancels recognition between words).
  outcome<std::pair<double, std::string>> recognise(const cv::Mat& page, ocr_deadline deadline) {
    if (auto late = past(deadline, "before the page was read")) return *late;
    reader.SetImage(page.data, page.cols, page.rows, 1, static_cast<int>(page.step));
    reader.SetSourceResolution(300);
    tesseract::ETEXT_DESC monitor;
    monitor.cancel = [](void* until, int) { return std::chrono::steady_clock::now() >= *static_cast<ocr_deadline*>(until); };
    monitor.cancel_this = &deadline;
    const int recognised = reader.Recognize(&monitor);
    if (auto late = past(deadline, "while the page was read")) return *late;
    if (recognised != 0) return std::pair<double, std::string>{0.0, std::string()};  // nothing read (as before)
    std::unique_ptr<char[]> text(reader.GetUTF8Text());  // (recognised already: no second pass)
    const double confidence = std::max(0, reader.MeanTextConf()) / 100.0;
    return std::pair<double, std::string>{confidence, text ? std::string(text.get()) : std::string()};
  }

  outcome<page_rotation> detect(const cv::Mat& page, ocr_deadline deadline) {
    if (auto late = past(deadline, "before the page's orientation was detected")) return *late;
    const cv::Mat small = scaled_to(page, osd_long_side);
    osd.SetImage(small.data, small.cols, small.rows, 1, static_cast<int>(small.step));
    osd.SetSourceResolution(osd_resolution);
    int degrees = 0;
    float confidence = 0;
    const char* script = nullptr;
    float script_confidence = 0;
    const bool found = osd.DetectOrientationScript(&degrees, &confidence, &script, &script_confidence);
    if (found && confidence >= config.min_osd_confidence) return page_rotation{degrees, confidence / 10.0, false};
    // Too little text for OSD to be sure: read a smaller copy in each candidate orientation and keep the one
    // Tesseract is most confident about. OSD's guess, when it has one, is usually right up to a half turn.
    const cv::Mat probe = scaled_to(page, probe_long_side);
    std::vector<int> candidates = found ? std::vector<int>{degrees, (degrees + 180) % 360}
                                        : std::vector<int>{0, 90, 180, 270};
    page_rotation best{0, 0, false};
    double best_confidence = -1;
    for (int d : candidates) {
      auto read = recognise(rotate_upright(probe, d), deadline);
      if (!read) return read.err();
      const double c = read->first;
      if (c > best_confidence) best_confidence = c, best = {d, c, false};
    }
    return best;
  }
};

tesseract_ocr::tesseract_ocr(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
tesseract_ocr::~tesseract_ocr() = default;

outcome<std::unique_ptr<tesseract_ocr>> tesseract_ocr::create(const ocr_config& config) {
  namespace fs = std::filesystem;
  for (const auto& lang : {std::string("osd"), config.language})
    if (!fs::is_regular_file(fs::path(config.tessdata) / (lang + ".traineddata")))
      return error{error_code::not_found, "Tesseract data '" + lang + ".traineddata' not found in '" +
                                              config.tessdata + "' (Debian: tesseract-ocr-" + lang + ")"};
  auto p = std::make_unique<impl>();
  p->config = config;
  if (p->osd.Init(config.tessdata.c_str(), "osd", tesseract::OEM_TESSERACT_ONLY) != 0)
    return error{error_code::internal, "Tesseract could not load its OSD model from '" + config.tessdata + "'"};
  p->osd.SetPageSegMode(tesseract::PSM_OSD_ONLY);
  if (p->reader.Init(config.tessdata.c_str(), config.language.c_str(), tesseract::OEM_LSTM_ONLY) != 0)
    return error{error_code::internal, "Tesseract could not load language '" + config.language + "'"};
  p->reader.SetPageSegMode(tesseract::PSM_AUTO);
  // Tesseract prints resolution warnings per image on stderr; the node sets the resolution itself.
  p->reader.SetVariable("debug_file", "/dev/null");
  p->osd.SetVariable("debug_file", "/dev/null");
  return std::unique_ptr<tesseract_ocr>(new tesseract_ocr(std::move(p)));
}

static outcome<cv::Mat> tesseract_ocr_decode(const shared_bytes& image, std::uint64_t max_pixels) {
  auto header = probe_image_within(image, max_pixels);
  if (!header) return header.err();
  cv::Mat page;
  try {
    const cv::Mat raw(1, static_cast<int>(image.size()), CV_8U, const_cast<std::uint8_t*>(image.data()));
    page = cv::imdecode(raw, cv::IMREAD_GRAYSCALE);
  } catch (const cv::Exception& e) {
    return error{error_code::unsupported_media, std::string("image could not be decoded: ") + e.what()};
  }
  if (page.empty()) return error{error_code::unsupported_media, "image could not be decoded (truncated or corrupt)"};
  return page;
}

outcome<page_rotation> tesseract_ocr::orientation(const shared_bytes& image, ocr_deadline deadline) {
  if (auto late = past(deadline, "before the page was decoded")) return *late;
  auto page = tesseract_ocr_decode(image, impl_->config.max_pixels);
  if (!page) return page.err();
  return impl_->detect(*page, deadline);
}

outcome<ocr_page> tesseract_ocr::read(const shared_bytes& image, int known_rotation, bool auto_rotate,
                                      ocr_deadline deadline) {
  if (auto late = past(deadline, "before the page was decoded")) return *late;
  auto decoded = tesseract_ocr_decode(image, impl_->config.max_pixels);
  if (!decoded) return decoded.err();
  cv::Mat page = std::move(*decoded);
  ocr_page out;
  const bool known = known_rotation == 0 || known_rotation == 90 || known_rotation == 180 || known_rotation == 270;
  if (!known && !auto_rotate) {
    auto read = impl_->recognise(page, deadline);
    if (!read) return read.err();
    std::tie(out.confidence, out.text) = std::move(*read);
    return out;
  }
  if (known) {
    out.rotation = page_rotation{known_rotation, 1.0, false};
  } else {
    auto detected = impl_->detect(page, deadline);
    if (!detected) return detected.err();
    out.rotation = *detected;
  }
  cv::Mat upright = rotate_upright(page, out.rotation.degrees);
  auto read = impl_->recognise(upright, deadline);
  if (!read) return read.err();
  std::tie(out.confidence, out.text) = std::move(*read);
  // Reading is the final judge of a half turn: text that reads badly is tried upside down too (when the
  // orientation may be questioned), and the better read wins.
  if (auto_rotate && out.confidence < impl_->config.min_read_confidence) {
    const int flipped = (out.rotation.degrees + 180) % 360;
    cv::Mat turned = rotate_upright(page, flipped);
    auto again = impl_->recognise(turned, deadline);
    if (!again) return again.err();
    auto& [confidence, text] = *again;
    if (confidence > out.confidence + 0.1) {
      out.rotation = {flipped, confidence, false}, out.confidence = confidence, out.text = std::move(text);
      upright = std::move(turned);
    }
  }
  // A card photographed on a table: its small text reads better cut out, squared and enlarged. The better
  // read (confidence times the characters read) wins, so a card-shaped box on a page costs time, not text.
  if (auto card = find_card(upright)) {
    auto cut = impl_->recognise(*card, deadline);
    if (!cut) return cut.err();
    auto& [confidence, text] = *cut;
    if (confidence * static_cast<double>(text.size()) > out.confidence * static_cast<double>(out.text.size()))
      out.confidence = confidence, out.text = std::move(text);
  }
  out.rotation.corrected = out.rotation.degrees != 0;
  return out;
}

}  // namespace infermesh
