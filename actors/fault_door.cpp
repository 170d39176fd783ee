#include "actors/fault_door.hpp"

namespace infermesh {
namespace {

/// The model behind a switch: each forward pass asks the switch first.
class faulty_model final : public model {
 public:
  faulty_model(std::unique_ptr<model> inner, std::shared_ptr<fault_switch> sw)
      : inner_(std::move(inner)), switch_(std::move(sw)) {}
  outcome<batch_scores> run(const tensor_batch& batch) override {
    if (auto e = switch_->before_call()) return *e;
    return inner_->run(batch);
  }

 private:
  std::unique_ptr<model> inner_;
  std::shared_ptr<fault_switch> switch_;
};

/// The OCR engine behind a switch: each page read (or orientation) asks the switch first.
class faulty_ocr_engine final : public ocr_engine {
 public:
  faulty_ocr_engine(std::unique_ptr<ocr_engine> inner, std::shared_ptr<fault_switch> sw)
      : inner_(std::move(inner)), switch_(std::move(sw)) {}
  outcome<ocr_page> read(const shared_bytes& image, int known_rotation, bool auto_rotate, ocr_deadline deadline) override {
    if (auto e = switch_->before_call()) return *e;
    return inner_->read(image, known_rotation, auto_rotate, deadline);
  }
  outcome<page_rotation> orientation(const shared_bytes& image, ocr_deadline deadline) override {
    if (auto e = switch_->before_call()) return *e;
    return inner_->orientation(image, deadline);
  }

 private:
  std::unique_ptr<ocr_engine> inner_;
  std::shared_ptr<fault_switch> switch_;
};

const char* target_name(fault_target t) {
  switch (t) {
    case fault_target::model: return "model";
    case fault_target::batcher: return "batcher";
    case fault_target::step: return "step";
    case fault_target::pool: return "pool";
    case fault_target::engine: return "engine";
    case fault_target::router: return "router";
  }
  return "?";
}

std::optional<fault_target> parse_target(const std::string& s) {
  for (auto t : {fault_target::model, fault_target::batcher, fault_target::step, fault_target::pool,
                 fault_target::engine, fault_target::router})
    if (s == target_name(t)) return t;
  return std::nullopt;
}

const char* const actions_help = "crash, crash-batcher, crash-step, crash-pool, slow, fail, fail-load, heal";

}  // namespace

outcome<fault> parse_fault(const value& v) {
  const auto* map = v.get_if<value_map>();
  if (!map) return error{error_code::bad_request, "a fault is a JSON map {model, action, value}"};
  for (const auto& [key, field] : *map)  // a misspelt key must not turn into another fault
    if (key != "model" && key != "actor" && key != "action" && key != "value" && key != "target")
      return error{error_code::bad_request, "unknown key '" + key + "' (known: model, actor, target, action, value)"};
  const auto* action = v.find("action");
  if (!action || !action->get_if<std::string>()) return error{error_code::bad_request, "'action' must be a string"};
  const std::string& a = *action->get_if<std::string>();
  fault f;
  if (const auto* actor = v.find("actor")) {  // {"actor": "router", "action": "crash"}
    if (!actor->get_if<std::string>() || *actor->get_if<std::string>() != "router" || a != "crash" ||
        v.find("model") || v.find("target") || v.find("value"))
      return error{error_code::bad_request, "the only actor fault is {\"actor\": \"router\", \"action\": \"crash\"}"};
    f.target = fault_target::router;
    return f;
  }
  const auto* model = v.find("model");
  if (!model || !model->get_if<std::string>() || model->get_if<std::string>()->empty())
    return error{error_code::bad_request, "'model' must name a model of the node"};
  f.model = *model->get_if<std::string>();
  if (const auto* n = v.find("value")) {
    if (!n->get_if<std::int64_t>() || *n->get_if<std::int64_t>() < 0 || *n->get_if<std::int64_t>() > 86'400'000)
      return error{error_code::bad_request, "'value' must be an integer between 0 and 86400000"};
    f.value = *n->get_if<std::int64_t>();
  }
  if (a == "crash" || a == "crash-batcher" || a == "crash-step" || a == "crash-pool") {
    f.action = fault_action::crash;
    f.target = a == "crash-batcher" ? fault_target::batcher
               : a == "crash-step"  ? fault_target::step
               : a == "crash-pool"  ? fault_target::pool
                                    : fault_target::model;  // (a Tesseract model's "model" is one engine)
  } else if (a == "slow") {
    f.action = fault_action::slow;
  } else if (a == "fail") {
    f.action = fault_action::fail;
  } else if (a == "fail-load") {
    f.action = fault_action::fail_load;
  } else if (a == "heal") {
    f.action = fault_action::heal;
  } else {
    return error{error_code::bad_request, "unknown action '" + a + "' (" + actions_help + ")"};
  }
  const bool needs_value = f.action == fault_action::slow || f.action == fault_action::fail ||
                           f.action == fault_action::fail_load;
  if (needs_value && !v.find("value"))
    return error{error_code::bad_request, "'" + a + "' needs 'value' (" + (f.action == fault_action::slow ? "ms" : "how many") + ")"};
  if (!needs_value && f.value != 0) return error{error_code::bad_request, "'" + a + "' takes no 'value' (or 0)"};
  if (const auto* t = v.find("target")) {
    if (f.action != fault_action::crash) return error{error_code::bad_request, "'target' goes with 'crash' only"};
    if (a != "crash") return error{error_code::bad_request, "'target' goes with 'crash', not '" + a + "'"};
    const auto* name = t->get_if<std::string>();
    auto target = name ? parse_target(*name) : std::nullopt;
    if (!target || *target == fault_target::router)
      return error{error_code::bad_request, "'target' must be one of model, batcher, step, pool, engine"};
    f.target = *target;
  }
  return f;
}

std::optional<error> fault_switch::before_call() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (slow_.count() > 0 && !shut_down_) {  // ends early on any change (heal, another slow-down) or shutdown
    const auto changes = changes_;
    changed_.wait_for(lock, slow_, [&] { return shut_down_ || changes_ != changes; });
  }
  if (fail_calls_ > 0) {
    --fail_calls_;
    return error{error_code::internal, "injected failure (fault door)"};
  }
  return std::nullopt;
}

std::optional<error> fault_switch::before_load() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (fail_loads_ <= 0) return std::nullopt;
  --fail_loads_;
  return error{error_code::internal, "injected load failure (fault door)"};
}

void fault_switch::set_slow(std::chrono::milliseconds extra) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    slow_ = extra;
    ++changes_;
  }
  changed_.notify_all();
}

void fault_switch::fail_next(std::int64_t calls) {
  std::lock_guard<std::mutex> lock(mutex_);
  fail_calls_ = calls;
}

void fault_switch::fail_next_loads(std::int64_t loads) {
  std::lock_guard<std::mutex> lock(mutex_);
  fail_loads_ = loads;
}

void fault_switch::heal() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    slow_ = std::chrono::milliseconds(0);
    fail_calls_ = fail_loads_ = 0;
    ++changes_;
  }
  changed_.notify_all();
}

void fault_switch::shut_down() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shut_down_ = true;
  }
  changed_.notify_all();
}

fault_door::~fault_door() { shut_down(); }

std::shared_ptr<fault_switch> fault_door::switch_of(const std::string& model) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& sw = switches_[model];
  if (!sw) sw = std::make_shared<fault_switch>();
  return sw;
}

std::function<void(const caf::actor&)> fault_door::spawned_hook(const std::string& model, fault_target target,
                                                                std::size_t slot) {
  return [this, k = key{model, target}, slot](const caf::actor& child) {
    std::lock_guard<std::mutex> lock(mutex_);
    children_[k][slot] = child.address();
  };
}

std::unique_ptr<model> fault_door::decorate(const std::string& model_name, std::unique_ptr<model> loaded) {
  return std::make_unique<faulty_model>(std::move(loaded), switch_of(model_name));
}

std::unique_ptr<ocr_engine> fault_door::decorate(const std::string& model_name, std::unique_ptr<ocr_engine> engine) {
  return std::make_unique<faulty_ocr_engine>(std::move(engine), switch_of(model_name));
}

std::optional<error> fault_door::apply(const fault& f) {
  if (f.action != fault_action::crash) {
    std::shared_ptr<fault_switch> sw;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto found = switches_.find(f.model);
      if (found == switches_.end()) return error{error_code::not_found, "no model named '" + f.model + "' on this node"};
      sw = found->second;
    }
    switch (f.action) {
      case fault_action::slow: sw->set_slow(std::chrono::milliseconds(f.value)); break;
      case fault_action::fail: sw->fail_next(f.value); break;
      case fault_action::fail_load: sw->fail_next_loads(f.value); break;
      default: sw->heal(); break;
    }
    return std::nullopt;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  key k{f.model, f.target};
  auto found = children_.find(k);
  if (found == children_.end() && f.target == fault_target::model)  // a Tesseract model: one of its engines
    found = children_.find(k = key{f.model, fault_target::engine});
  if (found == children_.end() || found->second.empty())
    return error{error_code::not_found, std::string("no ") + target_name(f.target) +
                                            (f.target == fault_target::router ? "" : " of a model named '" + f.model + "'") +
                                            " on this node"};
  // Round robin over the slots (the engines of an OCR pool); a slot's latest child is the live one.
  auto& slots = found->second;
  auto& next = next_victim_[k];
  auto victim = slots.lower_bound(next);
  if (victim == slots.end()) victim = slots.begin();
  next = victim->first + 1;
  auto child = caf::actor_cast<caf::actor>(victim->second);
  if (!child)
    return error{error_code::unavailable, std::string("the ") + target_name(f.target) +
                                              " is not running now (it is being restarted)"};
  caf::anon_send_exit(child, caf::exit_reason::kill);
  return std::nullopt;
}

void fault_door::shut_down() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [name, sw] : switches_) sw->shut_down();
}

}  // namespace infermesh
