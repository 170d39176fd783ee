#include "models/field_extraction.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>
#include <sstream>

namespace infermesh {
namespace {

const std::array<std::string, 12> month_names = {"january", "february", "march",     "april",   "may",      "june",
                                                 "july",    "august",   "september", "october", "november", "december"};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r|:;,");
  const auto last = s.find_last_not_of(" \t\r|:;,");
  return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);)
    if (!trim(line).empty()) lines.push_back(trim(line));
  return lines;
}

bool exists(int y, int m, int d) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1800 || y > 2200 || m < 1 || m > 12 || d < 1) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= days[m - 1] + (m == 2 && leap ? 1 : 0);
}

std::optional<std::string> iso(int y, int m, int d) {
  if (!exists(y, m, d)) return std::nullopt;
  char out[32];  // room for any int, though exists() bounds them
  std::snprintf(out, sizeof out, "%04d-%02d-%02d", y, m, d);
  return std::string(out);
}

int month_number(const std::string& word) {
  const auto w = lower(word);
  for (std::size_t i = 0; i < month_names.size(); ++i)
    if (w == month_names[i]) return static_cast<int>(i) + 1;
  return 0;
}

/// The first line whose lower-case text contains one of `labels`, and the text after the label.
std::optional<std::pair<std::size_t, std::string>> after_label(const std::vector<std::string>& lines,
                                                               std::initializer_list<const char*> labels) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto l = lower(lines[i]);
    for (const char* label : labels)
      if (auto at = l.find(label); at != std::string::npos)
        return std::pair{i, trim(lines[i].substr(at + std::string_view(label).size()))};
  }
  return std::nullopt;
}

std::optional<std::string> first_date(const std::vector<std::string>& lines, std::size_t from = 0) {
  for (std::size_t i = from; i < lines.size(); ++i)
    if (auto d = parse_date(lines[i])) return d;
  return std::nullopt;
}

/// The amount on a line: the last number with two decimals, thousands separators removed. Written 1,234.56
/// or 1234.56, else (Portuguese and German) 1.234,56 or 1234,56.
std::optional<std::string> amount_in(const std::string& line) {
  static const std::regex dot_decimal(R"((\d{1,3}(?:,\d{3})+|\d+)\.(\d{2})(?!\d))");
  static const std::regex comma_decimal(R"((\d{1,3}(?:\.\d{3})+|\d+),(\d{2})(?![\d.,]))");
  for (const auto* form : {&dot_decimal, &comma_decimal}) {
    std::optional<std::string> last;
    const char separator = form == &dot_decimal ? ',' : '.';
    for (auto it = std::sregex_iterator(line.begin(), line.end(), *form); it != std::sregex_iterator(); ++it) {
      std::string whole = (*it)[1];
      whole.erase(std::remove(whole.begin(), whole.end(), separator), whole.end());
      last = whole + "." + (*it)[2].str();
    }
    if (last) return last;
  }
  return std::nullopt;
}

std::optional<std::string> currency_in(const std::string& line) {
  const std::string upper = [&] {
    std::string u = line;
    std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return std::toupper(c); });
    return u;
  }();
  static const std::pair<const char*, const char*> marks[] = {
      {"R$", "BRL"}, {"BRL", "BRL"}, {"EUR", "EUR"}, {"\xE2\x82\xAC", "EUR"}, {"USD", "USD"}, {"US$", "USD"},
      {"GBP", "GBP"}, {"\xC2\xA3", "GBP"}, {"CHF", "CHF"}, {"$", "USD"}};
  for (const auto& [mark, code] : marks)
    if (upper.find(mark) != std::string::npos) return std::string(code);
  return std::nullopt;
}

/// Total and currency from the line labelled TOTAL, SUMME, GESAMT… (or the line after it, when the amount
/// stands alone). When neither holds an amount (OCR read the label's column and the amounts' column apart),
/// the largest amount written with a currency is the total.
void read_total(const std::vector<std::string>& lines, extracted_fields& out) {
  static const char* const labels[] = {"total", "summe", "gesamt", "valor"};
  for (std::size_t i = lines.size(); i-- > 0;) {
    const auto l = lower(lines[i]);
    if (std::none_of(std::begin(labels), std::end(labels), [&](const char* w) { return l.find(w) != std::string::npos; }))
      continue;
    std::string line = lines[i];
    if (!amount_in(line) && i + 1 < lines.size()) line += " " + lines[i + 1];
    if (auto a = amount_in(line)) {
      out.fields["total"] = *a;
      if (auto c = currency_in(line)) out.fields["currency"] = *c;
      return;
    }
    break;
  }
  double largest = -1;
  for (const auto& line : lines) {
    const auto a = amount_in(line);
    const auto c = currency_in(line);
    if (!a || !c || std::stod(*a) <= largest) continue;
    largest = std::stod(*a);
    out.fields["total"] = *a;
    out.fields["currency"] = *c;
  }
}

void set_date(extracted_fields& out, const std::string& name, std::optional<std::string> date) {
  if (date) out.fields[name] = *date;
}

extracted_fields invoice(const std::vector<std::string>& lines) {
  extracted_fields out;
  if (auto n = after_label(lines, {"invoice number", "invoice no.", "invoice no", "invoice #", "rechnungsnummer",
                                   "rechnungs-nr.", "rechnung nr.", "fatura n.\xC2\xBA", "n\xC2\xBA da fatura", "number",
                                   "n\xC3\xBAmero", "numero"});
      n && !n->second.empty())
    out.fields["invoice_number"] = n->second;
  auto d = after_label(lines, {"invoice date", "rechnungsdatum", "data de emiss\xC3\xA3o", "emitida em", "date",
                               "datum", "data", "issued"});
  auto labelled = d ? parse_date(d->second) : std::nullopt;
  if (!labelled && d && d->first + 1 < lines.size()) labelled = parse_date(lines[d->first + 1]);  // the date below
  set_date(out, "date", labelled ? labelled : first_date(lines));
  read_total(lines, out);
  return out;
}

extracted_fields receipt(const std::vector<std::string>& lines) {
  extracted_fields out;
  read_total(lines, out);
  set_date(out, "date", first_date(lines));
  return out;
}

extracted_fields id_card(const std::vector<std::string>& lines) {
  extracted_fields out;
  if (auto label = after_label(lines, {"name", "nome"}); label && label->first + 1 < lines.size()) {
    const auto& name = lines[label->first + 1];
    const bool letters = std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalpha(c) || c == ' '; });
    if (letters && name.size() >= 3) out.fields["name"] = name;
  }
  if (auto label = after_label(lines, {"nascimento", "birth", "geburtsdatum"})) set_date(out, "birth_date", first_date(lines, label->first));
  // OCR sometimes adds a space or a comma around the dots ("542. 852.362-06", "511,.832.702-40"): the digits
  // are what was read, so the separators are normalised, starting at the line labelled CPF.
  static const std::regex cpf(R"((?:^|[^\d])(\d{3})[ .,]{1,3}(\d{3})[ .,]{1,3}(\d{3}) ?[-\xE2\x80\x93] ?(\d{2})(?!\d))");
  auto label = after_label(lines, {"cpf"});
  const std::size_t from = label ? label->first : 0;
  for (std::size_t k = 0; k < lines.size(); ++k) {
    const auto& line = lines[(from + k) % lines.size()];
    std::smatch m;
    if (std::regex_search(line, m, cpf)) {
      out.fields["id_number"] = m[1].str() + "." + m[2].str() + "." + m[3].str() + "-" + m[4].str();
      break;
    }
  }
  return out;
}

extracted_fields letter(const std::vector<std::string>& lines) {
  extracted_fields out;
  // The sender block opens the letter: its first line is the sender's name.
  if (!lines.empty() && !parse_date(lines.front())) {
    const auto& first = lines.front();
    if (std::all_of(first.begin(), first.end(), [](unsigned char c) { return std::isalpha(c) || c == ' ' || c == '.'; }))
      out.fields["sender"] = first;
  }
  set_date(out, "date", first_date(lines));
  return out;
}

extracted_fields form(const std::vector<std::string>& lines) {
  extracted_fields out;
  static const std::regex id(R"([A-Z]+-\d{1,6})");
  if (auto label = after_label(lines, {"form id"})) {
    std::smatch m;
    if (std::regex_search(label->second, m, id)) out.fields["form_id"] = m.str();
  }
  return out;
}

const std::map<std::string, std::pair<std::vector<std::string>, extracted_fields (*)(const std::vector<std::string>&)>>&
extractors() {
  static const std::map<std::string, std::pair<std::vector<std::string>, extracted_fields (*)(const std::vector<std::string>&)>>
      table = {
          {"invoice", {{"invoice_number", "date", "total", "currency"}, invoice}},
          {"receipt", {{"date", "total", "currency"}, receipt}},
          {"id_card", {{"name", "birth_date", "id_number"}, id_card}},
          {"letter", {{"date", "sender"}, letter}},
          {"form", {{"form_id"}, form}},
      };
  return table;
}

}  // namespace

const std::vector<std::string>& extractable_doc_types() {
  static const std::vector<std::string> types = {"invoice", "receipt", "id_card", "letter", "form"};
  return types;
}

std::optional<std::string> parse_date(std::string_view text) {
  const std::string s(text);
  std::smatch m;
  static const std::regex iso_form(R"((\d{4})-(\d{2})-(\d{2}))");
  static const std::regex numeric(R"((\d{1,2})[/.](\d{1,2})[/.](\d{4}))");
  static const std::regex day_month(R"((\d{1,2})\s+([A-Za-z]+)\s+(\d{4}))");
  static const std::regex month_day(R"(([A-Za-z]+)\s+(\d{1,2}),?\s+(\d{4}))");
  if (std::regex_search(s, m, iso_form)) return iso(std::stoi(m[1]), std::stoi(m[2]), std::stoi(m[3]));
  if (std::regex_search(s, m, numeric)) return iso(std::stoi(m[3]), std::stoi(m[2]), std::stoi(m[1]));
  if (std::regex_search(s, m, day_month))
    if (int month = month_number(m[2])) return iso(std::stoi(m[3]), month, std::stoi(m[1]));
  if (std::regex_search(s, m, month_day))
    if (int month = month_number(m[1])) return iso(std::stoi(m[3]), month, std::stoi(m[2]));
  return std::nullopt;
}

bool cpf_is_valid(std::string_view cpf) {
  std::vector<int> d;
  for (char c : cpf) {
    if (std::isdigit(static_cast<unsigned char>(c))) d.push_back(c - '0');
    else if (c != '.' && c != '-') return false;
  }
  if (d.size() != 11) return false;
  for (int k : {9, 10}) {
    int sum = 0;
    for (int i = 0; i < k; ++i) sum += d[i] * (k + 1 - i);
    const int check = sum % 11 < 2 ? 0 : 11 - sum % 11;
    if (d[k] != check) return false;
  }
  return true;
}

std::optional<extracted_fields> extract_fields(std::string_view doc_type, std::string_view text) {
  const auto& table = extractors();
  auto found = table.find(std::string(doc_type));
  if (found == table.end()) return std::nullopt;
  extracted_fields out = found->second.second(lines_of(text));
  for (const auto& name : found->second.first) {
    auto f = out.fields.find(name);
    bool ok = f != out.fields.end();
    if (ok && name == "id_number") ok = cpf_is_valid(f->second);
    out.valid[name] = ok;
  }
  return out;
}

}  // namespace infermesh
