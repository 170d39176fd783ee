#include "actors/ocr_result.hpp"

namespace infermesh {

value rotation_value(const page_rotation& r) {
  return value_map{{"degrees", r.degrees}, {"confidence", r.confidence}, {"corrected", r.corrected}};
}

value ocr_pages_result(const std::vector<ocr_page>& pages) {
  value_array out;
  out.reserve(pages.size());
  for (std::size_t i = 0; i < pages.size(); ++i)
    out.push_back(value_map{{"page", static_cast<std::int64_t>(i + 1)},
                            {"text", pages[i].text},
                            {"confidence", pages[i].confidence},
                            {"rotation", rotation_value(pages[i].rotation)}});
  return value_map{{"total_pages", static_cast<std::int64_t>(pages.size())}, {"pages", std::move(out)}};
}

}  // namespace infermesh
