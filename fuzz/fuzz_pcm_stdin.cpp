// Fuzz target: raw PCM from a pipe. PcmDecoder fed the bytes whole and in arbitrary pieces, and
// PcmStreamReader reading them from a real pipe-like descriptor (a memfd) with resampling to
// 16 kHz and fixed-size output chunks.
//
// Input: a byte for the format (s16le/f32le) and channel count (1..8), a byte for the input rate,
// two bytes for the output chunk size, a chunking plan, then the PCM bytes.
// Invariants:
//   decoder: whole == cut, bit for bit; floor(bytes / frame) samples, all finite, s16 in
//     [-1, 1); pending_bytes() = bytes mod frame; finish() throws bad_audio iff that is non-zero.
//   reader:  every chunk but the last holds exactly chunk_samples; the concatenation equals
//     resample(decoded samples, rate, 16000) bit for bit (the resampler's chunking promise);
//     bytes_read() = all bytes; trailing_bytes_dropped() = bytes mod frame.
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>

#include "fuzz_util.h"
#include "voxtral_rt/audio.h"

using vrt::Error;
using vrt::Status;

namespace {

constexpr int kRates[] = {16000, 8000, 11025, 22050, 44100, 48000, 96000, 192000, 12345, 16001};

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vrt::fuzz::Reader r(data, size);
  const std::uint8_t fb = r.u8();
  const auto format = (fb & 1) != 0 ? vrt::PcmFormat::f32le : vrt::PcmFormat::s16le;
  const int channels = 1 + (fb >> 1) % 8;
  const int rate = kRates[r.u8() % std::size(kRates)];
  const int chunk_samples = 1 + r.u16() % 4000;
  const vrt::fuzz::Chunker chunker(r);
  const auto pcm = r.rest();

  vrt::PcmDecoder whole_dec(format, channels);
  std::vector<float> whole;
  whole_dec.push_bytes(pcm, whole);
  const std::size_t frame = whole_dec.frame_bytes();
  VRT_FUZZ_CHECK(frame ==
                 vrt::PcmDecoder::bytes_per_sample(format) * static_cast<std::size_t>(channels));
  VRT_FUZZ_CHECK(whole.size() == pcm.size() / frame);
  VRT_FUZZ_CHECK(whole_dec.pending_bytes() == pcm.size() % frame);
  for (const float x : whole) {
    VRT_FUZZ_CHECK(std::isfinite(x));
    if (format == vrt::PcmFormat::s16le) VRT_FUZZ_CHECK(x >= -1.0f && x < 1.0f);
  }
  bool threw = false;
  try {
    whole_dec.finish();
  } catch (const Error& e) {
    VRT_FUZZ_CHECK(e.status() == Status::bad_audio);
    threw = true;
  }
  VRT_FUZZ_CHECK(threw == (pcm.size() % frame != 0));
  VRT_FUZZ_CHECK(whole_dec.pending_bytes() == 0);

  vrt::PcmDecoder cut_dec(format, channels);
  std::vector<float> cut;
  chunker.split(pcm, [&](std::span<const std::uint8_t> piece) { cut_dec.push_bytes(piece, cut); });
  VRT_FUZZ_CHECK(vrt::fuzz::same_bits(whole, cut));
  VRT_FUZZ_CHECK(cut_dec.pending_bytes() == pcm.size() % frame);

  // The reader over a descriptor, as `voxtral-rt stream -` reads stdin.
  Fd fd;
  fd.fd = ::memfd_create("vrt-fuzz-pcm", MFD_CLOEXEC);
  if (fd.fd < 0) return 0;  // no memfd here: the decoder checks above still ran
  for (std::size_t at = 0; at < pcm.size();) {
    const ssize_t n = ::write(fd.fd, pcm.data() + at, pcm.size() - at);
    if (n <= 0) return 0;
    at += static_cast<std::size_t>(n);
  }
  ::lseek(fd.fd, 0, SEEK_SET);
  vrt::PcmStreamReader reader(fd.fd, format, rate, chunk_samples, channels);
  std::vector<float> chunk, streamed;
  bool short_seen = false;
  while (reader.read(chunk)) {
    VRT_FUZZ_CHECK(!chunk.empty() && chunk.size() <= static_cast<std::size_t>(chunk_samples));
    VRT_FUZZ_CHECK(!short_seen);  // only the last chunk may be short
    short_seen = chunk.size() < static_cast<std::size_t>(chunk_samples);
    streamed.insert(streamed.end(), chunk.begin(), chunk.end());
  }
  VRT_FUZZ_CHECK(chunk.empty());
  VRT_FUZZ_CHECK(reader.bytes_read() == pcm.size());
  VRT_FUZZ_CHECK(reader.trailing_bytes_dropped() == pcm.size() % frame);
  const auto expected = vrt::resample(whole, rate, vrt::kModelSampleRateHz);
  VRT_FUZZ_CHECK(vrt::fuzz::same_bits(expected, streamed));
  return 0;
}
