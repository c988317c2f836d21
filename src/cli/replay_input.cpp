#include "replay_input.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "voxtral_rt/error.h"

namespace vrt::cli {
namespace {

constexpr std::uintmax_t kMaxFileBytes = 64u << 20;  // the golden streams are a few KB

std::vector<int> read_stream(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) throw Error(Status::not_found, name + ": cannot read (" + ec.message() + ")");
  if (size > kMaxFileBytes) throw Error(Status::invalid_argument, name + ": larger than 64 MiB, not a token stream");
  std::ifstream in(file, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) throw Error(Status::io_error, name + ": read failed");
  std::vector<int> tokens;
  try {
    const auto j = nlohmann::json::parse(text);
    tokens = j.at("tokens").get<std::vector<int>>();
  } catch (const std::exception&) {
    throw Error(Status::invalid_argument, name + ": not a token stream (expected {\"tokens\": [token ids]})");
  }
  if (tokens.empty()) throw Error(Status::invalid_argument, name + ": an empty token stream");
  for (const int t : tokens)
    if (t < 0) throw Error(Status::invalid_argument, name + ": a negative token id");
  return tokens;
}

}  // namespace

TokenStreams load_token_streams(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  TokenStreams out;
  if (fs::is_regular_file(path, ec)) {
    out.emplace_back(fs::path(path).filename().string(), read_stream(path));
    return out;
  }
  if (!fs::is_directory(path, ec)) throw Error(Status::not_found, path + ": no such token stream file or folder");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(path, ec)) {
    const auto name = e.path().filename().string();
    if (name.rfind("voxtral_realtime_tokens_", 0) == 0 && e.path().extension() == ".json") files.push_back(e.path());
  }
  if (files.empty()) throw Error(Status::not_found, "no voxtral_realtime_tokens_*.json streams in " + path);
  std::sort(files.begin(), files.end());
  for (const auto& f : files) out.emplace_back(f.filename().string(), read_stream(f));
  return out;
}

std::vector<int> load_replay_tokens(const std::string& path) {
  std::vector<int> all;
  for (auto& [name, tokens] : load_token_streams(path)) all.insert(all.end(), tokens.begin(), tokens.end());
  return all;
}

void note_replay(const std::string& path, std::size_t tokens) {
  std::fprintf(stderr, "voxtral-rt: replay: the tokens come from %s (%zu tokens, cycled), not from the audio: for "
               "measurement only\n", path.c_str(), tokens);
}

}  // namespace vrt::cli
