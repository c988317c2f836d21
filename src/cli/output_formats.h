// Transcript writers for the CLI: plain text, JSON (text, tokens, words, segments, stats),
// SubRip (.srt) and WebVTT.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "voxtral_rt/model.h"

namespace vrt::cli {

std::string srt_time(double seconds);  // 00:01:02,345
std::string vtt_time(double seconds);  // 00:01:02.345

std::string to_srt(const Transcript& t);
std::string to_vtt(const Transcript& t);
nlohmann::ordered_json to_json(const Transcript& t, const std::string& file);
nlohmann::ordered_json stats_json(const TranscribeStats& s);

}  // namespace vrt::cli
