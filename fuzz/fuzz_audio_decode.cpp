// Fuzz target: whole-file audio decoding of arbitrary bytes (decode_audio_memory): magic sniffing,
// ID3 skipping, the RIFF pre-scan gate, libsndfile over a bounded virtual file, the format
// allow-list, the duration cap while decoding.
//
// Input: the file bytes. The duration cap is 60 s (memory stays small under -rss_limit_mb while
// decompression bombs still cross it).
// Invariants: errors are bad_audio; an accepted file has 1..8 channels, a rate in 8..192 kHz, an
// allowed format name, no more samples than the cap, and only finite samples.
// (libsndfile and its codec libraries are the system's, not instrumented: a memory error inside
// them shows only when it crashes; our wrapper around them is instrumented.)
#include <cmath>

#include "fuzz_util.h"
#include "voxtral_rt/audio.h"

using vrt::Error;
using vrt::Status;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vrt::AudioLimits limits;
  limits.max_duration_s = 60.0;
  vrt::AudioBuffer a;
  try {
    a = vrt::decode_audio_memory({data, size}, "fuzz", limits);
  } catch (const Error& e) {
    VRT_FUZZ_CHECK(e.status() == Status::bad_audio);
    return 0;
  }
  VRT_FUZZ_CHECK(a.channels_in_source >= 1 && a.channels_in_source <= limits.max_channels);
  VRT_FUZZ_CHECK(a.sample_rate >= limits.min_sample_rate_hz &&
                 a.sample_rate <= limits.max_sample_rate_hz);
  VRT_FUZZ_CHECK(static_cast<double>(a.samples.size()) <=
                 std::floor(limits.max_duration_s * a.sample_rate));
  const std::string_view f = a.format;
  VRT_FUZZ_CHECK(f.starts_with("WAV ") || f.starts_with("RF64 ") || f.starts_with("FLAC ") ||
                 f.starts_with("OGG ") || f.starts_with("MPEG "));
  for (const float x : a.samples) VRT_FUZZ_CHECK(std::isfinite(x));
  return 0;
}
