// Recorded greedy token streams: the verification simulation's input (`bench --reference`,
// scripts/verify_sim.sh) and the measurement-only replay (`--replay`, SessionOptions::replay_tokens).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace vrt::cli {

using TokenStreams = std::vector<std::pair<std::string, std::vector<int>>>;  // (file name, tokens)

// A voxtral_realtime_tokens_*.json file ({"tokens": [ids], ...}, as in shared/data/reference) or
// a folder of them (sorted by name). Throws vrt::Error naming the file for anything else.
TokenStreams load_token_streams(const std::string& path);

// The streams of `path` one after another: what a replay cycles through.
std::vector<int> load_replay_tokens(const std::string& path);

inline constexpr const char* kReplayHelp =
    "Measurement only: take each greedy choice from recorded token streams (a voxtral_realtime_tokens_*.json file or a "
    "folder of them, cycled) instead of the model's, so that verification decoding does the work real speech causes "
    "on any checkpoint (every kernel still runs); the output is the recording";

// The note a command prints when --replay is on (stderr).
void note_replay(const std::string& path, std::size_t tokens);

}  // namespace vrt::cli
