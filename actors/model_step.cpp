#include "actors/model_step.hpp"

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

struct pages_job {
  caf::typed_response_promise<step_reply> promise;
  step_reply reply;
  std::size_t left = 0;
  bool answered = false;
};

caf::behavior model_step_behavior(caf::event_based_actor* self, model_step_setup setup) {
  return {
      [=](step_atom, const step_request& req) -> caf::result<step_reply> {
        const std::size_t n = setup.step == step_kind::orient ? req.pages.size() : std::min<std::size_t>(1, req.pages.size());
        if (n == 0) return step_reply::failed({error_code::bad_request, "no page to look at"});
        auto j = std::make_shared<pages_job>();
        j->promise = self->make_response_promise<step_reply>();
        j->left = n;
        j->reply.found_by(setup.step, {setup.model_name, setup.model_version});
        if (setup.step == step_kind::orient) j->reply.rotations.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
          const int rotation = req.rotations.size() > i && req.rotations[i] ? req.rotations[i]->degrees : 0;
          infer_job job{req.pages[i], req.priority, req.accepted, req.deadline, rotation};
          self->request(setup.batcher, caf::infinite, infer_atom::value, std::move(job))
              .then(
                  [=](item_result& res) {
                    auto& rep = j->reply;
                    if (j->answered) return;
                    if (res.failure) {
                      j->answered = true;
                      j->promise.deliver(step_reply::failed(std::move(*res.failure)));
                      return;
                    }
                    rep.queue_ms = std::max(rep.queue_ms, res.queue_ms);
                    rep.compute_ms += res.compute_ms;
                    rep.batch_size = std::max(rep.batch_size, res.batch_size);
                    if (setup.step == step_kind::orient) rep.rotations[i] = rotation_from_scores(setup.labels, res.scores);
                    else rep.classified = classify_scores(setup.labels, res.scores);
                    if (--j->left == 0) {
                      j->answered = true;
                      j->promise.deliver(std::move(rep));
                    }
                  },
                  [=](caf::error& e) {
                    if (j->answered) return;
                    j->answered = true;
                    j->promise.deliver(step_reply::failed(
                        {error_code::unavailable, "model '" + setup.model_name + "' is not running: " +
                                                      self->system().render(e)}));
                  });
        }
        return j->promise;
      },
  };
}

}  // namespace

caf::actor spawn_model_step(caf::actor_system& sys, model_step_setup setup) {
  return sys.spawn(model_step_behavior, std::move(setup));
}

}  // namespace infermesh
