// voxtral-rt: where a model comes from. A MODEL argument is either a checkpoint directory or a
// Hugging Face repo id ("mistralai/Voxtral-Mini-4B-Realtime-2602") looked up in the standard
// local Hugging Face cache. Nothing is downloaded here (scripts/download-model.sh does that).
#pragma once

#include <string>
#include <vector>

namespace vrt {

inline constexpr const char* kDefaultModelId = "mistralai/Voxtral-Mini-4B-Realtime-2602";

// The hub cache directory: $HF_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
std::string huggingface_hub_cache();

// Where scripts/download-model.sh stores models (ORG--NAME/ below it): $VRT_MODELS_DIR, else
// $XDG_CACHE_HOME/voxtral-rt/models, else ~/.cache/voxtral-rt/models.
std::string voxtral_models_dir();

// Resolves MODEL (a directory; else a repo id in the Hugging Face cache; else in
// voxtral_models_dir()) to a directory holding the checkpoint files. Throws vrt::Error(not_found) with
// a message saying where it looked and how to get the model.
std::string resolve_model_path(const std::string& model);

}  // namespace vrt
