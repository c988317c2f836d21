// voxtral-rt: command-line entry point. Parses the subcommand, runs it, and turns library
// errors into one clear line on stderr and a non-zero exit status.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "commands.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/system.h"

namespace {
constexpr const char* kVersion = VRT_VERSION_STRING;  // project(VERSION) in CMakeLists.txt
constexpr int kExitNotFound = 3;

#if defined(__x86_64__)
constexpr const char* kArch = "x86_64";
#elif defined(__aarch64__)
constexpr const char* kArch = "aarch64";
#else
constexpr const char* kArch = "other";
#endif

// --version: the version, what this CPU offers the kernels, and the kernel table they run on
// (VRT_ISA may force one; a table this CPU cannot run is reported, not fatal, here).
std::string version_text() {
  std::string table;
  try {
    table = vrt::kernel_table();
  } catch (const vrt::Error& e) {
    table = std::string("none (") + e.what() + ")";
  }
  return std::string("voxtral-rt ") + kVersion + " (" + kArch + ")\ncpu features: " + vrt::cpu_features() +
         "\nkernel table: " + table;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"voxtral-rt: Voxtral Realtime speech-to-text on CPUs, from the original Mistral "
               "checkpoint."};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_text);
  auto transcribe = vrt::cli::add_transcribe_command(app);
  auto stream = vrt::cli::add_stream_command(app);
  auto serve = vrt::cli::add_serve_command(app);
  auto info = vrt::cli::add_info_command(app);
  auto mel = vrt::cli::add_mel_command(app);
  auto tok = vrt::cli::add_tokenize_commands(app);
  auto quantize = vrt::cli::add_quantize_command(app);
  auto bench = vrt::cli::add_bench_command(app);
  CLI11_PARSE(app, argc, argv);

  try {
    for (auto* sub : app.get_subcommands()) {
      const std::string name = sub->get_name();
      if (name == "transcribe") return transcribe();
      if (name == "stream") return stream();
      if (name == "serve") return serve();
      if (name == "info") return info();
      if (name == "mel") return mel();
      if (name == "quantize") return quantize();
      if (name == "bench") return bench();
      if (name == "tokenize" || name == "detokenize") return tok();
    }
    return 2;
  } catch (const vrt::Error& e) {
    std::fprintf(stderr, "voxtral-rt: error (%s): %s\n",
                 std::string(vrt::status_name(e.status())).c_str(), e.what());
    // A missing model or file has its own status so scripts can offer to download.
    return e.status() == vrt::Status::not_found ? kExitNotFound : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "voxtral-rt: error: %s\n", e.what());
    return 1;
  }
}
