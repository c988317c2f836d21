// Fuzz target: the streaming resampler and the incremental log-mel under arbitrary chunkings,
// against their offline counterparts, which both promise to equal bit for bit:
//   StreamResampler fed in pieces + flush()  ==  resample() of the whole input   (audio.h)
//   StreamingLogMel fed in pieces + finish() ==  LogMel::compute of the whole, transposed (mel.h)
//
// Input: a byte for the input rate, a byte for the mel configuration (the real one and small
// ones that reach the edge cases: odd n_fft, hop > n_fft/2, hop == n_fft), a chunking plan, then
// int16 samples (finite by construction: the resampler requires finite input).
// Also checked: frames = floor(L / hop); the streaming mel keeps at most about one window of
// samples (plus a bounded dead margin) buffered; feed() after finish() is bad_state.
#include <memory>

#include "fuzz_util.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/mel.h"

using vrt::Error;
using vrt::Status;

namespace {

constexpr int kRates[] = {16000, 8000, 44100, 48000, 22050, 11025, 192000, 12345};

struct MelCase {
  int n_fft, hop, n_mels;
};
constexpr MelCase kMelCases[] = {
    {400, 160, 128},  // the real model
    {16, 4, 4},      {15, 7, 3}, {8, 6, 2}, {8, 8, 2}, {2, 1, 1}, {64, 33, 8},
};

const std::vector<std::unique_ptr<vrt::LogMel>>& mels() {
  static const auto* v = [] {
    auto* out = new std::vector<std::unique_ptr<vrt::LogMel>>();
    for (const auto& c : kMelCases) {
      vrt::MelConfig m;
      m.n_fft = c.n_fft;
      m.hop_length = c.hop;
      m.n_mels = c.n_mels;
      try {
        out->push_back(std::make_unique<vrt::LogMel>(m));
      } catch (const Error&) {
        // Too many mels for so few FFT bins (an all-zero filter): not a case to stream.
      }
    }
    return out;
  }();
  return *v;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)mels();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vrt::fuzz::Reader r(data, size);
  const int rate = kRates[r.u8() % std::size(kRates)];
  const auto& mel = *mels()[r.u8() % mels().size()];
  const vrt::fuzz::Chunker chunker(r);
  const auto raw = r.rest();
  std::vector<float> x(raw.size() / 2);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(static_cast<std::int16_t>(raw[2 * i] | (raw[2 * i + 1] << 8))) /
           32768.0f;

  // Resampler: pieces vs whole.
  const auto offline = vrt::resample(x, rate, vrt::kModelSampleRateHz);
  vrt::StreamResampler rs(rate, vrt::kModelSampleRateHz);
  std::vector<float> y;
  chunker.split(std::span<const float>(x),
                [&](std::span<const float> piece) { rs.process(piece, y); });
  rs.flush(y);
  VRT_FUZZ_CHECK(vrt::fuzz::same_bits(offline, y));
  bool refused = false;
  try {
    rs.process(x, y);
  } catch (const Error& e) {
    refused = e.status() == Status::bad_state;
  }
  VRT_FUZZ_CHECK(refused || x.empty());

  // Log-mel: pieces vs whole, on the resampled signal (what a stream session computes).
  const int n_mels = mel.n_mels();
  const auto channel_major = mel.compute(y);
  const auto frames = static_cast<std::size_t>(mel.n_frames(y.size()));
  VRT_FUZZ_CHECK(frames == y.size() / static_cast<std::size_t>(mel.config().hop_length));
  VRT_FUZZ_CHECK(channel_major.size() == frames * static_cast<std::size_t>(n_mels));
  vrt::StreamingLogMel sm(mel);
  std::vector<float> streamed;
  std::int64_t counted = 0;
  // Memory stays bounded whatever the chunk sizes: after each feed the buffer holds the live
  // window (< n_fft + hop samples) plus fewer than the 4096 dead samples trim() lets pile up
  // before it pays for a memmove (streaming_log_mel.cpp, kTrimMin).
  const auto bound = static_cast<std::size_t>(mel.config().n_fft + mel.config().hop_length) + 4096;
  chunker.split(std::span<const float>(y), [&](std::span<const float> piece) {
    counted += sm.feed(piece, streamed);
    VRT_FUZZ_CHECK(sm.buffered_samples() <= bound);
  });
  counted += sm.finish(streamed);
  VRT_FUZZ_CHECK(counted == static_cast<std::int64_t>(frames));
  VRT_FUZZ_CHECK(sm.frames_emitted() == counted);
  VRT_FUZZ_CHECK(vrt::fuzz::same_bits(vrt::to_channel_major(streamed, n_mels), channel_major));
  refused = false;
  try {
    sm.feed(y, streamed);
  } catch (const Error& e) {
    refused = e.status() == Status::bad_state;
  }
  VRT_FUZZ_CHECK(refused);
  return 0;
}
