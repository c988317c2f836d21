// Fuzz target: the streamed WAV parser (WavStreamParser) for pipes, fed the same bytes whole and
// cut into arbitrary pieces.
//
// Input: a chunking plan (see Chunker), a byte choosing the duration cap (so the cap is crossed
// by small inputs), then the stream bytes.
// Invariants: errors are bad_audio; the outcome does not depend on how the stream is cut (same
// success or failure, bit-identical samples); samples are finite; frames_decoded() counts them;
// the accepted format respects the limits (1..8 channels, 8..192 kHz); pushing after an error
// is bad_state.
#include <cmath>
#include <optional>

#include "fuzz_util.h"
#include "voxtral_rt/audio.h"

using vrt::Error;
using vrt::Status;

namespace {

struct Outcome {
  bool ok = false;
  std::vector<float> samples;
  int rate = 0, channels = 0;
};

template <typename Feed>
Outcome run(const vrt::AudioLimits& limits, Feed&& feed) {
  Outcome o;
  vrt::WavStreamParser p(limits);
  try {
    feed(p, o.samples);
    p.finish();
  } catch (const Error& e) {
    VRT_FUZZ_CHECK(e.status() == Status::bad_audio);
    // The parser is now failed: a further push is refused as bad_state, never undefined.
    bool refused = false;
    try {
      const std::uint8_t byte = 0;
      p.push_bytes({&byte, 1}, o.samples);
    } catch (const Error& e2) {
      refused = e2.status() == Status::bad_state;
    }
    VRT_FUZZ_CHECK(refused);
    return o;
  }
  o.ok = true;
  VRT_FUZZ_CHECK(p.header_complete());
  VRT_FUZZ_CHECK(p.frames_decoded() == o.samples.size());
  o.rate = p.sample_rate();
  o.channels = p.channels();
  VRT_FUZZ_CHECK(o.channels >= 1 && o.channels <= limits.max_channels);
  VRT_FUZZ_CHECK(o.rate >= limits.min_sample_rate_hz && o.rate <= limits.max_sample_rate_hz);
  VRT_FUZZ_CHECK(static_cast<double>(o.samples.size()) <=
                 std::floor(limits.max_duration_s * o.rate));
  for (const float x : o.samples) VRT_FUZZ_CHECK(std::isfinite(x));
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vrt::fuzz::Reader r(data, size);
  const vrt::fuzz::Chunker chunker(r);
  vrt::AudioLimits limits;
  const std::uint8_t cap = r.u8();
  if (cap != 0) limits.max_duration_s = cap / 4096.0;  // 0.24 ms .. 62 ms
  const auto stream = r.rest();

  const Outcome whole = run(
      limits, [&](vrt::WavStreamParser& p, std::vector<float>& out) { p.push_bytes(stream, out); });
  const Outcome cut = run(limits, [&](vrt::WavStreamParser& p, std::vector<float>& out) {
    chunker.split(stream, [&](std::span<const std::uint8_t> piece) { p.push_bytes(piece, out); });
  });
  VRT_FUZZ_CHECK(whole.ok == cut.ok);
  if (whole.ok) {
    VRT_FUZZ_CHECK(whole.rate == cut.rate && whole.channels == cut.channels);
    VRT_FUZZ_CHECK(vrt::fuzz::same_bits(whole.samples, cut.samples));
  }
  return 0;
}
