#include "runtime/deployment.hpp"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace infermesh {
namespace {

namespace fs = std::filesystem;

std::string absolute_against(const std::string& dir, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(dir) / path).lexically_normal().string();
}

/// Each model's relative `path` and `labels_file` made absolute against `dir`. Models shared through a YAML
/// alias are one node: the second visit finds the paths absolute already.
void anchor_model_paths(YAML::Node models, const std::string& dir) {
  if (!models || !models.IsSequence()) return;
  for (auto model : models)
    for (const char* key : {"path", "labels_file"})
      if (model.IsMap() && model[key] && model[key].IsScalar())
        model[key] = absolute_against(dir, model[key].as<std::string>());
}

std::string emitted(const YAML::Node& root, const std::string& header) {
  YAML::Emitter out;
  out << root;
  return header + out.c_str() + "\n";
}

}  // namespace

outcome<deployment_source> load_deployment_source(const std::string& path) {
  std::ifstream in(path);
  if (!in) return error{error_code::not_found, "cannot read cluster file '" + path + "'"};
  std::stringstream text;
  text << in.rdbuf();
  deployment_source source;
  source.path = path;
  source.file_name = fs::path(path).filename().string();
  source.text = text.str();
  source.dir = fs::absolute(path).parent_path().lexically_normal().string();
  auto plan = parse_cluster_plan(source.text, path);
  if (!plan) return plan.err();
  source.plan = std::move(*plan);
  for (const auto& name : source.plan.nodes) {
    auto config = parse_config(source.text, source.dir, path, name);
    if (!config) return config.err();
    source.nodes.emplace(name, std::move(*config));
  }
  return source;
}

std::string installed_cluster_file(const deployment_source& source, const std::string& files_dir) {
  auto root = YAML::Load(source.text);
  for (auto node : root["nodes"]) anchor_model_paths(node["models"], files_dir);
  return emitted(root, "# " + source.file_name + " as rendered by `infermesh cluster render`: model paths made absolute ("
                           + files_dir + ").\n");
}

std::string standalone_node_file(const deployment_source& source, const std::string& node, const std::string& files_dir,
                                 const std::vector<std::string>& nats_servers, const std::string& http_listen) {
  const auto root = YAML::Load(source.text);
  YAML::Node entry;
  for (const auto& n : root["nodes"])
    if (n["node"]["name"].as<std::string>() == node) entry = YAML::Clone(n);
  YAML::Node out(YAML::NodeType::Map);
  out["node"] = entry["node"];
  out["models"] = entry["models"];
  anchor_model_paths(out["models"], files_dir);
  YAML::Node nats(YAML::NodeType::Map);
  if (root["nats"])
    for (const auto& kv : root["nats"]) {
      const auto key = kv.first.as<std::string>();
      if (key != "cluster" && key != "servers") nats[key] = YAML::Clone(kv.second);
    }
  for (const auto& url : nats_servers) nats["servers"].push_back(url);
  out["nats"] = nats;
  for (const char* shared : {"delivery", "jetstream"})
    if (root[shared]) out[shared] = YAML::Clone(root[shared]);
  if (entry["pipelines"]) out["pipelines"] = entry["pipelines"];
  else if (root["pipelines"]) out["pipelines"] = YAML::Clone(root["pipelines"]);
  out["http"]["listen"] = http_listen;
  return emitted(out, "# node " + node + " of " + source.file_name + ", rendered by `infermesh cluster render`.\n");
}

std::optional<error> write_rendered_files(const std::string& out_dir, const std::vector<rendered_file>& files) {
  for (const auto& file : files) {
    const auto path = fs::path(out_dir) / file.path;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) return error{error_code::bad_request, "cannot create '" + path.parent_path().string() + "': " + ec.message()};
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << file.text;
    out.close();
    if (!out) return error{error_code::bad_request, "cannot write '" + path.string() + "'"};
    if (file.executable) chmod(path.c_str(), 0755);
  }
  return std::nullopt;
}

std::string shell_word(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=@%+-") ==
                        std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace infermesh
