// Mistral's realtime transcription protocol (GET /v1/audio/transcriptions/realtime?model=...),
// as the official SDK @mistralai/mistralai 2.7.0 speaks it (src/extra/realtime/, the zod schemas
// of src/models/components/realtime*.ts and transcriptionstream*.ts): parsed strictly from
// untrusted text frames, and the server events in the exact shapes the SDK validates.
//
// Client: session.update {session: {audio_format?: {encoding, sample_rate}, target_streaming_delay_ms?}},
// input_audio.append {audio: base64 of raw PCM in the session's format}, input_audio.flush,
// input_audio.end. Server: session.created / session.updated {session: {request_id, model,
// audio_format, target_streaming_delay_ms}}, transcription.text.delta {text},
// transcription.segment {text, start, end}, transcription.done {model, text, language, segments,
// usage}, error {error: {message, code}} (code an integer, nested as the SDK requires).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "server/realtime_protocol.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/model.h"

namespace vrt::server::mistral {

// Error codes of `error` events: HTTP-like integers (the SDK requires an integer).
inline constexpr int kBadRequest = 400;
inline constexpr int kNotFound = 404;
inline constexpr int kTooLarge = 413;
inline constexpr int kUnprocessable = 422;
inline constexpr int kInternal = 500;
inline constexpr int kUnavailable = 503;

struct AudioFormat {
  PcmFormat encoding = PcmFormat::s16le;
  int sample_rate = 16000;
};
// "pcm_s16le" <-> PcmFormat::s16le, and so on for the SDK's six encodings.
std::optional<PcmFormat> encoding_from_name(std::string_view name);
std::string encoding_name(PcmFormat f);

struct SessionUpdate {
  std::optional<AudioFormat> audio_format;
  std::optional<int> delay_ms;  // target_streaming_delay_ms, validated with validate_delay_ms
};
struct AudioAppend {
  std::vector<std::uint8_t> bytes;  // raw PCM in the session's audio format (decoded by the session)
};
struct Flush {};
struct End {};
using ClientEvent = std::variant<SessionUpdate, AudioAppend, Flush, End>;

struct Error {
  int code = kBadRequest;
  std::string message;
};

// One text frame to an event, or the error to send back (the session stays open).
std::variant<ClientEvent, Error> parse_client_event(std::string_view text, const EventLimits& limits = {});

struct SessionState {
  std::string request_id;
  std::string model;
  AudioFormat audio_format;
  int delay_ms = 480;
};
std::string session_event(std::string_view type, const SessionState& s);  // session.created / session.updated
std::string text_delta_event(std::string_view text);
std::string segment_event(const Segment& s);
// usage: integers only (the SDK rejects 2.5 seconds); prompt_audio_seconds rounds up.
std::string done_event(const std::string& model, std::string_view text, const std::vector<Segment>& segments,
                       const Usage& usage, double audio_s);
std::string error_event(const Error& e);
// voxtral-rt's own event, sent only to the web page: {"type":"voxtral_rt.progress","audio_s":X},
// the audio (seconds from the session's start) whose text has been decided.
std::string progress_event(double decided_audio_s);

}  // namespace vrt::server::mistral
