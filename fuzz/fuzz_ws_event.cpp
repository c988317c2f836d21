// Fuzz target: realtime WebSocket client events (src/server/realtime_protocol): the strict JSON
// parse, the event schema (session.update, input_audio_buffer.append with base64 PCM16,
// input_audio_buffer.commit), and the server-event writers fed with what the client sent.
//
// Input: successive text frames of one connection, separated by the byte 0xFF (never valid in
// a UTF-8 JSON text, so it cannot hide a case). Each frame goes through parse_client_event as
// RealtimeSession::handle does. The session's state machine itself (session.update before
// commit, backpressure, utterances, shutdown in src/server/realtime_session.cpp) lives in the
// Beast WebSocket session and needs a Model and a Scheduler, so it is not reached here; it is
// covered by tests/server (test_server_e2e) with a synthetic model, and fuzzed end to end by
// fuzz_ws_session. Parsing is stateless: each frame gives the same result whatever came before,
// which the target checks by parsing the previous frame again.
//
// Invariants: an error carries one of the documented codes and a non-empty message, and
// error_event(code, message) is a JSON object {type: "error", error, code} with the message cut
// to 300 bytes (U+FFFD for invalid UTF-8); an append decodes exactly the base64 of the frame's
// "audio" (recomputed with nlohmann + decode_strict): samples = int16 LE / 32768, within [-1, 1),
// at most max_audio_bytes of PCM, never empty; an update has the frame's model and a delay that
// validate_delay_ms accepts, and session_updated_event round-trips it; a commit has the frame's
// "final". delta_event and done_event always write valid JSON whatever bytes the text holds.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "server/realtime_protocol.h"
#include "common/base64.h"

namespace {

using njson = nlohmann::json;
namespace srv = vrt::server;

constexpr char kSeparator = '\xff';

bool valid_utf8(std::string_view s) {
  try {
    (void)njson(std::string(s)).dump();
    return true;
  } catch (const njson::type_error&) {
    return false;
  }
}

njson parse_event(const std::string& text) {
  njson j = njson::parse(text, nullptr, false);
  VRT_FUZZ_CHECK(!j.is_discarded());
  VRT_FUZZ_CHECK(j.is_object());
  return j;
}

bool same(const std::variant<srv::ClientEvent, srv::ProtocolError>& a,
          const std::variant<srv::ClientEvent, srv::ProtocolError>& b) {
  if (a.index() != b.index()) return false;
  if (const auto* e = std::get_if<srv::ProtocolError>(&a)) {
    const auto& f = std::get<srv::ProtocolError>(b);
    return e->code == f.code && e->message == f.message;
  }
  const auto& x = std::get<srv::ClientEvent>(a);
  const auto& y = std::get<srv::ClientEvent>(b);
  if (x.index() != y.index()) return false;
  if (const auto* u = std::get_if<srv::SessionUpdate>(&x)) {
    const auto& v = std::get<srv::SessionUpdate>(y);
    return u->model == v.model && u->delay_ms == v.delay_ms && u->word_timestamps == v.word_timestamps &&
           u->segment_timestamps == v.segment_timestamps && u->stop_on_eos == v.stop_on_eos;
  }
  if (const auto* p = std::get_if<srv::AudioAppend>(&x)) return vrt::fuzz::same_bits(p->samples, std::get<srv::AudioAppend>(y).samples);
  return std::get<srv::Commit>(x).final == std::get<srv::Commit>(y).final;
}

void check_error(const srv::ProtocolError& e) {
  VRT_FUZZ_CHECK(e.code == srv::code::invalid_json || e.code == srv::code::unknown_event ||
                 e.code == srv::code::invalid_event || e.code == srv::code::invalid_audio);
  VRT_FUZZ_CHECK(!e.message.empty());
  const njson j = parse_event(srv::error_event(e.code, e.message));
  VRT_FUZZ_CHECK(j.size() == 3 && j.at("type") == "error" && j.at("code") == e.code);
  const std::string shown = e.message.substr(0, 300);
  const auto& got = j.at("error").get_ref<const std::string&>();
  if (valid_utf8(shown)) VRT_FUZZ_CHECK(got == shown);
  else VRT_FUZZ_CHECK(got.size() <= 3 * shown.size() && valid_utf8(got));
}

void check_event(const std::string& text, const srv::ClientEvent& ev, const srv::EventLimits& limits) {
  // Accepted by the strict parser, so nlohmann's plain parser accepts it too.
  const njson j = parse_event(text);
  const auto& type = j.at("type").get_ref<const std::string&>();
  if (const auto* a = std::get_if<srv::AudioAppend>(&ev)) {
    VRT_FUZZ_CHECK(type == "input_audio_buffer.append");
    const auto bytes = vrt::base64::decode_strict(j.at("audio").get_ref<const std::string&>());
    VRT_FUZZ_CHECK(bytes.has_value() && !bytes->empty() && bytes->size() % 2 == 0);
    VRT_FUZZ_CHECK(bytes->size() <= limits.max_audio_bytes);
    VRT_FUZZ_CHECK(a->samples.size() * 2 == bytes->size());
    for (std::size_t i = 0; i < a->samples.size(); ++i) {
      const auto lo = static_cast<std::uint8_t>((*bytes)[2 * i]), hi = static_cast<std::uint8_t>((*bytes)[2 * i + 1]);
      const auto v = static_cast<std::int16_t>(static_cast<std::uint16_t>(lo | (hi << 8)));
      VRT_FUZZ_CHECK(a->samples[i] == static_cast<float>(v) / 32768.0f);
      VRT_FUZZ_CHECK(a->samples[i] >= -1.0f && a->samples[i] < 1.0f);
    }
  } else if (const auto* u = std::get_if<srv::SessionUpdate>(&ev)) {
    VRT_FUZZ_CHECK(type == "session.update");
    VRT_FUZZ_CHECK(j.at("model") == u->model);
    if (u->delay_ms) vrt::validate_delay_ms(*u->delay_ms);  // throws (a finding) if it was let through
    VRT_FUZZ_CHECK(u->delay_ms.has_value() == j.contains("delay_ms"));
    VRT_FUZZ_CHECK(u->stop_on_eos.has_value() == j.contains("stop_on_eos"));
    const int delay = u->delay_ms.value_or(480);
    const njson back = parse_event(srv::session_updated_event("sess_1", u->model, delay, u->word_timestamps,
                                                              u->segment_timestamps, u->stop_on_eos.value_or(false)));
    VRT_FUZZ_CHECK(back.at("type") == "session.updated" && back.at("delay_ms") == delay);
    if (valid_utf8(u->model)) VRT_FUZZ_CHECK(back.at("model") == u->model);
    const auto& g = back.at("timestamp_granularities");
    VRT_FUZZ_CHECK(g.size() == static_cast<std::size_t>(u->word_timestamps) + u->segment_timestamps);
  } else {
    VRT_FUZZ_CHECK(type == "input_audio_buffer.commit");
    const bool final = j.contains("final") && j.at("final").get<bool>();
    VRT_FUZZ_CHECK(std::get<srv::Commit>(ev).final == final);
  }
}

// The server writes decoded model text into its events: any bytes must give valid JSON.
void check_writers(std::string_view text) {
  const std::vector<vrt::Word> words{{std::string(text.substr(0, 16)), 0.0, 0.5}};
  const njson d = parse_event(srv::delta_event(text, words));
  VRT_FUZZ_CHECK(d.at("type") == "transcription.delta" && d.at("words").size() == 1);
  if (valid_utf8(text)) VRT_FUZZ_CHECK(d.at("delta") == text);
  const std::vector<vrt::Segment> segments{{std::string(text), 0.0, 1.0}};
  const njson done = parse_event(srv::done_event(text, {3, 4}, &words, &segments));
  VRT_FUZZ_CHECK(done.at("usage").at("total_tokens") == 7);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view all = vrt::fuzz::as_text({data, size});
  // Smaller audio limits now and then, so the cap is crossed by inputs of fuzzing size.
  srv::EventLimits limits;
  if (!all.empty() && all.front() == ' ') limits.max_audio_bytes = 16;
  std::string previous;
  std::variant<srv::ClientEvent, srv::ProtocolError> previous_result;
  std::size_t at = 0, frames = 0;
  for (;;) {
    const std::size_t sep = all.find(kSeparator, at);
    const std::string frame(all.substr(at, sep == std::string_view::npos ? std::string_view::npos : sep - at));
    const std::variant<srv::ClientEvent, srv::ProtocolError> parsed = srv::parse_client_event(frame, limits);
    if (const auto* e = std::get_if<srv::ProtocolError>(&parsed)) {
      check_error(*e);
    } else {
      check_event(frame, std::get<srv::ClientEvent>(parsed), limits);
    }
    // Stateless: the previous frame parses the same again after this one.
    if (frames > 0) VRT_FUZZ_CHECK(same(previous_result, srv::parse_client_event(previous, limits)));
    if (frames == 0) check_writers(frame);
    previous = frame;
    previous_result = parsed;
    ++frames;
    if (sep == std::string_view::npos) break;
    at = sep + 1;
  }
  return 0;
}
