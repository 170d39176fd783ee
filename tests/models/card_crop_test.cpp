#include <boost/test/unit_test.hpp>

#include <opencv2/imgproc.hpp>

#include "models/card_crop.hpp"

using namespace infermesh;

namespace {

/// A light card (85.6 x 54 proportions) turned by `degrees` on a darker striped table, 1600 x 1200.
cv::Mat card_on_a_table(double degrees) {
  cv::Mat photo(1200, 1600, CV_8UC1, cv::Scalar(70));
  for (int x = 0; x < photo.cols; x += 24) cv::line(photo, {x, 0}, {x + 300, photo.rows}, cv::Scalar(95), 6);
  const cv::RotatedRect card({800, 600}, {642, 405}, static_cast<float>(degrees));
  cv::Point2f corners[4];
  card.points(corners);
  std::vector<cv::Point> outline(corners, corners + 4);
  cv::fillConvexPoly(photo, outline, cv::Scalar(200));
  cv::putText(photo, "IDENTITY CARD", {560, 520}, cv::FONT_HERSHEY_SIMPLEX, 1.2, cv::Scalar(20), 2);
  return photo;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(card_crop)

BOOST_AUTO_TEST_CASE(a_card_at_an_angle_on_a_table_is_cut_out_squared_and_enlarged) {
  for (double degrees : {0.0, 8.0, -12.0}) {
    const auto card = find_card(card_on_a_table(degrees));
    BOOST_REQUIRE_MESSAGE(card.has_value(), degrees << " degrees");
    BOOST_TEST(std::max(card->cols, card->rows) == 1600);
    const double aspect = static_cast<double>(card->cols) / card->rows;
    BOOST_TEST(aspect > 1.45, degrees << " degrees: " << card->cols << "x" << card->rows);
    BOOST_TEST(aspect < 1.75, degrees << " degrees: " << card->cols << "x" << card->rows);
    BOOST_TEST(cv::mean(*card)[0] > 150.0);  // the card's light face, not the table
  }
}

BOOST_AUTO_TEST_CASE(a_page_with_a_ruled_box_a_blank_page_and_bad_input_hold_no_card) {
  cv::Mat page(1400, 1000, CV_8UC1, cv::Scalar(245));
  cv::rectangle(page, {200, 400}, {800, 780}, cv::Scalar(30), 3);  // a table's frame: white inside and out
  BOOST_TEST(!find_card(page).has_value());
  BOOST_TEST(!find_card(cv::Mat(800, 600, CV_8UC1, cv::Scalar(255))).has_value());
  BOOST_TEST(!find_card(cv::Mat()).has_value());
  BOOST_TEST(!find_card(cv::Mat(100, 100, CV_8UC3, cv::Scalar(0, 0, 0))).has_value());  // not one channel
}

BOOST_AUTO_TEST_SUITE_END()
