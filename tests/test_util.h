// Helpers shared by the test suites: where the data is, temporary directories, running tools.
#pragma once

#include <string>
#include <vector>

#include "voxtral_rt/model.h"

namespace vrt::test {

// Path of a file under ../shared/data (VRT_SHARED_DATA; the build's default is compiled in). Fails the test if the file is absent:
// published data is part of the test contract, so a missing file is an error, not a skip.
std::string shared_data(const std::string& relative);

std::string source_dir();  // VRT_SOURCE_DIR
std::string binary_dir();  // VRT_BINARY_DIR
std::string python();      // VRT_PYTHON
// A shell command word that runs one of this build's programs (binary_dir()/bin/NAME): when the
// build targets another architecture, prefixed by the emulator (VRT_EXEC_WRAPPER; the build's
// CMAKE_CROSSCOMPILING_EMULATOR is compiled in, e.g. scripts/qemu-aarch64.sh). Natively the path alone.
std::string program(const std::string& name);

// A fresh empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs a shell command, returns its exit status; stdout+stderr are captured into *output.
int run_command(const std::string& command, std::string* output = nullptr);

std::string read_text(const std::string& path);

// The token ids of a transcript, in order.
inline std::vector<int> token_ids(const Transcript& t) {
  std::vector<int> v;
  for (const auto& k : t.tokens) v.push_back(k.id);
  return v;
}
void write_text(const std::string& path, const std::string& text);

}  // namespace vrt::test
