#pragma once
/// The OCR back-end: Tesseract (libtesseract 5) for orientation detection (OSD) and text. The only header that
/// names it; tesseract_ocr.cpp is the only file that includes Tesseract. An engine is NOT thread-safe
/// (TessBaseAPI is not): each OCR worker thread owns one.

#include <chrono>
#include <memory>
#include <string>

#include "messages/outcome.hpp"
#include "messages/shared_bytes.hpp"

namespace infermesh {

struct ocr_config {
  std::string tessdata = "/usr/share/tesseract-ocr/5/tessdata";
  std::string language = "eng";
  std::uint64_t max_pixels = 40'000'000;  ///< images whose header claims more are refused before decoding
  float min_osd_confidence = 5.0f;        ///< below it, the orientation is settled by comparing OCR confidence
  double min_read_confidence = 0.6;       ///< a page read worse than this is also read upside down; the better wins
};

/// How a page was turned: `degrees` clockwise from upright (0, 90, 180, 270) as detected, and whether the
/// engine rotated it back before reading.
struct page_rotation {
  int degrees = 0;
  double confidence = 0;
  bool corrected = false;
};

struct ocr_page {
  std::string text;
  double confidence = 0;  ///< Tesseract's mean word confidence, 0..1
  page_rotation rotation;
};

/// A request's deadline as an engine sees it (no deadline: time_point::max()).
using ocr_deadline = std::chrono::steady_clock::time_point;

/// What an OCR worker needs of an engine: Tesseract, or the fault door's decorator around it. Not thread-safe.
class ocr_engine {
 public:
  virtual ~ocr_engine() = default;
  /// See tesseract_ocr::read.
  virtual outcome<ocr_page> read(const shared_bytes& image, int known_rotation, bool auto_rotate,
                                 ocr_deadline deadline) = 0;
  /// See tesseract_ocr::orientation.
  virtual outcome<page_rotation> orientation(const shared_bytes& image, ocr_deadline deadline) = 0;
};

class tesseract_ocr : public ocr_engine {
 public:
  /// Loads the OSD and the `language` models from `tessdata`; fails naming the missing file.
  static outcome<std::unique_ptr<tesseract_ocr>> create(const ocr_config& config);
  ~tesseract_ocr() override;

  /// Decodes `image` (PNG/JPEG/PGM) and reads it upright: turned back by `known_rotation` (clockwise degrees)
  /// when that is 0, 90, 180 or 270, else by the orientation it detects when `auto_rotate`, else as it is.
  /// With `auto_rotate`, a page that reads badly (confidence < min_read_confidence) is also read turned by a
  /// half turn, and the better reading (and its rotation) wins: reading settles what orientation doubts.
  /// `deadline`: recognition stops when it passes (Tesseract's ETEXT_DESC monitor, whose cancel callback
  /// is asked after every word), and it is checked between the stages (decode, orientation, each reading):
  /// `deadline_exceeded`.
  outcome<ocr_page> read(const shared_bytes& image, int known_rotation, bool auto_rotate,
                         ocr_deadline deadline = ocr_deadline::max()) override;

  /// Decodes `image` and detects its orientation only (what `classify` needs before the classifier);
  /// `deadline` as in `read`.
  outcome<page_rotation> orientation(const shared_bytes& image, ocr_deadline deadline = ocr_deadline::max()) override;

  struct impl;

 private:
  explicit tesseract_ocr(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace infermesh
