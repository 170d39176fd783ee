/// The regression side of a fuzz target: a `main` that feeds every file under the folders given on the command
/// line (a seed corpus, the inputs that once failed) through the target's LLVMFuzzerTestOneInput, once each, in
/// name order. Linked instead of libFuzzer in normal builds (gcc, no sanitizer needed), so ctest replays them
/// in seconds. Fails when a folder holds no input (a replay of nothing proves nothing) or a check aborts; the
/// name of the input being fed is printed first, so a failure names its file.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FOLDER_OR_FILE...\n", argv[0]);
    return 2;
  }
  std::size_t fed = 0;
  for (int a = 1; a < argc; ++a) {
    std::vector<fs::path> inputs;
    if (fs::is_directory(argv[a])) {
      for (const auto& entry : fs::recursive_directory_iterator(argv[a]))
        if (entry.is_regular_file() && entry.path().filename().string()[0] != '.') inputs.push_back(entry.path());
    } else if (fs::is_regular_file(argv[a])) {
      inputs.emplace_back(argv[a]);
    }
    if (inputs.empty()) {
      std::fprintf(stderr, "%s: no input to replay\n", argv[a]);
      return 1;
    }
    std::sort(inputs.begin(), inputs.end());
    for (const auto& path : inputs) {
      std::fprintf(stderr, "replay %s\n", path.c_str());
      std::ifstream in(path, std::ios::binary);
      const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      ++fed;
    }
  }
  std::fprintf(stderr, "replayed %zu inputs: each answered with a result or a coded error\n", fed);
  return 0;
}
