// Fuzz target: Mistral's realtime transcription events (src/server/mistral_protocol): the strict
// JSON parse, the event schema (session.update with audio_format and target_streaming_delay_ms,
// input_audio.append with base64 raw PCM, input_audio.flush, input_audio.end), the server-event
// writers fed with what the client sent, and the PCM decoding of appended audio in the session's
// current format (the one stateful part of RealtimeSession::handle_mistral that needs no model).
//
// Input: successive text frames of one connection, separated by the byte 0xFF (never valid in a
// UTF-8 JSON text). Each frame goes through parse_client_event as the session does; an accepted
// session.update changes the format later appends are decoded in.
//
// Invariants: an error has code 400, 413 or 422 and a non-empty message, and error_event writes
// {type: "error", error: {message, code}} (nested, an integer code: the SDK's schema); an append
// carries exactly the base64 of the frame's "audio" (recomputed with nlohmann + decode_strict),
// never empty, at most max_audio_bytes; its decoded samples are finite and, for the integer and
// G.711 encodings, in [-1, 1]; an update's encoding and rate are the frame's, the rate within
// AudioLimits, the delay one validate_delay_ms accepts, and session_event round-trips them.
// Parsing is stateless: the previous frame parses the same again.
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "fuzz_util.h"
#include "server/mistral_protocol.h"

namespace {

using njson = nlohmann::json;
namespace m = vrt::server::mistral;
using Result = std::variant<m::ClientEvent, m::Error>;

constexpr char kSeparator = '\xff';

njson parse_json(const std::string& text) {
  njson j = njson::parse(text, nullptr, false);
  VRT_FUZZ_CHECK(!j.is_discarded());
  VRT_FUZZ_CHECK(j.is_object());
  return j;
}

bool same(const Result& a, const Result& b) {
  if (a.index() != b.index()) return false;
  if (const auto* e = std::get_if<m::Error>(&a)) {
    const auto& f = std::get<m::Error>(b);
    return e->code == f.code && e->message == f.message;
  }
  const auto& x = std::get<m::ClientEvent>(a);
  const auto& y = std::get<m::ClientEvent>(b);
  if (x.index() != y.index()) return false;
  if (const auto* u = std::get_if<m::SessionUpdate>(&x)) {
    const auto& v = std::get<m::SessionUpdate>(y);
    const auto fmt = [](const std::optional<m::AudioFormat>& f) {
      return f ? std::make_pair(static_cast<int>(f->encoding), f->sample_rate) : std::make_pair(-1, -1);
    };
    return fmt(u->audio_format) == fmt(v.audio_format) && u->delay_ms == v.delay_ms;
  }
  if (const auto* p = std::get_if<m::AudioAppend>(&x)) return p->bytes == std::get<m::AudioAppend>(y).bytes;
  return true;  // flush, end
}

void check_error(const m::Error& e) {
  VRT_FUZZ_CHECK(e.code == m::kBadRequest || e.code == m::kTooLarge || e.code == m::kUnprocessable);
  VRT_FUZZ_CHECK(!e.message.empty());
  const njson j = parse_json(m::error_event(e));
  VRT_FUZZ_CHECK(j.size() == 2 && j.at("type") == "error");
  const auto& err = j.at("error");
  VRT_FUZZ_CHECK(err.at("code").is_number_integer() && err.at("code") == e.code);
  VRT_FUZZ_CHECK(err.at("message").is_string() && !err.at("message").get_ref<const std::string&>().empty());
}

void check_event(const std::string& text, const m::ClientEvent& ev, const vrt::server::EventLimits& limits,
                 m::SessionState& state, vrt::PcmDecoder& pcm) {
  const njson j = parse_json(text);  // accepted by the strict parser, so by nlohmann's too
  const auto& type = j.at("type").get_ref<const std::string&>();
  if (const auto* a = std::get_if<m::AudioAppend>(&ev)) {
    VRT_FUZZ_CHECK(type == "input_audio.append");
    const auto bytes = vrt::base64::decode_strict(j.at("audio").get_ref<const std::string&>());
    VRT_FUZZ_CHECK(bytes.has_value() && !bytes->empty() && bytes->size() <= limits.max_audio_bytes);
    VRT_FUZZ_CHECK(a->bytes.size() == bytes->size() && std::equal(a->bytes.begin(), a->bytes.end(), bytes->begin(),
                                                                  [](std::uint8_t x, char y) { return x == static_cast<std::uint8_t>(y); }));
    const std::size_t before = pcm.pending_bytes();
    std::vector<float> samples;
    pcm.push_bytes(a->bytes, samples);
    const std::size_t width = vrt::PcmDecoder::bytes_per_sample(state.audio_format.encoding);
    VRT_FUZZ_CHECK(samples.size() == (before + a->bytes.size()) / width && pcm.pending_bytes() == (before + a->bytes.size()) % width);
    const bool bounded = state.audio_format.encoding != vrt::PcmFormat::f32le && state.audio_format.encoding != vrt::PcmFormat::f16le;
    for (float x : samples) {
      VRT_FUZZ_CHECK(std::isfinite(x));
      if (bounded) VRT_FUZZ_CHECK(x >= -1.0f && x <= 1.0f);
    }
  } else if (const auto* u = std::get_if<m::SessionUpdate>(&ev)) {
    VRT_FUZZ_CHECK(type == "session.update");
    const auto& s = j.at("session");
    if (u->audio_format) {
      const auto& f = s.at("audio_format");
      VRT_FUZZ_CHECK(m::encoding_name(u->audio_format->encoding) == f.at("encoding"));
      VRT_FUZZ_CHECK(f.at("sample_rate") == u->audio_format->sample_rate);
      const vrt::AudioLimits al;
      VRT_FUZZ_CHECK(u->audio_format->sample_rate >= al.min_sample_rate_hz && u->audio_format->sample_rate <= al.max_sample_rate_hz);
      state.audio_format = *u->audio_format;
      pcm = vrt::PcmDecoder(state.audio_format.encoding, 1);  // as the session does
    } else {
      VRT_FUZZ_CHECK(!s.contains("audio_format") || s.at("audio_format").is_null());
    }
    if (u->delay_ms) {
      vrt::validate_delay_ms(*u->delay_ms);  // throws (a finding) if it was let through
      VRT_FUZZ_CHECK(s.at("target_streaming_delay_ms") == *u->delay_ms);
      state.delay_ms = *u->delay_ms;
    }
    const njson back = parse_json(m::session_event("session.updated", state));
    const auto& b = back.at("session");
    VRT_FUZZ_CHECK(back.at("type") == "session.updated" && b.at("target_streaming_delay_ms") == state.delay_ms);
    VRT_FUZZ_CHECK(b.at("audio_format").at("encoding") == m::encoding_name(state.audio_format.encoding));
    VRT_FUZZ_CHECK(b.at("audio_format").at("sample_rate") == state.audio_format.sample_rate);
  } else if (std::holds_alternative<m::Flush>(ev)) {
    VRT_FUZZ_CHECK(type == "input_audio.flush");
  } else {
    VRT_FUZZ_CHECK(type == "input_audio.end");
    try {
      pcm.finish();  // a partial sample left over is a bad_audio error, never a crash
    } catch (const vrt::Error& e) {
      VRT_FUZZ_CHECK(e.status() == vrt::Status::bad_audio);
    }
  }
}

// The server writes decoded model text into its events: any bytes must give valid JSON.
void check_writers(std::string_view text) {
  const std::vector<vrt::Segment> segments{{std::string(text), 0.0, 1.0}};
  const njson d = parse_json(m::text_delta_event(text));
  VRT_FUZZ_CHECK(d.at("type") == "transcription.text.delta" && d.at("text").is_string());
  const njson s = parse_json(m::segment_event(segments[0]));
  VRT_FUZZ_CHECK(s.at("type") == "transcription.segment" && s.at("start") == 0.0 && s.at("end") == 1.0);
  const njson done = parse_json(m::done_event(std::string(text.substr(0, 32)), text, segments, {3, 4}, 2.5));
  VRT_FUZZ_CHECK(done.at("usage").at("total_tokens") == 7 && done.at("usage").at("prompt_audio_seconds") == 3);
  VRT_FUZZ_CHECK(done.at("language").is_null() && done.at("segments").size() == 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view all = vrt::fuzz::as_text({data, size});
  vrt::server::EventLimits limits;  // smaller limits now and then, so the cap is crossed
  if (!all.empty() && all.front() == ' ') limits.max_audio_bytes = 16;
  m::SessionState state;
  vrt::PcmDecoder pcm(state.audio_format.encoding, 1);
  std::string previous;
  Result previous_result;
  std::size_t at = 0, frames = 0;
  for (;;) {
    const std::size_t sep = all.find(kSeparator, at);
    const std::string frame(all.substr(at, sep == std::string_view::npos ? std::string_view::npos : sep - at));
    const Result parsed = m::parse_client_event(frame, limits);
    if (const auto* e = std::get_if<m::Error>(&parsed)) check_error(*e);
    else check_event(frame, std::get<m::ClientEvent>(parsed), limits, state, pcm);
    if (frames > 0) VRT_FUZZ_CHECK(same(previous_result, m::parse_client_event(previous, limits)));
    if (frames == 0) check_writers(frame);
    previous = frame;
    previous_result = parsed;
    ++frames;
    if (sep == std::string_view::npos) break;
    at = sep + 1;
  }
  return 0;
}
