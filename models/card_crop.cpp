#include "models/card_crop.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace infermesh {

namespace {

constexpr int search_long_side = 640;
constexpr double min_share = 0.03, max_share = 0.60;  // of the photo's area
constexpr double min_aspect = 1.3, max_aspect = 1.9;  // an ID-1 card is 85.6 x 54 mm: 1.59
constexpr double min_fill = 0.85;                     // of its bounding rotated rectangle
constexpr double min_contrast = 12;                   // grey levels between the card and its surroundings
constexpr double max_corner_cosine = 0.26;            // corners of 75-105 degrees

double distance(const cv::Point2f& a, const cv::Point2f& b) { return std::hypot(a.x - b.x, a.y - b.y); }

/// The four corners as top-left, top-right, bottom-right, bottom-left (the card is turned less than 45°).
std::array<cv::Point2f, 4> ordered(const std::vector<cv::Point>& quad) {
  std::array<cv::Point2f, 4> out;
  auto by = [&](auto key, bool largest) {
    const auto less = [&](const cv::Point& a, const cv::Point& b) { return key(a) < key(b); };
    const auto it = largest ? std::max_element(quad.begin(), quad.end(), less) : std::min_element(quad.begin(), quad.end(), less);
    return cv::Point2f(static_cast<float>(it->x), static_cast<float>(it->y));
  };
  out[0] = by([](const cv::Point& p) { return p.x + p.y; }, false);
  out[2] = by([](const cv::Point& p) { return p.x + p.y; }, true);
  out[1] = by([](const cv::Point& p) { return p.x - p.y; }, true);
  out[3] = by([](const cv::Point& p) { return p.x - p.y; }, false);
  return out;
}

/// Mean grey inside `quad` (its edge band left out) minus the mean of a ring around it, a few pixels off the
/// outline: a ruled frame on a page has white on both sides of its line.
double contrast(const cv::Mat& small, const std::vector<cv::Point>& quad) {
  cv::Mat outline = cv::Mat::zeros(small.size(), CV_8U), inside, near, around;
  cv::fillConvexPoly(outline, quad, cv::Scalar(255));
  cv::erode(outline, inside, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(9, 9)));
  cv::dilate(outline, near, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(9, 9)));
  cv::dilate(outline, around, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(31, 31)));
  around -= near;
  if (cv::countNonZero(inside) == 0) return 0;
  if (cv::countNonZero(around) == 0) return 0;
  return std::abs(cv::mean(small, inside)[0] - cv::mean(small, around)[0]);
}

/// Whether `contour` has a card's outline (size, sides, corners); its four corners in `quad`.
bool card_shaped(const cv::Mat& small, const std::vector<cv::Point>& contour, std::vector<cv::Point>& quad) {
  std::vector<cv::Point> hull;
  cv::convexHull(contour, hull);
  cv::approxPolyDP(hull, quad, 0.03 * cv::arcLength(hull, true), true);
  if (quad.size() != 4) return false;
  const double area = cv::contourArea(quad), share = area / (static_cast<double>(small.cols) * small.rows);
  if (share < min_share || share > max_share) return false;
  const cv::RotatedRect box = cv::minAreaRect(quad);
  const double lo = std::min(box.size.width, box.size.height), hi = std::max(box.size.width, box.size.height);
  if (lo <= 0 || hi / lo < min_aspect || hi / lo > max_aspect || area / (lo * hi) < min_fill) return false;
  for (std::size_t i = 0; i < 4; ++i) {  // corners near square (a photo's perspective skews them a little)
    const cv::Point2f a = quad[(i + 3) % 4], b = quad[i], c = quad[(i + 1) % 4];
    const double cosine = ((a - b).dot(c - b)) / (distance(a, b) * distance(c, b));
    if (std::abs(cosine) > max_corner_cosine) return false;
  }
  return true;
}

/// find_card's search, which OpenCV may throw from.
std::optional<cv::Mat> search(const cv::Mat& gray, int long_side) {
  const double f = std::min(1.0, static_cast<double>(search_long_side) / std::max(gray.cols, gray.rows));
  cv::Mat small, blurred;
  if (f < 1) cv::resize(gray, small, cv::Size(), f, f, cv::INTER_AREA);
  else small = gray;
  cv::GaussianBlur(small, blurred, cv::Size(5, 5), 0);

  // Candidates: outlines of edges (a card on a busy background) and of light and dark regions (a card that
  // differs from a plain background in brightness more than it has sharp edges).
  std::vector<std::vector<cv::Point>> contours, more;
  cv::Mat edges, binary;
  cv::Canny(blurred, edges, 20, 60);
  cv::dilate(edges, edges, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
  cv::findContours(edges, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);
  cv::threshold(blurred, binary, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  for (int polarity = 0; polarity < 2; ++polarity) {
    if (polarity) cv::bitwise_not(binary, binary);
    cv::findContours(binary, more, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    contours.insert(contours.end(), more.begin(), more.end());
  }

  // Of the card-shaped outlines, the one that stands out most from its surroundings (a region of the table
  // that holds the card has the card's shape too, but less contrast).
  std::vector<cv::Point> best, quad;
  double best_contrast = min_contrast;
  for (const auto& c : contours) {
    if (cv::contourArea(c) < min_share * small.cols * small.rows * 0.5) continue;  // cheap test first
    if (!card_shaped(small, c, quad)) continue;
    if (const double k = contrast(small, quad); k >= best_contrast) best = quad, best_contrast = k;
  }
  if (best.empty()) return std::nullopt;

  auto corners = ordered(best);
  for (auto& p : corners) p *= static_cast<float>(1 / f);  // back to the page's pixels
  const double w = (distance(corners[0], corners[1]) + distance(corners[3], corners[2])) / 2;
  const double h = (distance(corners[0], corners[3]) + distance(corners[1], corners[2])) / 2;
  if (w < 1 || h < 1) return std::nullopt;
  const double scale = long_side / std::max(w, h);
  const cv::Size size(static_cast<int>(std::lround(w * scale)), static_cast<int>(std::lround(h * scale)));
  const std::array<cv::Point2f, 4> target = {cv::Point2f(0, 0), cv::Point2f(static_cast<float>(size.width), 0),
                                             cv::Point2f(static_cast<float>(size.width), static_cast<float>(size.height)),
                                             cv::Point2f(0, static_cast<float>(size.height))};
  cv::Mat card;
  cv::warpPerspective(gray, card, cv::getPerspectiveTransform(corners.data(), target.data()), size, cv::INTER_CUBIC,
                      cv::BORDER_REPLICATE);
  return card;
}

}  // namespace

std::optional<cv::Mat> find_card(const cv::Mat& gray, int long_side) {
  if (gray.empty() || gray.type() != CV_8UC1 || long_side <= 0) return std::nullopt;
  try {
    return search(gray, long_side);
  } catch (const cv::Exception&) {  // a degenerate outline OpenCV refuses: no card, the page is read as it is
    return std::nullopt;
  }
}

}  // namespace infermesh
