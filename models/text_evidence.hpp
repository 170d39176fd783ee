#pragma once
/// What a page's text says its type is, and how that is weighed with the image classifier (issue 15 §3: "use
/// all the evidence"). Documents print their type on themselves — INVOICE, FATURA, RECHNUNG; a receipt's CASH
/// and CHANGE; IDENTITY CARD, CPF; "Dear …", "Sehr geehrte …"; FORM, FORMULÁRIO — in English, Portuguese and
/// German here. Pure functions over text: any thread may call them.
///
/// A type's evidence is the sum of the weights of its distinct cue words found in the text (title words 3,
/// other cues 1; accents and case ignored, whole words only). The combined scores are
///     p(t) ∝ p_image(t) · exp(evidence(t))
/// so a page whose title is read outweighs an unsure image model (0.91 `receipt` against a read INVOICE and
/// "Invoice No." gives `invoice`), while one stray cue word does not overturn a sure one. A text with no cue
/// leaves the image's scores as they are.

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace infermesh {

/// doc_type -> evidence in `text` (only the types with some; empty when the text names none).
std::map<std::string, double> text_evidence(std::string_view text);

/// `scores` (label -> the image classifier's probability) weighed by the evidence of `text`, normalised to
/// sum to 1; the same scores when the text has no cue for any of their labels.
std::vector<std::pair<std::string, double>> combine_with_text(const std::vector<std::pair<std::string, double>>& scores,
                                                              std::string_view text);

}  // namespace infermesh
