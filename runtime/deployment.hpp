#pragma once
/// What `infermesh cluster render` starts from and ends with, whatever the target (deploy_systemd.hpp,
/// deploy_kubernetes.hpp): a cluster file read and validated once (its plan and every node's config, errors
/// naming the key), and rendered files as {path, text}, written to disk apart from rendering.
///
/// Plain code: no process is started here; rendering is a pure function of the source and the options.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "messages/outcome.hpp"
#include "runtime/config.hpp"

namespace infermesh {

/// A cluster file, read and validated.
struct deployment_source {
  std::string path;                          ///< as given
  std::string file_name;                     ///< its last component (`local-3node.yaml`): the installed copy's name
  std::string text;                          ///< its YAML
  std::string dir;                           ///< its folder, absolute: where its relative paths resolve here
  cluster_plan plan;
  std::map<std::string, node_config> nodes;  ///< every node of the file, parsed as `infermesh node --node` would
};

/// One file of a rendering, `path` relative to the output folder.
struct rendered_file {
  std::string path;
  std::string text;
  bool executable = false;  ///< install scripts
};

/// Reads `path` and validates it as a cluster file: its plan and each node's config (the parser's errors, naming
/// the file and the key).
outcome<deployment_source> load_deployment_source(const std::string& path);

/// The cluster file's text with each model's relative `path` and `labels_file` made absolute against
/// `files_dir` (where the file's folder is on the target; the installed copy lives elsewhere). Comments are
/// not kept.
std::string installed_cluster_file(const deployment_source& source, const std::string& files_dir);

/// A standalone node config (no `nodes:` list) for `node`: its `node`, `models` (relative paths made absolute
/// against `files_dir`), `pipelines`, the shared `delivery`, `jetstream` and `nats` settings, with
/// `nats.servers` = `nats_servers` and `http.listen` = `http_listen`.
std::string standalone_node_file(const deployment_source& source, const std::string& node, const std::string& files_dir,
                                 const std::vector<std::string>& nats_servers, const std::string& http_listen);

/// Writes `files` under `out_dir` (created with its parents); an error names the path it could not write.
std::optional<error> write_rendered_files(const std::string& out_dir, const std::vector<rendered_file>& files);

/// `s` as one shell word (single-quoted when it holds anything but [A-Za-z0-9_./:=@%+-]).
std::string shell_word(const std::string& s);

}  // namespace infermesh
