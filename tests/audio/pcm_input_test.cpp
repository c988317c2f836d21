// Raw PCM input: byte-level decoding with splits anywhere, odd trailing bytes, NaN/Inf, and the
// stdin-style reader over a real pipe fed by a writer thread (with EINTR and resampling).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "audio_test_util.h"
#include "test_util.h"
#include "voxtral_rt/audio.h"

namespace vrt::test {
namespace {

std::vector<float> decode_all(PcmFormat f, std::span<const std::uint8_t> bytes, int channels = 1) {
  PcmDecoder d(f, channels);
  std::vector<float> out;
  d.push_bytes(bytes, out);
  d.finish();
  return out;
}

TEST(PcmDecoder, S16le) {
  const std::vector<std::int16_t> v = {0, 1, -1, 32767, -32768, 16384};
  const std::vector<float> out = decode_all(PcmFormat::s16le, s16_bytes(v));
  EXPECT_EQ(out, (std::vector<float>{0.0f, 1.0f / 32768, -1.0f / 32768, 32767.0f / 32768, -1.0f, 0.5f}));
}

TEST(PcmDecoder, F32leWithNonFinite) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> v = {0.5f, std::nanf(""), -inf, 1.75f, -0.125f};
  EXPECT_EQ(decode_all(PcmFormat::f32le, f32_bytes(v)),
            (std::vector<float>{0.5f, 0.0f, 0.0f, 1.75f, -0.125f}));
}

// Floats printed by Python, one per line, parsed back exactly (repr round-trips a double; the
// values are float32 or exact in float32).
std::vector<float> python_floats(const std::string& program) {
  std::string out;
  EXPECT_EQ(run_command(python() + " -W ignore -c '" + program + "'", &out), 0) << out;
  std::vector<float> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) v.push_back(static_cast<float>(std::stod(line)));
  return v;
}

TEST(PcmDecoder, G711EqualsPythonAudioop) {
  // Every byte value, expanded by CPython's audioop (an independent G.711 implementation) to
  // 16-bit linear, then / 2^15.
  std::vector<std::uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<std::uint8_t>(i);
  for (const auto& [format, fn] : {std::pair{PcmFormat::mulaw, "ulaw2lin"}, std::pair{PcmFormat::alaw, "alaw2lin"}}) {
    SCOPED_TRACE(fn);
    const std::vector<float> expected = python_floats(
        std::string("import audioop, array; a = array.array(\"h\", audioop.") + fn +
        "(bytes(range(256)), 2)); print(\"\\n\".join(repr(x / 32768) for x in a))");
    ASSERT_EQ(expected.size(), 256u);
    EXPECT_EQ(decode_all(format, all), expected);
  }
}

TEST(PcmDecoder, F16leAndS32leEqualNumpy) {
  std::mt19937 rng(7);
  std::vector<std::uint8_t> bytes(4096);
  for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
  const std::string hex = [&] {
    std::string h;
    for (auto b : bytes) h += "0123456789abcdef"[b >> 4], h += "0123456789abcdef"[b & 15];
    return h;
  }();
  // numpy: IEEE half -> float32 (non-finite -> 0, as every decoder here does), int32 / 2^31.
  const std::vector<float> f16 = python_floats(
      "import numpy as np; x = np.frombuffer(bytes.fromhex(\"" + hex + "\"), \"<f2\").astype(np.float32); "
      "x[~np.isfinite(x)] = 0; print(\"\\n\".join(repr(float(v)) for v in x))");
  EXPECT_EQ(decode_all(PcmFormat::f16le, bytes), f16);
  const std::vector<float> s32 = python_floats(
      "import numpy as np; x = np.frombuffer(bytes.fromhex(\"" + hex + "\"), \"<i4\").astype(np.float32) / "
      "np.float32(2**31); print(\"\\n\".join(repr(float(v)) for v in x))");
  EXPECT_EQ(decode_all(PcmFormat::s32le, bytes), s32);
}

TEST(PcmDecoder, FormatNames) {
  for (const char* name : {"s16le", "f32le", "s32le", "f16le", "mulaw", "alaw"}) {
    const auto f = pcm_format_from_name(name);
    ASSERT_TRUE(f.has_value()) << name;
    EXPECT_STREQ(pcm_format_name(*f), name);
  }
  EXPECT_FALSE(pcm_format_from_name("pcm_s16le").has_value());
  EXPECT_FALSE(pcm_format_from_name("").has_value());
  EXPECT_EQ(PcmDecoder::bytes_per_sample(PcmFormat::mulaw), 1u);
  EXPECT_EQ(PcmDecoder::bytes_per_sample(PcmFormat::f16le), 2u);
  EXPECT_EQ(PcmDecoder::bytes_per_sample(PcmFormat::s32le), 4u);
}

TEST(PcmDecoder, StereoIsMean) {
  const std::vector<std::int16_t> v = {16384, -16384, 8192, 0};
  EXPECT_EQ(decode_all(PcmFormat::s16le, s16_bytes(v), 2), (std::vector<float>{0.0f, 0.125f}));
}

TEST(PcmDecoder, SplitsInsideSamplesAreCarried) {
  std::mt19937 rng(7);
  std::vector<float> v(1000);
  for (float& x : v) x = std::uniform_real_distribution<float>(-1, 1)(rng);
  for (PcmFormat f : {PcmFormat::s16le, PcmFormat::f32le}) {
    for (int channels : {1, 3}) {
      std::vector<std::uint8_t> bytes;
      if (f == PcmFormat::f32le) {
        bytes = f32_bytes(v);
      } else {
        std::vector<std::int16_t> s(v.size());
        for (std::size_t i = 0; i < v.size(); ++i) s[i] = static_cast<std::int16_t>(v[i] * 32767);
        bytes = s16_bytes(s);
      }
      bytes.resize(bytes.size() / (channels * PcmDecoder::bytes_per_sample(f)) *
                   (channels * PcmDecoder::bytes_per_sample(f)));
      const std::vector<float> whole = decode_all(f, bytes, channels);
      // Byte by byte, and random pieces.
      PcmDecoder d(f, channels);
      std::vector<float> out;
      for (std::uint8_t b : bytes) d.push_bytes(std::span(&b, 1), out);
      d.finish();
      EXPECT_EQ(out, whole);
      out.clear();
      std::size_t pos = 0;
      while (pos < bytes.size()) {
        const std::size_t n = std::min<std::size_t>(bytes.size() - pos, rng() % 11);
        d.push_bytes(std::span(bytes).subspan(pos, n), out);
        pos += n;
      }
      d.finish();
      EXPECT_EQ(out, whole);
    }
  }
}

TEST(PcmDecoder, OddTrailingBytesAreReported) {
  PcmDecoder d(PcmFormat::s16le);
  std::vector<float> out;
  const std::vector<std::uint8_t> bytes = {0x00, 0x40, 0x00, 0xC0, 0x7F};
  d.push_bytes(bytes, out);
  EXPECT_EQ(out, (std::vector<float>{0.5f, -0.5f}));  // whole samples delivered first
  EXPECT_EQ(d.pending_bytes(), 1u);
  expect_error([&] { d.finish(); }, Status::bad_audio, "odd byte count: 1 trailing bytes");
  EXPECT_EQ(d.pending_bytes(), 0u);  // reset; the decoder is usable again
  d.push_bytes(std::span(bytes).first(2), out);
  d.finish();

  PcmDecoder f(PcmFormat::f32le);
  f.push_bytes(std::span(bytes).first(3), out);
  expect_error([&] { f.finish(); }, Status::bad_audio, "3 trailing bytes");
}

TEST(PcmDecoder, InvalidArguments) {
  expect_error([] { PcmDecoder(PcmFormat::s16le, 0); }, Status::invalid_argument, "0 channels");
  expect_error([] { PcmDecoder(PcmFormat::f32le, 9); }, Status::invalid_argument, "9 channels");
}

// A pipe whose write end is fed from a thread in random-sized pieces, then closed.
class PipeWriter {
 public:
  PipeWriter(std::vector<std::uint8_t> bytes, unsigned seed, std::function<void()> before = {}) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    read_fd_ = fds[0];
    write_fd_ = fds[1];
    thread_ = std::thread([this, b = std::move(bytes), seed, before] {
      if (before) before();
      std::mt19937 rng(seed);
      std::size_t pos = 0;
      while (pos < b.size()) {
        const std::size_t n = std::min<std::size_t>(b.size() - pos, 1 + rng() % 7000);
        const ssize_t w = ::write(write_fd_, b.data() + pos, n);
        if (w < 0) {
          if (errno == EINTR) continue;
          break;
        }
        pos += static_cast<std::size_t>(w);
      }
      ::close(write_fd_);
    });
  }
  ~PipeWriter() {
    thread_.join();
    ::close(read_fd_);
  }
  int read_fd() const { return read_fd_; }

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;
  std::thread thread_;
};

std::vector<float> read_stream(PcmStreamReader& r, std::size_t chunk, std::size_t* chunks = nullptr) {
  std::vector<float> all;
  std::vector<float> c;
  std::size_t count = 0;
  bool short_seen = false;
  while (r.read(c)) {
    EXPECT_FALSE(short_seen) << "only the last chunk may be short";
    EXPECT_LE(c.size(), chunk);
    EXPECT_FALSE(c.empty());
    short_seen = c.size() < chunk;
    all.insert(all.end(), c.begin(), c.end());
    ++count;
  }
  EXPECT_TRUE(c.empty());
  EXPECT_FALSE(r.read(c));  // stays at the end
  if (chunks != nullptr) *chunks = count;
  return all;
}

TEST(PcmStreamReader, S16At16kOverAPipe) {
  const AudioBuffer jfk = decode_audio_file(shared_data("audio/jfk.wav"));
  std::vector<std::int16_t> s(jfk.samples.size());
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::int16_t>(jfk.samples[i] * 32768.0f);
  PipeWriter w(s16_bytes(s), 1);
  PcmStreamReader r(w.read_fd(), PcmFormat::s16le, 16000, 1600);
  std::size_t chunks = 0;
  EXPECT_EQ(read_stream(r, 1600, &chunks), jfk.samples);
  EXPECT_EQ(chunks, 110u);  // 176000 / 1600
  EXPECT_EQ(r.trailing_bytes_dropped(), 0u);
  EXPECT_EQ(r.bytes_read(), 352000u);
}

TEST(PcmStreamReader, ResamplesOtherRatesLikeOffline) {
  for (int rate : {8000, 44100, 48000}) {
    SCOPED_TRACE(rate);
    const std::vector<float> x = chirp(100.0, 3500.0, 0.5, rate, static_cast<std::size_t>(rate) * 3 + 17);
    PipeWriter w(f32_bytes(x), static_cast<unsigned>(rate));
    PcmStreamReader r(w.read_fd(), PcmFormat::f32le, rate, 1280);
    const std::vector<float> got = read_stream(r, 1280);
    const std::vector<float> offline = resample(x, rate, 16000);
    ASSERT_EQ(got.size(), offline.size());
    for (std::size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], offline[i], 1e-6) << i;
  }
}

TEST(PcmStreamReader, TrailingOddByteAndNanAndStereo) {
  const std::vector<float> v = {0.5f, std::nanf(""), 0.25f, 0.75f, -1.0f, 1.0f};
  std::vector<std::uint8_t> bytes = f32_bytes(v);
  bytes.push_back(0x01);
  bytes.push_back(0x02);
  bytes.push_back(0x03);
  PipeWriter w(bytes, 3);
  PcmStreamReader r(w.read_fd(), PcmFormat::f32le, 16000, 2, 2);
  EXPECT_EQ(read_stream(r, 2), (std::vector<float>{0.25f, 0.5f, 0.0f}));
  EXPECT_EQ(r.trailing_bytes_dropped(), 3u);
}

void on_signal(int) {}

TEST(PcmStreamReader, RetriesReadsInterruptedBySignals) {
  // SIGUSR1 without SA_RESTART makes a blocked read() fail with EINTR; the reader must retry.
  struct sigaction sa {};
  struct sigaction old {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  ASSERT_EQ(sigaction(SIGUSR1, &sa, &old), 0);
  const pthread_t reader = pthread_self();
  std::vector<std::int16_t> s(8000);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::int16_t>(i);
  {
    PipeWriter w(s16_bytes(s), 5, [reader] {
      for (int i = 0; i < 20; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        pthread_kill(reader, SIGUSR1);
      }
    });
    PcmStreamReader r(w.read_fd(), PcmFormat::s16le, 16000, 4000);
    const std::vector<float> got = read_stream(r, 4000);
    ASSERT_EQ(got.size(), s.size());
    for (std::size_t i = 0; i < s.size(); ++i) ASSERT_EQ(got[i], static_cast<float>(s[i]) / 32768.0f);
  }
  sigaction(SIGUSR1, &old, nullptr);
}

TEST(PcmStreamReader, NonBlockingDescriptorWaits) {
  std::vector<std::int16_t> s(5000, 1234);
  PipeWriter w(s16_bytes(s), 9, [] { std::this_thread::sleep_for(std::chrono::milliseconds(30)); });
  ASSERT_EQ(fcntl(w.read_fd(), F_SETFL, fcntl(w.read_fd(), F_GETFL) | O_NONBLOCK), 0);
  PcmStreamReader r(w.read_fd(), PcmFormat::s16le, 16000, 1000);
  EXPECT_EQ(read_stream(r, 1000).size(), 5000u);
}

TEST(PcmStreamReader, EmptyStream) {
  PipeWriter w({}, 1);
  PcmStreamReader r(w.read_fd(), PcmFormat::s16le, 16000, 100);
  std::vector<float> c = {1.0f};
  EXPECT_FALSE(r.read(c));
  EXPECT_TRUE(c.empty());
}

TEST(PcmStreamReader, LongStreamIsNotBufferedWhole) {
  // 60 s through a 44.1 kHz pipe (larger than the pipe buffer many times over), consumed chunk by
  // chunk while the writer is still writing: every chunk is full size until the last, and the
  // total is the resampled length. (The reader holds at most a chunk plus one read block by
  // construction: read() stops pulling as soon as a chunk is ready.)
  const std::size_t frames = 44100 * 60;
  std::vector<std::int16_t> s(frames);
  for (std::size_t i = 0; i < frames; ++i) s[i] = static_cast<std::int16_t>((i * 31) % 2000 - 1000);
  PipeWriter w(s16_bytes(s), 11);
  PcmStreamReader r(w.read_fd(), PcmFormat::s16le, 44100, 1600);
  std::vector<float> c;
  std::size_t total = 0;
  while (r.read(c)) {
    total += c.size();
    if (c.size() < 1600) EXPECT_EQ(total, static_cast<std::size_t>(std::llround(frames * 16000.0 / 44100)));
  }
  EXPECT_EQ(total, static_cast<std::size_t>(std::llround(frames * 16000.0 / 44100)));
}

TEST(PcmStreamReader, InvalidArguments) {
  expect_error([] { PcmStreamReader(-1, PcmFormat::s16le, 16000, 100); }, Status::invalid_argument,
               "file descriptor");
  expect_error([] { PcmStreamReader(0, PcmFormat::s16le, 1000, 100); }, Status::invalid_argument,
               "sample rate 1000 Hz");
  expect_error([] { PcmStreamReader(0, PcmFormat::s16le, 16000, 0); }, Status::invalid_argument,
               "chunk of 0 samples");
}

}  // namespace
}  // namespace vrt::test
