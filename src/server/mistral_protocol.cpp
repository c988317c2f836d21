#include "server/mistral_protocol.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/json_util.h"
#include "voxtral_rt/error.h"

namespace vrt::server::mistral {
namespace {

using njson = nlohmann::json;
using ordered = nlohmann::ordered_json;

std::string dump(const ordered& j) { return j.dump(-1, ' ', false, njson::error_handler_t::replace); }

Error invalid(std::string message) { return {kBadRequest, std::move(message)}; }

std::variant<AudioFormat, Error> parse_audio_format(const njson& j) {
  if (!j.is_object()) return invalid("audio_format must be an object {encoding, sample_rate}");
  AudioFormat f;
  const auto e = j.find("encoding");
  if (e == j.end() || !e->is_string()) return invalid("audio_format needs a string 'encoding'");
  const auto enc = encoding_from_name(e->get_ref<const std::string&>());
  if (!enc)
    return Error{kUnprocessable, "unknown encoding '" + e->get<std::string>().substr(0, 32) +
                                     "' (pcm_s16le, pcm_s32le, pcm_f16le, pcm_f32le, pcm_mulaw, pcm_alaw)"};
  f.encoding = *enc;
  const auto r = j.find("sample_rate");
  if (r == j.end() || !r->is_number_integer()) return invalid("audio_format needs an integer 'sample_rate'");
  const AudioLimits limits;
  const auto rate = r->get<std::int64_t>();
  if (rate < limits.min_sample_rate_hz || rate > limits.max_sample_rate_hz)
    return Error{kUnprocessable, "sample_rate " + std::to_string(rate) + " is not in " +
                                     std::to_string(limits.min_sample_rate_hz) + ".." +
                                     std::to_string(limits.max_sample_rate_hz)};
  f.sample_rate = static_cast<int>(rate);
  return f;
}

std::variant<ClientEvent, Error> parse_update(const njson& j) {
  const auto s = j.find("session");
  if (s == j.end() || !s->is_object()) return invalid("session.update needs an object 'session'");
  SessionUpdate u;
  if (const auto f = s->find("audio_format"); f != s->end() && !f->is_null()) {
    auto parsed = parse_audio_format(*f);
    if (auto* e = std::get_if<Error>(&parsed)) return *e;
    u.audio_format = std::get<AudioFormat>(parsed);
  }
  if (const auto d = s->find("target_streaming_delay_ms"); d != s->end() && !d->is_null()) {
    if (!d->is_number_integer()) return invalid("target_streaming_delay_ms must be an integer");
    const auto v = d->get<std::int64_t>();
    try {
      if (v < 0 || v > 100000) throw vrt::Error(Status::invalid_argument, "out of range");
      validate_delay_ms(static_cast<int>(v));
    } catch (const vrt::Error& e) {
      return Error{kUnprocessable, std::string("target_streaming_delay_ms: ") + e.what()};
    }
    u.delay_ms = static_cast<int>(v);
  }
  return ClientEvent{std::move(u)};
}

std::variant<ClientEvent, Error> parse_append(const njson& j, const EventLimits& limits) {
  const auto a = j.find("audio");
  if (a == j.end() || !a->is_string()) return invalid("input_audio.append needs a string 'audio'");
  const auto& text = a->get_ref<const std::string&>();
  if (text.size() / 4 * 3 > limits.max_audio_bytes)
    return Error{kTooLarge, "audio chunk too large (limit " + std::to_string(limits.max_audio_bytes) + " bytes)"};
  auto bytes = base64::decode_strict(text);
  if (!bytes) return invalid("audio is not valid base64 (RFC 4648, padded)");
  if (bytes->empty()) return invalid("empty audio");
  AudioAppend out;
  out.bytes.assign(reinterpret_cast<const std::uint8_t*>(bytes->data()),
                   reinterpret_cast<const std::uint8_t*>(bytes->data()) + bytes->size());
  return ClientEvent{std::move(out)};
}

ordered segment_json(const Segment& s) {
  return ordered{{"type", "transcription_segment"}, {"text", s.text}, {"start", s.start_s}, {"end", s.end_s}};
}

}  // namespace

std::optional<PcmFormat> encoding_from_name(std::string_view name) {
  constexpr std::string_view prefix = "pcm_";
  if (name.substr(0, prefix.size()) != prefix) return std::nullopt;
  return pcm_format_from_name(name.substr(prefix.size()));
}

std::string encoding_name(PcmFormat f) { return std::string("pcm_") + pcm_format_name(f); }

std::variant<ClientEvent, Error> parse_client_event(std::string_view text, const EventLimits& limits) {
  njson j;
  try {
    j = vrt::json::parse_strict(text, "event", Status::invalid_argument, {.max_depth = limits.max_depth});
  } catch (const vrt::Error& e) {
    return invalid(std::string("invalid JSON: ") + e.what());
  }
  if (!j.is_object()) return invalid("an event must be a JSON object");
  const auto t = j.find("type");
  if (t == j.end() || !t->is_string()) return invalid("an event needs a string 'type'");
  const auto& type = t->get_ref<const std::string&>();
  if (type == "session.update") return parse_update(j);
  if (type == "input_audio.append") return parse_append(j, limits);
  if (type == "input_audio.flush") return ClientEvent{Flush{}};
  if (type == "input_audio.end") return ClientEvent{End{}};
  return invalid("unknown event type '" + type.substr(0, 64) + "'");
}

std::string session_event(std::string_view type, const SessionState& s) {
  return dump(ordered{{"type", std::string(type)},
                      {"session",
                       {{"request_id", s.request_id},
                        {"model", s.model},
                        {"audio_format",
                         {{"encoding", encoding_name(s.audio_format.encoding)}, {"sample_rate", s.audio_format.sample_rate}}},
                        {"target_streaming_delay_ms", s.delay_ms}}}});
}

std::string text_delta_event(std::string_view text) {
  return dump(ordered{{"type", "transcription.text.delta"}, {"text", std::string(text)}});
}

std::string segment_event(const Segment& s) {
  ordered j = segment_json(s);
  j["type"] = "transcription.segment";
  return dump(j);
}

std::string done_event(const std::string& model, std::string_view text, const std::vector<Segment>& segments,
                       const Usage& usage, double audio_s) {
  ordered segs = ordered::array();
  for (const auto& s : segments) segs.push_back(segment_json(s));
  return dump(ordered{{"type", "transcription.done"},
                      {"model", model},
                      {"text", std::string(text)},
                      {"language", nullptr},
                      {"segments", segs},
                      {"usage",
                       {{"prompt_tokens", usage.prompt_tokens},
                        {"completion_tokens", usage.completion_tokens},
                        {"total_tokens", usage.prompt_tokens + usage.completion_tokens},
                        {"prompt_audio_seconds", static_cast<std::int64_t>(std::ceil(audio_s))}}}});
}

std::string error_event(const Error& e) {
  return dump(ordered{{"type", "error"}, {"error", {{"message", e.message}, {"code", e.code}}}});
}

std::string progress_event(double decided_audio_s) {
  return dump(ordered{{"type", "voxtral_rt.progress"}, {"audio_s", std::round(decided_audio_s * 1000) / 1000}});
}

}  // namespace vrt::server::mistral
