#include "actors/model_step.hpp"

#include "actors/step_fan_in.hpp"

#include <algorithm>

namespace infermesh {

classification classify_scores(const std::vector<std::string>& labels, const std::vector<float>& scores) {
  classification out;
  const std::size_t n = std::min(labels.size(), scores.size());
  out.scores.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.scores.emplace_back(labels[i], scores[i]);
    if (scores[i] > out.confidence || out.doc_type.empty()) out.doc_type = labels[i], out.confidence = scores[i];
  }
  return out;
}

namespace {

step_actor::behavior_type model_step_behavior(step_actor::pointer self, model_step_setup setup) {
  return {
      [=](ping_atom) { return true; },
      [=](step_atom, const step_request& req) -> caf::result<step_reply> {
        const std::size_t n = setup.step == step_kind::orient ? req.pages.size() : std::min<std::size_t>(1, req.pages.size());
        if (n == 0) return step_reply::failed({error_code::bad_request, "no page to look at"});
        auto promise = self->make_response_promise<step_reply>();
        auto j = std::make_shared<step_fan_in>(promise, n, self->clock().now());
        j->reply().found_by(setup.step, {setup.model_name, setup.model_version});
        if (setup.step == step_kind::orient) j->reply().rotations.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
          const int rotation = req.rotations.size() > i && req.rotations[i] ? req.rotations[i]->degrees : 0;
          infer_job job{req.pages[i], req.priority, req.accepted, req.deadline, rotation};
          self->request(setup.batcher, caf::infinite, infer_atom::value, std::move(job))
              .then(
                  [=](item_result& res) {
                    if (j->answered()) return;
                    if (res.failure) return j->fail(std::move(*res.failure));
                    auto& rep = j->reply();
                    rep.batch_size = std::max(rep.batch_size, res.batch_size);
                    if (setup.step == step_kind::orient) rep.rotations[i] = rotation_from_scores(setup.labels, res.scores);
                    else rep.classified = classify_scores(setup.labels, res.scores);
                    j->started(res.batch_started);
                    j->done(res.batch_finished);
                  },
                  [=](caf::error& e) {
                    j->fail({error_code::unavailable,
                             "model '" + setup.model_name + "' is not running: " + self->system().render(e)});
                  });
        }
        return promise;
      },
  };
}

}  // namespace

step_actor spawn_model_step(caf::actor_system& sys, model_step_setup setup) {
  return sys.spawn(model_step_behavior, std::move(setup));
}

}  // namespace infermesh
