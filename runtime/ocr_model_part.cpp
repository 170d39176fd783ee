#include "actors/ocr_pool.hpp"
#include "actors/step_supervisor.hpp"
#include "runtime/log.hpp"
#include "runtime/model_parts.hpp"

namespace infermesh {

outcome<model_part> start_ocr_model(part_context& ctx, const hosted_model& hosted) {
  const model_config& m = hosted.model;
  fault_door* door = ctx.door;
  // A fresh engine (behind the fault door's switch when there is one), as a replacement worker makes it.
  ocr_engine_factory make_engine = [config = m.ocr]() -> outcome<std::unique_ptr<ocr_engine>> {
    auto engine = tesseract_ocr::create(config);
    if (!engine) return engine.err();
    return std::unique_ptr<ocr_engine>(std::move(*engine));
  };
  if (door)
    make_engine = door->decorate_loader<std::unique_ptr<ocr_engine>>(
        m.name, [door, name = m.name, make = make_engine]() -> outcome<std::unique_ptr<ocr_engine>> {
          auto engine = make();
          if (!engine) return engine.err();
          return door->decorate(name, std::move(*engine));
        });
  std::vector<std::shared_ptr<ocr_engine>> engines;
  for (int i = 0; i < m.workers; ++i) {
    auto engine = make_engine();
    if (!engine) return error{engine.err().code, "model '" + m.name + "': " + engine.err().message};
    engines.push_back(std::move(*engine));
  }
  log(log_level::info, {{"model", m.name}}, "model '", m.name, "' v", m.version, ": ", m.workers, " Tesseract engine(s), language '",
      m.ocr.language, "'");
  auto health = [report = ctx.report_health, name = m.name](const char* reporter) {
    return [report, name, reporter](bool healthy) { report(name, reporter, healthy); };
  };
  ocr_pool_setup pool{m.name, m.version, hosted.batching.queue_capacity, make_engine, hosted.supervision, health("engines"),
                      [name = m.name, count = ctx.on_restart](const lifecycle& life) {
                        if (life.restarts() == 0) return;
                        log(log_level::warn, {{"model", name}}, "model '", name, "' restarted: ready ",
                            static_cast<int>(life.last_recovery_ms()), " ms after its crash (an OCR engine)");
                        if (count) count(name);
                      },
                      {}};
  if (door)
    pool.worker_hook = [door, name = m.name](std::size_t slot) {
      return door->spawned_hook(name, fault_target::engine, slot);
    };
  caf::actor_system* sys = &ctx.system;
  step_supervisor_setup ss{"the OCR pool of model '" + m.name + "'", hosted.supervision,
                           spawn_ocr_pool(ctx.system, pool, std::move(engines)),
                           [sys, pool, workers = m.workers] {  // one_for_all: fresh engines, loading themselves
                             return spawn_ocr_pool(*sys, pool, std::vector<std::shared_ptr<ocr_engine>>(workers));
                           },
                           health("pool"),
                           [name = m.name, count = ctx.on_restart](const lifecycle& life) {
                             if (life.restarts() == 0) return;
                             log(log_level::warn, {{"model", name}}, "model '", name, "': OCR pool restarted");
                             if (count) count(name);
                           },
                           door ? door->spawned_hook(m.name, fault_target::pool) : nullptr};
  auto server = spawn_step_supervisor(ctx.system, std::move(ss));
  model_part part;
  part.name = m.name;
  for (const auto& step : m.serves) part.steps[*parse_step(step)] = server;
  part.actors = {caf::actor_cast<caf::actor>(server)};
  return part;
}

}  // namespace infermesh
