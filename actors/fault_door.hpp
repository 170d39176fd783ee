#pragma once
/// The one fault door: every fault a node can inject (tests, `infermesh simulate`) enters here, and nowhere
/// else does production code branch on faults. Off unless configured (`node.faults: true`): without a door
/// the node installs none of the hooks below, and nothing on a request's path changes.
///
/// What it can do, per target kind (`fault_target`) of one model (or the router):
///   crash  — kill the actor: `model` (the model actor), `batcher`, `step` (a batched model's step actor),
///            `pool` (an OCR pool with its engine workers), `engine` (one OCR engine worker), `router`;
///            each is restarted by its supervisor through the one lifecycle.
///   slow   — every forward pass / page read of the model takes `value` ms longer (interruptible: `heal`,
///            another `slow` and shutdown end a wait at once); a crash of a slowed model takes effect once
///            the call it is in returns (an actor handles its exit between messages);
///   fail   — the next `value` forward passes / page reads fail `internal`;
///   fail-load — the next `value` loads of the model (its replacements) fail;
///   heal   — clear slow, fail and fail-load.
/// How: supervisors report each child they spawn (`on_spawned` hooks the door hands out), so a crash kills
/// the current one; `slow`/`fail` live in a `fault_switch` that a decorator around the model (or OCR engine)
/// consults before each call (faulty_model / faulty_ocr_engine), and `fail-load` in a decorated loader.
/// Thread-safety: every member may be called from any thread (the NATS delivery thread applies faults,
/// supervisors register children from their actor threads, model threads consult switches).

#include <caf/all.hpp>

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "messages/outcome.hpp"
#include "messages/value.hpp"
#include "models/model.hpp"
#include "models/tesseract_ocr.hpp"

namespace infermesh {

enum class fault_target { model, batcher, step, pool, engine, router };
enum class fault_action { crash, slow, fail, fail_load, heal };

/// One fault, as the control subject carries it (`{"model": NAME, "action": ..., "value": N}`, or
/// `{"actor": "router", "action": "crash"}`).
struct fault {
  std::string model;                       ///< empty for the router
  fault_target target = fault_target::model;
  fault_action action = fault_action::crash;
  std::int64_t value = 0;                  ///< slow: ms; fail / fail-load: how many
};

/// Reads a fault from its wire form. The actions `crash` (a batched model's model actor, or one OCR engine
/// of a Tesseract model), `crash-batcher`, `crash-step`, `crash-pool`; or `crash` with an explicit `target`
/// (`{"model": m, "target": "batcher", "action": "crash"}`). `slow`, `fail` and `fail-load` need `value`;
/// unknown keys are refused (a misspelt key must not become another fault). Errors name the field.
outcome<fault> parse_fault(const value& v);

/// The slow / fail knobs of one model, shared by the door and the model's decorators.
class fault_switch {
 public:
  /// Called before each forward pass or page read, on the model's thread: waits `slow` (until healed or
  /// shut down), then fails when a failure is pending.
  std::optional<error> before_call();
  /// Called before each load of the model: fails when a load failure is pending.
  std::optional<error> before_load();
  void set_slow(std::chrono::milliseconds extra);
  void fail_next(std::int64_t calls);
  void fail_next_loads(std::int64_t loads);
  void heal();
  /// Ends every wait for good (node shutdown).
  void shut_down();

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::chrono::milliseconds slow_{0};
  std::int64_t fail_calls_ = 0;
  std::int64_t fail_loads_ = 0;
  std::uint64_t changes_ = 0;  // ends injected waits early
  bool shut_down_ = false;
};

class fault_door {
 public:
  fault_door() = default;
  fault_door(const fault_door&) = delete;
  fault_door& operator=(const fault_door&) = delete;
  ~fault_door();

  /// The switch of `model` (made on first use).
  std::shared_ptr<fault_switch> switch_of(const std::string& model);
  /// A hook for supervised_child's `on_spawned`: remembers the latest child of `model`'s `target` in `slot`.
  std::function<void(const caf::actor&)> spawned_hook(const std::string& model, fault_target target,
                                                      std::size_t slot = 0);
  /// `loaded` behind `model`'s switch.
  std::unique_ptr<model> decorate(const std::string& model_name, std::unique_ptr<model> loaded);
  std::unique_ptr<ocr_engine> decorate(const std::string& model_name, std::unique_ptr<ocr_engine> engine);
  /// `load` that first asks `model`'s switch whether this load must fail.
  template <class Loaded>
  std::function<outcome<Loaded>()> decorate_loader(const std::string& model_name,
                                                   std::function<outcome<Loaded>()> load) {
    auto sw = switch_of(model_name);
    return [sw, load = std::move(load)]() -> outcome<Loaded> {
      if (auto e = sw->before_load()) return *e;
      return load();
    };
  }

  /// Applies `f`; an error says why it could not (no such model or target on this node).
  std::optional<error> apply(const fault& f);
  /// Ends every injected wait (node shutdown).
  void shut_down();

 private:
  struct key {
    std::string model;
    fault_target target;
    bool operator<(const key& o) const { return std::tie(model, target) < std::tie(o.model, o.target); }
  };
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<fault_switch>> switches_;
  std::map<key, std::map<std::size_t, caf::actor_addr>> children_;  // latest child per slot (weak)
  std::map<key, std::size_t> next_victim_;                      // round robin over slots (OCR engines)
};

}  // namespace infermesh
