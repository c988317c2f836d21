// The weight schemes end to end on tiny synthetic checkpoints.
//  * f32 and bf16 (of a BF16 checkpoint) hold the same values as native: the same tokens.
//  * Quantized schemes are compared with the native fp32 path on the same inputs (teacher
//    forcing with the native tokens): relative L2 error of every step's logits and top-1
//    agreement, against bounds stated below.
// Bounds. A weight rounded to a step s has error uniform in +-s/2, i.e. rms s / sqrt(12) per
// weight. For roughly Gaussian weights of std sigma: 8-bit per channel, s = max|W| / 127 with
// max|W| ~ 3.5 sigma over 64..256 columns: rms ~0.8% of sigma; int8 activations add about as
// much. 4-bit groups of 32, s = max / 7 with max ~2.5 sigma: ~10% of sigma. Such independent
// errors add in quadrature through the 2 + 2 layers, the adapter and the head (about ten
// matrices on the path): expected logit errors ~2-3% (8-bit) and ~30% (4-bit) for a model
// that neither grows nor shrinks perturbations. The synthetic model needs weights of 1.6 /
// sqrt(fan_in) to write varied tokens, which makes each layer expand perturbations: measured
// errors are ~2x those estimates (8-bit max ~4-8%, 4-bit max ~60-70%, seed 7). Bounds: max
// relative error 10% (8-bit) / 85% (4-bit); top-1 agreement >= 90% (8-bit) / 45% (4-bit).
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "synth.h"
#include "test_util.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/model.h"

namespace vrt {
namespace {

struct Outcome {
  Transcript t;
  StageDump dump;
};

Outcome transcribe(const std::string& dir, const QuantOptions& q, const std::vector<float>& audio,
               const std::vector<int>& force = {}) {
  LoadOptions lo;
  lo.threads = 2;
  lo.quant = q;
  const auto model = Model::load(dir, lo);
  Outcome r;
  TranscribeOptions o;
  o.dump = &r.dump;
  o.force_tokens = force;
  r.t = model->transcribe(audio, o);
  return r;
}

class SchemesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    synth::SynthOptions so;
    so.preset = "tiny";
    so.seed = 7;
    so.weight_scale = 1.6;  // varied tokens (at 1.0 it writes mostly padding)
    synth::write_checkpoint(dir_->file("model"), so);
    audio_ = new std::vector<float>(
        load_audio_16k_mono(test::shared_data("audio/librispeech_dev-clean_8297-275156-0000.wav")).samples);
    native_ = new Outcome(transcribe(dir_->file("model"), {}, *audio_));
  }
  static void TearDownTestSuite() {
    delete native_;
    delete audio_;
    delete dir_;
  }
  static test::TempDir* dir_;
  static std::vector<float>* audio_;
  static Outcome* native_;
};
test::TempDir* SchemesTest::dir_ = nullptr;
std::vector<float>* SchemesTest::audio_ = nullptr;
Outcome* SchemesTest::native_ = nullptr;

// Teacher-forced logits of `r` against the native run's: per step, the relative L2 error of
// the logit vector; and the share of steps whose top-1 token is the forced (native) one.
struct LogitError {
  double max = 0, mean = 0, top1 = 0;
};
LogitError logit_error(const Outcome& native, const Outcome& r, const std::vector<int>& forced) {
  const std::size_t vocab = native.dump.logits.size() / forced.size();
  LogitError e;
  std::size_t agree = 0;
  for (std::size_t k = 0; k < forced.size(); ++k) {
    double num = 0, den = 0;
    for (std::size_t v = 0; v < vocab; ++v) {
      const double a = native.dump.logits[k * vocab + v], b = r.dump.logits[k * vocab + v];
      num += (a - b) * (a - b);
      den += a * a;
    }
    const double rel = std::sqrt(num / den);
    e.max = std::max(e.max, rel);
    e.mean += rel;
    agree += r.t.tokens[k].id == forced[k];
  }
  e.mean /= static_cast<double>(forced.size());
  e.top1 = static_cast<double>(agree) / static_cast<double>(forced.size());
  return e;
}

TEST_F(SchemesTest, FloatSchemesGiveTheNativeTokens) {
  ASSERT_GT(native_->t.tokens.size(), 50u);
  std::set<int> distinct;
  for (const auto& k : native_->t.tokens) distinct.insert(k.id);
  ASSERT_GE(distinct.size(), 10u) << "a test of agreement needs varied tokens";
  for (const WeightScheme s : {WeightScheme::f32, WeightScheme::bf16}) {
    QuantOptions q;
    q.linear = s;
    q.embedding = s;
    const Outcome r = transcribe(dir_->file("model"), q, *audio_);
    EXPECT_EQ(test::token_ids(r.t), test::token_ids(native_->t)) << weight_scheme_name(s);
    EXPECT_EQ(r.dump.logits, native_->dump.logits) << weight_scheme_name(s);  // same values, same kernels
  }
}

struct QuantCase {
  WeightScheme linear;
  WeightScheme embedding;
  int group;
  double max_rel_error;
  double min_top1;
};

TEST_F(SchemesTest, QuantizedLogitsStayWithinTheirBounds) {
  const QuantCase cases[] = {
      {WeightScheme::w8, WeightScheme::w8, 32, 0.10, 0.90},     {WeightScheme::a8w8, WeightScheme::w8, 32, 0.10, 0.90},
      {WeightScheme::w4, WeightScheme::w4, 32, 0.85, 0.45},     {WeightScheme::a8w4, WeightScheme::w8, 32, 0.85, 0.45},
      {WeightScheme::a8w4, WeightScheme::w4, 64, 0.85, 0.45},
  };
  const auto forced = test::token_ids(native_->t);
  for (const auto& c : cases) {
    QuantOptions q;
    q.linear = c.linear;
    q.embedding = c.embedding;
    q.group_size = c.group;
    const Outcome r = transcribe(dir_->file("model"), q, *audio_, forced);
    ASSERT_EQ(r.dump.logits.size(), native_->dump.logits.size()) << weight_scheme_name(c.linear);
    const LogitError e = logit_error(*native_, r, forced);
    std::printf("%-6s embedding %-3s group %3d: logit error mean %.4f max %.4f, top-1 agreement %.3f (%zu steps)\n",
                weight_scheme_name(c.linear), weight_scheme_name(c.embedding), c.group, e.mean, e.max, e.top1,
                forced.size());
    EXPECT_LE(e.max, c.max_rel_error) << weight_scheme_name(c.linear);
    EXPECT_GE(e.top1, c.min_top1) << weight_scheme_name(c.linear);
  }
}

// f16 KV caches against fp32 ones (native weights, teacher forcing). Each cached key and value
// is rounded to f16, a relative error of at most 2^-11 (4.9e-4) per element, so scores and
// attention outputs move by about that much relative; through the 2 + 2 layers, whose
// perturbation growth the 8-bit case measures (an rms weight error of ~0.8% gives <= 8%), that
// is about 0.5% of the logits. Bounds: max relative logit error 2%, top-1 agreement >= 97%.
TEST_F(SchemesTest, F16KvCacheStaysWithinItsBound) {
  const auto forced = test::token_ids(native_->t);
  LoadOptions lo;
  lo.threads = 2;
  lo.kv_cache = KvCacheType::f16;
  const auto model = Model::load(dir_->file("model"), lo);
  EXPECT_EQ(model->kv_cache(), KvCacheType::f16);
  Outcome r;
  TranscribeOptions o;
  o.dump = &r.dump;
  o.force_tokens = forced;
  r.t = model->transcribe(*audio_, o);
  ASSERT_EQ(r.dump.logits.size(), native_->dump.logits.size());
  const LogitError e = logit_error(*native_, r, forced);
  std::printf("kv f16: logit error max %.5f, top-1 agreement %.3f (%zu steps)\n", e.max, e.top1, forced.size());
  EXPECT_GT(e.max, 0.0) << "f16 rounding must show (else the option is not in effect)";
  EXPECT_LE(e.max, 0.02);
  EXPECT_GE(e.top1, 0.97);
  EXPECT_THROW(parse_kv_cache_type("bf16"), Error);
  EXPECT_EQ(parse_kv_cache_type("f16"), KvCacheType::f16);
}

TEST_F(SchemesTest, ForcedTokensOutsideTheVocabularyAreRejected) {
  LoadOptions lo;
  lo.threads = 1;
  const auto model = Model::load(dir_->file("model"), lo);
  TranscribeOptions o;
  o.force_tokens = {1, -1};
  EXPECT_THROW(model->transcribe(*audio_, o), Error);
  o.force_tokens = {model->config().vocab_size};
  EXPECT_THROW(model->transcribe(*audio_, o), Error);
}

TEST_F(SchemesTest, BadSchemesAreRejected) {
  EXPECT_THROW(parse_weight_scheme("int4"), Error);
  LoadOptions lo;
  lo.quant.embedding = WeightScheme::a8w4;  // a lookup table has no activations
  EXPECT_THROW(Model::load(dir_->file("model"), lo), Error);
  lo.quant = {};
  lo.quant.linear = WeightScheme::w4;
  lo.quant.group_size = 48;
  EXPECT_THROW(Model::load(dir_->file("model"), lo), Error);
  lo.quant.group_size = 128;  // does not divide the tiny model's 64 / 192 columns
  EXPECT_THROW(Model::load(dir_->file("model"), lo), Error);
}

}  // namespace
}  // namespace vrt
