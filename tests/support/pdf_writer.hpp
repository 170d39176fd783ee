#pragma once
/// Writes small PDFs for tests, byte by byte (no library): pages of text in the standard Helvetica font,
/// and the hostile kinds a node must refuse (encrypted, thousands of pages, giant pages, no pages).

#include <string>
#include <vector>

namespace infermesh::test {

struct pdf_options {
  double width_pt = 612, height_pt = 792;  ///< US Letter
  bool encrypted = false;                  ///< a password-protected document (the empty password fails)
};

/// A PDF with one page per entry of `pages`, each page's lines drawn top-down in 16 pt Helvetica.
std::string make_pdf(const std::vector<std::vector<std::string>>& pages, const pdf_options& options = {});

}  // namespace infermesh::test
