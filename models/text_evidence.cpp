#include "models/text_evidence.hpp"

#include <cmath>

namespace infermesh {

namespace {

struct cue {
  std::string_view words;  ///< folded: lower-case ASCII, single spaces
  double weight;
};

constexpr double title = 3, hint = 1;

/// The cue words of each type, as they are folded (accents dropped, ß as ss).
const std::map<std::string, std::vector<cue>>& cues() {
  static const std::map<std::string, std::vector<cue>> all{
      {"invoice",
       {{"invoice", title}, {"fatura", title}, {"factura", title}, {"nota fiscal", title}, {"rechnung", title},
        {"rechnungsnummer", title}, {"rechnungsdatum", title}, {"bill to", hint}, {"amount due", hint},
        {"total due", hint}, {"payment due", hint}, {"due date", hint}, {"faturar", hint}, {"total a pagar", hint},
        {"zahlbar", hint}, {"rechnungsempfanger", hint}, {"qty", hint}, {"vat", hint}, {"mwst", hint}}},
      {"receipt",
       {{"receipt", title}, {"recibo", title}, {"quittung", title}, {"kassenbon", title}, {"kassenzettel", title},
        {"cupom fiscal", title}, {"cash", hint}, {"change", hint}, {"troco", hint}, {"dinheiro", hint},
        {"ruckgeld", hint}, {"thank you", hint}, {"obrigado", hint}, {"volte sempre", hint}, {"danke", hint},
        {"vielen dank", hint}, {"come again", hint}, {"subtotal", hint}, {"visa", hint}, {"mastercard", hint}}},
      {"id_card",
       {{"identity card", title}, {"id card", title}, {"identidade", title}, {"personalausweis", title},
        {"cpf", title}, {"habilitacao", title}, {"registro geral", title}, {"date of birth", hint},
        {"nascimento", hint}, {"geburtsdatum", hint}, {"nationality", hint}, {"nacionalidade", hint},
        {"republica federativa", hint}, {"validade", hint}, {"expiry", hint}}},
      {"letter",
       {{"dear", title}, {"prezado", title}, {"prezada", title}, {"sehr geehrte", title}, {"sehr geehrter", title},
        {"sincerely", title}, {"yours faithfully", title}, {"kind regards", title}, {"atenciosamente", title},
        {"cordialmente", title}, {"mit freundlichen grussen", title}, {"hochachtungsvoll", title},
        {"subject", hint}, {"assunto", hint}, {"betreff", hint}, {"caro", hint}, {"regards", hint}}},
      {"form",
       {{"form", title}, {"formulario", title}, {"formular", title}, {"anmeldeformular", title}, {"antrag", title},
        {"requerimento", title}, {"ficha de cadastro", title}, {"application", hint}, {"registration", hint},
        {"signature", hint}, {"assinatura", hint}, {"unterschrift", hint}}},
  };
  return all;
}

/// The base letter of a two-byte UTF-8 Latin-1 letter (U+00C0..U+00FF), 0 when it is none; "ss" for ß.
std::string_view fold_latin1(unsigned char second) {
  static const char* const base[64] = {
      "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",  // U+00C0..CF
      "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "",  "ss",  // U+00D0..DF
      "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",  // U+00E0..EF
      "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "",  "y"};  // U+00F0..FF
  return (second >= 0x80 && second <= 0xBF) ? base[second - 0x80] : "";
}

/// `text` as lower-case ASCII words separated by single spaces, with a space at each end.
std::string folded(std::string_view text) {
  std::string out = " ";
  const auto space = [&] {
    if (out.back() != ' ') out += ' ';
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out += static_cast<char>(c);
    else if (c >= 'A' && c <= 'Z') out += static_cast<char>(c - 'A' + 'a');
    else if (c == 0xC3 && i + 1 < text.size()) {
      const auto base = fold_latin1(static_cast<unsigned char>(text[++i]));
      if (base.empty()) space();
      else out += base;
    } else space();
  }
  space();
  return out;
}

}  // namespace

std::map<std::string, double> text_evidence(std::string_view text) {
  const std::string words = folded(text);
  std::map<std::string, double> out;
  for (const auto& [type, list] : cues())
    for (const auto& c : list)
      if (words.find(" " + std::string(c.words) + " ") != std::string::npos) out[type] += c.weight;
  return out;
}

std::vector<std::pair<std::string, double>> combine_with_text(const std::vector<std::pair<std::string, double>>& scores,
                                                              std::string_view text) {
  const auto evidence = text_evidence(text);
  bool any = false;
  for (const auto& [label, p] : scores) any = any || evidence.count(label);
  if (!any) return scores;
  std::vector<std::pair<std::string, double>> out;
  double sum = 0;
  for (const auto& [label, p] : scores) {
    const auto e = evidence.find(label);
    out.emplace_back(label, p * std::exp(e == evidence.end() ? 0.0 : e->second));
    sum += out.back().second;
  }
  if (sum <= 0 || !std::isfinite(sum)) return scores;
  for (auto& [label, p] : out) p /= sum;
  return out;
}

}  // namespace infermesh
