// Mistral's realtime protocol: strict parsing of client events (the shapes the official SDK
// 2.7.0 sends, src/extra/realtime/connection.ts) and server events in the shapes its zod schemas
// require (nested error with an integer code, `language` present, integer usage, segment items
// typed "transcription_segment").
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/mistral_protocol.h"

namespace vrt::server::mistral {
namespace {

using nlohmann::json;

template <class T>
T expect_event(const std::string& text) {
  auto r = parse_client_event(text);
  if (auto* e = std::get_if<Error>(&r)) ADD_FAILURE() << text << " -> " << e->message;
  auto* ev = std::get_if<ClientEvent>(&r);
  if (ev == nullptr || !std::holds_alternative<T>(*ev)) {
    ADD_FAILURE() << "wrong event for " << text;
    return T{};
  }
  return std::get<T>(*ev);
}

Error expect_error(const std::string& text) {
  auto r = parse_client_event(text);
  auto* e = std::get_if<Error>(&r);
  if (e == nullptr) {
    ADD_FAILURE() << "accepted: " << text;
    return {};
  }
  return *e;
}

TEST(MistralProtocol, ParsesWhatTheSdkSends) {
  // connection.ts:232-246, the SDK's session.update.
  const auto u = expect_event<SessionUpdate>(
      R"({"type":"session.update","session":{"audio_format":{"encoding":"pcm_mulaw","sample_rate":8000}}})");
  ASSERT_TRUE(u.audio_format.has_value());
  EXPECT_EQ(u.audio_format->encoding, PcmFormat::mulaw);
  EXPECT_EQ(u.audio_format->sample_rate, 8000);
  EXPECT_FALSE(u.delay_ms.has_value());
  const auto d = expect_event<SessionUpdate>(
      R"({"type":"session.update","session":{"audio_format":null,"target_streaming_delay_ms":960}})");
  EXPECT_FALSE(d.audio_format.has_value());
  EXPECT_EQ(d.delay_ms, 960);
  const auto a = expect_event<AudioAppend>(R"({"type":"input_audio.append","audio":"AAEC/w=="})");
  EXPECT_EQ(a.bytes, (std::vector<std::uint8_t>{0x00, 0x01, 0x02, 0xff}));
  expect_event<Flush>(R"({"type":"input_audio.flush"})");
  expect_event<End>(R"({"type":"input_audio.end"})");
}

TEST(MistralProtocol, EveryEncodingOfTheSdk) {
  const std::pair<const char*, PcmFormat> all[] = {{"pcm_s16le", PcmFormat::s16le}, {"pcm_s32le", PcmFormat::s32le},
                                                   {"pcm_f16le", PcmFormat::f16le}, {"pcm_f32le", PcmFormat::f32le},
                                                   {"pcm_mulaw", PcmFormat::mulaw}, {"pcm_alaw", PcmFormat::alaw}};
  for (const auto& [name, f] : all) {
    EXPECT_EQ(encoding_from_name(name), f) << name;
    EXPECT_EQ(encoding_name(f), name);
  }
  EXPECT_FALSE(encoding_from_name("s16le").has_value());
  EXPECT_FALSE(encoding_from_name("pcm_u8").has_value());
}

TEST(MistralProtocol, HostileEventsGetErrors) {
  EXPECT_EQ(expect_error("{not json").code, kBadRequest);
  EXPECT_EQ(expect_error("[]").code, kBadRequest);
  EXPECT_EQ(expect_error(R"({"type":"input_audio_buffer.append"})").code, kBadRequest);  // vLLM's name
  EXPECT_NE(expect_error(R"({"type":"conversation.item.create"})").message.find("unknown event"), std::string::npos);
  EXPECT_EQ(expect_error(R"({"type":"session.update"})").code, kBadRequest);
  EXPECT_EQ(expect_error(R"({"type":"session.update","session":{"audio_format":{"encoding":"pcm_u8","sample_rate":16000}}})").code,
            kUnprocessable);
  EXPECT_EQ(expect_error(R"({"type":"session.update","session":{"audio_format":{"encoding":"pcm_s16le","sample_rate":16000.5}}})").code,
            kBadRequest);
  EXPECT_EQ(expect_error(R"({"type":"session.update","session":{"audio_format":{"encoding":"pcm_s16le","sample_rate":4000}}})").code,
            kUnprocessable);
  EXPECT_EQ(expect_error(R"({"type":"session.update","session":{"audio_format":{"encoding":"pcm_s16le"}}})").code, kBadRequest);
  EXPECT_EQ(expect_error(R"({"type":"session.update","session":{"target_streaming_delay_ms":100}})").code, kUnprocessable);
  EXPECT_EQ(expect_error(R"({"type":"session.update","session":{"target_streaming_delay_ms":-80}})").code, kUnprocessable);
  EXPECT_EQ(expect_error(R"({"type":"input_audio.append","audio":"!!!!"})").code, kBadRequest);
  EXPECT_EQ(expect_error(R"({"type":"input_audio.append","audio":""})").code, kBadRequest);
  EXPECT_EQ(expect_error(R"({"type":"input_audio.append","audio":5})").code, kBadRequest);
  EventLimits small;
  small.max_audio_bytes = 3;
  auto r = mistral::parse_client_event(R"({"type":"input_audio.append","audio":"AAEC/w=="})", small);  // not ADL's vLLM one
  ASSERT_TRUE(std::holds_alternative<Error>(r));
  EXPECT_EQ(std::get<Error>(r).code, kTooLarge);
}

TEST(MistralProtocol, ServerEventsHaveTheShapesTheSdkValidates) {
  const json created = json::parse(session_event("session.created", {"req-1", "voxtral-mini-transcribe-realtime-2602",
                                                                     {PcmFormat::s16le, 16000}, 480}));
  EXPECT_EQ(created["type"], "session.created");
  EXPECT_EQ(created["session"]["request_id"], "req-1");
  EXPECT_EQ(created["session"]["model"], "voxtral-mini-transcribe-realtime-2602");
  EXPECT_EQ(created["session"]["audio_format"]["encoding"], "pcm_s16le");
  EXPECT_TRUE(created["session"]["audio_format"]["sample_rate"].is_number_integer());
  EXPECT_EQ(created["session"]["target_streaming_delay_ms"], 480);
  EXPECT_EQ(json::parse(text_delta_event(" hello")), (json{{"type", "transcription.text.delta"}, {"text", " hello"}}));
  const json seg = json::parse(segment_event({"Hello there.", 0.5, 1.25}));
  EXPECT_EQ(seg, (json{{"type", "transcription.segment"}, {"text", "Hello there."}, {"start", 0.5}, {"end", 1.25}}));
  const json done = json::parse(done_event("m", " Hello there.", {{"Hello there.", 0.5, 1.25}}, {39, 7}, 2.5));
  EXPECT_EQ(done["type"], "transcription.done");
  EXPECT_EQ(done["model"], "m");
  EXPECT_EQ(done["text"], " Hello there.");
  ASSERT_TRUE(done.contains("language"));
  EXPECT_TRUE(done["language"].is_null());
  EXPECT_EQ(done["segments"][0]["type"], "transcription_segment");
  EXPECT_EQ(done["usage"], (json{{"prompt_tokens", 39}, {"completion_tokens", 7}, {"total_tokens", 46},
                                 {"prompt_audio_seconds", 3}}));  // integers only: 2.5 s rounds up
  EXPECT_EQ(json::parse(error_event({kNotFound, "no such model"})),
            (json{{"type", "error"}, {"error", {{"message", "no such model"}, {"code", 404}}}}));
}

}  // namespace
}  // namespace vrt::server::mistral
