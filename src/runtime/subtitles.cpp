// Subtitle files from a transcript's segments (include/voxtral_rt/subtitles.h).
#include "voxtral_rt/subtitles.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace vrt {
namespace {

std::string clock_time(double seconds, char sep) {
  const auto ms = static_cast<long long>(std::llround(std::max(0.0, seconds) * 1000.0));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld%c%03lld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
                sep, ms % 1000);
  return buf;
}

}  // namespace

std::string srt_time(double seconds) { return clock_time(seconds, ','); }
std::string vtt_time(double seconds) { return clock_time(seconds, '.'); }

std::string to_srt(const Transcript& t) {
  std::string out;
  int n = 0;
  for (const auto& s : t.segments)
    out += std::to_string(++n) + "\n" + srt_time(s.start_s) + " --> " + srt_time(s.end_s) + "\n" + s.text + "\n\n";
  return out;
}

std::string to_vtt(const Transcript& t) {
  std::string out = "WEBVTT\n\n";
  for (const auto& s : t.segments) out += vtt_time(s.start_s) + " --> " + vtt_time(s.end_s) + "\n" + s.text + "\n\n";
  return out;
}

}  // namespace vrt
