#pragma once
/// Which models of a node stay loaded when it hosts more batched models than `max_loaded_models` keeps: plain
/// code, no actors and no clock of its own (the caller passes `now`, as lifecycle.hpp does), so tests drive it
/// with made-up times. The model cache actor (model_cache.hpp) owns one and feeds it what its slots report.
///
/// A model is loaded or not, and busy while requests are in flight on it. Loading one more past the bound
/// first releases a victim: the least recently used loaded model that is not busy (never the one asking).
/// `max_loaded` 0: no bound, nothing is ever evicted. Not thread-safe: one owner.

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace infermesh {

class model_cache_policy {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit model_cache_policy(std::size_t max_loaded = 0) : max_loaded_(max_loaded) {}

  /// Of `models` (config order), those loaded at start-up: the first `max_loaded` (all when unbounded).
  std::vector<std::string> loaded_at_start(const std::vector<std::string>& models) const;

  /// `model` is known (loaded or not) as of `now`.
  void add(const std::string& model, bool loaded, time_point now);
  /// A request for `model` arrived at `now`.
  void used(const std::string& model, time_point now);
  /// `model` has requests in flight (busy) or none.
  void set_busy(const std::string& model, bool busy);
  /// `model` is loading or reloading (not a victim until its slot reports `used` again, which clears this).
  void set_loading(const std::string& model, bool loading);
  /// `model` was loaded at `now` (counts towards the bound), or released.
  void loaded(const std::string& model, time_point now);
  void unloaded(const std::string& model);

  /// Whether one more model may load without releasing another.
  bool has_room() const;
  /// The model to release so that `for_model` can load: the least recently used loaded one that is not busy
  /// and not `for_model`; nullopt when every loaded one is busy (or there is room).
  std::optional<std::string> victim(const std::string& for_model) const;

  std::size_t loaded_count() const;
  bool is_loaded(const std::string& model) const;
  std::size_t max_loaded() const { return max_loaded_; }

 private:
  struct entry {
    bool loaded = false;
    bool busy = false;
    bool loading = false;
    time_point last_used{};
  };
  std::size_t max_loaded_;
  std::map<std::string, entry> models_;
};

}  // namespace infermesh
