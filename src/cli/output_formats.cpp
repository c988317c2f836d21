#include "output_formats.h"

namespace vrt::cli {
nlohmann::ordered_json stats_json(const TranscribeStats& s) {
  return {{"audio_s", s.audio_s},
          {"mel_ms", s.mel_ms},
          {"encoder_ms", s.encoder_ms},
          {"prefill_ms", s.prefill_ms},
          {"prefill_positions", s.prefill_positions},
          {"decode_ms", s.decode_ms},
          {"cached_positions", s.cached_positions},
          {"decode_steps", s.decode_steps},
          {"decode_passes", s.decode_passes},
          {"decode_ms_per_step", s.decode_ms_per_step()},
          {"generated_tokens", s.generated_tokens},
          {"total_ms", s.total_ms},
          {"real_time_factor", s.real_time_factor()}};
}

nlohmann::ordered_json to_json(const Transcript& t, const std::string& file) {
  nlohmann::ordered_json j;
  j["file"] = file;
  j["text"] = t.text;
  auto& tokens = j["tokens"] = nlohmann::ordered_json::array();
  for (const auto& k : t.tokens) tokens.push_back({{"id", k.id}, {"piece", k.piece}, {"time", k.time_s}});
  auto& words = j["words"] = nlohmann::ordered_json::array();
  for (const auto& w : t.words) words.push_back({{"text", w.text}, {"start", w.start_s}, {"end", w.end_s}});
  auto& segs = j["segments"] = nlohmann::ordered_json::array();
  for (const auto& s : t.segments) segs.push_back({{"text", s.text}, {"start", s.start_s}, {"end", s.end_s}});
  j["stats"] = stats_json(t.stats);
  return j;
}

}  // namespace vrt::cli
