// Replays fuzz inputs through a target's LLVMFuzzerTestOneInput without libFuzzer, so that the
// checked-in seed corpus and every regression input run in ordinary (GCC, Release or ASan)
// ctest runs. Usage: <target>_replay CORPUS_DIR [MORE_DIRS_OR_FILES...]. The first directory
// must exist and hold at least one file (a missing corpus is a broken checkout, not a pass);
// later ones may be absent (most targets have no regression inputs).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> files_in(const fs::path& p) {
  std::vector<fs::path> out;
  if (fs::is_regular_file(p)) {
    out.push_back(p);
  } else if (fs::is_directory(p)) {
    for (const auto& e : fs::recursive_directory_iterator(p))
      if (e.is_regular_file() && e.path().filename().string()[0] != '.' &&
          e.path().filename() != "README.md")
        out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [DIR_OR_FILE...]\n", argv[0]);
    return 2;
  }
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  std::size_t total = 0;
  for (int i = 1; i < argc; ++i) {
    const auto files = files_in(argv[i]);
    if (i == 1 && files.empty()) {
      std::fprintf(stderr, "%s: no inputs in the corpus '%s'\n", argv[0], argv[1]);
      return 1;
    }
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
      std::fprintf(stderr, "replay %s (%zu bytes)\n", f.c_str(), bytes.size());
      // A copy of exactly the input's size, as libFuzzer passes it, so ASan sees over-reads.
      std::vector<std::uint8_t> copy(bytes.begin(), bytes.end());
      static std::uint8_t empty_input = 0;
      auto* data = copy.empty() ? &empty_input : copy.data();
      LLVMFuzzerTestOneInput(data, copy.size());
      ++total;
    }
  }
  std::fprintf(stderr, "%s: %zu inputs replayed, no finding\n", argv[0], total);
  return 0;
}
