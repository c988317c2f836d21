// voxtral-rt audio input stage: decode files (WAV/RF64, FLAC, Ogg Vorbis/Opus, MP3) into mono
// float samples, resample to the model's 16 kHz, and read raw PCM or WAV from a pipe in bounded
// chunks.
//
// Audio is untrusted input (docs: hardening.md §2). Every entry point validates before it
// allocates, enforces AudioLimits, reports failures as vrt::Error (bad_audio for audio that cannot
// be decoded or breaks a limit, not_found for a missing file) and never aborts or writes to
// stdout. (libmpg123, which libsndfile uses for MP3, prints diagnostics about broken MP3 frames
// to stderr; libsndfile offers no way to silence it.)
// Samples come out mono (the mean of the source channels), with NaN/Inf replaced by 0; finite
// values are kept as they are, even outside [-1, 1].
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vrt {

// The encoder's input rate (voxtral-spec.md §5.1).
inline constexpr int kModelSampleRateHz = 16000;

struct AudioLimits {
  // Largest encoded file read into memory.
  std::uint64_t max_file_bytes = std::uint64_t{4} << 30;
  // Longest audio accepted. Checked against the declared length after opening and again while
  // decoding, so a decompression bomb or a lying header stops at the first decoded block
  // (16384 frames) that crosses the cap.
  double max_duration_s = 4.0 * 3600.0;
  // Accepted source sample rates, inclusive (hardening.md §2: 8-192 kHz).
  int min_sample_rate_hz = 8000;
  int max_sample_rate_hz = 192000;
  // Accepted source channel counts are 1..max_channels.
  int max_channels = 8;

  // Throws Error(invalid_argument) when a field is out of its sane range.
  void validate() const;
};

struct AudioBuffer {
  std::vector<float> samples;  // mono, sample_rate Hz
  int sample_rate = 0;
  int channels_in_source = 0;
  std::string format;  // container and encoding, e.g. "WAV PCM_16", "FLAC PCM_24", "OGG VORBIS"

  double duration_s() const {
    return sample_rate > 0 ? static_cast<double>(samples.size()) / sample_rate : 0.0;
  }
};

// Decodes a whole audio file at its own sample rate. The magic bytes are checked first; only the
// formats above are opened, through libsndfile reading from the in-memory copy (never the path).
// A WAV whose data chunk declares more bytes than the file holds decodes the whole frames that
// are present (as libsndfile and ffmpeg do); so does a data size of 0 followed by samples (a
// header written to a pipe, then saved). A file cut inside its header is an error; a complete
// header with no samples gives an empty buffer.
AudioBuffer decode_audio_file(const std::string& path, const AudioLimits& limits = {});

// The same over bytes already in memory; `name` only labels error messages.
AudioBuffer decode_audio_memory(std::span<const std::uint8_t> bytes, const std::string& name,
                                const AudioLimits& limits = {});

// The mono mix of `interleaved` frames of `channels` samples, exactly as the decoders above mix
// a file (NaN/Inf -> 0, the mean summed in double; one channel passes through), so that samples
// handed over in memory give the bits of the same audio read from a file. channels must be
// 1..AudioLimits{}.max_channels (8) and divide interleaved.size() (invalid_argument otherwise).
std::vector<float> downmix_to_mono(std::span<const float> interleaved, int channels);

// Resamples a decoded buffer to kModelSampleRateHz when it has another rate.
void resample_to_model_rate(AudioBuffer& audio);

// decode_audio_file, then resample_to_model_rate.
AudioBuffer load_audio_16k_mono(const std::string& path, const AudioLimits& limits = {});

// Offline resampling with libsoxr at SOXR_HQ (mistral-common's soxr "HQ"), float32 I/O. Output
// length is round(in.size() * to_hz / from_hz), as libsoxr gives after draining. Equal rates
// return a copy. Implemented through StreamResampler, so streaming and offline agree exactly.
// Rates must be in 1..1,000,000 Hz (invalid_argument otherwise). Input must be finite.
std::vector<float> resample(std::span<const float> in, int from_hz, int to_hz);

// Chunk-by-chunk resampling of one mono stream. Any chunking of the input yields, after flush(),
// the same samples as resample() of the whole input. Output lags input by the filter delay;
// flush() drains it. Move-only.
class StreamResampler {
 public:
  StreamResampler(int from_hz, int to_hz);
  ~StreamResampler();
  StreamResampler(StreamResampler&&) noexcept;
  StreamResampler& operator=(StreamResampler&&) noexcept;
  StreamResampler(const StreamResampler&) = delete;
  StreamResampler& operator=(const StreamResampler&) = delete;

  // Appends the output this chunk makes available to `out`. Throws bad_state after flush()
  // until reset().
  void process(std::span<const float> chunk, std::vector<float>& out);
  std::vector<float> process(std::span<const float> chunk);
  // Ends the input and appends the remaining output.
  void flush(std::vector<float>& out);
  std::vector<float> flush();
  // Forgets all input, ready for a new stream at the same rates.
  void reset();

  int from_hz() const { return from_hz_; }
  int to_hz() const { return to_hz_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;  // null when the rates are equal (a pass-through)
  int from_hz_ = 0;
  int to_hz_ = 0;
  bool flushed_ = false;
};

// Raw headerless PCM, little-endian, interleaved: 16/32-bit integers, 16/32-bit floats, and
// G.711 mu-law / A-law bytes (the encodings of Mistral's realtime API).
enum class PcmFormat { s16le, f32le, s32le, f16le, mulaw, alaw };

// The format's name ("s16le", "f32le", "s32le", "f16le", "mulaw", "alaw"), and the format of a
// name (nullopt for an unknown one).
const char* pcm_format_name(PcmFormat format);
std::optional<PcmFormat> pcm_format_from_name(std::string_view name);

// Turns a byte stream of raw PCM into mono float samples (s16 -> x/2^15, s32 -> x/2^31, mu-law
// and A-law through their 16-bit expansion / 2^15; floats as they are, NaN/Inf -> 0). Bytes may
// arrive split anywhere, even inside a sample: a partial frame is carried over to the next push.
class PcmDecoder {
 public:
  explicit PcmDecoder(PcmFormat format, int channels = 1);

  // Appends the samples of every whole frame now available to `out`.
  void push_bytes(std::span<const std::uint8_t> bytes, std::vector<float>& out);
  // End of stream. Throws bad_audio ("odd byte count: N trailing bytes ...") if a partial frame
  // is left over; the samples before it were already delivered. The decoder is reset either way.
  void finish();
  void reset() { pending_size_ = 0; }

  std::size_t pending_bytes() const { return pending_size_; }
  std::size_t frame_bytes() const { return frame_bytes_; }
  static std::size_t bytes_per_sample(PcmFormat format);

 private:
  void decode_frames(const std::uint8_t* data, std::size_t frames, std::vector<float>& out) const;

  PcmFormat format_;
  int channels_;
  std::size_t frame_bytes_;
  std::uint8_t pending_[64] = {};  // a partial frame: at most 8 channels x 4 bytes - 1
  std::size_t pending_size_ = 0;
};

// Reads raw PCM from a file descriptor (typically stdin) and returns it as 16 kHz mono chunks.
// Reads are bounded (about one chunk's worth at a time) and retried on EINTR; the stream is never
// buffered whole, so it can be endless. The descriptor is not owned and not closed.
class PcmStreamReader {
 public:
  // sample_rate_hz within AudioLimits' default range, channels 1..8, chunk_samples in
  // 1..kModelSampleRateHz*600 (invalid_argument otherwise).
  PcmStreamReader(int fd, PcmFormat format, int sample_rate_hz, int chunk_samples,
                  int channels = 1);
  ~PcmStreamReader();
  PcmStreamReader(const PcmStreamReader&) = delete;
  PcmStreamReader& operator=(const PcmStreamReader&) = delete;

  // Replaces `out_16k_chunk` with the next chunk_samples samples at 16 kHz, blocking until they
  // are there; at the end of the stream the last chunk may be shorter. Returns false (and an
  // empty chunk) once everything was returned. Throws io_error if read() fails.
  bool read(std::vector<float>& out_16k_chunk);

  // Bytes of an incomplete frame at the end of the stream, which were dropped (0 normally).
  std::size_t trailing_bytes_dropped() const { return trailing_bytes_dropped_; }
  std::uint64_t bytes_read() const { return bytes_read_; }
  int input_sample_rate_hz() const { return sample_rate_hz_; }

 private:
  bool fill_block();  // one read(); false at EOF

  int fd_;
  int sample_rate_hz_;
  std::size_t chunk_samples_;
  PcmDecoder decoder_;
  std::unique_ptr<StreamResampler> resampler_;  // null when the input is already 16 kHz
  std::vector<std::uint8_t> read_buf_;
  std::vector<float> decoded_;
  std::vector<float> pending_;  // 16 kHz samples not yet returned
  bool eof_ = false;
  std::size_t trailing_bytes_dropped_ = 0;
  std::uint64_t bytes_read_ = 0;
};

// Incremental RIFF/WAVE parser for a non-seekable stream (a pipe from ffmpeg or arecord), where
// libsndfile cannot be used. Accepts integer PCM 8 (unsigned)/16/24/32-bit and IEEE float 32/64,
// plain or WAVE_FORMAT_EXTENSIBLE; fmt fields are checked strictly (channels, rate within the
// limits, block_align == channels * bytes per sample). A data size of 0 or 0xFFFFFFFF means
// "until EOF" (RF64 takes the size from its ds64 chunk when that holds one); otherwise samples
// stop at the declared size and the rest is ignored. Chunks before the data chunk are skipped, at most 1 MiB of them in all.
class WavStreamParser {
 public:
  explicit WavStreamParser(const AudioLimits& limits = {});

  // Appends the mono samples of every whole frame now available to `out` (none until the header
  // is complete). Throws bad_audio on a malformed header or when max_duration_s is exceeded.
  void push_bytes(std::span<const std::uint8_t> bytes, std::vector<float>& out);
  // End of stream. Throws bad_audio if the header never completed. A data chunk shorter than
  // declared and a partial last frame are accepted (the frame is dropped), as pipes cut anywhere.
  void finish();

  bool header_complete() const { return state_ == State::data || state_ == State::done; }
  int sample_rate() const { return sample_rate_; }
  int channels() const { return channels_; }
  const std::string& format() const { return format_; }  // e.g. "WAV PCM_16"
  std::uint64_t frames_decoded() const { return frames_decoded_; }

 private:
  enum class State { riff, chunk_header, body, skip, data, done, failed };
  void step(std::span<const std::uint8_t> bytes, std::vector<float>& out);
  void on_riff();
  void on_chunk_header();
  void on_body();
  void consume_data(std::span<const std::uint8_t> bytes, std::vector<float>& out);

  AudioLimits limits_;
  State state_ = State::riff;
  std::vector<std::uint8_t> buf_;  // header bytes not yet parsed (at most one 'fmt ' chunk)
  std::uint64_t offset_ = 0;       // stream bytes consumed, for messages
  bool rf64_ = false;
  bool fmt_seen_ = false;
  bool pad_pending_ = false;         // an odd-sized chunk may be followed by a pad byte
  std::uint32_t body_id_ = 0;        // the buffered chunk: 'fmt ' or RF64's 'ds64'
  std::uint32_t chunk_size_ = 0;     // size of the buffered chunk
  std::uint64_t ds64_data_size_ = 0;  // RF64's real data size, 0 if unknown
  std::uint64_t chunk_left_ = 0;     // bytes of the current skipped/'fmt ' chunk still to come
  std::uint64_t skipped_bytes_ = 0;  // metadata skipped before the data chunk
  bool data_unbounded_ = false;
  std::uint64_t data_left_ = 0;  // when bounded
  int sample_rate_ = 0;
  int channels_ = 0;
  int sample_type_ = 0;  // an audio::SampleType (internal header)
  std::size_t frame_bytes_ = 0;
  std::string format_;
  std::vector<std::uint8_t> partial_;  // an incomplete frame carried between pushes
  std::uint64_t frames_decoded_ = 0;
  std::uint64_t max_frames_ = 0;
};

}  // namespace vrt
