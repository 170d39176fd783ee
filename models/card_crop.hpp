#pragma once
/// ID cards are card-shaped photos, not pages (issue 15 §4): small, on a table or a hand, at an angle. OCR of
/// the whole photo reads little of the card's small text, so the OCR engine also looks for the card: of the
/// four-cornered outlines of a card's shape (sides 1.3 to 1.9 to 1, corners within 15° of square) that cover
/// 3–60% of the photo, the one that stands out most from what surrounds it, cut out, squared and enlarged so
/// its long side has `long_side` pixels. Plain OpenCV on a grayscale page (a few milliseconds: the search runs on a 640-pixel copy).

#include <optional>

#include <opencv2/core.hpp>

namespace infermesh {

/// The card in `gray` (8-bit, one channel), squared to a rectangle; nullopt when the page holds none.
std::optional<cv::Mat> find_card(const cv::Mat& gray, int long_side = 1600);

}  // namespace infermesh
