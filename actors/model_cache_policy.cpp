#include "actors/model_cache_policy.hpp"

namespace infermesh {

std::vector<std::string> model_cache_policy::loaded_at_start(const std::vector<std::string>& models) const {
  if (max_loaded_ == 0 || models.size() <= max_loaded_) return models;
  return {models.begin(), models.begin() + static_cast<std::ptrdiff_t>(max_loaded_)};
}

void model_cache_policy::add(const std::string& model, bool loaded, time_point now) {
  models_[model] = entry{loaded, false, false, now};
}

void model_cache_policy::used(const std::string& model, time_point now) { models_[model].last_used = now; }

void model_cache_policy::set_busy(const std::string& model, bool busy) { models_[model].busy = busy; }

void model_cache_policy::set_loading(const std::string& model, bool loading) { models_[model].loading = loading; }

void model_cache_policy::loaded(const std::string& model, time_point now) {
  auto& e = models_[model];
  e.loaded = true;
  e.last_used = now;  // a fresh load is the most recently used: it is about to serve the request that asked
}

void model_cache_policy::unloaded(const std::string& model) {
  auto& e = models_[model];
  e.loaded = false;
  e.busy = false;
  e.loading = false;
}

bool model_cache_policy::has_room() const { return max_loaded_ == 0 || loaded_count() < max_loaded_; }

std::optional<std::string> model_cache_policy::victim(const std::string& for_model) const {
  if (has_room()) return std::nullopt;
  const std::string* best = nullptr;
  time_point oldest = time_point::max();
  for (const auto& [name, e] : models_) {
    if (!e.loaded || e.busy || e.loading || name == for_model) continue;
    if (!best || e.last_used < oldest) best = &name, oldest = e.last_used;
  }
  if (!best) return std::nullopt;
  return *best;
}

std::size_t model_cache_policy::loaded_count() const {
  std::size_t n = 0;
  for (const auto& [name, e] : models_) n += e.loaded ? 1 : 0;
  return n;
}

bool model_cache_policy::is_loaded(const std::string& model) const {
  auto found = models_.find(model);
  return found != models_.end() && found->second.loaded;
}

}  // namespace infermesh
