#pragma once
/// `outcome<T>`: a value or an infermesh `error`, for fallible calls outside actors (C++17 has no std::expected).

#include <utility>
#include <variant>

#include "messages/error_code.hpp"

namespace infermesh {

template <class T>
class outcome {
 public:
  outcome(T value) : state_(std::move(value)) {}              // NOLINT: implicit on purpose, like expected
  outcome(error err) : state_(std::move(err)) {}              // NOLINT
  outcome(error_code code, std::string message) : state_(error{code, std::move(message)}) {}

  explicit operator bool() const { return state_.index() == 0; }
  T& operator*() { return std::get<0>(state_); }
  const T& operator*() const { return std::get<0>(state_); }
  T* operator->() { return &std::get<0>(state_); }
  const T* operator->() const { return &std::get<0>(state_); }
  /// The error; only valid when the outcome holds no value.
  const error& err() const { return std::get<1>(state_); }

 private:
  std::variant<T, error> state_;
};

}  // namespace infermesh
