// Reading and writing the v1 reply map (protocol.md "Reply").

#include "messages/codec.hpp"

namespace infermesh {
namespace {

value model_value(const model_ref& m) { return value_map{{"name", m.name}, {"version", m.version}}; }

std::string string_or_empty(const value& map, std::string_view key) {
  const value* v = map.find(key);
  const auto* s = v != nullptr ? v->get_if<std::string>() : nullptr;
  return s != nullptr ? *s : std::string();
}

double number_or_zero(const value* map, std::string_view key) {
  double d = 0;
  const value* v = map != nullptr ? map->find(key) : nullptr;
  if (v != nullptr) v->as_double(d);
  return d;
}

model_ref read_model(const value& v) { return {string_or_empty(v, "name"), string_or_empty(v, "version")}; }

/// The `{name, version}` maps of an array, in order (entries that are not maps are skipped).
std::vector<model_ref> read_models(const value_array& all) {
  std::vector<model_ref> out;
  for (const auto& one : all)
    if (one.get_if<value_map>() != nullptr) out.push_back(read_model(one));
  return out;
}

}  // namespace

std::string encode_reply(const reply& rep, encoding enc) {
  value_map m;
  m.emplace_back("id", rep.id);
  m.emplace_back("ok", rep.ok);
  m.emplace_back("op", rep.op);
  if (rep.ok) m.emplace_back("result", rep.result);
  if (rep.failure)
    m.emplace_back("error", value_map{{"code", std::string(to_string(rep.failure->code))},
                                      {"message", rep.failure->message}});
  value_map t{{"queue_ms", rep.time.queue_ms}, {"compute_ms", rep.time.compute_ms}, {"total_ms", rep.time.total_ms}};
  if (rep.time.batch_size > 0) t.emplace_back("batch_size", rep.time.batch_size);
  m.emplace_back("timing", std::move(t));
  m.emplace_back("node", rep.node);
  if (rep.model) m.emplace_back("model", model_value(*rep.model));  // one map, never an array
  if (!rep.models.empty()) {
    value_array all;
    for (const auto& model : rep.models) all.push_back(model_value(model));
    m.emplace_back("models", std::move(all));
  }
  return encode_value(value{std::move(m)}, enc);
}

outcome<reply> decode_reply(const shared_bytes& payload) {
  decode_limits limits;
  limits.max_payload_bytes = 64u << 20;
  auto tree = decode_value(payload, detect_encoding(payload), limits);
  if (!tree) return tree.err();
  const value& m = *tree;
  if (m.get_if<value_map>() == nullptr) return error{error_code::bad_request, "a reply must be a map"};
  reply rep;
  rep.id = string_or_empty(m, "id");
  rep.op = string_or_empty(m, "op");
  rep.node = string_or_empty(m, "node");
  const value* ok = m.find("ok");
  rep.ok = ok != nullptr && ok->get_if<bool>() != nullptr && *ok->get_if<bool>();
  if (const value* r = m.find("result")) rep.result = *r;
  if (const value* e = m.find("error")) {
    auto code = error_code_from_string(string_or_empty(*e, "code"));
    rep.failure = error{code.value_or(error_code::internal), string_or_empty(*e, "message")};
  }
  const value* t = m.find("timing");
  rep.time.queue_ms = number_or_zero(t, "queue_ms");
  rep.time.compute_ms = number_or_zero(t, "compute_ms");
  rep.time.total_ms = number_or_zero(t, "total_ms");
  rep.time.batch_size = static_cast<int>(number_or_zero(t, "batch_size"));
  if (const value* all = m.find("models"))
    if (const auto* many = all->get_if<value_array>()) rep.models = read_models(*many);
  if (const value* model = m.find("model")) {
    if (const auto* many = model->get_if<value_array>()) {
      // An older node sent every model used as an array in `model`: the last one produced the result.
      auto used = read_models(*many);
      if (!used.empty()) rep.model = used.back();
      if (rep.models.empty()) rep.models = std::move(used);
    } else if (model->get_if<value_map>() != nullptr) {
      rep.model = read_model(*model);
    }
  }
  return rep;
}

}  // namespace infermesh
