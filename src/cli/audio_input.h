// An AUDIO argument of the CLI: a file in any supported format, or - for a whole file on stdin;
// returned as 16 kHz mono.
#pragma once

#include <string>

#include "voxtral_rt/audio.h"

namespace vrt::cli {

AudioBuffer read_audio_16k(const std::string& path);

}  // namespace vrt::cli
