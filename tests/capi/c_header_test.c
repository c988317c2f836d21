/* The C API from C: this file includes vrt.h and nothing else, and is compiled as C99 with
 * -pedantic-errors, so the header stays self-contained C (style-anchors §7.5, whisper.cpp
 * tests/test-c.c). capi_test.cpp calls the function below with a synthetic checkpoint. */
#include "vrt.h"

/* Returns 0 when every check passes, otherwise the line of the first failed check. */
int vrt_c_header_test(const char* model_dir, const char* audio_path);

#define MAX_TOKENS 4096

typedef struct collected {
  int magic;
  size_t n;
  int32_t ids[MAX_TOKENS];
  size_t piece_len[MAX_TOKENS];
} collected;

static void on_token(const vrt_token* token, void* user_data) {
  collected* c = (collected*)user_data;
  if (c->magic != 0x5eed) return; /* not our pointer: the test then sees n == 0 */
  if (c->n < MAX_TOKENS) {
    c->ids[c->n] = token->id;
    c->piece_len[c->n] = token->piece_len;
  }
  c->n++;
}

static int str_eq(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

static size_t str_len(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

#define CHECK(cond)      \
  do {                   \
    if (!(cond)) {       \
      failed = __LINE__; \
      goto done;         \
    }                    \
  } while (0)

static collected g_collected; /* large: not on the stack */

int vrt_c_header_test(const char* model_dir, const char* audio_path) {
  int failed = 0;
  vrt_model* model = NULL;
  vrt_transcript* t = NULL;
  vrt_model_params mp;
  vrt_transcribe_params tp;
  vrt_token tok;
  vrt_word word;
  vrt_segment seg;
  vrt_stats stats;
  size_t i;

  CHECK(str_eq(vrt_status_name(VRT_STATUS_OK), "ok"));
  CHECK(str_eq(vrt_status_name(VRT_STATUS_BAD_AUDIO), "bad_audio"));
  CHECK(str_eq(vrt_status_name((vrt_status)99), "unknown"));
  CHECK(str_eq(vrt_status_name((vrt_status)-1), "unknown"));
  CHECK(vrt_version() != NULL && vrt_system_info() != NULL && vrt_last_error() != NULL);

  mp = vrt_model_default_params();
  CHECK(mp.threads == 0);
  mp.threads = 1;
  CHECK(vrt_model_load(model_dir, &mp, NULL) == VRT_STATUS_INVALID_ARGUMENT);
  CHECK(vrt_model_load(model_dir, &mp, &model) == VRT_STATUS_OK);
  CHECK(model != NULL);
  CHECK(vrt_model_sample_rate(model) == 16000);
  CHECK(vrt_model_threads(model) == 1);
  CHECK(vrt_model_default_delay_ms(model) == 480);

  tp = vrt_transcribe_default_params();
  CHECK(tp.delay_ms == 0 && tp.max_new_tokens == -1 && tp.on_token == NULL && tp.user_data == NULL);
  g_collected.magic = 0x5eed;
  g_collected.n = 0;
  tp.on_token = on_token;
  tp.user_data = &g_collected;
  CHECK(vrt_transcribe_file(model, audio_path, &tp, &t) == VRT_STATUS_OK);
  CHECK(t != NULL);

  CHECK(vrt_transcript_n_tokens(t) > 0);
  CHECK(vrt_transcript_n_tokens(t) == g_collected.n);
  CHECK(g_collected.n <= MAX_TOKENS);
  for (i = 0; i < vrt_transcript_n_tokens(t); ++i) {
    CHECK(vrt_transcript_token(t, i, &tok) == VRT_STATUS_OK);
    CHECK(tok.id == g_collected.ids[i]);
    CHECK(tok.piece != NULL && tok.piece_len == g_collected.piece_len[i]);
    CHECK(tok.piece[tok.piece_len] == '\0');
    CHECK(tok.special == 0 || tok.special == 1);
  }
  CHECK(vrt_transcript_token(t, vrt_transcript_n_tokens(t), &tok) == VRT_STATUS_INVALID_ARGUMENT);
  for (i = 0; i < vrt_transcript_n_words(t); ++i) {
    CHECK(vrt_transcript_word(t, i, &word) == VRT_STATUS_OK);
    CHECK(word.text != NULL && str_len(word.text) == word.text_len);
    CHECK(word.start_s <= word.end_s);
  }
  for (i = 0; i < vrt_transcript_n_segments(t); ++i) {
    CHECK(vrt_transcript_segment(t, i, &seg) == VRT_STATUS_OK);
    CHECK(seg.text != NULL && str_len(seg.text) == seg.text_len);
  }
  stats.size = sizeof stats;
  CHECK(vrt_transcript_stats(t, &stats) == VRT_STATUS_OK);
  CHECK(stats.generated_tokens == (int64_t)vrt_transcript_n_tokens(t));
  CHECK(stats.audio_s > 0.0);
  CHECK(str_len(vrt_transcript_text(t)) == vrt_transcript_text_len(t));

  /* The transcript outlives the model. */
  vrt_model_free(model);
  model = NULL;
  CHECK(vrt_transcript_text(t) != NULL);
  CHECK(vrt_transcript_token(t, 0, &tok) == VRT_STATUS_OK);

done:
  vrt_transcript_free(t);
  vrt_model_free(model);
  return failed;
}
