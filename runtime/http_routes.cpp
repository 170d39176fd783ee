#include "runtime/http_routes.hpp"

#include <cctype>
#include <optional>

namespace infermesh {
namespace {

http_answer text(int status, std::string body) { return {status, "text/plain; charset=utf-8", std::move(body) + "\n", {}}; }

/// `%XX` decoded; nullopt when an escape is malformed.
std::optional<std::string> percent_decoded(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
      return std::nullopt;
    out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
    i += 2;
  }
  return out;
}

/// The model name of "/v2/models/{name}/ready", nullopt for any other path.
std::optional<std::string> model_of_ready_path(const std::string& path) {
  static const std::string prefix = "/v2/models/", suffix = "/ready";
  if (path.size() <= prefix.size() + suffix.size() || path.compare(0, prefix.size(), prefix) != 0 ||
      path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0)
    return std::nullopt;
  const auto name = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  if (name.find('/') != std::string::npos) return std::nullopt;
  return percent_decoded(name);
}

}  // namespace

http_answer answer_http(const http_sources& sources, const http_request_line& req) {
  const std::string path = req.target.substr(0, req.target.find('?'));
  const auto model = model_of_ready_path(path);
  const bool known = path == "/v2/health/live" || path == "/v2/health/ready" || path == "/metrics" || model;
  if (!known) return text(404, "no such path: " + path + " (paths: /v2/health/live, /v2/health/ready, "
                                                         "/v2/models/{name}/ready, /metrics)");
  if (req.method != "GET") {
    auto answer = text(405, "method " + req.method + " not allowed on " + path + ": GET only");
    answer.headers.emplace_back("Allow", "GET");
    return answer;
  }
  if (path == "/v2/health/live") {
    const auto problem = sources.live();
    return problem.empty() ? text(200, "live") : text(503, "not live: " + problem);
  }
  if (path == "/v2/health/ready") {
    const auto verdict = node_readiness(sources.readiness());
    return text(verdict.status, verdict.ready() ? "ready" : "not ready: " + verdict.reason);
  }
  if (path == "/metrics") return {200, prometheus_text_type, sources.metrics(), {}};
  const auto verdict = model_readiness_of(sources.readiness(), *model);
  return text(verdict.status, verdict.ready() ? "ready" : verdict.status == 404 ? verdict.reason
                                                                                : "not ready: " + verdict.reason);
}

}  // namespace infermesh
