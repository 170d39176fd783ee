#include "runtime/service_api.hpp"

#include <nlohmann/json.hpp>

#include <ctime>
#include <random>

#include "messages/subjects.hpp"

namespace infermesh {
namespace {

using json = nlohmann::json;

constexpr std::string_view ping_type = "io.nats.micro.v1.ping_response";
constexpr std::string_view info_type = "io.nats.micro.v1.info_response";
constexpr std::string_view stats_type = "io.nats.micro.v1.stats_response";
/// Not an ADR-32 type: ADR-32 reports errors in headers, which this client library cannot publish.
constexpr std::string_view error_type = "io.nats.micro.v1.error_response";

json metadata_of(const std::map<std::string, std::string>& m) {
  json out = json::object();
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

/// The fields every answer starts with.
json identity_of(const service_identity& id, std::string_view type) {
  return json{{"type", type}, {"name", id.name}, {"id", id.id}, {"version", id.version},
              {"metadata", metadata_of(id.metadata)}};
}

json endpoint_of(const service_endpoint& e) {
  return json{{"name", e.name}, {"subject", e.subject}, {"queue_group", e.queue_group},
              {"metadata", metadata_of(e.metadata)}};
}

json figures_of(const model_figures& m) {
  return json{{"name", m.name},         {"version", m.version},         {"state", m.state},
              {"reason", m.reason},     {"healthy", m.healthy},         {"restarts", m.restarts},
              {"queue_depth", m.queue_depth}, {"requests", m.requests}, {"batches", m.batches},
              {"mean_batch_size", m.mean_batch}, {"loaded", m.loaded}, {"loads", m.loads}, {"evictions", m.evictions}};
}

// Invalid UTF-8 (a message that quoted a client's bytes) must not throw: replace it.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::optional<service_verb> parse_service_subject(std::string_view subject, std::string_view name, std::string_view id) {
  if (subject.substr(0, wire::service_prefix.size()) != wire::service_prefix) return std::nullopt;
  subject.remove_prefix(wire::service_prefix.size());
  const auto dot = subject.find('.');
  const auto verb = subject.substr(0, dot);
  const auto rest = dot == std::string_view::npos ? std::string_view{} : subject.substr(dot + 1);
  const std::string named = std::string(name), instance = std::string(name) + "." + std::string(id);
  if (dot != std::string_view::npos && rest != named && rest != instance) return std::nullopt;
  if (verb == wire::service_verbs[0]) return service_verb::ping;
  if (verb == wire::service_verbs[1]) return service_verb::info;
  if (verb == wire::service_verbs[2]) return service_verb::stats;
  return std::nullopt;
}

std::string new_service_id() {
  static constexpr char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::random_device seed;
  std::mt19937_64 gen((static_cast<std::uint64_t>(seed()) << 32) ^ seed() ^
                      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::uniform_int_distribution<std::size_t> pick(0, sizeof alphabet - 2);
  std::string out(22, '0');
  for (auto& c : out) c = alphabet[pick(gen)];
  return out;
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const auto since = t.time_since_epoch();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since - secs).count();
  const std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm utc{};
  gmtime_r(&tt, &utc);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &utc);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%09lldZ", static_cast<long long>(nanos));
  return std::string(date) + frac;
}

std::string model_metadata(const std::vector<model_figures>& models) {
  std::string out;
  for (const auto& m : models)
    out += (out.empty() ? "" : ",") + m.name + "@" + m.version + "=" + (m.healthy ? "healthy" : "unhealthy");
  return out;
}

std::string ping_response(const service_identity& id) { return dump(identity_of(id, ping_type)); }

std::string info_response(const service_identity& id, const std::vector<service_endpoint>& endpoints) {
  auto out = identity_of(id, info_type);
  out["description"] = id.description;
  out["endpoints"] = json::array();
  for (const auto& e : endpoints) out["endpoints"].push_back(endpoint_of(e));
  return dump(out);
}

std::string stats_response(const service_identity& id, std::chrono::system_clock::time_point started,
                           const std::vector<endpoint_figures>& endpoints) {
  auto out = identity_of(id, stats_type);
  out["started"] = rfc3339(started);
  out["endpoints"] = json::array();
  for (const auto& e : endpoints) {
    json j{{"name", e.endpoint.name}, {"subject", e.endpoint.subject}, {"queue_group", e.endpoint.queue_group}};
    j["num_requests"] = e.num_requests;
    j["num_errors"] = e.num_errors;
    j["last_error"] = e.last_error;
    j["processing_time"] = e.processing_ns;
    j["average_processing_time"] = e.num_requests ? e.processing_ns / e.num_requests : 0;
    json models = json::array();
    for (const auto& m : e.models) models.push_back(figures_of(m));
    j["data"] = json{{"models", models}};
    out["endpoints"].push_back(std::move(j));
  }
  return dump(out);
}

std::string error_response(const service_identity& id, const std::string& message) {
  auto out = identity_of(id, error_type);
  out["error"] = message;
  return dump(out);
}

}  // namespace infermesh
