// voxtral-rt: subtitle files (SubRip .srt, WebVTT) from a transcript's segments.
#pragma once

#include <string>

#include "voxtral_rt/model.h"

namespace vrt {

std::string srt_time(double seconds);  // 00:01:02,345
std::string vtt_time(double seconds);  // 00:01:02.345

std::string to_srt(const Transcript& t);
std::string to_vtt(const Transcript& t);

}  // namespace vrt
