#pragma once
/// Writes small PDFs for tests, byte by byte (no library): pages of text in the standard Helvetica font,
/// and the hostile kinds a node must refuse (encrypted, thousands of pages, giant pages, no pages).

#include <cstdint>
#include <string>
#include <vector>

namespace infermesh::test {

struct pdf_options {
  double width_pt = 612, height_pt = 792;  ///< US Letter
  bool encrypted = false;                  ///< a password-protected document (the empty password fails)
};

/// A PDF with one page per entry of `pages`, each page's lines drawn top-down in 16 pt Helvetica.
std::string make_pdf(const std::vector<std::vector<std::string>>& pages, const pdf_options& options = {});

/// A one-page PDF of about 250 bytes whose trailer claims `objects` objects: poppler sizes its xref table from
/// that number (33,000,000 made a node in process peak at 1.3 GB, issue 14).
std::string make_xref_bomb_pdf(std::uint64_t objects = 33'000'000);

/// A one-page PDF of nested Form XObjects: the page draws form 0, each form draws the next `fanout` times,
/// the last fills a small square. Drawing it costs fanout^levels fills from a file of a few kB (issue 14:
/// 47 s to render 2.2 KB).
std::string make_nested_forms_pdf(int levels, int fanout);

}  // namespace infermesh::test
