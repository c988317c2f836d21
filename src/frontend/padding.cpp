// Offline padding schedule of the realtime model (spec §4.3, §5.2, §8.2; mistral-common
// AudioEncoder.pad / _get_streaming_pad, AudioConfig.num_delay_tokens).
//
//   padded = [0] * (left * spt) ++ audio[L] ++ [0] * ((spt - L mod spt) mod spt + right * spt)
//   right  = delay_tokens + 1 + 10;  delay_tokens = num_audio_tokens(int(delay_ms/1000 * sr))
// so the padded length N is a multiple of spt and the mel has 8 N / spt frames (hop 160,
// spt 1280): T = left + ceil(L / spt) + right tokens.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "common/checked.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/mel.h"

namespace vrt {
namespace {

[[noreturn]] void invalid(const std::string& msg) { throw Error(Status::invalid_argument, msg); }

}  // namespace

std::vector<float> pad_offline(std::span<const float> audio, int left_pad_tokens,
                               int right_pad_tokens, int samples_per_token) {
  if (left_pad_tokens < 0 || right_pad_tokens < 0) {
    invalid("pad_offline: negative pad token count (" + std::to_string(left_pad_tokens) + ", " +
            std::to_string(right_pad_tokens) + ")");
  }
  if (samples_per_token <= 0) {
    invalid("pad_offline: samples_per_token " + std::to_string(samples_per_token) + " must be > 0");
  }
  const auto spt = static_cast<std::uint64_t>(samples_per_token);
  const std::uint64_t n = audio.size();
  const std::uint64_t align = (spt - n % spt) % spt;
  const auto s = Status::invalid_argument;
  const std::uint64_t left = checked_mul(static_cast<std::uint64_t>(left_pad_tokens), spt, "pad_offline", s);
  const std::uint64_t right = checked_add(
      align, checked_mul(static_cast<std::uint64_t>(right_pad_tokens), spt, "pad_offline", s),
      "pad_offline", s);
  const std::uint64_t total = checked_add(checked_add(left, n, "pad_offline", s), right, "pad_offline", s);
  if (total > std::vector<float>().max_size()) invalid("pad_offline: padded length too large");
  std::vector<float> out(static_cast<std::size_t>(total), 0.0f);
  if (n > 0) std::memcpy(out.data() + left, audio.data(), n * sizeof(float));
  return out;
}

int delay_tokens_for_ms(int delay_ms, int sample_rate, int hop_length, int samples_per_token) {
  if (sample_rate <= 0 || hop_length <= 0 || samples_per_token < hop_length) {
    invalid("delay_tokens_for_ms: need sample_rate > 0 and 0 < hop_length <= samples_per_token, got " +
            std::to_string(sample_rate) + ", " + std::to_string(hop_length) + ", " +
            std::to_string(samples_per_token));
  }
  // mistral-common asserts delay > 0 and a whole number of token durations.
  const std::int64_t num = static_cast<std::int64_t>(delay_ms) * sample_rate;
  const std::int64_t den = std::int64_t{1000} * samples_per_token;
  if (delay_ms <= 0 || num % den != 0) {
    invalid("delay_tokens_for_ms: delay " + std::to_string(delay_ms) +
            " ms must be a positive multiple of the token duration (" +
            std::to_string(1000.0 * samples_per_token / sample_rate) + " ms)");
  }
  // The float arithmetic below is mistral-common's, step for step.
  const auto n = static_cast<std::int64_t>(static_cast<double>(delay_ms) / 1000.0 *
                                           static_cast<double>(sample_rate));
  const std::int64_t frames =
      n % hop_length != 0
          ? static_cast<std::int64_t>(std::ceil(static_cast<double>(n) / hop_length - 1.0))
          : n / hop_length;
  const auto per_token = static_cast<std::int64_t>(static_cast<double>(samples_per_token) / hop_length);
  const std::int64_t tokens = (frames + per_token - 1) / per_token;
  if (tokens > std::numeric_limits<int>::max() - 11) invalid("delay_tokens_for_ms: delay too large");
  return static_cast<int>(tokens);
}

int right_pad_tokens(int delay_tokens) {
  if (delay_tokens < 0 || delay_tokens > std::numeric_limits<int>::max() - 1 - kOfflineStreamingBufferTokens) {
    invalid("right_pad_tokens: delay_tokens " + std::to_string(delay_tokens) + " out of range");
  }
  return delay_tokens + 1 + kOfflineStreamingBufferTokens;
}

}  // namespace vrt
