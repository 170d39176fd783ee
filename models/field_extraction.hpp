#pragma once
/// Structured fields from OCR text, per doc_type, with validation. A field that cannot be read is absent and
/// marked invalid, never guessed. Pure functions over text: any thread may call them.
///
/// | doc_type | fields |
/// | invoice  | invoice_number, date (ISO 8601), total (decimal string), currency (ISO 4217) |
/// | receipt  | date, total, currency |
/// | id_card  | name, birth_date, id_number (valid: CPF check digits) |
/// | letter   | date, sender |
/// | form     | form_id |

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace infermesh {

struct extracted_fields {
  std::map<std::string, std::string> fields;  ///< only the fields that were read
  std::map<std::string, bool> valid;          ///< every field of the doc_type: read and valid?
};

/// The doc_types extraction knows.
const std::vector<std::string>& extractable_doc_types();

/// Fields of `doc_type` in `text`; nullopt for an unknown doc_type.
std::optional<extracted_fields> extract_fields(std::string_view doc_type, std::string_view text);

/// A date written as 2024-03-05, 05/03/2024, 05.03.2024, "5 March 2024" or "March 5, 2024" (day first for
/// numeric forms), as ISO 8601, if it exists in the calendar.
std::optional<std::string> parse_date(std::string_view text);

/// True when `cpf` is ddd.ddd.ddd-dd (or 11 digits) and its two check digits are right.
bool cpf_is_valid(std::string_view cpf);

}  // namespace infermesh
