#include "server/realtime_protocol.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/json_util.h"
#include "common/base64.h"
#include "voxtral_rt/error.h"

namespace vrt::server {
namespace {

using njson = nlohmann::json;
using ordered = nlohmann::ordered_json;

std::string dump(const ordered& j) { return j.dump(-1, ' ', false, njson::error_handler_t::replace); }

ProtocolError invalid(std::string message) { return {code::invalid_event, std::move(message)}; }

std::variant<ClientEvent, ProtocolError> parse_update(const njson& j) {
  SessionUpdate u;
  const auto m = j.find("model");
  if (m == j.end() || !m->is_string()) return invalid("session.update needs a string 'model'");
  u.model = m->get<std::string>();
  if (const auto d = j.find("delay_ms"); d != j.end()) {
    if (!d->is_number_integer()) return invalid("delay_ms must be an integer");
    const auto v = d->get<std::int64_t>();
    try {
      if (v < 0 || v > 100000) throw Error(Status::invalid_argument, "delay_ms out of range");
      validate_delay_ms(static_cast<int>(v));
    } catch (const Error& e) {
      return invalid(std::string("delay_ms: ") + e.what());
    }
    u.delay_ms = static_cast<int>(v);
  }
  if (const auto g = j.find("timestamp_granularities"); g != j.end()) {
    if (!g->is_array() || g->size() > 2) return invalid("timestamp_granularities must be an array of \"word\", \"segment\"");
    for (const auto& e : *g) {
      if (e == "word") u.word_timestamps = true;
      else if (e == "segment") u.segment_timestamps = true;
      else return invalid("timestamp_granularities must be an array of \"word\", \"segment\"");
    }
  }
  if (const auto s = j.find("stop_on_eos"); s != j.end()) {
    if (!s->is_boolean()) return invalid("stop_on_eos must be a boolean");
    u.stop_on_eos = s->get<bool>();
  }
  return ClientEvent{std::move(u)};
}

std::variant<ClientEvent, ProtocolError> parse_append(const njson& j, const EventLimits& limits) {
  const auto a = j.find("audio");
  if (a == j.end() || !a->is_string()) return invalid("input_audio_buffer.append needs a string 'audio'");
  const auto& text = a->get_ref<const std::string&>();
  if (text.size() / 4 * 3 > limits.max_audio_bytes)
    return ProtocolError{code::invalid_audio, "audio chunk too large (limit " + std::to_string(limits.max_audio_bytes) + " bytes of PCM)"};
  const auto bytes = base64::decode_strict(text);
  if (!bytes) return ProtocolError{code::invalid_audio, "audio is not valid base64 (RFC 4648, padded)"};
  if (bytes->empty()) return ProtocolError{code::invalid_audio, "empty audio"};
  if (bytes->size() % 2 != 0)
    return ProtocolError{code::invalid_audio, "odd byte count " + std::to_string(bytes->size()) + ": audio must be PCM16 (2 bytes per sample)"};
  AudioAppend out;
  out.samples.resize(bytes->size() / 2);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes->data());
  for (std::size_t i = 0; i < out.samples.size(); ++i) {
    const auto v = static_cast<std::int16_t>(static_cast<std::uint16_t>(p[2 * i] | (p[2 * i + 1] << 8)));
    out.samples[i] = static_cast<float>(v) / 32768.0f;
  }
  return ClientEvent{std::move(out)};
}

}  // namespace

std::variant<ClientEvent, ProtocolError> parse_client_event(std::string_view text, const EventLimits& limits) {
  njson j;
  try {
    j = vrt::json::parse_strict(text, "event", Status::invalid_argument, {.max_depth = limits.max_depth});
  } catch (const Error& e) {
    return ProtocolError{code::invalid_json, e.what()};
  }
  if (!j.is_object()) return invalid("an event must be a JSON object");
  const auto t = j.find("type");
  if (t == j.end() || !t->is_string()) return invalid("an event needs a string 'type'");
  const auto& type = t->get_ref<const std::string&>();
  if (type == "session.update") return parse_update(j);
  if (type == "input_audio_buffer.append") return parse_append(j, limits);
  if (type == "input_audio_buffer.commit") {
    Commit c;
    if (const auto f = j.find("final"); f != j.end()) {
      if (!f->is_boolean()) return invalid("'final' must be a boolean");
      c.final = f->get<bool>();
    }
    return ClientEvent{c};
  }
  std::string shown = type.substr(0, 64);
  return ProtocolError{code::unknown_event, "unknown event type '" + shown + "'"};
}

std::string session_created_event(const std::string& id, std::int64_t created_unix_s) {
  return dump(ordered{{"type", "session.created"}, {"id", id}, {"created", created_unix_s}});
}

std::string session_updated_event(const std::string& id, const std::string& model, int delay_ms, bool words,
                                  bool segments, bool stop_on_eos) {
  ordered g = ordered::array();
  if (words) g.push_back("word");
  if (segments) g.push_back("segment");
  return dump(ordered{{"type", "session.updated"},
                      {"id", id},
                      {"model", model},
                      {"delay_ms", delay_ms},
                      {"timestamp_granularities", g},
                      {"stop_on_eos", stop_on_eos}});
}

namespace {
ordered words_json(const std::vector<Word>& words) {
  ordered a = ordered::array();
  for (const auto& w : words) a.push_back({{"word", w.text}, {"start", w.start_s}, {"end", w.end_s}});
  return a;
}
}  // namespace

std::string delta_event(std::string_view delta, const std::vector<Word>& completed_words) {
  ordered j{{"type", "transcription.delta"}, {"delta", std::string(delta)}};
  if (!completed_words.empty()) j["words"] = words_json(completed_words);
  return dump(j);
}

std::string done_event(std::string_view text, const Usage& usage, const std::vector<Word>* words,
                       const std::vector<Segment>* segments) {
  ordered j{{"type", "transcription.done"},
            {"text", std::string(text)},
            {"usage",
             {{"prompt_tokens", usage.prompt_tokens},
              {"completion_tokens", usage.completion_tokens},
              {"total_tokens", usage.prompt_tokens + usage.completion_tokens}}}};
  if (words) j["words"] = words_json(*words);
  if (segments) {
    ordered a = ordered::array();
    for (const auto& s : *segments) a.push_back({{"text", s.text}, {"start", s.start_s}, {"end", s.end_s}});
    j["segments"] = a;
  }
  return dump(j);
}

std::string error_event(std::string_view c, std::string_view message) {
  // Messages may quote client input (a parser's "last read"): keep them short.
  if (message.size() > 300) message = message.substr(0, 300);
  return dump(ordered{{"type", "error"}, {"error", std::string(message)}, {"code", std::string(c)}});
}

void WordTracker::push(const Token& t, std::vector<Word>& out) {
  if (t.special) {
    if (t.id == word_id_) new_word_ = true;
    return;
  }
  if (t.piece.empty()) return;
  if (new_word_ || t.piece[0] == ' ' || !open_) {
    if (open_) {
      const auto first = current_.text.find_first_not_of(' ');
      if (first != std::string::npos) {
        current_.text.erase(0, first);
        out.push_back(std::move(current_));
      }
    }
    current_ = Word{};
    current_.end_s = t.time_s;
    current_.start_s = std::max(prev_end_, current_.end_s - 1.0);
    prev_end_ = current_.end_s;
    open_ = true;
    new_word_ = false;
  }
  current_.text += t.piece;
}

void WordTracker::finish(std::vector<Word>& out) {
  if (open_) {
    const auto first = current_.text.find_first_not_of(' ');
    if (first != std::string::npos) {
      current_.text.erase(0, first);
      out.push_back(std::move(current_));
    }
  }
  current_ = Word{};
  open_ = false;
  new_word_ = true;
  prev_end_ = 0;
}

}  // namespace vrt::server
