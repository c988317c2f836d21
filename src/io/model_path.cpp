// MODEL argument -> checkpoint directory (a path, or a repo id in the local Hugging Face cache).
#include "voxtral_rt/model_path.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "voxtral_rt/checkpoint.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace fs = std::filesystem;
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

bool has_checkpoint_files(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / kWeightsFileName, ec) && fs::exists(dir / kParamsFileName, ec) &&
         fs::exists(dir / kTokenizerFileName, ec);
}

// A repo id is "ORG/NAME" with no other slashes and no leading '.' or '/'.
bool looks_like_repo_id(const std::string& s) {
  const auto slash = s.find('/');
  return slash != std::string::npos && slash > 0 && slash + 1 < s.size() &&
         s.find('/', slash + 1) == std::string::npos && s[0] != '.' && s[0] != '~';
}

}  // namespace

std::string huggingface_hub_cache() {
  if (auto v = env("HF_HUB_CACHE"); !v.empty()) return v;
  if (auto v = env("HF_HOME"); !v.empty()) return (fs::path(v) / "hub").string();
  if (auto v = env("XDG_CACHE_HOME"); !v.empty()) return (fs::path(v) / "huggingface" / "hub").string();
  return (fs::path(env("HOME").empty() ? "/root" : env("HOME")) / ".cache" / "huggingface" / "hub").string();
}

std::string voxtral_models_dir() {
  if (auto v = env("VRT_MODELS_DIR"); !v.empty()) return v;
  if (auto v = env("XDG_CACHE_HOME"); !v.empty()) return (fs::path(v) / "voxtral-rt" / "models").string();
  return (fs::path(env("HOME").empty() ? "/root" : env("HOME")) / ".cache" / "voxtral-rt" / "models").string();
}

std::string resolve_model_path(const std::string& model) {
  std::error_code ec;
  if (fs::is_directory(model, ec)) return model;
  if (fs::is_regular_file(model, ec)) return model;  // a packed .vxrt model (validated at load)

  const std::string hint =
      "\nGet the model with:  scripts/download-model.sh " +
      (looks_like_repo_id(model) ? model : std::string(kDefaultModelId)) +
      "\n(needs internet; about 8.9 GB, resumable), or pass -m DIR with a directory holding "
      "consolidated.safetensors, params.json and tekken.json.";
  if (!looks_like_repo_id(model))
    throw Error(Status::not_found, "model '" + model + "' is not a directory or a Hugging Face repo id" + hint);

  const fs::path cache = huggingface_hub_cache();
  std::string folder = "models--" + model;
  folder.replace(folder.find('/'), 1, "--");
  const fs::path repo = cache / folder;
  // refs/main names the snapshot the hub client considers current.
  std::ifstream ref(repo / "refs" / "main");
  std::string commit;
  if (ref && std::getline(ref, commit) && !commit.empty() && commit.find('/') == std::string::npos &&
      has_checkpoint_files(repo / "snapshots" / commit))
    return (repo / "snapshots" / commit).string();
  // Otherwise the most recently modified complete snapshot.
  fs::path best;
  fs::file_time_type best_time{};
  if (fs::is_directory(repo / "snapshots", ec)) {
    for (const auto& e : fs::directory_iterator(repo / "snapshots", ec)) {
      if (!e.is_directory(ec) || !has_checkpoint_files(e.path())) continue;
      const auto t = fs::last_write_time(e.path(), ec);
      if (best.empty() || t > best_time) {
        best = e.path();
        best_time = t;
      }
    }
  }
  if (!best.empty()) return best.string();
  // Where scripts/download-model.sh puts it.
  const fs::path own = fs::path(voxtral_models_dir()) / folder.substr(8);
  if (has_checkpoint_files(own)) return own.string();
  throw Error(Status::not_found, "model '" + model + "' was not found in the Hugging Face cache (" +
                                     repo.string() + ") nor in " + own.string() + hint);
}

}  // namespace vrt
