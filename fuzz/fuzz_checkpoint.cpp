// Fuzz target: opening a whole checkpoint directory (Checkpoint::open): params.json parsed and
// validated, checked against tekken.json, then consolidated.safetensors parsed and its tensor set
// checked against what params.json implies (names, shapes, float dtypes).
//
// Input layout (so the fuzzer mutates the structure, not megabytes of weights):
//   params.json bytes, the separator "\n#vrt-safetensors#\n", a u32 LE pad count P (taken mod
//   2^22), then the start of consolidated.safetensors; the file written is that start followed by
//   P zero bytes (zero is a valid BF16/F16/F32 value, so the data section costs no input).
// tekken.json is fixed and minimal (the 256 byte ranks, 4 special tokens: vocab 260; an audio
// block of 8 mel bins; a simple pattern), matching the micro configs of the seed corpus, so each
// run spends its time on params.json and the weights; the tokenizer has its own targets
// (fuzz_tekken, fuzz_tokenizer_text).
//
// Invariants of an accepted checkpoint: every tensor of expected_tensors(config) is present with
// its exact shape and a float dtype, its bytes lie inside the file, the unexpected list holds
// exactly the others, and info() agrees with the parts.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "io/checkpoint.h"
#include "model/tensor_names.h"
#include "common/base64.h"

using vrt::Error;
using vrt::Status;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSeparator = "\n#vrt-safetensors#\n";
fs::path g_dir;

void write_file(const fs::path& p, std::string_view a, std::size_t zeros = 0) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(a.data(), static_cast<std::streamsize>(a.size()));
  const std::string pad(zeros, '\0');
  out.write(pad.data(), static_cast<std::streamsize>(pad.size()));
  if (!out) {
    std::fprintf(stderr, "fuzz_checkpoint: cannot write %s\n", p.c_str());
    std::abort();
  }
}

std::string minimal_tekken() {
  nlohmann::ordered_json t;
  t["config"] = {{"pattern", "\\S+|\\s+"},
                 {"num_vocab_tokens", 256},
                 {"default_vocab_size", 260},
                 {"default_num_special_tokens", 4},
                 {"version", "v7"}};
  t["vocab"] = nlohmann::ordered_json::array();
  for (int i = 0; i < 256; ++i)
    t["vocab"].push_back({{"rank", i},
                          {"token_bytes", vrt::base64::encode(std::string(1, static_cast<char>(i)))},
                          {"token_str", nullptr}});
  t["special_tokens"] = nlohmann::ordered_json::array();
  int rank = 0;
  for (const char* name : {"<unk>", "<s>", "</s>", "[STREAMING_PAD]"})
    t["special_tokens"].push_back({{"rank", rank++}, {"token_str", name}, {"is_control", true}});
  t["audio"] = {{"sampling_rate", 16000},
                {"frame_rate", 12.5},
                {"audio_encoding_config",
                 {{"num_mel_bins", 8}, {"hop_length", 160}, {"window_size", 400}}},
                {"transcription_delay_ms", 480},
                {"streaming_look_ahead_ms", 2.5},
                {"streaming_look_back_ms", 52.5},
                {"streaming_n_left_pad_tokens", 32},
                {"transcription_format", "streaming"}};
  return t.dump();
}

void remove_dir() {
  std::error_code ec;
  fs::remove_all(g_dir, ec);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string templ = (fs::temp_directory_path() / "vrt-fuzz-checkpoint-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) {
    std::perror("fuzz_checkpoint: mkdtemp");
    std::abort();
  }
  g_dir = templ;
  std::atexit(remove_dir);
  write_file(g_dir / vrt::kTokenizerFileName, minimal_tekken());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view all = vrt::fuzz::as_text({data, size});
  const auto sep = all.find(kSeparator);
  const std::string_view params = all.substr(0, sep);
  std::string_view weights;
  std::size_t pad = 0;
  if (sep != std::string_view::npos) {
    weights = all.substr(sep + kSeparator.size());
    vrt::fuzz::Reader r(reinterpret_cast<const std::uint8_t*>(weights.data()), weights.size());
    pad = r.u32() % (std::size_t{1} << 22);
    weights.remove_prefix(std::min<std::size_t>(4, weights.size()));
  }
  write_file(g_dir / vrt::kParamsFileName, params);
  write_file(g_dir / vrt::kWeightsFileName, weights, pad);

  try {
    const auto c = vrt::Checkpoint::open(g_dir.string());
    const auto expected = vrt::expected_tensors(c.config());
    std::set<std::string> wanted;
    std::uint64_t checksum = 0;
    for (const auto& spec : expected) {
      wanted.insert(spec.name);
      const auto& t = c.tensor(spec.name);
      VRT_FUZZ_CHECK(t.shape == spec.shape);
      VRT_FUZZ_CHECK(vrt::to_weight_dtype(t.dtype).has_value());
      const auto bytes = c.tensor_data(spec.name);
      VRT_FUZZ_CHECK(bytes.size() == static_cast<std::size_t>(t.elements()) *
                                         static_cast<std::size_t>(vrt::st_dtype_size(t.dtype)));
      for (const auto b : bytes) checksum += b;  // readable: ASan checks the mapping's bounds
    }
    for (const auto& name : c.unexpected_tensors()) VRT_FUZZ_CHECK(!wanted.count(name));
    VRT_FUZZ_CHECK(c.unexpected_tensors().size() + expected.size() == c.weights().tensors().size());
    const auto info = c.info();
    VRT_FUZZ_CHECK(info.tensor_count == c.weights().tensors().size());
    VRT_FUZZ_CHECK(info.tokenizer_vocab_size == c.config().vocab_size);
    VRT_FUZZ_CHECK(info.parameter_count >= info.expected_parameter_count);
    volatile std::uint64_t sink = checksum;
    (void)sink;
  } catch (const Error& e) {
    VRT_FUZZ_CHECK(e.status() == Status::bad_checkpoint || e.status() == Status::unsupported_model);
  }
  return 0;
}
