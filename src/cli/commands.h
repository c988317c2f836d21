// The voxtral-rt subcommands. Each registers its options on the CLI11 app and returns the
// function that runs it (exit status). Errors propagate as exceptions to main().
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace vrt::cli {

using Runner = std::function<int()>;

Runner add_info_command(CLI::App& app);
Runner add_mel_command(CLI::App& app);
Runner add_tokenize_commands(CLI::App& app);  // tokenize and detokenize
Runner add_transcribe_command(CLI::App& app);
Runner add_stream_command(CLI::App& app);
Runner add_serve_command(CLI::App& app);  // src/cli/serve_command.cpp
Runner add_quantize_command(CLI::App& app);
Runner add_bench_command(CLI::App& app);

}  // namespace vrt::cli
