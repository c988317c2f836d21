#include "audio_input.h"

#include <iostream>
#include <iterator>

namespace vrt::cli {

AudioBuffer read_audio_16k(const std::string& path) {
  if (path != "-") return load_audio_16k_mono(path);
  // The whole stream, then the same decoder as files (libsndfile over a bounded buffer).
  const std::string bytes{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  auto buf = decode_audio_memory({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, "stdin");
  if (buf.sample_rate != kModelSampleRateHz) {
    buf.samples = resample(buf.samples, buf.sample_rate, kModelSampleRateHz);
    buf.sample_rate = kModelSampleRateHz;
  }
  return buf;
}

}  // namespace vrt::cli
