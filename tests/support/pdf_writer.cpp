#include "support/pdf_writer.hpp"

#include <cstdio>
#include <vector>

namespace infermesh::test {
namespace {

std::string escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '(' || c == ')' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

}  // namespace

std::string make_pdf(const std::vector<std::vector<std::string>>& pages, const pdf_options& options) {
  std::string pdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<std::size_t> offsets;  // object n is offsets[n - 1]
  auto object = [&](const std::string& body) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(offsets.size()) + " 0 obj\n" + body + "\nendobj\n";
  };
  // Objects: 1 catalog, 2 page tree, 3 font, then (page, contents) per page, then the encryption dictionary.
  const std::size_t first_page = 4;
  std::string kids;
  for (std::size_t i = 0; i < pages.size(); ++i) kids += std::to_string(first_page + 2 * i) + " 0 R ";
  object("<< /Type /Catalog /Pages 2 0 R >>");
  object("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(pages.size()) + " >>");
  object("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  for (std::size_t i = 0; i < pages.size(); ++i) {
    std::string content = "BT /F1 16 Tf 20 TL 72 " + number(options.height_pt - 90) + " Td\n";
    for (const auto& line : pages[i]) content += "(" + escaped(line) + ") Tj T*\n";
    content += "ET\n";
    object("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + number(options.width_pt) + " " +
           number(options.height_pt) + "] /Resources << /Font << /F1 3 0 R >> >> /Contents " +
           std::to_string(first_page + 2 * i + 1) + " 0 R >>");
    object("<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "endstream");
  }
  std::string trailer_extra;
  if (options.encrypted) {
    // Standard security handler, revision 2, with O and U entries that match no password: readers ask for one.
    const std::string filler(64, 'A');
    object("<< /Filter /Standard /V 1 /R 2 /O <" + filler + "> /U <" + filler + "> /P -44 >>");
    trailer_extra = " /Encrypt " + std::to_string(offsets.size()) +
                    " 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>]";
  }
  const std::size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(offsets.size() + 1) + "\n0000000000 65535 f \n";
  for (auto off : offsets) {
    char line[24];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(offsets.size() + 1) + " /Root 1 0 R" + trailer_extra +
         " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

std::string make_xref_bomb_pdf(std::uint64_t objects) {
  std::string body =
      "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
      "3 0 obj<</Type/Page/MediaBox[0 0 612 792]/Parent 2 0 R>>endobj\n";
  const auto xref_at = body.size();
  return body + "xref\n0 1\n0000000000 65535 f \ntrailer<</Size " + std::to_string(objects) +
         "/Root 1 0 R>>\nstartxref\n" + std::to_string(xref_at) + "\n%%EOF\n";
}

std::string make_nested_forms_pdf(int levels, int fanout) {
  std::vector<std::string> objects;  // object i + 1
  objects.push_back("<</Type/Catalog/Pages 2 0 R>>");
  objects.push_back("<</Type/Pages/Kids[3 0 R]/Count 1>>");
  objects.push_back("<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Resources<</XObject<</F 5 0 R>>>>/Contents 4 0 R>>");
  auto stream = [](const std::string& dict, const std::string& body) {
    return "<<" + dict + "/Length " + std::to_string(body.size()) + ">>stream\n" + body + "\nendstream";
  };
  objects.push_back(stream("", "/F Do"));
  for (int level = 0; level < levels; ++level) {
    const int self = 5 + level;
    std::string body, resources;
    if (level + 1 < levels) {
      for (int i = 0; i < fanout; ++i) body += "q 1 0 0 1 0.1 0.1 cm /F Do Q\n";
      resources = "/Resources<</XObject<</F " + std::to_string(self + 1) + " 0 R>>>>";
    } else {
      body = "0 0 10 10 re f";
    }
    objects.push_back(stream("/Type/XObject/Subtype/Form/BBox[0 0 612 792]" + resources, body));
  }
  std::string pdf = "%PDF-1.4\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj" + objects[i] + "endobj\n";
  }
  const auto xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (auto at : offsets) {
    std::string n = std::to_string(at);
    pdf += std::string(10 - n.size(), '0') + n + " 00000 n \n";
  }
  pdf += "trailer<</Size " + std::to_string(objects.size() + 1) + "/Root 1 0 R>>\nstartxref\n" + std::to_string(xref) +
         "\n%%EOF\n";
  return pdf;
}

}  // namespace infermesh::test
