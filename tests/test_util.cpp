#include "test_util.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <sys/wait.h>

namespace vrt::test {
namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : std::string(fallback);
}

}  // namespace

std::string shared_data(const std::string& relative) {
  const std::string p = env_or("VRT_SHARED_DATA", VRT_DEFAULT_SHARED_DATA) + "/" + relative;
  if (!std::filesystem::exists(p)) {
    ADD_FAILURE() << "published test data missing: " << p;
  }
  return p;
}

std::string source_dir() { return env_or("VRT_SOURCE_DIR", VRT_DEFAULT_SOURCE_DIR); }
std::string binary_dir() { return env_or("VRT_BINARY_DIR", VRT_DEFAULT_BINARY_DIR); }
std::string python() { return env_or("VRT_PYTHON", VRT_DEFAULT_PYTHON); }

std::string program(const std::string& name) {
  const std::string wrapper = env_or("VRT_EXEC_WRAPPER", VRT_DEFAULT_EXEC_WRAPPER);
  const std::string path = binary_dir() + "/bin/" + name;
  return wrapper.empty() ? path : wrapper + " " + path;
}

TempDir::TempDir() {
  std::random_device rd;
  const auto base = std::filesystem::temp_directory_path();
  for (int i = 0; i < 100; ++i) {
    auto p = base / ("vrt-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(p)) {
      path_ = p.string();
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int run_command(const std::string& command, std::string* output) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = ::pclose(pipe);
  if (output != nullptr) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

}  // namespace vrt::test
