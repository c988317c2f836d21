// The C API (include/vrt.h) over the public C++ API (voxtral_rt/model.h, voxtral_rt/audio.h).
//
// Handles wrap the C++ objects: vrt_model holds the shared_ptr<const Model>, vrt_transcript
// holds a vrt::Transcript whose strings back every pointer handed out. Every entry point is
// noexcept and runs its body through guarded(), which catches everything, turns it into a
// vrt_status and records the message in a thread-local string for vrt_last_error()
// (style-anchors §7.4: no exception crosses the C boundary).
#include "vrt.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <cstdint>
#include <exception>
#include <iterator>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "voxtral_rt/audio.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/model.h"
#include "voxtral_rt/model_path.h"
#include "voxtral_rt/system.h"
#include "voxtral_rt/session.h"

struct vrt_model {
  std::shared_ptr<const vrt::Model> model;
  std::string schemes;  // vrt_model_schemes()
};

struct vrt_transcript {
  vrt::Transcript transcript;
};

struct vrt_session {
  std::unique_ptr<vrt::Session> session;
};

namespace {

// ---- vrt_status must mirror vrt::Status: same count, same order, same names. ----------------

struct CStatus {
  vrt_status value;
  std::string_view name;  // the C enumerator's spelling
};

#define VRT_C_STATUS(name) CStatus{name, #name}
constexpr CStatus kCStatuses[] = {
    VRT_C_STATUS(VRT_STATUS_OK),            VRT_C_STATUS(VRT_STATUS_INVALID_ARGUMENT),
    VRT_C_STATUS(VRT_STATUS_NOT_FOUND),     VRT_C_STATUS(VRT_STATUS_IO_ERROR),
    VRT_C_STATUS(VRT_STATUS_BAD_CHECKPOINT), VRT_C_STATUS(VRT_STATUS_UNSUPPORTED_MODEL),
    VRT_C_STATUS(VRT_STATUS_BAD_TOKENIZER), VRT_C_STATUS(VRT_STATUS_BAD_AUDIO),
    VRT_C_STATUS(VRT_STATUS_BAD_STATE),     VRT_C_STATUS(VRT_STATUS_OUT_OF_MEMORY),
    VRT_C_STATUS(VRT_STATUS_INTERNAL),
};
#undef VRT_C_STATUS

constexpr std::size_t kNumStatuses = 0
#define VRT_X(name) +1
    VRT_STATUS_LIST(VRT_X)
#undef VRT_X
    ;

// "VRT_STATUS_INVALID_ARGUMENT" names the same status as "invalid_argument".
constexpr bool same_name(std::string_view c_name, std::string_view cpp_name) {
  constexpr std::string_view prefix = "VRT_STATUS_";
  if (c_name.substr(0, prefix.size()) != prefix) return false;
  c_name.remove_prefix(prefix.size());
  if (c_name.size() != cpp_name.size()) return false;
  for (std::size_t i = 0; i < c_name.size(); ++i) {
    const char c = c_name[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != cpp_name[i]) return false;
  }
  return true;
}

constexpr bool statuses_agree() {
  if (std::size(kCStatuses) != kNumStatuses) return false;
  for (std::size_t i = 0; i < std::size(kCStatuses); ++i) {
    if (static_cast<std::size_t>(kCStatuses[i].value) != i) return false;
    if (!same_name(kCStatuses[i].name, vrt::status_name(static_cast<vrt::Status>(i)))) return false;
  }
  return true;
}
static_assert(statuses_agree(),
              "vrt_status in include/vrt.h must list vrt::Status (VRT_STATUS_LIST in voxtral_rt/error.h) "
              "in the same order with the same names");

// ---- Version: the header's macros must match the build (CMake's project version). ----------

#define VRT_CAPI_STR2(x) #x
#define VRT_CAPI_STR(x) VRT_CAPI_STR2(x)
constexpr const char* kVersion =
    VRT_CAPI_STR(VRT_VERSION_MAJOR) "." VRT_CAPI_STR(VRT_VERSION_MINOR) "." VRT_CAPI_STR(VRT_VERSION_PATCH);
#undef VRT_CAPI_STR
#undef VRT_CAPI_STR2
#ifdef VRT_BUILD_VERSION
static_assert(std::string_view(VRT_BUILD_VERSION) == std::string_view(kVersion),
              "VRT_VERSION_MAJOR/MINOR/PATCH in include/vrt.h must match project(VERSION) in CMakeLists.txt");
#endif

// ---- Errors ---------------------------------------------------------------------------------

thread_local std::string t_last_error;

// Records "<function>: <prefix><message>". Never throws: if the message cannot be built, a short
// fixed text (which fits the small-string buffer) takes its place.
void set_error(const char* function, const char* prefix, const char* message) noexcept {
  try {
    std::string m = function;
    m += ": ";
    m += prefix;
    m += message;
    t_last_error.swap(m);
  } catch (...) {
    t_last_error.clear();
    t_last_error.append("out of memory");
  }
}

vrt_status to_c(vrt::Status s) noexcept {
  const auto i = static_cast<std::size_t>(s);
  // An Error never carries `ok`; if one did, report a failure rather than success.
  if (i == 0 || i >= kNumStatuses) return VRT_STATUS_INTERNAL;
  return static_cast<vrt_status>(i);
}

// Runs `body` (returning vrt_status) and converts every exception.
template <class F>
vrt_status guarded(const char* function, F&& body) noexcept {
  try {
    return body();
  } catch (const vrt::Error& e) {
    set_error(function, "", e.what());
    return to_c(e.status());
  } catch (const std::bad_alloc&) {
    set_error(function, "", "out of memory");
    return VRT_STATUS_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    set_error(function, "internal error: ", e.what());
    return VRT_STATUS_INTERNAL;
  } catch (...) {
    set_error(function, "internal error: ", "unknown exception");
    return VRT_STATUS_INTERNAL;
  }
}

vrt_status fail(const char* function, vrt_status status, const char* message) noexcept {
  set_error(function, "", message);
  return status;
}

vrt_status index_error(const char* function, std::size_t index, std::size_t size, const char* what) noexcept {
  try {
    const std::string m = "index " + std::to_string(index) + " is out of range (the transcript has " +
                          std::to_string(size) + " " + what + ")";
    set_error(function, "", m.c_str());
  } catch (...) {
    set_error(function, "", "index out of range");
  }
  return VRT_STATUS_INVALID_ARGUMENT;
}

// ---- Versioned parameter structs (vrt.h, Conventions) ----------------------------------------

// The caller's struct read by its own `size`: fields past it keep `defaults`' values; bytes past
// ours must be zero (a newer caller's fields at their defaults).
template <class P>
P read_params(const P* given, P defaults, const char* what) {
  static_assert(offsetof(P, size) == 0 && sizeof(P::size) == 4);
  if (given == nullptr) return defaults;
  std::uint32_t size = 0;
  std::memcpy(&size, given, sizeof size);
  if (size < 8)
    throw vrt::Error(vrt::Status::invalid_argument,
                     std::string(what) + ".size is " + std::to_string(size) +
                         ": start from the *_default_params() value, which sets it to the struct's size");
  if (size > sizeof(P)) {
    const auto* extra = reinterpret_cast<const unsigned char*>(given) + sizeof(P);
    if (std::any_of(extra, extra + (size - sizeof(P)), [](unsigned char b) { return b != 0; }))
      throw vrt::Error(vrt::Status::invalid_argument,
                       std::string(what) + " sets fields this library (" + kVersion +
                           ") does not know: it needs a newer voxtral-rt");
  }
  std::memcpy(static_cast<void*>(&defaults), given, std::min<std::size_t>(size, sizeof(P)));
  defaults.size = sizeof(P);
  return defaults;
}

std::string name_or_empty(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

vrt_token to_c(const vrt::Token& t) noexcept {
  vrt_token c{};
  c.id = t.id;
  c.piece = t.piece.c_str();
  c.piece_len = t.piece.size();
  c.special = t.special ? 1 : 0;
  c.time_s = t.time_s;
  return c;
}

// Wraps a C callback call: a C++ exception escaping it becomes an internal error.
template <class F>
void call_c_callback(const char* which, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    throw vrt::Error(vrt::Status::internal,
                     std::string("the ") + which + " callback threw (C callbacks must not throw): " + e.what());
  } catch (...) {
    throw vrt::Error(vrt::Status::internal, std::string("the ") + which + " callback threw (C callbacks must not throw)");
  }
}

void check_verify_tokens(std::int32_t k) {
  if (k < 0 || k > vrt::SessionOptions::kMaxVerifyTokens)
    throw vrt::Error(vrt::Status::invalid_argument,
                     "verify_tokens must be 0 (default) to " + std::to_string(vrt::SessionOptions::kMaxVerifyTokens) +
                         ", got " + std::to_string(k));
}

vrt::TranscribeOptions to_options(const vrt_transcribe_params* params) {
  const vrt_transcribe_params p = read_params(params, vrt_transcribe_default_params(), "vrt_transcribe_params");
  check_verify_tokens(p.verify_tokens);
  if (p.delay_ms != 0) vrt::validate_delay_ms(p.delay_ms);
  if (p.max_new_tokens < -1)
    throw vrt::Error(vrt::Status::invalid_argument,
                     "max_new_tokens must be -1 (no cap) or >= 0, got " + std::to_string(p.max_new_tokens));
  vrt::TranscribeOptions o;
  o.delay_ms = p.delay_ms;
  o.max_new_tokens = p.max_new_tokens;
  o.verify_tokens = p.verify_tokens;
  if (p.on_token != nullptr) {
    o.on_token = [cb = p.on_token, user_data = p.user_data](const vrt::Token& t) {
      const vrt_token c = to_c(t);
      call_c_callback("on_token", [&] { cb(&c, user_data); });
    };
  }
  return o;
}

vrt_status run_transcription(const vrt_model* model, std::span<const float> audio,
                             const vrt_transcribe_params* params, vrt_transcript** out) {
  const vrt::TranscribeOptions options = to_options(params);
  auto result = std::make_unique<vrt_transcript>();
  result->transcript = model->model->transcribe(audio, options);
  *out = result.release();
  return VRT_STATUS_OK;
}

// A NaN or infinite sample would turn the log-mel, and so the whole transcript, into noise.
void check_finite(std::span<const float> samples) {
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (!std::isfinite(samples[i]))
      throw vrt::Error(vrt::Status::bad_audio, "sample " + std::to_string(i) + " is " +
                                                   (std::isnan(samples[i]) ? "NaN" : "infinite"));
  }
}

// `n_frames` interleaved frames, checked and mixed to mono as a decoded file is.
std::vector<float> mono_frames(const float* samples, std::size_t n_frames, std::int32_t channels) {
  const int max_channels = vrt::AudioLimits{}.max_channels;
  if (channels < 1 || channels > max_channels)
    throw vrt::Error(vrt::Status::invalid_argument,
                     "channels must be 1.." + std::to_string(max_channels) + ", got " + std::to_string(channels));
  const auto ch = static_cast<std::size_t>(channels);
  if (n_frames > std::numeric_limits<std::size_t>::max() / sizeof(float) / ch)
    throw vrt::Error(vrt::Status::invalid_argument, "n_frames is too large");
  if (samples == nullptr && n_frames != 0) throw vrt::Error(vrt::Status::invalid_argument, "samples is NULL");
  const std::span<const float> interleaved =
      n_frames != 0 ? std::span<const float>(samples, n_frames * ch) : std::span<const float>();
  check_finite(interleaved);
  return vrt::downmix_to_mono(interleaved, channels);
}

void feed_mono(vrt_session* session, std::span<const float> audio, std::int32_t sample_rate_hz) {
  if (sample_rate_hz == 0 || sample_rate_hz == vrt::kModelSampleRateHz) {
    session->session->feed(audio);
  } else {
    session->session->feed(audio, sample_rate_hz);
  }
}

template <class Getter>
std::int32_t model_getter(const char* function, const vrt_model* model, Getter&& get) noexcept {
  if (model == nullptr) {
    fail(function, VRT_STATUS_INVALID_ARGUMENT, "model is NULL");
    return 0;
  }
  return static_cast<std::int32_t>(get(*model->model));
}

}  // namespace

extern "C" {

const char* vrt_status_name(vrt_status status) {
  const int i = static_cast<int>(status);  // a C caller may pass any int
  if (i < 0 || static_cast<std::size_t>(i) >= kNumStatuses) return "unknown";
  return vrt::status_name(static_cast<vrt::Status>(i)).data();  // string literals: NUL-terminated
}

const char* vrt_version(void) { return kVersion; }

const char* vrt_system_info(void) {
  thread_local std::string info;
  try {
    std::string s = "voxtral-rt ";
    s += kVersion;
    s += "; isa ";
    try {
      s += vrt::kernel_table();
    } catch (const std::exception& e) {  // e.g. VRT_ISA names an ISA this CPU lacks
      s += "unavailable (";
      s += e.what();
      s += ")";
    }
    s += "; cpu ";
    const std::string features = vrt::cpu_features();
    s += features.empty() ? "baseline" : features;
    s += "; hardware threads ";
    s += std::to_string(std::max(1u, std::thread::hardware_concurrency()));
    info.swap(s);
  } catch (...) {
    return "voxtral-rt";  // out of memory: static storage, still never NULL
  }
  return info.c_str();
}

const char* vrt_last_error(void) { return t_last_error.c_str(); }

vrt_model_params vrt_model_default_params(void) {
  vrt_model_params p{};
  p.size = sizeof p;
  p.threads = 0;
  p.kv_cache = VRT_KV_CACHE_F32;
  p.group_size = 32;
  return p;
}

vrt_status vrt_model_load(const char* model_path, const vrt_model_params* params, vrt_model** out) {
  constexpr const char* fn = "vrt_model_load";
  if (out == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "out is NULL");
  *out = nullptr;
  if (model_path == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "model is NULL");
  return guarded(fn, [&] {
    const vrt_model_params p = read_params(params, vrt_model_default_params(), "vrt_model_params");
    if (p.threads < 0) throw vrt::Error(vrt::Status::invalid_argument, "threads must be >= 0 (0 = all cores)");
    if (p.kv_cache != VRT_KV_CACHE_F32 && p.kv_cache != VRT_KV_CACHE_F16)
      throw vrt::Error(vrt::Status::invalid_argument, "kv_cache must be VRT_KV_CACHE_F32 or VRT_KV_CACHE_F16");
    vrt::LoadOptionNames names;  // the schemes are names, as the CLI's flags
    names.threads = p.threads;
    names.group_size = p.group_size;
    names.qlinear = name_or_empty(p.qlinear);
    names.qlinear_encoder = name_or_empty(p.qlinear_encoder);
    names.qembedding = name_or_empty(p.qembedding);
    names.qhead = name_or_empty(p.qhead);
    auto model = std::make_unique<vrt_model>();
    vrt::LoadOptions options = vrt::load_options_from_names(names);
    options.kv_cache = p.kv_cache == VRT_KV_CACHE_F16 ? vrt::KvCacheType::f16 : vrt::KvCacheType::f32;
    model->model = vrt::Model::load(vrt::resolve_model_path(model_path), options);
    model->schemes = model->model->quant().describe();
    *out = model.release();
    return VRT_STATUS_OK;
  });
}

void vrt_model_free(vrt_model* model) { delete model; }

int32_t vrt_model_sample_rate(const vrt_model* model) {
  return model_getter("vrt_model_sample_rate", model,
                      [](const vrt::Model& m) { return m.config().encoder.audio.sampling_rate; });
}

int32_t vrt_model_vocab_size(const vrt_model* model) {
  return model_getter("vrt_model_vocab_size", model,
                      [](const vrt::Model& m) { return m.tokenizer().vocab_size(); });
}

int32_t vrt_model_default_delay_ms(const vrt_model* model) {
  return model_getter("vrt_model_default_delay_ms", model,
                      [](const vrt::Model& m) { return m.tokenizer().streaming().transcription_delay_ms; });
}

int32_t vrt_model_threads(const vrt_model* model) {
  return model_getter("vrt_model_threads", model, [](const vrt::Model& m) { return m.threads(); });
}

int32_t vrt_model_kv_cache(const vrt_model* model) {
  return model_getter("vrt_model_kv_cache", model, [](const vrt::Model& m) {
    return m.kv_cache() == vrt::KvCacheType::f16 ? VRT_KV_CACHE_F16 : VRT_KV_CACHE_F32;
  });
}

const char* vrt_model_schemes(const vrt_model* model) {
  if (model == nullptr) {
    fail("vrt_model_schemes", VRT_STATUS_INVALID_ARGUMENT, "model is NULL");
    return "";
  }
  return model->schemes.c_str();
}

void vrt_transcript_free(vrt_transcript* transcript) { delete transcript; }

const char* vrt_transcript_text(const vrt_transcript* transcript) {
  return transcript != nullptr ? transcript->transcript.text.c_str() : "";
}

size_t vrt_transcript_text_len(const vrt_transcript* transcript) {
  return transcript != nullptr ? transcript->transcript.text.size() : 0;
}

size_t vrt_transcript_n_tokens(const vrt_transcript* transcript) {
  return transcript != nullptr ? transcript->transcript.tokens.size() : 0;
}

size_t vrt_transcript_n_words(const vrt_transcript* transcript) {
  return transcript != nullptr ? transcript->transcript.words.size() : 0;
}

size_t vrt_transcript_n_segments(const vrt_transcript* transcript) {
  return transcript != nullptr ? transcript->transcript.segments.size() : 0;
}

vrt_status vrt_transcript_token(const vrt_transcript* transcript, size_t index, vrt_token* out) {
  constexpr const char* fn = "vrt_transcript_token";
  if (transcript == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "transcript is NULL");
  if (out == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "out is NULL");
  const auto& tokens = transcript->transcript.tokens;
  if (index >= tokens.size())
    return index_error(fn, index, tokens.size(), "tokens");
  *out = to_c(tokens[index]);
  return VRT_STATUS_OK;
}

vrt_status vrt_transcript_word(const vrt_transcript* transcript, size_t index, vrt_word* out) {
  constexpr const char* fn = "vrt_transcript_word";
  if (transcript == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "transcript is NULL");
  if (out == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "out is NULL");
  const auto& words = transcript->transcript.words;
  if (index >= words.size())
    return index_error(fn, index, words.size(), "words");
  const vrt::Word& w = words[index];
  out->text = w.text.c_str();
  out->text_len = w.text.size();
  out->start_s = w.start_s;
  out->end_s = w.end_s;
  return VRT_STATUS_OK;
}

vrt_status vrt_transcript_segment(const vrt_transcript* transcript, size_t index, vrt_segment* out) {
  constexpr const char* fn = "vrt_transcript_segment";
  if (transcript == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "transcript is NULL");
  if (out == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "out is NULL");
  const auto& segments = transcript->transcript.segments;
  if (index >= segments.size())
    return index_error(fn, index, segments.size(), "segments");
  const vrt::Segment& s = segments[index];
  out->text = s.text.c_str();
  out->text_len = s.text.size();
  out->start_s = s.start_s;
  out->end_s = s.end_s;
  return VRT_STATUS_OK;
}

vrt_status vrt_transcript_stats(const vrt_transcript* transcript, vrt_stats* out) {
  constexpr const char* fn = "vrt_transcript_stats";
  if (transcript == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "transcript is NULL");
  if (out == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "out is NULL");
  std::uint32_t size = 0;
  std::memcpy(&size, out, sizeof size);
  if (size < 8) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "out->size must be set to sizeof(vrt_stats)");
  const vrt::TranscribeStats& s = transcript->transcript.stats;
  vrt_stats c{};
  c.audio_s = s.audio_s;
  c.mel_ms = s.mel_ms;
  c.encoder_ms = s.encoder_ms;
  c.prefill_ms = s.prefill_ms;
  c.decode_ms = s.decode_ms;
  c.prefill_positions = s.prefill_positions;
  c.decode_steps = s.decode_steps;
  c.generated_tokens = s.generated_tokens;
  c.total_ms = s.total_ms;
  c.cached_positions = s.cached_positions;
  c.decode_passes = s.decode_passes;
  c.size = std::min<std::uint32_t>(size, sizeof c);
  // Only the caller's bytes: an older caller's struct is shorter (its size says how long).
  std::memcpy(static_cast<void*>(out), &c, c.size);
  return VRT_STATUS_OK;
}

vrt_transcribe_params vrt_transcribe_default_params(void) {
  vrt_transcribe_params p{};
  p.size = sizeof p;
  p.delay_ms = 0;
  p.max_new_tokens = -1;
  p.on_token = nullptr;
  p.user_data = nullptr;
  p.verify_tokens = 0;
  return p;
}

vrt_status vrt_transcribe(const vrt_model* model, const float* samples_16k, size_t n_samples,
                          const vrt_transcribe_params* params, vrt_transcript** out) {
  constexpr const char* fn = "vrt_transcribe";
  if (out == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "out is NULL");
  *out = nullptr;
  if (model == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "model is NULL");
  if (samples_16k == nullptr && n_samples != 0)
    return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "samples_16k is NULL but n_samples is not 0");
  return guarded(fn, [&] {
    const std::span<const float> audio =
        n_samples != 0 ? std::span<const float>(samples_16k, n_samples) : std::span<const float>();
    check_finite(audio);
    return run_transcription(model, audio, params, out);
  });
}

vrt_status vrt_transcribe_pcm(const vrt_model* model, const float* samples, size_t n_frames, int32_t channels,
                              int32_t sample_rate_hz, const vrt_transcribe_params* params, vrt_transcript** out) {
  constexpr const char* fn = "vrt_transcribe_pcm";
  if (out == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "out is NULL");
  *out = nullptr;
  if (model == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "model is NULL");
  return guarded(fn, [&] {
    const vrt::AudioLimits limits;
    if (sample_rate_hz < limits.min_sample_rate_hz || sample_rate_hz > limits.max_sample_rate_hz)
      throw vrt::Error(vrt::Status::invalid_argument, "sample_rate_hz must be " +
                                                          std::to_string(limits.min_sample_rate_hz) + ".." +
                                                          std::to_string(limits.max_sample_rate_hz) + ", got " +
                                                          std::to_string(sample_rate_hz));
    to_options(params);  // reject bad parameters before resampling
    std::vector<float> mono = mono_frames(samples, n_frames, channels);
    if (sample_rate_hz != vrt::kModelSampleRateHz) mono = vrt::resample(mono, sample_rate_hz, vrt::kModelSampleRateHz);
    return run_transcription(model, mono, params, out);
  });
}

vrt_status vrt_transcribe_memory(const vrt_model* model, const void* data, size_t n_bytes,
                                 const vrt_transcribe_params* params, vrt_transcript** out) {
  constexpr const char* fn = "vrt_transcribe_memory";
  if (out == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "out is NULL");
  *out = nullptr;
  if (model == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "model is NULL");
  if (data == nullptr && n_bytes != 0) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "data is NULL");
  return guarded(fn, [&] {
    to_options(params);
    const std::span<const std::uint8_t> bytes =
        n_bytes != 0 ? std::span<const std::uint8_t>(static_cast<const std::uint8_t*>(data), n_bytes)
                     : std::span<const std::uint8_t>();
    vrt::AudioBuffer audio = vrt::decode_audio_memory(bytes, "<memory>");
    vrt::resample_to_model_rate(audio);
    return run_transcription(model, audio.samples, params, out);
  });
}

vrt_status vrt_transcribe_file(const vrt_model* model, const char* path, const vrt_transcribe_params* params,
                               vrt_transcript** out) {
  constexpr const char* fn = "vrt_transcribe_file";
  if (out == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "out is NULL");
  *out = nullptr;
  if (model == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "model is NULL");
  if (path == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "path is NULL");
  return guarded(fn, [&] {
    to_options(params);  // reject bad parameters before decoding a possibly long file
    const vrt::AudioBuffer audio = vrt::load_audio_16k_mono(path);
    return run_transcription(model, audio.samples, params, out);
  });
}

}  // extern "C"

vrt_session_params vrt_session_default_params(void) {
  vrt_session_params p{};
  p.size = sizeof p;
  p.delay_ms = 0;
  p.stop_on_eos = 0;
  p.max_kept_tokens = -1;
  return p;
}

vrt_status vrt_session_new(const vrt_model* model, const vrt_session_params* params, vrt_session** out) {
  constexpr const char* fn = "vrt_session_new";
  if (out != nullptr) *out = nullptr;
  if (model == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "model is NULL");
  if (out == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "out is NULL");
  return guarded(fn, [&] {
    const vrt_session_params p = read_params(params, vrt_session_default_params(), "vrt_session_params");
    if (p.max_kept_tokens < -1)
      throw vrt::Error(vrt::Status::invalid_argument, "max_kept_tokens must be -1 (all) or >= 0");
    check_verify_tokens(p.verify_tokens);
    vrt::SessionOptions o;
    o.delay_ms = p.delay_ms;
    o.stop_on_eos = p.stop_on_eos != 0;
    o.max_kept_tokens = p.max_kept_tokens;
    o.verify_tokens = p.verify_tokens;
    if (p.on_token != nullptr)
      o.on_token = [cb = p.on_token, ud = p.user_data](const vrt::Token& t) {
        const vrt_token c = to_c(t);
        call_c_callback("on_token", [&] { cb(&c, ud); });
      };
    if (p.on_text != nullptr)
      o.on_text = [cb = p.on_text, ud = p.user_data](std::string_view text) {
        call_c_callback("on_text", [&] { cb(text.data(), text.size(), ud); });
      };
    auto s = std::make_unique<vrt_session>();
    s->session = model->model->new_session(o);
    *out = s.release();
    return VRT_STATUS_OK;
  });
}

void vrt_session_free(vrt_session* session) { delete session; }

vrt_status vrt_session_feed(vrt_session* session, const float* samples, size_t n_samples, int32_t sample_rate_hz) {
  constexpr const char* fn = "vrt_session_feed";
  if (session == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "session is NULL");
  if (samples == nullptr && n_samples > 0) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "samples is NULL");
  if (sample_rate_hz < 0) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "sample_rate_hz is negative");
  return guarded(fn, [&] {
    const std::span<const float> audio(samples, n_samples);
    check_finite(audio);
    feed_mono(session, audio, sample_rate_hz);
    return VRT_STATUS_OK;
  });
}

vrt_status vrt_session_feed_pcm(vrt_session* session, const float* samples, size_t n_frames, int32_t channels,
                                int32_t sample_rate_hz) {
  constexpr const char* fn = "vrt_session_feed_pcm";
  if (session == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "session is NULL");
  if (sample_rate_hz < 0) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "sample_rate_hz is negative");
  return guarded(fn, [&] {
    const std::vector<float> mono = mono_frames(samples, n_frames, channels);
    feed_mono(session, mono, sample_rate_hz);
    return VRT_STATUS_OK;
  });
}

vrt_status vrt_session_flush(vrt_session* session) {
  if (session == nullptr) return fail("vrt_session_flush", VRT_STATUS_INVALID_ARGUMENT, "session is NULL");
  return guarded("vrt_session_flush", [&] {
    session->session->flush();
    return VRT_STATUS_OK;
  });
}

vrt_status vrt_session_finish(vrt_session* session, vrt_transcript** out) {
  constexpr const char* fn = "vrt_session_finish";
  if (out != nullptr) *out = nullptr;
  if (session == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "session is NULL");
  if (out == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "out is NULL");
  return guarded(fn, [&] {
    auto t = std::make_unique<vrt_transcript>();
    t->transcript = session->session->finish();
    *out = t.release();
    return VRT_STATUS_OK;
  });
}

vrt_status vrt_session_snapshot(const vrt_session* session, vrt_transcript** out) {
  constexpr const char* fn = "vrt_session_snapshot";
  if (out != nullptr) *out = nullptr;
  if (session == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "session is NULL");
  if (out == nullptr) return fail(fn, VRT_STATUS_INVALID_ARGUMENT, "out is NULL");
  return guarded(fn, [&] {
    auto t = std::make_unique<vrt_transcript>();
    t->transcript = session->session->snapshot();
    *out = t.release();
    return VRT_STATUS_OK;
  });
}

vrt_status vrt_session_reset(vrt_session* session) {
  if (session == nullptr) return fail("vrt_session_reset", VRT_STATUS_INVALID_ARGUMENT, "session is NULL");
  return guarded("vrt_session_reset", [&] {
    session->session->reset();
    return VRT_STATUS_OK;
  });
}
