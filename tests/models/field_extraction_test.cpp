#include <boost/test/unit_test.hpp>

#include "models/field_extraction.hpp"

using namespace infermesh;

namespace {

extracted_fields extract(const std::string& type, const std::string& text) {
  auto out = extract_fields(type, text);
  BOOST_REQUIRE(out.has_value());
  return *out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(field_extraction)

BOOST_AUTO_TEST_CASE(parses_the_date_forms_documents_use_into_iso_8601) {
  BOOST_TEST(parse_date("Date: 2024-03-05").value() == "2024-03-05");
  BOOST_TEST(parse_date("05/03/2024").value() == "2024-03-05");
  BOOST_TEST(parse_date("issued 5.3.2024 here").value() == "2024-03-05");
  BOOST_TEST(parse_date("5 March 2024").value() == "2024-03-05");
  BOOST_TEST(parse_date("March 5, 2024").value() == "2024-03-05");
}

BOOST_AUTO_TEST_CASE(refuses_dates_that_do_not_exist) {
  BOOST_TEST(!parse_date("2023-02-29").has_value());
  BOOST_TEST(parse_date("2024-02-29").value() == "2024-02-29");
  BOOST_TEST(!parse_date("31/04/2024").has_value());
  BOOST_TEST(!parse_date("12 Smarch 2024").has_value());
}

BOOST_AUTO_TEST_CASE(checks_cpf_check_digits) {
  BOOST_TEST(cpf_is_valid("938.092.752-55"));
  BOOST_TEST(cpf_is_valid("93809275255"));
  BOOST_TEST(!cpf_is_valid("938.092.752-56"));
  BOOST_TEST(!cpf_is_valid("938.092.752-5"));
  BOOST_TEST(!cpf_is_valid("938.092.7x2-55"));
}

BOOST_AUTO_TEST_CASE(reads_an_invoice) {
  auto f = extract("invoice",
                   "Invoice\nAcme GmbH\nRua Augusta 12\nInvoice number: INV-2024-00123\nDate: 05/03/2024\n"
                   "1 x Widget 12.50\n2 x Cable 1,200.00\nTOTAL EUR 1,212.50\n");
  BOOST_TEST(f.fields["invoice_number"] == "INV-2024-00123");
  BOOST_TEST(f.fields["date"] == "2024-03-05");
  BOOST_TEST(f.fields["total"] == "1212.50");
  BOOST_TEST(f.fields["currency"] == "EUR");
  BOOST_TEST(f.valid["total"]);
}

BOOST_AUTO_TEST_CASE(reads_a_receipt_whose_total_amount_is_on_the_next_line) {
  auto f = extract("receipt", "CAFE CENTRAL\nCoffee 3.20\nTOTAL\nR$ 3.20\n2023-03-31 12:04\nObrigado!\n");
  BOOST_TEST(f.fields["total"] == "3.20");
  BOOST_TEST(f.fields["currency"] == "BRL");
  BOOST_TEST(f.fields["date"] == "2023-03-31");
}

BOOST_AUTO_TEST_CASE(reads_an_id_card_and_marks_a_wrong_cpf_invalid) {
  const std::string card = "IDENTITY CARD\nName\nLUCAS ALVES ALMEIDA\nDate of birth\n20/03/1998\nCPF\n";
  auto good = extract("id_card", card + "938.092.752-55\n");
  BOOST_TEST(good.fields["name"] == "LUCAS ALVES ALMEIDA");
  BOOST_TEST(good.fields["birth_date"] == "1998-03-20");
  BOOST_TEST(good.valid["id_number"]);
  auto bad = extract("id_card", card + "938.092.752-56\n");
  BOOST_TEST(bad.fields["id_number"] == "938.092.752-56");
  BOOST_TEST(!bad.valid["id_number"]);
}

BOOST_AUTO_TEST_CASE(normalises_stray_ocr_separators_in_a_cpf_but_keeps_its_digits) {
  const std::string card = "IDENTITY CARD\nName\nANA SILVA\nCPF\n";
  BOOST_TEST(extract("id_card", card + "542. 852.362-06\n").fields["id_number"] == "542.852.362-06");
  BOOST_TEST(extract("id_card", card + "511,.832.702-40\n").fields["id_number"] == "511.832.702-40");
  BOOST_TEST(extract("id_card", card + "511.832.702-4\n").fields.count("id_number") == 0u);  // a digit missing
}

BOOST_AUTO_TEST_CASE(reads_a_letter_and_a_form) {
  auto l = extract("letter", "Yara Lima Rodrigues\nRua Augusta 1\n10 March 2022\nDear Silva,\nText.\n");
  BOOST_TEST(l.fields["sender"] == "Yara Lima Rodrigues");
  BOOST_TEST(l.fields["date"] == "2022-03-10");
  auto f = extract("form", "APPLICATION FORM\nForm ID: AF-0042\nFull name\n");
  BOOST_TEST(f.fields["form_id"] == "AF-0042");
}

BOOST_AUTO_TEST_CASE(leaves_unreadable_fields_absent_and_invalid_never_guessed) {
  auto f = extract("invoice", "");
  BOOST_TEST(f.fields.empty());
  BOOST_TEST(f.valid.size() == 4u);
  for (const auto& [name, ok] : f.valid) BOOST_TEST(!ok, name);
  auto noise = extract("id_card", "@@@ ### 12 34\n\n\x01\x02 garbage");
  BOOST_TEST(noise.fields.count("id_number") == 0u);
}

BOOST_AUTO_TEST_CASE(reads_portuguese_and_german_invoices_and_comma_decimals) {
  auto pt = extract("invoice", "FATURA\nFatura n.\xC2\xBA FT 2021-00412\nData de emiss\xC3\xA3o: 05/03/2024\nTotal a pagar R$ 1.234,56\n");
  BOOST_TEST(pt.fields["invoice_number"] == "FT 2021-00412");
  BOOST_TEST(pt.fields["date"] == "2024-03-05");
  BOOST_TEST(pt.fields["total"] == "1234.56");
  BOOST_TEST(pt.fields["currency"] == "BRL");
  auto de = extract("invoice", "RECHNUNG\nRechnungsnummer: RE-2022-09651\nRechnungsdatum:\n12.01.2023\nSUMME EUR 99,90\n");
  BOOST_TEST(de.fields["invoice_number"] == "RE-2022-09651");
  BOOST_TEST(de.fields["date"] == "2023-01-12");  // the date on the line below its label
  BOOST_TEST(de.fields["total"] == "99.90");
}

BOOST_AUTO_TEST_CASE(a_total_read_apart_from_its_label_is_the_largest_amount_with_a_currency) {
  auto r = extract("receipt", "CAFE CENTRAL\nTotal\n2018-05-22 16:50\nDanke\n56.58\n37.62\nUSD 94.20\n");
  BOOST_TEST(r.fields["total"] == "94.20");
  BOOST_TEST(r.fields["currency"] == "USD");
  BOOST_TEST(r.fields["date"] == "2018-05-22");
}

BOOST_AUTO_TEST_CASE(an_unknown_doc_type_has_no_extractor) {
  BOOST_TEST(!extract_fields("passport", "text").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
