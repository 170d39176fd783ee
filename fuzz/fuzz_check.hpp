#pragma once
/// What every fuzz target asserts beyond "no crash": a failed check prints what was expected and aborts, which
/// libFuzzer reports as a crash (and saves the input) and the replay test (replay_main.cpp) reports as a failure.

#include <cstdio>
#include <cstdlib>

#include "messages/error_code.hpp"

#define FUZZ_CHECK(condition, what)                                                   \
  do {                                                                                \
    if (!(condition)) {                                                               \
      std::fprintf(stderr, "%s:%d: check failed: %s (%s)\n", __FILE__, __LINE__,      \
                   #condition, what);                                                 \
      std::abort();                                                                   \
    }                                                                                 \
  } while (false)

namespace infermesh::fuzz {

/// True when `code` is one of `codes`: a decoder's error must be one the wire contract lists for it.
template <class... Codes>
bool is_one_of(error_code code, Codes... codes) {
  return ((code == codes) || ...);
}

}  // namespace infermesh::fuzz
