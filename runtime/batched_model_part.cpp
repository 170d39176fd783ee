#include <atomic>
#include <chrono>
#include <memory>

#include "actors/batcher.hpp"
#include "actors/batcher_supervisor.hpp"
#include "actors/model_actor.hpp"
#include "actors/model_step.hpp"
#include "actors/model_supervisor.hpp"
#include "actors/step_supervisor.hpp"
#include "runtime/generation_health.hpp"
#include "runtime/log.hpp"
#include "runtime/model_parts.hpp"

namespace infermesh {
namespace {

/// The model as a replacement loads it (behind the fault door's switch when there is one).
model_loader loader_of(part_context& ctx, const model_config& m) {
  model_loader load = [m] { return load_model(m); };
  if (!ctx.door) return load;
  fault_door* door = ctx.door;
  return door->decorate_loader<std::unique_ptr<model>>(m.name, [door, load, name = m.name]() -> outcome<std::unique_ptr<model>> {
    auto loaded = load();
    if (!loaded) return loaded.err();
    return door->decorate(name, std::move(*loaded));
  });
}

/// `on_ready` of one of the model's supervisors: a replacement that serves is logged as `what` and counted.
std::function<void(const lifecycle&)> on_restarted(part_context& ctx, const std::string& model, std::string what) {
  return [model, what = std::move(what), count = ctx.on_restart](const lifecycle& life) {
    if (life.restarts() == 0) return;
    log(log_level::warn, {{"model", model}}, "model '", model, "'", what);
    if (count) count(model);
  };
}

/// `load`, telling `ctx.on_load` how long each successful load took (metrics).
model_loader timed(part_context& ctx, const std::string& name, model_loader load) {
  if (!ctx.on_load) return load;
  return [told = ctx.on_load, name, load = std::move(load)]() -> outcome<std::unique_ptr<model>> {
    const auto started = std::chrono::steady_clock::now();
    auto loaded = load();
    if (loaded) told(name, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return loaded;
  };
}

std::function<void(const caf::actor&)> hook(part_context& ctx, const std::string& model, fault_target target) {
  if (!ctx.door) return {};
  return ctx.door->spawned_hook(model, target);
}

}  // namespace

group_builder batched_group_builder(part_context ctx, hosted_model hosted) {
  return [ctx, hosted](std::uint64_t generation) mutable -> outcome<slot_group> {
    const model_config& m = hosted.model;
    const auto started = std::chrono::steady_clock::now();
    auto loaded = load_model(m);
    if (!loaded) return error{loaded.err().code, "model '" + m.name + "': " + loaded.err().message};
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
    log(log_level::info, {{"model", m.name}}, "model '", m.name, "' v", m.version, " loaded and warmed up on ", m.device, " in ",
        static_cast<int>(took.count()), " ms (", m.labels.size(), " labels, ", m.threads, " thread(s))");
    std::unique_ptr<model> first = std::move(*loaded);
    if (ctx.door) first = ctx.door->decorate(m.name, std::move(first));

    caf::actor_system* sys = &ctx.system;
    const auto load = timed(ctx, m.name, loader_of(ctx, m));
    // Each generation reports health under its own names, and none after it is released: a group being
    // retired cannot make its successor look unhealthy, nor leave a stale report behind.
    const std::string tag = "#" + std::to_string(generation);
    auto reports = std::make_shared<generation_health>(
        [report = ctx.report_health, name = m.name](const std::string& who, bool healthy) { report(name, who, healthy); });
    auto health = [reports, tag](const char* reporter) {
      return [reports, who = std::string(reporter) + tag](bool healthy) { reports->report(who, healthy); };
    };
    // The group: a model supervisor (restarting the model actor) under a batcher. `model` is the group's first
    // model actor (loaded above) or, for a replacement group, one that loads itself.
    model_supervisor_setup ms{m.name, hosted.supervision, {}, [sys, load] { return spawn_model_actor(*sys, nullptr, load); },
                              health("model"),
                              [name = m.name, count = ctx.on_restart](const lifecycle& life) {
                                if (life.restarts() == 0) return;
                                log(log_level::warn, {{"model", name}}, "model '", name, "' restarted: ready ",
                                    static_cast<int>(life.last_recovery_ms()), " ms after its crash");
                                if (count) count(name);
                              },
                              hook(ctx, m.name, fault_target::model)};
    batcher_setup bs{m.name, hosted.batching, m.input, {}, ctx.preprocessors, hosted.supervision.max_attempts, {}};
    if (ctx.on_batch) bs.on_batch = [told = ctx.on_batch, name = m.name](const batch_timing& t) { told(name, t); };
    auto group = [sys, ms, bs](model_actor model) mutable {
      ms.first = std::move(model);
      bs.model = spawn_model_supervisor(*sys, ms);
      return spawn_batcher(*sys, bs);
    };
    batcher_supervisor_setup gs{m.name, hosted.supervision,
                                group(spawn_model_actor(ctx.system, std::shared_ptr<model>(std::move(first)))),
                                [sys, group, load]() mutable { return group(spawn_model_actor(*sys, nullptr, load)); },
                                health("batcher"), on_restarted(ctx, m.name, ": batcher restarted"),
                                hook(ctx, m.name, fault_target::batcher)};
    auto batcher = spawn_batcher_supervisor(ctx.system, std::move(gs));

    const step_kind step = *parse_step(m.serves.front());
    const model_step_setup step_setup{step, batcher, m.name, m.version, m.labels};
    step_supervisor_setup ss{"the step actor of model '" + m.name + "'", hosted.supervision,
                             spawn_model_step(ctx.system, step_setup),
                             [sys, step_setup] { return spawn_model_step(*sys, step_setup); }, health("step"),
                             on_restarted(ctx, m.name, ": step actor restarted"),
                             hook(ctx, m.name, fault_target::step)};
    auto server = spawn_step_supervisor(ctx.system, std::move(ss));
    slot_group g;
    g.step = server;
    g.batcher = batcher;
    g.actors = {caf::actor_cast<caf::actor>(server), caf::actor_cast<caf::actor>(batcher)};
    g.on_release = [reports, tag] { reports->release({"model" + tag, "batcher" + tag, "step" + tag}); };
    return g;
  };
}

outcome<model_part> start_batched_model(part_context& ctx, const hosted_model& hosted, bool load_now) {
  const model_config& m = hosted.model;
  model_slot_setup s;
  s.model_name = m.name;
  s.source = {m.version, batched_group_builder(ctx, hosted)};
  if (load_now) {
    auto first = s.source.build(1);  // the slot's first generation; at start-up: a model that fails stops the node
    if (!first) return first.err();
    s.first = std::move(*first);
  } else {
    log(log_level::info, {{"model", m.name}}, "model '", m.name, "' v", m.version,
        " not loaded: past max_loaded_models, it loads on its first request");
  }
  s.queue_capacity = hosted.batching.queue_capacity;
  s.cache = ctx.cache;
  // Unloaded by command: the gate stops taking the ops that need it. Evicted or loading on demand: it still
  // takes them (the slot loads the model for the request).
  s.on_state = [report = ctx.report_health, state = ctx.report_state, name = m.name](slot_phase phase) {
    report(name, "slot", phase != slot_phase::unloaded);
    if (state) state(name, phase);
  };
  s.on_model_load = ctx.on_load;
  s.log = [name = m.name](const std::string& line) { log(log_level::info, {{"model", name}}, line); };
  auto slot = spawn_model_slot(ctx.system, std::move(s));
  model_part part;
  part.name = m.name;
  part.steps[*parse_step(m.serves.front())] = slot;
  part.batcher = slot;
  part.slot = slot;
  part.actors = {caf::actor_cast<caf::actor>(slot)};
  return part;
}

outcome<model_part> start_model(part_context& ctx, const hosted_model& hosted, bool load_now) {
  if (hosted.model.backend == model_config::backend_kind::tesseract) return start_ocr_model(ctx, hosted);
  return start_batched_model(ctx, hosted, load_now);
}

}  // namespace infermesh
