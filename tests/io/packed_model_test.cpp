// The packed .vxrt model file: a written file loads to the same transcripts as the checkpoint
// quantized on the fly, for every scheme; corrupt and hostile files are refused with a clear
// error naming the problem (hardening.md, model-file corruption cases).
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "io/packed_model.h"
#include "synth.h"
#include "test_util.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/model.h"

namespace vrt {
namespace {

std::string bytes_of(const std::string& path) { return test::read_text(path); }

std::uint64_t u64_at(const std::string& b, std::size_t off) {
  std::uint64_t v = 0;
  std::memcpy(&v, b.data() + off, 8);
  return v;
}
void set_u64(std::string& b, std::size_t off, std::uint64_t v) { std::memcpy(b.data() + off, &v, 8); }

// Rebuilds a file with its meta JSON edited by `edit` and every size and checksum made
// consistent again, so the reader's checks of the content itself are reached.
std::string with_meta(const std::string& file, const std::function<void(nlohmann::json&)>& edit) {
  const std::uint64_t meta_off = u64_at(file, 24), meta_bytes = u64_at(file, 32);
  const std::uint64_t data_off = u64_at(file, 40), data_bytes = u64_at(file, 48);
  auto meta = nlohmann::json::parse(file.substr(meta_off, meta_bytes));
  edit(meta);
  const std::string text = meta.dump();
  const std::uint64_t new_data_off = (128 + text.size() + 4095) / 4096 * 4096;
  std::string out = file.substr(0, 128) + text + std::string(new_data_off - 128 - text.size(), '\0') +
                    file.substr(data_off, data_bytes);
  set_u64(out, 16, out.size());
  set_u64(out, 32, text.size());
  set_u64(out, 40, new_data_off);
  set_u64(out, 56, XXH3_64bits(text.data(), text.size()));
  return out;
}

class PackedModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    synth::SynthOptions so;
    so.preset = "tiny";
    so.weight_scale = 1.6;
    synth::write_checkpoint(dir_->file("model"), so);
    audio_ = new std::vector<float>(load_audio_16k_mono(test::shared_data("audio/jfk.wav")).samples);
    LoadOptions lo;
    lo.threads = 1;
    lo.quant.linear = WeightScheme::a8w4;
    lo.quant.embedding = WeightScheme::w8;
    Model::load(dir_->file("model"), lo)->save_packed(dir_->file("good.vxrt"));
    good_ = new std::string(bytes_of(dir_->file("good.vxrt")));
  }
  static void TearDownTestSuite() {
    delete good_;
    delete audio_;
    delete dir_;
  }

  // Writes `bytes` and expects PackedModelFile::open (and Model::load) to throw `status` with
  // `fragment` in the message.
  void expect_refused(const std::string& bytes, Status status, const std::string& fragment) {
    const std::string path = dir_->file("bad.vxrt");
    test::write_text(path, bytes);
    try {
      PackedModelFile::open(path);
      ADD_FAILURE() << "accepted; expected: " << fragment;
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), status) << e.what();
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
    EXPECT_THROW(Model::load(path, {.threads = 1}), Error);
  }

  static test::TempDir* dir_;
  static std::vector<float>* audio_;
  static std::string* good_;
};
test::TempDir* PackedModelTest::dir_ = nullptr;
std::vector<float>* PackedModelTest::audio_ = nullptr;
std::string* PackedModelTest::good_ = nullptr;

TEST_F(PackedModelTest, EverySchemeLoadsToTheSameTranscript) {
  struct Case {
    WeightScheme linear, embedding;
    std::optional<WeightScheme> head, encoder;
    int group;
  };
  const Case cases[] = {
      {WeightScheme::native, WeightScheme::native, {}, {}, 32},
      {WeightScheme::f32, WeightScheme::bf16, {}, {}, 32},
      {WeightScheme::w8, WeightScheme::w8, {}, {}, 32},
      {WeightScheme::w4, WeightScheme::w4, {}, {}, 64},
      {WeightScheme::a8w8, WeightScheme::w4, WeightScheme::w8, WeightScheme::a8w4, 32},
      {WeightScheme::a8w4, WeightScheme::w8, WeightScheme::a8w8, WeightScheme::native, 32},  // head shares the table
  };
  for (const auto& c : cases) {
    LoadOptions lo;
    lo.threads = 2;
    lo.quant.linear = c.linear;
    lo.quant.embedding = c.embedding;
    lo.quant.head = c.head;
    lo.quant.encoder = c.encoder;
    lo.quant.group_size = c.group;
    const auto direct = Model::load(dir_->file("model"), lo);
    const std::string path = dir_->file("m.vxrt");
    direct->save_packed(path);
    const auto packed = Model::load(path, {.threads = 2});
    EXPECT_EQ(packed->quant().describe(), lo.quant.describe());
    StageDump d1, d2;
    TranscribeOptions o1, o2;
    o1.dump = &d1;
    o2.dump = &d2;
    const Transcript a = direct->transcribe(*audio_, o1), b = packed->transcribe(*audio_, o2);
    EXPECT_EQ(test::token_ids(a), test::token_ids(b)) << lo.quant.describe();
    EXPECT_EQ(d1.logits, d2.logits) << lo.quant.describe();
    EXPECT_NO_THROW(PackedModelFile::open(path)->verify_data());
  }
}

TEST_F(PackedModelTest, PackedModelsKeepTheirSchemesAndCannotBeRepacked) {
  const auto m = Model::load(dir_->file("good.vxrt"), {.threads = 1});
  EXPECT_THROW(m->save_packed(dir_->file("again.vxrt")), Error);
  LoadOptions lo;
  lo.quant.linear = WeightScheme::w8;
  EXPECT_THROW(Model::load(dir_->file("good.vxrt"), lo), Error);
}

TEST_F(PackedModelTest, TruncationsAreRefused) {
  for (const std::size_t n : {std::size_t{0}, std::size_t{7}, std::size_t{100}, std::size_t{200}, good_->size() / 2,
                              good_->size() - 1})
    expect_refused(good_->substr(0, n), Status::bad_checkpoint, n < 128 ? "truncated" : "file is");
  expect_refused(*good_ + "x", Status::bad_checkpoint, "appended");
}

TEST_F(PackedModelTest, HeaderCorruptionIsRefused) {
  std::string b = *good_;
  b[0] = 'X';
  expect_refused(b, Status::bad_checkpoint, "bad magic");
  b = *good_;
  b[8] = 2;  // version 2
  expect_refused(b, Status::unsupported_model, "version 2");
  b = *good_;
  set_u64(b, 32, ~std::uint64_t{0} - 10);  // meta bytes: offset + bytes wraps
  expect_refused(b, Status::bad_checkpoint, "overflows");
  b = *good_;
  set_u64(b, 40, 4097);  // data offset not aligned
  expect_refused(b, Status::bad_checkpoint, "data region");
  b = *good_;
  b[u64_at(b, 24) + 5] ^= 1;  // a flipped meta bit
  expect_refused(b, Status::bad_checkpoint, "meta checksum");
}

TEST_F(PackedModelTest, DataCorruptionIsFoundByVerify) {
  std::string b = *good_;
  b[u64_at(b, 40) + 1000] ^= 0x10;  // inside the first tensors (the tokenizer text is last)
  const std::string path = dir_->file("flipped.vxrt");
  test::write_text(path, b);
  const auto f = PackedModelFile::open(path);  // opening does not read the data
  EXPECT_THROW(f->verify_data(), Error);
}

TEST_F(PackedModelTest, HostileMetaIsRefused) {
  using J = nlohmann::json;
  auto tensor = [](J& m, const std::string& name) -> J& {
    for (auto& t : m["tensors"])
      if (t["name"] == name) return t;
    throw std::runtime_error("no tensor " + name);
  };
  const std::string wq = "layers.0.attention.wq.weight";
  struct Case {
    std::function<void(J&)> edit;
    std::string fragment;
  };
  const Case cases[] = {
      {[](J& m) { m["format"] = "gguf"; }, "format"},
      {[](J& m) { m.erase("tensors"); }, "tensors"},
      {[](J& m) { m["tensors"] = 5; }, "not an array"},
      {[](J& m) { m["params"] = "{\"dim\": 1}"; }, "params"},
      {[](J& m) { m["quantization"]["linear"] = "int3"; }, "int3"},
      {[](J& m) {  // params valid on their own, but not the tokenizer's vocabulary (found by fuzzing)
         auto p = J::parse(m["params"].get<std::string>());
         p["vocab_size"] = p["vocab_size"].get<int>() + 32;
         m["params"] = p.dump();
       },
       "tokenizer and params disagree"},
      {[](J& m) { m["tokenizer"]["offset"] = 1 << 30; }, "tokenizer"},
      {[](J& m) { m["tokenizer"]["offset"] = 4; }, "aligned"},
      {[&](J& m) { tensor(m, wq)["kind"] = "q3"; }, "unknown kind"},
      {[&](J& m) { tensor(m, wq)["offset"] = 1ull << 40; }, "outside the data region"},
      {[&](J& m) { tensor(m, wq)["offset"] = tensor(m, wq)["offset"].get<std::uint64_t>() + 8; }, "aligned"},
      {[&](J& m) { tensor(m, wq)["bytes"] = 64; }, "bytes"},
      {[&](J& m) { tensor(m, wq)["rows"] = 1ll << 40; }, "rows"},
      {[&](J& m) { tensor(m, wq)["group"] = 48; }, "group size"},
      {[&](J& m) { tensor(m, wq)["act"] = "fp8"; }, "act"},
      {[&](J& m) { tensor(m, wq)["name"] = "layers.0.attention.wk.weight"; }, "duplicate"},
      {[&](J& m) { tensor(m, wq)["name"] = "layers.9.attention.wq.weight"; }, "missing tensor " + wq},
      {[&](J& m) {  // a consistent entry with the wrong shape for the config
         J& t = tensor(m, "norm.weight");
         t["rows"] = t["rows"].get<int>() / 2;
         t["bytes"] = t["bytes"].get<int>() / 2;
       },
       "the config implies"},
      {[&](J& m) {  // a norm stored quantized
         J& t = tensor(m, "norm.weight");
         t = tensor(m, wq);
         t["name"] = "norm.weight";
       },
       "norm.weight"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.fragment);
    const std::string path = dir_->file("hostile.vxrt");
    test::write_text(path, with_meta(*good_, c.edit));
    try {
      Model::load(path, {.threads = 1});
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.fragment), std::string::npos) << e.what();
    }
  }
  // The unedited rebuild loads (the helper itself is sound).
  test::write_text(dir_->file("rebuilt.vxrt"), with_meta(*good_, [](J&) {}));
  EXPECT_NO_THROW(Model::load(dir_->file("rebuilt.vxrt"), {.threads = 1}));
}

}  // namespace
}  // namespace vrt
