/* voxtral-rt C API: a small, stable C99 surface over the C++ API (voxtral_rt/model.h), for
 * bindings (Python ctypes/cffi, Rust, Go, ...).
 *
 * Usage (whisper.cpp style; error handling shortened):
 *
 *     #include "vrt.h"
 *
 *     vrt_model_params mp = vrt_model_default_params();
 *     mp.threads = 4;
 *     vrt_model* model = NULL;
 *     if (vrt_model_load("/path/to/Voxtral-Mini-4B-Realtime-2602", &mp, &model) != VRT_STATUS_OK) {
 *         fprintf(stderr, "load failed: %s\n", vrt_last_error());
 *         return 1;
 *     }
 *
 *     vrt_transcribe_params tp = vrt_transcribe_default_params();
 *     vrt_transcript* t = NULL;
 *     vrt_status st = vrt_transcribe_file(model, "speech.wav", &tp, &t);
 *     if (st != VRT_STATUS_OK) {
 *         fprintf(stderr, "%s: %s\n", vrt_status_name(st), vrt_last_error());
 *     } else {
 *         printf("%s\n", vrt_transcript_text(t));
 *         for (size_t i = 0; i < vrt_transcript_n_words(t); ++i) {
 *             vrt_word w;
 *             vrt_transcript_word(t, i, &w);
 *             printf("%8.2f %8.2f %s\n", w.start_s, w.end_s, w.text);
 *         }
 *         vrt_transcript_free(t);
 *     }
 *     vrt_model_free(model);
 *
 * Conventions
 *  - Every fallible call returns a vrt_status; results come back through out-parameters. On
 *    failure an out handle is set to NULL (when the out pointer itself is not NULL), nothing is
 *    allocated, and vrt_last_error() describes what went wrong.
 *  - NULL handles and NULL out-pointers give VRT_STATUS_INVALID_ARGUMENT, never a crash.
 *  - No C++ exception ever crosses this boundary; the library never aborts or exits because of
 *    input, and never writes to stdout.
 *  - Strings are UTF-8 (token pieces: raw bytes, see vrt_token) and NUL-terminated. Times are in
 *    seconds of the input audio.
 *  - Ownership: every `const char*` and every pointer inside a struct filled by this API is owned
 *    by the library; the caller never frees it. Its lifetime is stated at each function. Handles
 *    (vrt_model*, vrt_transcript*) are owned by the caller once returned and are released with
 *    the matching *_free function.
 *  - Parameter structs are versioned: each starts with `size`, which vrt_*_default_params()
 *    sets to sizeof the struct in the header the caller compiled against. Fields are only ever
 *    appended (never removed, reordered or retyped), so the library reads the caller's first
 *    `size` bytes and gives every field past them its default: a program built against an older
 *    header keeps working with a newer library. A size larger than the library's own is
 *    accepted when every byte it does not know is zero (fields a newer caller left at their
 *    defaults) and refused otherwise with VRT_STATUS_INVALID_ARGUMENT, as is a size below 8.
 *    vrt_stats, an output, follows the same rule: the library fills the caller's `size` bytes.
 *  - Threads: a vrt_model is immutable after loading and may be used from several threads at
 *    once (concurrent transcriptions on one model share its compute thread pool one at a time).
 *    A vrt_transcript is immutable; its accessors may be called from several threads at once.
 */
#ifndef VRT_H
#define VRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library version these declarations belong to (vrt_version() gives the built one). */
#define VRT_VERSION_MAJOR 0
#define VRT_VERSION_MINOR 2
#define VRT_VERSION_PATCH 0

/* ---------------------------------------------------------------------------------------------
 * Status codes. Mirrors vrt::Status (voxtral_rt/error.h), value for value and in the same order;
 * the library's build checks that the two lists agree.
 */
typedef enum vrt_status {
  VRT_STATUS_OK = 0,                /* success */
  VRT_STATUS_INVALID_ARGUMENT = 1,  /* an argument outside the documented contract (NULL, range) */
  VRT_STATUS_NOT_FOUND = 2,         /* a file or directory does not exist */
  VRT_STATUS_IO_ERROR = 3,          /* the OS refused a read, write or mmap */
  VRT_STATUS_BAD_CHECKPOINT = 4,    /* a checkpoint file is corrupt or inconsistent */
  VRT_STATUS_UNSUPPORTED_MODEL = 5, /* a well-formed checkpoint this engine does not support */
  VRT_STATUS_BAD_TOKENIZER = 6,     /* tekken.json is corrupt or violates its invariants */
  VRT_STATUS_BAD_AUDIO = 7,         /* audio that cannot be decoded or violates the limits */
  VRT_STATUS_BAD_STATE = 8,         /* a call made in the wrong order */
  VRT_STATUS_OUT_OF_MEMORY = 9,     /* an allocation failed or would exceed a limit */
  VRT_STATUS_INTERNAL = 10          /* a bug: please report it (with vrt_last_error()) */
} vrt_status;

/* The status's name in lower case, as the C++ API spells it: "ok", "invalid_argument", ...;
 * "unknown" for a value outside the enum. Static storage: never NULL, never freed. */
const char* vrt_status_name(vrt_status status);

/* The library version, e.g. "0.2.0". Static storage: never NULL, never freed. */
const char* vrt_version(void);

/* One line describing the build and the machine, e.g.
 * "voxtral-rt 0.2.0; isa avx512; cpu avx avx2 fma ...; hardware threads 16".
 * Never NULL. Owned by the library; valid until the next vrt_system_info() call in the same
 * thread, or until the thread exits. */
const char* vrt_system_info(void);

/* The message of the last failed call made by this thread ("" if none has failed yet). A
 * successful call leaves it unchanged. Never NULL. Owned by the library; valid until the next
 * failing call in the same thread, or until the thread exits. Copy it to keep it. */
const char* vrt_last_error(void);

/* ---------------------------------------------------------------------------------------------
 * Model
 */

/* A loaded checkpoint (opaque). Immutable; shareable between threads. */
typedef struct vrt_model vrt_model;

/* Storage of the attention key/value caches: f16 halves their memory and reads (attention math
 * stays fp32). */
typedef enum vrt_kv_cache { VRT_KV_CACHE_F32 = 0, VRT_KV_CACHE_F16 = 1 } vrt_kv_cache;

/* Weight schemes are named as the CLI's --qlinear ...: "native" (as stored), "f32", "bf16",
 * "8w", "4w", "8da8w", "8da4w" (the last two not for the embedding). They apply when an original
 * checkpoint is loaded; a packed .vxrt file carries its own and refuses others. */
typedef struct vrt_model_params {
  uint32_t size;               /* sizeof(vrt_model_params): set by vrt_model_default_params() */
  int32_t threads;             /* compute threads; 0 = all cores (default); negative is invalid */
  int32_t kv_cache;            /* a vrt_kv_cache; default VRT_KV_CACHE_F32 */
  int32_t group_size;          /* 4-bit group size: 32 (default), 64, 128 or 256 */
  const char* qlinear;         /* decoder linears; NULL or "" = native */
  const char* qlinear_encoder; /* encoder and adapter linears; NULL or "" = as qlinear */
  const char* qembedding;      /* token embedding table; NULL or "" = native */
  const char* qhead;           /* output head; NULL or "" = as qlinear */
} vrt_model_params;

/* The defaults, by value. Start from these and change fields, so that fields added later keep
 * their defaults. */
vrt_model_params vrt_model_default_params(void);

/* Loads a model: a checkpoint directory (consolidated.safetensors, params.json, tekken.json), a
 * packed .vxrt file, or a Hugging Face repo id ("mistralai/Voxtral-Mini-4B-Realtime-2602")
 * found in the local Hugging Face cache or voxtral-rt's model folder (nothing is downloaded).
 * The weights stay memory-mapped while the model lives. `params` may be NULL (defaults); it is
 * only read during the call. On success *out is a new model owned by the caller, to be
 * released with vrt_model_free(). Fails with VRT_STATUS_NOT_FOUND for a missing model (the
 * message says where it looked and how to get it), BAD_CHECKPOINT / UNSUPPORTED_MODEL /
 * BAD_TOKENIZER for bad contents, INVALID_ARGUMENT for NULL `model` / `out`, negative threads,
 * an unknown scheme or cache type, a bad group size or a bad params size. */
vrt_status vrt_model_load(const char* model, const vrt_model_params* params, vrt_model** out);

/* Releases a model. NULL is allowed (no-op). Transcripts made from it stay valid (they own
 * their data). The caller must make sure no other thread is still using the model. */
void vrt_model_free(vrt_model* model);

/* Small getters. A NULL model gives 0 (and sets vrt_last_error()). */
int32_t vrt_model_sample_rate(const vrt_model* model);      /* input rate in Hz: 16000 */
int32_t vrt_model_vocab_size(const vrt_model* model);       /* tokenizer ids: specials + text */
int32_t vrt_model_default_delay_ms(const vrt_model* model); /* tekken.json's delay: 480 */
int32_t vrt_model_threads(const vrt_model* model);          /* compute threads in use */
int32_t vrt_model_kv_cache(const vrt_model* model);         /* the vrt_kv_cache in use */

/* The weight schemes in use, e.g. "linear=8da4w encoder=8da4w embedding=8w head=8da4w group=32"
 * ("" for a NULL model). Owned by the model; valid while it lives. */
const char* vrt_model_schemes(const vrt_model* model);

/* ---------------------------------------------------------------------------------------------
 * Transcription results
 */

/* One generated token. Filled by vrt_transcript_token() and passed to the on_token callback. */
typedef struct vrt_token {
  int32_t id;        /* tokenizer id */
  /* The bytes of a text token (possibly a fragment of a UTF-8 character, and may contain any
   * byte, NUL included: use piece_len), or the name of a special token such as "</s>". Always
   * followed by a NUL byte. Owned by the library: see the function that filled the struct for
   * how long it lives. */
  const char* piece;
  size_t piece_len;  /* bytes in piece, without the terminating NUL */
  int32_t special;   /* 1 for a special token (never part of the text), 0 for a text token */
  double time_s;     /* the audio time this token refers to (docs/TIMESTAMPS.md) */
} vrt_token;

/* One word: it starts at a text piece with a leading space or after [STREAMING_WORD]. Its
 * timing follows docs/TIMESTAMPS.md (the end is the time of its first text token). */
typedef struct vrt_word {
  const char* text; /* UTF-8, leading space removed, NUL-terminated; owned by the transcript */
  size_t text_len;  /* bytes in text, without the terminating NUL */
  double start_s;
  double end_s;
} vrt_word;

/* A subtitle line: a run of words closed by . ! ? or a pause of 1 s or more, or when the text
 * would pass 84 characters. */
typedef struct vrt_segment {
  const char* text; /* UTF-8, NUL-terminated; owned by the transcript */
  size_t text_len;  /* bytes in text, without the terminating NUL */
  double start_s;
  double end_s;
} vrt_segment;

/* Timings and counts of one transcription. */
typedef struct vrt_stats {
  uint32_t size;              /* set by the caller: sizeof(vrt_stats) (see Conventions) */
  double audio_s;             /* length of the input audio */
  double mel_ms;              /* log-mel front end */
  double encoder_ms;          /* conv stem + encoder layers + adapter */
  double prefill_ms;          /* the prompt positions, one batched pass */
  double decode_ms;           /* all single-token decoder steps */
  int64_t prefill_positions;
  int64_t decode_steps;
  int64_t generated_tokens;
  double total_ms;            /* wall time of the whole call */
  int64_t cached_positions;   /* prompt positions taken from the model's prefix cache */
  int64_t decode_passes;      /* decoder passes for decode_steps (fewer with verification) */
} vrt_stats;

/* The result of one transcription (opaque, immutable). Owned by the caller; release it with
 * vrt_transcript_free(). Independent of the model: it may outlive it. */
typedef struct vrt_transcript vrt_transcript;

/* Releases a transcript and every string it handed out. NULL is allowed (no-op). */
void vrt_transcript_free(vrt_transcript* transcript);

/* The decoded text (special tokens dropped, invalid UTF-8 replaced by U+FFFD), as the model
 * wrote it. Never NULL ("" for a NULL transcript). Owned by the transcript; valid until
 * vrt_transcript_free(). vrt_transcript_text_len() gives its length in bytes (the text may in
 * principle hold a U+0000 character). */
const char* vrt_transcript_text(const vrt_transcript* transcript);
size_t vrt_transcript_text_len(const vrt_transcript* transcript);

/* Counts; 0 for a NULL transcript. */
size_t vrt_transcript_n_tokens(const vrt_transcript* transcript);
size_t vrt_transcript_n_words(const vrt_transcript* transcript);
size_t vrt_transcript_n_segments(const vrt_transcript* transcript);

/* Item `index` (0-based). Fails with VRT_STATUS_INVALID_ARGUMENT for a NULL transcript or out,
 * or an index past the end (*out is then left unchanged). The strings the struct points to are
 * owned by the transcript and valid until vrt_transcript_free(). */
vrt_status vrt_transcript_token(const vrt_transcript* transcript, size_t index, vrt_token* out);
vrt_status vrt_transcript_word(const vrt_transcript* transcript, size_t index, vrt_word* out);
vrt_status vrt_transcript_segment(const vrt_transcript* transcript, size_t index, vrt_segment* out);
/* Fills the first out->size bytes of *out (set out->size = sizeof(vrt_stats) first). */
vrt_status vrt_transcript_stats(const vrt_transcript* transcript, vrt_stats* out);

/* ---------------------------------------------------------------------------------------------
 * Transcription
 */

/* Called for each generated token as soon as it is decided, in order, on the thread that called
 * vrt_transcribe*(). `token` and the piece it points to are valid only during the call: copy
 * what you need. `user_data` is vrt_transcribe_params.user_data, passed through untouched.
 * The callback must return normally: it must not throw (it is a C function; a C++ exception
 * escaping it anyway is caught and reported as VRT_STATUS_INTERNAL), must not longjmp out, and
 * must not free the model that is transcribing. */
typedef void (*vrt_token_callback)(const vrt_token* token, void* user_data);

typedef struct vrt_transcribe_params {
  uint32_t size; /* sizeof(vrt_transcribe_params): set by vrt_transcribe_default_params() */
  /* Transcription delay: 0 = the checkpoint's default (vrt_model_default_delay_ms(), 480).
   * Otherwise a multiple of 80 from 80 to 1200, or 2400 (INVALID_ARGUMENT otherwise). */
  int32_t delay_ms;
  /* Cap on generated tokens (the EOS token counts); -1 = no cap (until EOS or the end of the
   * audio). 0 gives an empty transcript. Values below -1 are INVALID_ARGUMENT. */
  int64_t max_new_tokens;
  vrt_token_callback on_token; /* may be NULL */
  void* user_data;             /* passed to on_token; never dereferenced by the library */
  /* Positions checked per decoder pass (verification decoding: the output is greedy decoding's
   * whatever the value): 0 = the default (4), 1 = one position per pass, at most 16. */
  int32_t verify_tokens;
} vrt_transcribe_params;

/* The defaults, by value: delay_ms 0, max_new_tokens -1, no callback, verify_tokens 0. */
vrt_transcribe_params vrt_transcribe_default_params(void);

/* Transcribes 16 kHz mono float samples (nominally in [-1, 1]). `samples_16k` may be NULL only
 * when n_samples is 0; it is only read during the call. `params` may be NULL (defaults). On
 * success *out is a new transcript owned by the caller (vrt_transcript_free()). Fails with
 * INVALID_ARGUMENT for NULL model/out, NULL samples with n_samples > 0 or bad params, and
 * BAD_AUDIO for a NaN or infinite sample. */
vrt_status vrt_transcribe(const vrt_model* model, const float* samples_16k, size_t n_samples,
                          const vrt_transcribe_params* params, vrt_transcript** out);

/* Decodes an audio file (WAV/RF64, FLAC, Ogg Vorbis/Opus, MP3), mixes it to mono, resamples it
 * to 16 kHz and transcribes it, as vrt_transcribe(). Fails with NOT_FOUND for a missing file,
 * BAD_AUDIO for a file that cannot be decoded or breaks the audio limits (4 GiB, 4 hours,
 * 8-192 kHz, 1-8 channels), IO_ERROR if it cannot be read. */
vrt_status vrt_transcribe_file(const vrt_model* model, const char* path,
                               const vrt_transcribe_params* params, vrt_transcript** out);

/* Transcribes the bytes of an audio file held in memory (any format vrt_transcribe_file()
 * reads), with the same decoding, limits and errors. `data` is only read during the call. */
vrt_status vrt_transcribe_memory(const vrt_model* model, const void* data, size_t n_bytes,
                                 const vrt_transcribe_params* params, vrt_transcript** out);

/* Transcribes float samples at any rate: `n_frames` frames of `channels` interleaved samples
 * (1 to 8 channels) at `sample_rate_hz` (8000 to 192000). Channels are mixed and the rate is
 * converted exactly as vrt_transcribe_file() does for a file, so the same audio gives the same
 * transcript either way. Non-finite samples are BAD_AUDIO; a bad channel count or rate, or
 * NULL samples with n_frames > 0, INVALID_ARGUMENT. */
vrt_status vrt_transcribe_pcm(const vrt_model* model, const float* samples, size_t n_frames, int32_t channels,
                              int32_t sample_rate_hz, const vrt_transcribe_params* params, vrt_transcript** out);

/* ---- Streaming sessions ---------------------------------------------------------------------
 * A session transcribes a live stream: feed audio as it arrives, text comes out through the
 * callbacks as it is decided. Fed the same audio, a session gives the tokens of vrt_transcribe()
 * whatever the chunk sizes. A session keeps its model alive (vrt_model_free() may come first)
 * and must be used by one thread at a time; several sessions may share one model. */
typedef struct vrt_session vrt_session;

/* Called with each piece of newly decided text; never splits a UTF-8 character. `text` (not
 * NUL-terminated) is valid only during the call. Same rules as vrt_token_callback. */
typedef void (*vrt_text_callback)(const char* text, size_t len, void* user_data);

typedef struct vrt_session_params {
  uint32_t size;             /* sizeof(vrt_session_params): set by vrt_session_default_params() */
  int32_t delay_ms;          /* as vrt_transcribe_params.delay_ms */
  int32_t stop_on_eos;       /* 0: a live stream goes on after EOS (default); 1: stop generating */
  int64_t max_kept_tokens;   /* tokens kept for snapshots/finish; -1 = all. Bound it for endless streams */
  vrt_token_callback on_token; /* may be NULL */
  vrt_text_callback on_text;   /* may be NULL */
  void* user_data;             /* passed to both callbacks */
  int32_t verify_tokens;       /* as vrt_transcribe_params.verify_tokens */
} vrt_session_params;

/* The defaults, by value: delay_ms 0, stop_on_eos 0, max_kept_tokens -1, no callbacks,
 * verify_tokens 0. */
vrt_session_params vrt_session_default_params(void);

/* On success *out is a new session owned by the caller (vrt_session_free()). */
vrt_status vrt_session_new(const vrt_model* model, const vrt_session_params* params, vrt_session** out);
void vrt_session_free(vrt_session* session); /* NULL is allowed */

/* Appends mono samples at `sample_rate_hz` (0 means 16000; other rates are resampled and must
 * not change within a stream) and runs every step they complete; callbacks fire during the
 * call. BAD_STATE after vrt_session_finish() until vrt_session_reset(); BAD_AUDIO for a NaN or
 * infinite sample (nothing of the chunk is taken then). */
vrt_status vrt_session_feed(vrt_session* session, const float* samples, size_t n_samples, int32_t sample_rate_hz);
/* The same for `n_frames` frames of `channels` interleaved samples (1 to 8), mixed to mono as
 * vrt_transcribe_pcm() mixes them. */
vrt_status vrt_session_feed_pcm(vrt_session* session, const float* samples, size_t n_frames, int32_t channels,
                                int32_t sample_rate_hz);
/* Appends the end-of-stream silence so that everything said so far is decided; the stream goes on. */
vrt_status vrt_session_flush(vrt_session* session);
/* Ends the stream; *out receives the whole transcript (owned by the caller). */
vrt_status vrt_session_finish(vrt_session* session, vrt_transcript** out);
/* The transcript so far (owned by the caller). */
vrt_status vrt_session_snapshot(const vrt_session* session, vrt_transcript** out);
/* Starts a new stream with the same parameters. */
vrt_status vrt_session_reset(vrt_session* session);

#ifdef __cplusplus
}
#endif

#endif /* VRT_H */
