#include <boost/test/unit_test.hpp>

#include "models/text_evidence.hpp"

using namespace infermesh;

namespace {

using scores = std::vector<std::pair<std::string, double>>;

const scores unsure_receipt = {{"form", 0.01}, {"id_card", 0.01}, {"invoice", 0.05}, {"letter", 0.02}, {"receipt", 0.91}};

std::string best(const scores& s) {
  std::pair<std::string, double> top{"", -1};
  for (const auto& e : s)
    if (e.second > top.second) top = e;
  return top.first;
}

double sum(const scores& s) {
  double total = 0;
  for (const auto& e : s) total += e.second;
  return total;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(text_evidence_suite)

BOOST_AUTO_TEST_CASE(finds_the_type_a_page_prints_in_english_portuguese_and_german) {
  BOOST_TEST(text_evidence("ACME Ltd\nINVOICE\nInvoice No. 4411\nBill to: J. Smith").at("invoice") == 4.0);
  BOOST_TEST(text_evidence("FATURA N.º 2231").count("invoice") == 1u);
  BOOST_TEST(text_evidence("Rechnungsnummer: R-22").count("invoice") == 1u);
  BOOST_TEST(text_evidence("CARTEIRA DE IDENTIDADE\nCPF 938.092.752-55").at("id_card") == 6.0);
  BOOST_TEST(text_evidence("Sehr geehrter Herr Weber,").count("letter") == 1u);
  BOOST_TEST(text_evidence("Mit freundlichen Grüßen").count("letter") == 1u);  // ü and ß folded
  BOOST_TEST(text_evidence("FORMULÁRIO DE CADASTRO").count("form") == 1u);
  BOOST_TEST(text_evidence("TROCO 2,50\nOBRIGADO!").at("receipt") == 2.0);
}

BOOST_AUTO_TEST_CASE(matches_whole_words_only_and_counts_each_cue_once) {
  BOOST_TEST(text_evidence("information platform formation").empty());  // "form" inside other words
  BOOST_TEST(text_evidence("invoice invoice INVOICE").at("invoice") == 3.0);
  BOOST_TEST(text_evidence("").empty());
  BOOST_TEST(text_evidence("\xff\xfe\xc3").empty());  // broken UTF-8 is only spaces
}

BOOST_AUTO_TEST_CASE(a_read_title_outweighs_an_unsure_image_model) {
  const auto combined = combine_with_text(unsure_receipt, "INVOICE\nInvoice No. 88\nQty Description Amount");
  BOOST_TEST(best(combined) == "invoice");
  BOOST_TEST(sum(combined) == 1.0, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(one_stray_cue_does_not_overturn_a_sure_image_model) {
  const scores sure_letter = {{"form", 0.002}, {"id_card", 0.001}, {"invoice", 0.002}, {"letter", 0.99}, {"receipt", 0.005}};
  BOOST_TEST(best(combine_with_text(sure_letter, "Dear Ms. Lee,\nthank you for your order. Sincerely,")) == "letter");
  BOOST_TEST(best(combine_with_text(sure_letter, "... cash ...")) == "letter");
}

BOOST_AUTO_TEST_CASE(a_text_without_cues_leaves_the_scores_as_they_are) {
  BOOST_CHECK(combine_with_text(unsure_receipt, "lorem ipsum 12.50") == unsure_receipt);
  const scores other_labels = {{"cat", 0.3}, {"dog", 0.7}};
  BOOST_CHECK(combine_with_text(other_labels, "INVOICE") == other_labels);  // evidence for no label of the model
}

BOOST_AUTO_TEST_SUITE_END()
