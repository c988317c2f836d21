// Tokenizer: loads tekken.json, enforces mistral-common's Tekkenizer invariants, and maps ids to
// text and back.
//
// The checks mirror mistral-common (tekken.py) so that a file it would refuse is refused here,
// with a message naming the entry, plus the extra caps of ../shared/docs/hardening.md §1c. Only
// the first default_vocab_size - default_num_special_tokens ranks are used, as mistral-common's
// _reload_mergeable_ranks truncates; later entries only have to be well-formed.
#include "voxtral_rt/tokenizer.h"

#include <array>
#include <cmath>
#include <map>

#include "common/file_util.h"
#include "common/json_util.h"
#include "tokenizer/bpe.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tekken_json.h"
#include "tokenizer/utf8.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

constexpr std::uint64_t kMaxFileBytes = std::uint64_t{64} << 20;  // the real file is 14.9 MB
constexpr std::int64_t kMaxVocab = std::int64_t{1} << 22;
constexpr std::int64_t kMaxSpecialTokens = std::int64_t{1} << 16;
constexpr std::size_t kMaxSpecialBytes = 256;
constexpr std::size_t kMaxPatternBytes = 4096;
// Tekken versions mistral-common knows (TokenizerVersion); v1/v2 were SentencePiece only.
constexpr std::array<std::string_view, 4> kKnownVersions = {"v3", "v7", "v11", "v13"};

using json::ObjectReader;

[[noreturn]] void bad(const std::string& source, const std::string& message) {
  throw Error(Status::bad_tokenizer, source + ": " + message);
}

bool near_integer(double x) { return std::fabs(x - std::round(x)) < 1e-6; }

}  // namespace

struct Tokenizer::Impl {
  std::string version;
  std::string pattern;
  int vocab_size = 0;
  int num_special = 0;
  int num_text = 0;
  StreamingConfig streaming;
  std::vector<std::string> special_names;  // by id
  std::map<std::string, int, std::less<>> special_by_name;
  std::optional<int> bos, eos, streaming_pad, streaming_word;
  std::string blob;                     // bytes of text rank r: blob[offsets[r], offsets[r+1])
  std::vector<std::uint32_t> offsets;
  bpe::RankMap ranks;                   // views into blob
  std::unique_ptr<Pretokenizer> pretokenizer;

  void check_id(int id) const {
    if (id < 0 || id >= vocab_size)
      throw Error(Status::invalid_argument, "tokenizer: token id " + std::to_string(id) +
                                                " outside [0, " + std::to_string(vocab_size) + ")");
  }
  std::string_view text_bytes(int rank) const {
    const auto r = static_cast<std::size_t>(rank);
    return std::string_view(blob).substr(offsets[r], offsets[r + 1] - offsets[r]);
  }
  // Bytes of an id already range-checked; empty for specials.
  std::string_view bytes_of(int id) const {
    return id < num_special ? std::string_view() : text_bytes(id - num_special);
  }
  int required(const std::optional<int>& id, const char* name) const {
    if (!id)
      throw Error(Status::bad_tokenizer,
                  std::string("tokenizer: tekken.json has no special token ") + name);
    return *id;
  }
};

namespace {

void read_config(const ObjectReader& c, const std::string& source, Tokenizer::Impl& t) {
  t.version = c.string("version");
  bool known = false;
  for (const auto v : kKnownVersions) known = known || v == t.version;
  if (!known) c.fail("version", "unknown tokenizer version \"" + t.version + "\"");
  t.pattern = c.string("pattern");
  if (t.pattern.empty() || t.pattern.size() > kMaxPatternBytes)
    c.fail("pattern", "must hold 1.." + std::to_string(kMaxPatternBytes) + " bytes");
  t.num_special = static_cast<int>(c.integer("default_num_special_tokens", 1, kMaxSpecialTokens));
  // At least the 256 byte tokens must fit after the specials.
  t.vocab_size = static_cast<int>(c.integer("default_vocab_size", t.num_special + 256, kMaxVocab));
  t.num_text = t.vocab_size - t.num_special;
  if (c.has("num_vocab_tokens")) c.integer("num_vocab_tokens", 0, kMaxVocab);  // informative
  t.pretokenizer = std::make_unique<Pretokenizer>(t.pattern, source + ": config.pattern");
}

void read_vocab(tekken::Document& doc, const std::string& source, Tokenizer::Impl& t) {
  const auto used = static_cast<std::size_t>(t.num_text);
  if (doc.vocab_entries() < used)
    bad(source, "vocab has " + std::to_string(doc.vocab_entries()) +
                    " entries, but default_vocab_size - default_num_special_tokens = " +
                    std::to_string(used) + " are needed");
  for (std::size_t i = 0; i < 256; ++i) {
    const auto tok = doc.token(i);
    if (tok.size() != 1 || static_cast<unsigned char>(tok[0]) != i)
      bad(source, "vocab[" + std::to_string(i) + "] must be the single byte " + std::to_string(i) +
                      " (ranks 0..255 are the 256 bytes)");
  }
  t.blob = std::move(doc.blob);
  t.offsets = std::move(doc.offsets);
  t.offsets.resize(used + 1);
  t.blob.resize(t.offsets.back());
  t.blob.shrink_to_fit();
  t.ranks.reserve(used);
  for (std::size_t r = 0; r < used; ++r) {
    const int rank = static_cast<int>(r);
    const auto [it, inserted] = t.ranks.emplace(t.text_bytes(rank), rank);
    if (!inserted)
      bad(source, "vocab[" + std::to_string(r) + "].token_bytes duplicates vocab[" +
                      std::to_string(it->second) + "]");
  }
}

void read_special_tokens(const ObjectReader& root, const std::string& source,
                         Tokenizer::Impl& t) {
  const auto& list = root.at("special_tokens");
  if (!list.is_array()) root.fail("special_tokens", "expected an array");
  if (list.size() != static_cast<std::size_t>(t.num_special))
    bad(source, "special_tokens has " + std::to_string(list.size()) +
                    " entries, but config.default_num_special_tokens is " +
                    std::to_string(t.num_special));
  t.special_names.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const ObjectReader e(list[i], source + ": special_tokens[" + std::to_string(i) + "]",
                         Status::bad_tokenizer);
    if (list[i].size() != 3 || !e.has("rank") || !e.has("token_str") || !e.has("is_control"))
      e.fail("", "expected exactly the keys rank, token_str, is_control");
    const auto rank = e.integer("rank", 0, kMaxSpecialTokens);
    if (rank != static_cast<std::int64_t>(i))
      e.fail("rank", std::to_string(rank) + " differs from its index (ranks must be in order)");
    auto name = e.string("token_str");
    if (name.empty() || name.size() > kMaxSpecialBytes)
      e.fail("token_str", "must hold 1.." + std::to_string(kMaxSpecialBytes) + " bytes");
    e.boolean("is_control");
    const auto [it, inserted] = t.special_by_name.emplace(name, static_cast<int>(i));
    if (!inserted)
      e.fail("token_str", "\"" + name + "\" duplicates special_tokens[" +
                              std::to_string(it->second) + "]");
    t.special_names.push_back(std::move(name));
  }
  auto find = [&](std::string_view name) -> std::optional<int> {
    const auto it = t.special_by_name.find(name);
    return it == t.special_by_name.end() ? std::nullopt : std::optional<int>(it->second);
  };
  t.bos = find("<s>");
  t.eos = find("</s>");
  t.streaming_pad = find("[STREAMING_PAD]");
  t.streaming_word = find("[STREAMING_WORD]");
}

StreamingConfig read_audio(const ObjectReader& root, const std::string& source) {
  if (!root.has("audio"))
    bad(source, "no \"audio\" block: the realtime model needs its streaming settings");
  const ObjectReader a(root.at("audio"), source + ": audio", Status::bad_tokenizer);
  StreamingConfig s;
  s.sampling_rate = static_cast<int>(a.integer("sampling_rate", 1000, 384000));
  s.frame_rate = a.number("frame_rate", 0.1, 1000.0);
  const ObjectReader e(a.at("audio_encoding_config"), a.where() + ".audio_encoding_config",
                       Status::bad_tokenizer);
  s.num_mel_bins = static_cast<int>(e.integer("num_mel_bins", 1, 1024));
  s.hop_length = static_cast<int>(e.integer("hop_length", 1, 1 << 16));
  s.window_size = static_cast<int>(e.integer("window_size", 1, 1 << 16));
  const double delay = a.number("transcription_delay_ms", 1.0, 60000.0);
  if (!near_integer(delay)) a.fail("transcription_delay_ms", "must be a whole number of ms");
  s.transcription_delay_ms = static_cast<int>(std::lround(delay));
  s.streaming_look_ahead_ms = a.number("streaming_look_ahead_ms", 0.0, 60000.0);
  s.streaming_look_back_ms = a.number("streaming_look_back_ms", 0.0, 60000.0);
  s.streaming_n_left_pad_tokens =
      static_cast<int>(a.integer("streaming_n_left_pad_tokens", 0, 1 << 16));
  s.transcription_format = a.string("transcription_format");

  // The schedule is counted in whole tokens of whole mel hops (mistral-common AudioConfig).
  const double spt = s.sampling_rate / s.frame_rate;
  if (!near_integer(spt))
    a.fail("frame_rate", "sampling_rate / frame_rate = " + std::to_string(spt) +
                             " is not a whole number of samples per token");
  if (std::lround(spt) % s.hop_length != 0)
    e.fail("hop_length", "does not divide the " + std::to_string(std::lround(spt)) +
                             " samples of a token");
  if (s.window_size < s.hop_length) e.fail("window_size", "is smaller than hop_length");
  if (s.num_mel_bins > s.window_size / 2 + 1) e.fail("num_mel_bins", "exceeds window_size / 2 + 1");
  if (!near_integer(s.transcription_delay_ms * s.frame_rate / 1000.0))
    a.fail("transcription_delay_ms", "is not a whole number of " +
                                         std::to_string(1000.0 / s.frame_rate) + " ms tokens");
  if (s.transcription_format != "streaming")
    throw Error(Status::unsupported_model,
                a.where() + ".transcription_format: \"" + s.transcription_format +
                    "\" (this engine runs the realtime model, whose format is \"streaming\")");
  return s;
}

}  // namespace

Tokenizer Tokenizer::from_file(const std::string& path) {
  const auto text = read_file_capped(path, kMaxFileBytes, Status::bad_tokenizer);
  return from_json(text, path);
}

Tokenizer Tokenizer::from_json(std::string_view text, const std::string& source) {
  if (text.size() > kMaxFileBytes)
    bad(source, "larger than " + std::to_string(kMaxFileBytes >> 20) + " MiB");
  auto doc = tekken::parse_document(text, source);
  const ObjectReader root(doc.root, source + ": top level", Status::bad_tokenizer);
  auto t = std::make_shared<Impl>();
  if (!root.has("config")) bad(source, "no \"config\" block");
  read_config(ObjectReader(root.at("config"), source + ": config", Status::bad_tokenizer), source,
              *t);
  if (!root.has("vocab")) bad(source, "no \"vocab\" list");
  if (!doc.vocab_is_array) bad(source, "vocab: expected an array");
  read_vocab(doc, source, *t);
  if (!root.has("special_tokens")) bad(source, "no \"special_tokens\" list");
  read_special_tokens(root, source, *t);
  t->streaming = read_audio(root, source);
  return Tokenizer(std::move(t));
}

Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(const Tokenizer&) noexcept = default;
Tokenizer& Tokenizer::operator=(const Tokenizer&) noexcept = default;

int Tokenizer::vocab_size() const { return impl_->vocab_size; }
int Tokenizer::num_special_tokens() const { return impl_->num_special; }
int Tokenizer::num_text_ranks() const { return impl_->num_text; }
const std::string& Tokenizer::version() const { return impl_->version; }
const std::string& Tokenizer::pattern() const { return impl_->pattern; }
const StreamingConfig& Tokenizer::streaming() const { return impl_->streaming; }

// tekken.json's audio block is read here, so its arithmetic lives here too.
int StreamingConfig::samples_per_token() const { return static_cast<int>(std::llround(sampling_rate / frame_rate)); }

bool Tokenizer::is_special(int id) const { return id >= 0 && id < impl_->num_special; }

std::string_view Tokenizer::special_name(int id) const {
  if (!is_special(id))
    throw Error(Status::invalid_argument,
                "tokenizer: token id " + std::to_string(id) + " is not a special token");
  return impl_->special_names[static_cast<std::size_t>(id)];
}

std::optional<int> Tokenizer::special_id(std::string_view name) const {
  const auto it = impl_->special_by_name.find(name);
  if (it == impl_->special_by_name.end()) return std::nullopt;
  return it->second;
}

int Tokenizer::bos_id() const { return impl_->required(impl_->bos, "<s>"); }
int Tokenizer::eos_id() const { return impl_->required(impl_->eos, "</s>"); }
int Tokenizer::streaming_pad_id() const {
  return impl_->required(impl_->streaming_pad, "[STREAMING_PAD]");
}
int Tokenizer::streaming_word_id() const {
  return impl_->required(impl_->streaming_word, "[STREAMING_WORD]");
}

std::string_view Tokenizer::token_bytes(int id) const {
  impl_->check_id(id);
  return impl_->bytes_of(id);
}

std::string Tokenizer::piece(int id) const {
  impl_->check_id(id);
  if (is_special(id)) return impl_->special_names[static_cast<std::size_t>(id)];
  return std::string(impl_->bytes_of(id));
}

std::string Tokenizer::decode(std::span<const int> ids) const {
  std::string bytes;
  for (const int id : ids) {
    impl_->check_id(id);
    bytes.append(impl_->bytes_of(id));
  }
  std::string out;
  out.reserve(bytes.size());
  utf8::decode_replace(bytes, out, /*final=*/true);
  return out;
}

std::vector<int> Tokenizer::encode(std::string_view text) const {
  std::vector<int> ranks;
  impl_->pretokenizer->split(
      text, [&](std::string_view piece) { bpe::encode_piece(piece, impl_->ranks, ranks); });
  for (auto& r : ranks) r += impl_->num_special;
  return ranks;
}

IncrementalDecoder::IncrementalDecoder(const Tokenizer& tokenizer) : impl_(tokenizer.impl_) {}

std::string IncrementalDecoder::push(int id) {
  impl_->check_id(id);
  std::string out;
  if (id < impl_->num_special) return out;
  pending_.append(impl_->bytes_of(id));
  const std::size_t used = utf8::decode_replace(pending_, out, /*final=*/false);
  pending_.erase(0, used);
  return out;
}

std::string IncrementalDecoder::finish() {
  std::string out;
  utf8::decode_replace(pending_, out, /*final=*/true);
  pending_.clear();
  return out;
}

}  // namespace vrt
