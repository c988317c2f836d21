// Realtime events: vLLM's event and error shapes, strict parsing of hostile frames, and the live
// word tracker against the offline word rule.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/realtime_protocol.h"
#include "common/base64.h"

namespace vrt::server {
namespace {

ProtocolError error_of(const std::string& text) {
  auto r = parse_client_event(text);
  if (auto* e = std::get_if<ProtocolError>(&r)) return *e;
  ADD_FAILURE() << "accepted: " << text;
  return {};
}

TEST(RealtimeProtocol, ParsesVllmClientEvents) {
  auto r = parse_client_event(R"({"type":"session.update","model":"mistralai/Voxtral-Mini-4B-Realtime-2602"})");
  const auto& u = std::get<SessionUpdate>(std::get<ClientEvent>(r));
  EXPECT_EQ(u.model, "mistralai/Voxtral-Mini-4B-Realtime-2602");
  EXPECT_FALSE(u.delay_ms);
  EXPECT_FALSE(u.word_timestamps);

  const std::string pcm("\x00\x00\xff\x7f\x00\x80\x01\x00", 8);
  r = parse_client_event(R"({"type":"input_audio_buffer.append","audio":")" + base64::encode(pcm) + "\"}");
  const auto& a = std::get<AudioAppend>(std::get<ClientEvent>(r));
  ASSERT_EQ(a.samples.size(), 4u);
  EXPECT_EQ(a.samples[0], 0.0f);
  EXPECT_EQ(a.samples[1], 32767.0f / 32768.0f);
  EXPECT_EQ(a.samples[2], -1.0f);
  EXPECT_EQ(a.samples[3], 1.0f / 32768.0f);

  r = parse_client_event(R"({"type":"input_audio_buffer.commit"})");
  EXPECT_FALSE(std::get<Commit>(std::get<ClientEvent>(r)).final);
  r = parse_client_event(R"({"type":"input_audio_buffer.commit","final":true,"event_id":"x"})");
  EXPECT_TRUE(std::get<Commit>(std::get<ClientEvent>(r)).final);
}

TEST(RealtimeProtocol, ParsesExtensions) {
  auto r = parse_client_event(
      R"({"type":"session.update","model":"m","delay_ms":160,"timestamp_granularities":["word","segment"],"stop_on_eos":true,"temperature":0.0})");
  const auto& u = std::get<SessionUpdate>(std::get<ClientEvent>(r));
  EXPECT_EQ(u.delay_ms.value_or(0), 160);
  EXPECT_TRUE(u.word_timestamps);
  EXPECT_TRUE(u.segment_timestamps);
  EXPECT_TRUE(u.stop_on_eos.value_or(false));
}

TEST(RealtimeProtocol, RejectsHostileEventsWithVllmCodes) {
  EXPECT_EQ(error_of("not json").code, "invalid_json");
  EXPECT_EQ(error_of("{\"type\":\"session.update\",").code, "invalid_json");
  EXPECT_EQ(error_of(R"({"type":"a","type":"b"})").code, "invalid_json");  // duplicate keys
  EXPECT_EQ(error_of(std::string(100, '[') + std::string(100, ']')).code, "invalid_json");  // depth
  EXPECT_EQ(error_of("\"\xff\xfe\"").code, "invalid_json");  // not UTF-8
  EXPECT_EQ(error_of("[]").code, "invalid_event");
  EXPECT_EQ(error_of("{}").code, "invalid_event");
  EXPECT_EQ(error_of(R"({"type":7})").code, "invalid_event");
  EXPECT_EQ(error_of(R"({"type":"response.create"})").code, "unknown_event");
  EXPECT_LT(error_of(R"({"type":")" + std::string(10000, 'x') + "\"}").message.size(), 200u);
  EXPECT_EQ(error_of(R"({"type":"session.update"})").code, "invalid_event");
  EXPECT_EQ(error_of(R"({"type":"session.update","model":3})").code, "invalid_event");
  EXPECT_EQ(error_of(R"({"type":"session.update","model":"m","delay_ms":100})").code, "invalid_event");
  EXPECT_EQ(error_of(R"({"type":"session.update","model":"m","delay_ms":-80})").code, "invalid_event");
  EXPECT_EQ(error_of(R"({"type":"session.update","model":"m","delay_ms":1e30})").code, "invalid_event");
  EXPECT_EQ(error_of(R"({"type":"session.update","model":"m","delay_ms":99999999999999})").code, "invalid_event");
  EXPECT_EQ(error_of(R"({"type":"session.update","model":"m","timestamp_granularities":["char"]})").code, "invalid_event");
  EXPECT_EQ(error_of(R"({"type":"session.update","model":"m","timestamp_granularities":"word"})").code, "invalid_event");
  EXPECT_EQ(error_of(R"({"type":"session.update","model":"m","stop_on_eos":"yes"})").code, "invalid_event");
  EXPECT_EQ(error_of(R"({"type":"input_audio_buffer.commit","final":"true"})").code, "invalid_event");
  EXPECT_EQ(error_of(R"({"type":"input_audio_buffer.append"})").code, "invalid_event");
  EXPECT_EQ(error_of(R"({"type":"input_audio_buffer.append","audio":5})").code, "invalid_event");
}

TEST(RealtimeProtocol, RejectsBadAudio) {
  const auto append = [](const std::string& b64) { return R"({"type":"input_audio_buffer.append","audio":")" + b64 + "\"}"; };
  const auto e1 = error_of(append("AA=="));  // 1 byte
  EXPECT_EQ(e1.code, "invalid_audio");
  EXPECT_NE(e1.message.find("odd byte count"), std::string::npos) << e1.message;
  EXPECT_EQ(error_of(append("")).code, "invalid_audio");            // empty
  EXPECT_EQ(error_of(append("AAAA A==")).code, "invalid_audio");    // junk inside
  EXPECT_EQ(error_of(append("AAAA!")).code, "invalid_audio");
  EXPECT_EQ(error_of(append("AAB=")).code, "invalid_audio");        // non-canonical padding bits
  EXPECT_EQ(error_of(append("AAAA====")).code, "invalid_audio");
  EXPECT_EQ(error_of(append("AAAAAA")).code, "invalid_audio");      // unpadded
  EXPECT_EQ(error_of(append(std::string(2000000, 'A'))).code, "invalid_audio");  // over the cap
}

TEST(RealtimeProtocol, ServerEventsHaveVllmShapes) {
  auto j = nlohmann::json::parse(session_created_event("sess-1", 1738600000));
  EXPECT_EQ(j["type"], "session.created");
  EXPECT_EQ(j["id"], "sess-1");
  EXPECT_EQ(j["created"], 1738600000);
  j = nlohmann::json::parse(delta_event(" Hello", {}));
  EXPECT_EQ(j, nlohmann::json::parse(R"({"type":"transcription.delta","delta":" Hello"})"));
  j = nlohmann::json::parse(done_event(" Hi", {39, 210}, nullptr, nullptr));
  EXPECT_EQ(j["type"], "transcription.done");
  EXPECT_EQ(j["text"], " Hi");
  EXPECT_EQ(j["usage"], nlohmann::json::parse(R"({"prompt_tokens":39,"completion_tokens":210,"total_tokens":249})"));
  EXPECT_FALSE(j.contains("words"));
  j = nlohmann::json::parse(error_event("invalid_json", "bad"));
  EXPECT_EQ(j, nlohmann::json::parse(R"({"type":"error","error":"bad","code":"invalid_json"})"));
  // Bytes that are not UTF-8 never reach the wire.
  j = nlohmann::json::parse(delta_event("a\xff", {{"w\xc3", 0.5, 1.0}}));
  EXPECT_EQ(j["delta"], "a\xef\xbf\xbd");
  EXPECT_EQ(j["words"][0]["word"], "w\xef\xbf\xbd");
  EXPECT_EQ(j["words"][0]["end"], 1.0);
}

TEST(WordTracker, FollowsTheOfflineWordRule) {
  const int W = 33;
  auto tok = [](int id, std::string piece, double t, bool special = false) { return Token{id, std::move(piece), special, t}; };
  const std::vector<Token> tokens = {tok(32, "[STREAMING_PAD]", 0.0, true), tok(1500, " Hel", 0.08), tok(1501, "lo", 0.16),
                                     tok(W, "[STREAMING_WORD]", 0.24, true), tok(1502, "wor", 3.0), tok(1503, "ld", 3.08),
                                     tok(1504, " ", 3.16), tok(1505, " !", 3.24)};
  WordTracker wt(W);
  std::vector<Word> out;
  wt.push(tokens[0], out);
  wt.push(tokens[1], out);
  wt.push(tokens[2], out);
  EXPECT_TRUE(out.empty());
  wt.push(tokens[3], out);
  wt.push(tokens[4], out);  // a new word: "Hello" is complete
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, "Hello");
  EXPECT_DOUBLE_EQ(out[0].end_s, 0.08);
  EXPECT_DOUBLE_EQ(out[0].start_s, 0.0);
  for (std::size_t i = 5; i < tokens.size(); ++i) wt.push(tokens[i], out);
  wt.finish(out);
  ASSERT_EQ(out.size(), 3u);  // the word " " is empty and dropped, but its end still counts
  EXPECT_EQ(out[1].text, "world");
  EXPECT_DOUBLE_EQ(out[1].start_s, 2.0);  // at most 1 s before its end
  EXPECT_DOUBLE_EQ(out[1].end_s, 3.0);
  EXPECT_EQ(out[2].text, "!");
  EXPECT_DOUBLE_EQ(out[2].start_s, 3.16);
}

}  // namespace
}  // namespace vrt::server
