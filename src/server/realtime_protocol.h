// The realtime WebSocket protocol (/v1/realtime): vLLM's event names, fields and error codes
// (docs/SERVER.md), parsed strictly from untrusted text frames, and the server events.
//
// Client: session.update {model}, input_audio_buffer.append {audio: base64 PCM16 LE 16 kHz},
// input_audio_buffer.commit {final}. Server: session.created, transcription.delta,
// transcription.done {text, usage}, error {error, code}. Extensions that vLLM clients ignore:
// session.update may carry delay_ms, timestamp_granularities ["word", "segment"] and
// stop_on_eos; the server then answers session.updated, and deltas carry the words they
// completed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "voxtral_rt/model.h"

namespace vrt::server {

// Error codes. vLLM's, then ours.
namespace code {
inline constexpr const char* invalid_json = "invalid_json";
inline constexpr const char* unknown_event = "unknown_event";
inline constexpr const char* invalid_event = "invalid_event";
inline constexpr const char* invalid_audio = "invalid_audio";
inline constexpr const char* model_not_found = "model_not_found";
inline constexpr const char* model_not_validated = "model_not_validated";
inline constexpr const char* processing_error = "processing_error";
inline constexpr const char* server_shutdown = "server_shutdown";  // ours: SIGTERM, no utterance open
inline constexpr const char* slow_reader = "slow_reader";          // ours: outbound queue full
}  // namespace code

struct ProtocolError {
  std::string code;
  std::string message;
};

struct SessionUpdate {
  std::string model;
  std::optional<int> delay_ms;        // validated with validate_delay_ms
  bool word_timestamps = false;       // timestamp_granularities has "word"
  bool segment_timestamps = false;    // timestamp_granularities has "segment"
  std::optional<bool> stop_on_eos;
};
struct AudioAppend {
  std::vector<float> samples;  // int16 / 32768
};
struct Commit {
  bool final = false;
};
using ClientEvent = std::variant<SessionUpdate, AudioAppend, Commit>;

struct EventLimits {
  int max_depth = 16;
  std::size_t max_audio_bytes = 768 * 1024;  // decoded PCM per append (24 s at 16 kHz)
};

// One text frame to an event, or the error to send back (the session stays open).
std::variant<ClientEvent, ProtocolError> parse_client_event(std::string_view text, const EventLimits& limits = {});

// Server events, serialized. Text that is not valid UTF-8 is written with U+FFFD.
std::string session_created_event(const std::string& id, std::int64_t created_unix_s);
std::string session_updated_event(const std::string& id, const std::string& model, int delay_ms, bool words,
                                  bool segments, bool stop_on_eos);
std::string delta_event(std::string_view delta, const std::vector<Word>& completed_words);
struct Usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
};
std::string done_event(std::string_view text, const Usage& usage, const std::vector<Word>* words,
                       const std::vector<Segment>* segments);
std::string error_event(std::string_view code, std::string_view message);

// Words of a live token stream as they complete, by the rule of docs/TIMESTAMPS.md (a word
// starts at [STREAMING_WORD] or a piece with a leading space; it ends at its first text token's
// time; it starts at the previous word's end, at most 1 s earlier). A word is known complete when
// the next one starts, or at finish(). Gives the words Transcript::words has, incrementally.
class WordTracker {
 public:
  explicit WordTracker(int streaming_word_id) : word_id_(streaming_word_id) {}
  // Appends the word this token completed (if any) to `out`.
  void push(const Token& t, std::vector<Word>& out);
  // The last word, if any; then ready for a new stream.
  void finish(std::vector<Word>& out);

 private:
  int word_id_;
  bool new_word_ = true;
  bool open_ = false;
  Word current_;
  double prev_end_ = 0;
};

}  // namespace vrt::server
