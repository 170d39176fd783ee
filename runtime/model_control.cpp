#include "runtime/model_control.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <memory>

#include "runtime/log.hpp"

namespace infermesh {
namespace {

using json = nlohmann::json;

/// How long a reload or load may take before its command is answered with an error (the load goes on: the
/// slot answers the next command once it is done). Big models on a busy CPU load in tens of seconds.
constexpr auto load_answer_timeout = std::chrono::minutes(5);
/// How long `list` waits for the slots' status, all of them asked at once.
constexpr auto status_timeout = std::chrono::seconds(2);

std::string_view backend_name(model_config::backend_kind b) {
  switch (b) {
    case model_config::backend_kind::torchscript: return "torchscript";
    case model_config::backend_kind::synthetic: return "synthetic";
    case model_config::backend_kind::tesseract: return "tesseract";
  }
  return "?";
}

json failure_json(const error& e) {
  return json{{"ok", false}, {"code", std::string(to_string(e.code))}, {"error", e.message}};
}

json status_json(const slot_status& s, std::string_view backend) {
  return json{{"name", s.name},           {"version", s.version},     {"backend", std::string(backend)},
              {"state", s.state},         {"reason", s.reason},       {"loaded", s.loaded},
              {"in_flight", s.in_flight}, {"last_used_s", s.last_used_s}, {"loads", s.loads},
              {"evictions", s.evictions}};
}

void publish(const model_control_setup& setup, const std::string& reply, const json& answer) {
  if (reply.empty()) return;
  if (auto e = setup.transport->publish(reply, answer.dump(-1, ' ', false, json::error_handler_t::replace)))
    log(log_level::warn, "model command answer not sent: ", e->message);
}

const hosted_model* running_entry(const model_control_setup& setup, const std::string& name) {
  for (const auto& h : setup.hosted)
    if (h.model.name == name) return &h;
  return nullptr;
}

/// Asks `slot` one command on a short-lived actor (the answer may take a model's load time) and publishes it.
template <class... Ts>
void ask_slot(const model_control_setup& setup, model_slot_actor slot, std::string backend, std::string reply,
              std::string what, Ts... command) {
  // Inputs as spawn arguments, not captures: CAF 0.17 binds a null tuple for an actor spawned with none
  // (undefined behaviour that UBSan stops).
  auto asker = [](caf::event_based_actor* self, model_control_setup setup, model_slot_actor slot, std::string backend,
                  std::string reply, std::string what, Ts... command) {
    // The slot stops (node shutdown): so does this, at once (it answers its waiting commands first).
    self->monitor(slot);
    self->set_down_handler([=](caf::down_msg&) {
      publish(setup, reply, failure_json({error_code::unavailable, "model command " + what + ": the model stopped"}));
      self->quit();
    });
    self->request(slot, load_answer_timeout, command...)
        .then(
            [=](const slot_answer& a) {
              if (a.failure) {
                publish(setup, reply, failure_json(*a.failure));
                self->quit();
                return;
              }
              log(log_level::info, {{"model", a.status.name}}, "model command ", what, ": model '", a.status.name, "' v",
                  a.status.version, " is ", a.status.state);
              if (what == "reload" && setup.on_version) setup.on_version(a.status.name, a.status.version);
              publish(setup, reply, json{{"ok", true}, {"node", setup.node_name}, {"model", status_json(a.status, backend)}});
              self->quit();
            },
            [=](caf::error& e) {
              publish(setup, reply, failure_json({error_code::unavailable, "model command " + what + " got no answer: " +
                                                                               self->system().render(e)}));
              self->quit();
            });
  };
  setup.system->spawn(asker, setup, slot, std::move(backend), std::move(reply), std::move(what), command...);
}

void list(const model_control_setup& setup, const std::string& reply) {
  caf::scoped_actor self{*setup.system};
  // Every slot is asked at once; the answers are collected until one overall deadline (a slot that does not
  // answer by then is listed "unknown"), so the delivery thread waits at most status_timeout in all.
  std::map<std::string, slot_status> got;
  std::size_t asked = 0;
  for (const auto& h : setup.hosted) {
    auto slot = setup.slots.find(h.model.name);
    if (slot == setup.slots.end()) continue;
    self->send(slot->second, status_atom::value);
    ++asked;
  }
  const auto until = std::chrono::steady_clock::now() + status_timeout;
  bool waiting = asked > 0;
  while (waiting && got.size() < asked) {
    const auto left = until - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) break;
    self->receive([&](const slot_status& s) { got[s.name] = s; },
                  caf::after(std::chrono::duration_cast<caf::timespan>(left)) >> [&] { waiting = false; });
  }
  json models = json::array();
  for (const auto& h : setup.hosted) {
    const auto& m = h.model;
    auto slot = setup.slots.find(m.name);
    if (slot == setup.slots.end()) {  // a Tesseract pool: always loaded, health as the gate sees it
      const bool healthy = !setup.healthy || setup.healthy(m.name);
      slot_status s;
      s.name = m.name;
      s.version = m.version;
      s.state = healthy ? "serving" : "unhealthy";
      s.loaded = true;
      s.loads = 1;
      models.push_back(status_json(s, backend_name(m.backend)));
      continue;
    }
    slot_status s;
    s.name = m.name;
    s.state = "unknown";
    s.reason = "no status within " + std::to_string(status_timeout.count()) + " s";
    if (auto found = got.find(m.name); found != got.end()) s = found->second;
    models.push_back(status_json(s, backend_name(m.backend)));
  }
  publish(setup, reply, json{{"ok", true}, {"node", setup.node_name}, {"models", std::move(models)}});
}

}  // namespace

bool is_model_command(const value& v) { return v.find("command") != nullptr; }

outcome<model_command> parse_model_command(const value& v) {
  const auto* map = v.get_if<value_map>();
  if (!map) return error{error_code::bad_request, "a model command is a JSON object"};
  auto text = [&](const char* key, bool required) -> outcome<std::optional<std::string>> {
    const value* found = v.find(key);
    if (!found) {
      if (required) return error{error_code::bad_request, std::string(key) + ": is required"};
      return std::optional<std::string>{};
    }
    const auto* s = found->get_if<std::string>();
    if (!s || s->empty())
      return error{error_code::bad_request, std::string(key) + ": must be a non-empty string, got " + std::string(type_name(*found))};
    return std::optional<std::string>{*s};
  };
  auto verb = text("command", true);
  if (!verb) return verb.err();
  model_command c;
  const std::string& name = **verb;
  std::vector<std::string> allowed{"command"};
  if (name == "list") c.what = model_command::verb::list;
  else if (name == "reload") c.what = model_command::verb::reload, allowed = {"command", "model", "version", "path"};
  else if (name == "unload") c.what = model_command::verb::unload, allowed = {"command", "model"};
  else if (name == "load") c.what = model_command::verb::load, allowed = {"command", "model"};
  else return error{error_code::bad_request, "command: must be one of list, reload, unload, load; got '" + name + "'"};
  for (const auto& [key, ignored] : *map)
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      return error{error_code::bad_request, key + ": unknown key for command '" + name + "'"};
  if (c.what == model_command::verb::list) return c;
  auto model = text("model", true);
  if (!model) return model.err();
  c.model = **model;
  if (c.what != model_command::verb::reload) return c;
  auto version = text("version", false);
  if (!version) return version.err();
  c.version = *version;
  auto path = text("path", false);
  if (!path) return path.err();
  c.path = *path;
  if (c.path && !std::filesystem::path(*c.path).is_absolute())
    return error{error_code::bad_request, "path: must be an absolute path, got '" + *c.path + "'"};
  return c;
}

outcome<hosted_model> reloaded_entry(const node_config& fresh, const hosted_model& running, const model_command& command) {
  const auto& name = running.model.name;
  const hosted_model* found = nullptr;
  for (const auto& h : fresh.models)
    if (h.model.name == name) found = &h;
  if (!found)
    return error{error_code::bad_request, fresh.source + ": models: has no model named '" + name +
                                              "' any more (a reload cannot rename or remove a model)"};
  hosted_model h = *found;
  if (h.model.backend != running.model.backend)
    return error{error_code::bad_request, fresh.source + ": model '" + name + "': backend: cannot change by reload (running: " +
                                              std::string(backend_name(running.model.backend)) + ")"};
  if (h.model.serves != running.model.serves)
    return error{error_code::bad_request, fresh.source + ": model '" + name + "': serves: cannot change by reload"};
  if (h.model.backend == model_config::backend_kind::tesseract)
    return error{error_code::bad_request, "model '" + name + "' is a tesseract model: only batched models (torchscript, "
                                          "synthetic) are reloaded"};
  if (command.version) h.model.version = *command.version;
  if (command.path) {
    if (h.model.backend != model_config::backend_kind::torchscript)
      return error{error_code::bad_request, "path: applies to torchscript models only"};
    if (!std::filesystem::is_regular_file(*command.path))
      return error{error_code::bad_request, "path: file '" + *command.path + "' does not exist"};
    h.model.path = *command.path;
  }
  return h;
}

void handle_model_command(const model_control_setup& setup, const value& payload, const std::string& reply) {
  auto command = parse_model_command(payload);
  if (!command) return publish(setup, reply, failure_json(command.err()));
  const auto& c = *command;
  if (c.what == model_command::verb::list) return list(setup, reply);
  const hosted_model* running = running_entry(setup, c.model);
  if (!running) {
    std::string names;
    for (const auto& h : setup.hosted) names += (names.empty() ? "" : ", ") + h.model.name;
    return publish(setup, reply, failure_json({error_code::not_found, "model: node '" + setup.node_name +
                                                                          "' hosts no model '" + c.model + "' (it hosts: " + names + ")"}));
  }
  auto slot = setup.slots.find(c.model);
  if (slot == setup.slots.end())
    return publish(setup, reply, failure_json({error_code::bad_request, "model '" + c.model + "' is a " +
                                                                            std::string(backend_name(running->model.backend)) +
                                                                            " model: only batched models (torchscript, synthetic) are reloaded, unloaded or loaded"}));
  const std::string backend(backend_name(running->model.backend));
  switch (c.what) {
    case model_command::verb::reload: {
      auto fresh = setup.reread();
      if (!fresh) return publish(setup, reply, failure_json(fresh.err()));
      auto entry = reloaded_entry(*fresh, *running, c);
      if (!entry) return publish(setup, reply, failure_json(entry.err()));
      log(log_level::info, {{"model", c.model}}, "model command reload: loading model '", c.model, "' v", entry->model.version,
          " from ", fresh->source);
      return ask_slot(setup, slot->second, backend, reply, "reload", reload_atom::value,
                      slot_source{entry->model.version, setup.builder(*entry)});
    }
    case model_command::verb::unload: return ask_slot(setup, slot->second, backend, reply, "unload", unload_atom::value);
    case model_command::verb::load: return ask_slot(setup, slot->second, backend, reply, "load", load_atom::value);
    case model_command::verb::list: break;
  }
}

}  // namespace infermesh
