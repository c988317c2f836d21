// The CLI's JSON transcript (text, tokens, words, segments, stats); SubRip and WebVTT are in
// the library (voxtral_rt/subtitles.h).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "voxtral_rt/model.h"

namespace vrt::cli {

nlohmann::ordered_json to_json(const Transcript& t, const std::string& file);
nlohmann::ordered_json stats_json(const TranscribeStats& s);

}  // namespace vrt::cli
