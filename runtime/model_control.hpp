#pragma once
/// Model lifecycle commands on a node's control subject (`wire::control_subject(node)`), on with
/// `node.control: true` (cluster-config/README.md). A command is one JSON object with a `command` key
/// (fault commands, fault_control.hpp, have none):
///   {"command": "list"}
///   {"command": "reload", "model": NAME}           re-reads the node's config file and loads NAME's entry
///        [, "version": V] [, "path": ABSOLUTE_PATH]   overrides on top of the file's entry (optional)
///   {"command": "unload", "model": NAME}
///   {"command": "load", "model": NAME}
/// Unknown keys are errors. Answers (when the message has a reply subject) are JSON:
///   {"ok": true, "node": N, "models": [MODEL...]} (list) or {"ok": true, "node": N, "model": MODEL}
///   {"ok": false, "code": C, "error": E}  (C: the wire's error codes, messages/error_code.hpp)
/// with MODEL = {name, version, backend, state, reason, loaded, in_flight, last_used_s, loads, evictions}.
/// A reload is answered once the new version serves (or failed: the old one keeps serving); `name`,
/// `backend` and `serves` of an entry cannot change by reload (bad_request naming the key).
/// Tesseract models are listed but not reloaded, unloaded or loaded (bad_request).

#include <caf/all.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/model_slot.hpp"
#include "messages/outcome.hpp"
#include "messages/value.hpp"
#include "runtime/config.hpp"
#include "runtime/nats_transport.hpp"

namespace infermesh {

/// One parsed model command.
struct model_command {
  enum class verb { list, reload, unload, load };
  verb what = verb::list;
  std::string model;                    ///< all but list
  std::optional<std::string> version;   ///< reload only: replaces the file's `version`
  std::optional<std::string> path;      ///< reload only: replaces the file's `path` (absolute, must exist)
};

/// Whether a control message is a model command (an object with a `command` key) rather than a fault.
bool is_model_command(const value& v);
/// Parses a model command strictly (each error names the key).
outcome<model_command> parse_model_command(const value& v);
/// `name`'s entry in `fresh` (the re-read config) with `command`'s overrides, checked against `running` (the
/// entry the node started with): the same backend and serves; a batched model.
outcome<hosted_model> reloaded_entry(const node_config& fresh, const hosted_model& running, const model_command& command);

/// What the control needs from the node. Everything is called on a nats.c delivery thread or a CAF thread.
struct model_control_setup {
  std::string node_name;
  caf::actor_system* system = nullptr;
  nats_transport* transport = nullptr;
  std::map<std::string, model_slot_actor> slots;  ///< the batched models' slots
  std::vector<hosted_model> hosted;               ///< every model as the node started it (config order)
  std::function<outcome<node_config>()> reread;   ///< the node's config as its source says now
  std::function<group_builder(const hosted_model&)> builder;  ///< how a reloaded entry's group is built
  std::function<bool(const std::string& model)> healthy;      ///< for models without a slot (tesseract)
  std::function<void(const std::string& model, const std::string& version)> on_version;  ///< a reload serves
};

/// Handles one model command (`payload` decoded already): parses, hands the work to an actor (nothing here
/// blocks on a load) and publishes the answer to `reply` when there is one. Called on a nats.c delivery thread.
void handle_model_command(const model_control_setup& setup, const value& payload, const std::string& reply);

}  // namespace infermesh
