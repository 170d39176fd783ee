/// libFuzzer target: the config loader over any YAML text (parse_config, as a node reads its file, and
/// parse_cluster_plan, as `infermesh cluster` does). Holds: the answer is a config or a `bad_request` error
/// naming the source; no exception escapes. Relative paths resolve against cluster-config/, so the seeds (the
/// repository's own config files) parse and the fuzzer starts from valid configs.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.hpp"
#include "runtime/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace infermesh;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string source = "fuzz.yaml";
  const auto config = parse_config(text, INFERMESH_SOURCE_DIR "/cluster-config", source);
  if (!config) {
    FUZZ_CHECK(config.err().code == error_code::bad_request, config.err().message.c_str());
    FUZZ_CHECK(config.err().message.rfind(source + ": ", 0) == 0, "an error names the file first");
  }
  const auto plan = parse_cluster_plan(text, source);
  if (!plan) FUZZ_CHECK(plan.err().code == error_code::bad_request, plan.err().message.c_str());
  return 0;
}
