// Calibration of a classifier's confidence: expected calibration error over equal-width confidence bins, and how
// often an answer given with high confidence is wrong. Plain code, not thread-safe (the caller holds its lock).
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>

namespace infermesh {

/// Answers with their confidence and whether they were right; ECE with 10 bins over [0, 1].
class calibration {
 public:
  static constexpr int bins = 10;
  static constexpr double high_confidence = 0.9;  ///< issue 15's bar: a wrong answer at this confidence is rare

  void add(double confidence, bool right) {
    const int b = confidence >= 1.0 ? bins - 1 : confidence <= 0.0 ? 0 : static_cast<int>(confidence * bins);
    count_[b] += 1, right_[b] += right, confidence_sum_[b] += confidence, total_ += 1;
    if (confidence >= high_confidence) high_ += 1, high_wrong_ += !right;
  }
  /// Sum over bins of |accuracy - mean confidence| weighted by the bin's share of answers.
  double expected_calibration_error() const {
    double ece = 0;
    for (int b = 0; b < bins; ++b)
      if (count_[b] > 0) {
        const double gap = static_cast<double>(right_[b]) / count_[b] - confidence_sum_[b] / count_[b];
        ece += (gap < 0 ? -gap : gap) * count_[b] / static_cast<double>(total_);
      }
    return ece;
  }
  /// "w of n answers at confidence >= 0.9 wrong (p%)".
  std::string high_confidence_wrong() const {
    char out[96];
    std::snprintf(out, sizeof out, "%6.2f%%  (%llu/%llu)", high_ ? 100.0 * high_wrong_ / high_ : 0.0,
                  static_cast<unsigned long long>(high_wrong_), static_cast<unsigned long long>(high_));
    return out;
  }

 private:
  std::array<std::uint64_t, bins> count_{}, right_{};
  std::array<double, bins> confidence_sum_{};
  std::uint64_t total_ = 0, high_ = 0, high_wrong_ = 0;
};

}  // namespace infermesh
