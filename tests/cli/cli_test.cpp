// The voxtral-rt program end to end: info, mel, tokenize/detokenize, --help, --version and error exits.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "voxtral_rt/microphone.h"
#include "voxtral_rt/npy.h"
#include "voxtral_rt/system.h"
#include "test_util.h"

namespace vrt {
namespace {

std::string bin(const char* name) { return test::program(name); }
std::string tekken() {
  return test::shared_data("tokenizer/tekken_voxtral_mini_4b_realtime_2602.vocab130072.json");
}

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    std::string out;
    ASSERT_EQ(test::run_command(bin("voxtral-rt-synth") + " -q --config tiny --vocab-ranks 400 -o " +
                                    dir_->file("tiny"), &out), 0) << out;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string model() { return dir_->file("tiny"); }
  static test::TempDir* dir_;
};
test::TempDir* CliTest::dir_ = nullptr;

TEST_F(CliTest, InfoText) {
  std::string out;
  ASSERT_EQ(test::run_command(bin("voxtral-rt") + " info -m " + model(), &out), 0) << out;
  // Tiny preset: 2+2 layers of width 64 (tools/synth), vocabulary 400 + 1000 specials.
  EXPECT_NE(out.find("decoder          2 layers, dim 64"), std::string::npos) << out;
  EXPECT_NE(out.find("vocab 1400"), std::string::npos) << out;
  EXPECT_NE(out.find("delay 480 ms (6 tokens)"), std::string::npos) << out;
  EXPECT_NE(out.find("unexpected       none"), std::string::npos) << out;
}

TEST_F(CliTest, InfoJson) {
  std::string out;
  ASSERT_EQ(test::run_command(bin("voxtral-rt") + " info --json -m " + model() + " 2>/dev/null", &out), 0);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["params"]["dim"], 64);
  EXPECT_EQ(j["tokenizer"]["vocab_size"], 1400);
  EXPECT_EQ(j["tokenizer"]["version"], "v7");
  EXPECT_EQ(j["audio"]["delay_tokens"], 6);
  EXPECT_EQ(j["audio"]["streaming_n_left_pad_tokens"], 32);
  EXPECT_EQ(j["parameter_count"], j["expected_parameter_count"]);
  EXPECT_EQ(j["dtypes"]["BF16"], j["tensor_count"]);
  EXPECT_EQ(j["data_bytes"].get<std::int64_t>(), 2 * j["parameter_count"].get<std::int64_t>());
}

TEST_F(CliTest, MissingModelExitsWithNotFoundAndAHint) {
  std::string out;
  EXPECT_EQ(test::run_command("HF_HUB_CACHE=" + dir_->path() + " VRT_MODELS_DIR=" + dir_->path() + " " +
                                  bin("voxtral-rt") + " info -m someorg/nomodel", &out), 3);
  EXPECT_NE(out.find("scripts/download-model.sh someorg/nomodel"), std::string::npos) << out;
}

TEST_F(CliTest, CorruptCheckpointExitsWithAClearError) {
  test::TempDir d;
  std::string out;
  ASSERT_EQ(test::run_command("cp -r " + model() + "/. " + d.path(), &out), 0) << out;
  test::write_text(d.file("params.json"), "{\"dim\": ");
  EXPECT_EQ(test::run_command(bin("voxtral-rt") + " info -m " + d.path(), &out), 1);
  EXPECT_NE(out.find("voxtral-rt: error (bad_checkpoint)"), std::string::npos) << out;
  EXPECT_NE(out.find("params.json"), std::string::npos) << out;
}

TEST_F(CliTest, MelMatchesTheNumpyReference) {
  // The CLI's padded mel of a real clip against tests/reference/mel_ref.py on the same samples
  // (the WAV is 16-bit mono 16 kHz: the reference reads the samples the decoder produced).
  test::TempDir d;
  const std::string wav = test::shared_data("audio/librispeech_dev-clean_8297-275156-0000.wav");
  std::string out;
  ASSERT_EQ(test::run_command(bin("voxtral-rt") + " mel " + wav + " -o " + d.file("cli.npy") + " --delay-ms 480", &out), 0) << out;
  ASSERT_EQ(test::run_command(bin("voxtral-rt") + " mel " + wav + " --no-pad -o " + d.file("raw.npy"), &out), 0) << out;
  const auto cli = npy::read_f32(d.file("cli.npy"));
  ASSERT_EQ(cli.shape.size(), 2u);
  EXPECT_EQ(cli.shape[0], 128);
  // 3.58 s clip: 57,280 samples -> ceil(57280/1280) = 45 tokens (its golden stream has 45 + 11 = 56
  // generated tokens, SOURCES.md note 3); + 32 left + 17 right = 94 tokens.
  EXPECT_EQ(cli.shape[1], 94 * 8);
  // The reference needs the samples: recover them exactly from the int16 WAV via python.
  const std::string script =
      "import numpy as np, sys, wave\n"
      "w = wave.open(sys.argv[1]); x = np.frombuffer(w.readframes(w.getnframes()), '<i2').astype(np.float32) / 32768\n"
      "np.save(sys.argv[2], x)\n";
  test::write_text(d.file("read.py"), script);
  ASSERT_EQ(test::run_command(test::python() + " " + d.file("read.py") + " " + wav + " " + d.file("pcm.npy"), &out), 0) << out;
  ASSERT_EQ(test::run_command(test::python() + " " + test::source_dir() + "/tests/reference/mel_ref.py " +
                                  d.file("pcm.npy") + " " + d.file("ref.npy") + " --pad-delay-ms 480", &out), 0) << out;
  const auto ref = npy::read_f32(d.file("ref.npy"));
  ASSERT_EQ(ref.shape, cli.shape);
  float max_diff = 0;
  for (std::size_t i = 0; i < ref.data.size(); ++i) max_diff = std::max(max_diff, std::abs(ref.data[i] - cli.data[i]));
  EXPECT_LT(max_diff, 1e-4f);
  const auto raw = npy::read_f32(d.file("raw.npy"));
  EXPECT_EQ(raw.shape[1], 57280 / 160);
}

TEST_F(CliTest, MelRejectsBrokenAudio) {
  test::TempDir d;
  test::write_text(d.file("bad.wav"), "RIFF\x10\0\0\0WAVEjunk");
  std::string out;
  EXPECT_EQ(test::run_command(bin("voxtral-rt") + " mel " + d.file("bad.wav") + " -o " + d.file("o.npy"), &out), 1);
  EXPECT_NE(out.find("error (bad_audio)"), std::string::npos) << out;
  EXPECT_EQ(test::run_command(bin("voxtral-rt") + " mel /no/such.wav -o " + d.file("o.npy"), &out), 3);
}

TEST_F(CliTest, TokenizeAndDetokenizeWithTheRealVocabulary) {
  // Published mistral-common vector: "Transcribe this audio." -> 6881 13089 1593 16023 1046.
  std::string out;
  ASSERT_EQ(test::run_command(bin("voxtral-rt") + " tokenize --tekken " + tekken() + " Transcribe this audio.", &out), 0) << out;
  EXPECT_EQ(out, "6881 13089 1593 16023 1046\n");
  ASSERT_EQ(test::run_command("echo 1 32 6881 13089 1593 16023 1046 2 | " + bin("voxtral-rt") +
                                  " detokenize --tekken " + tekken(), &out), 0) << out;
  EXPECT_EQ(out, "Transcribe this audio.\n");
  EXPECT_EQ(test::run_command(bin("voxtral-rt") + " detokenize --tekken " + tekken() + " 999999", &out), 1);
  EXPECT_NE(out.find("999999"), std::string::npos) << out;
}

// --version: the version, the CPU features this process detects and the kernel table it runs
// (the same as the library reports here: same CPU, same VRT_ISA); VRT_ISA forces the table.
TEST(CliVersion, PrintsVersionCpuFeaturesAndKernelTable) {
  std::string out;
  ASSERT_EQ(test::run_command(bin("voxtral-rt") + " --version", &out), 0) << out;
  EXPECT_EQ(out.rfind("voxtral-rt ", 0), 0u) << out;
  EXPECT_NE(out.find("\ncpu features: " + cpu_features() + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find(std::string("\nkernel table: ") + kernel_table() + "\n"), std::string::npos) << out;
  ASSERT_EQ(test::run_command("VRT_ISA=ref " + bin("voxtral-rt") + " --version", &out), 0) << out;
  EXPECT_NE(out.find("\nkernel table: ref\n"), std::string::npos) << out;
  ASSERT_EQ(test::run_command("VRT_ISA=sse9 " + bin("voxtral-rt") + " --version", &out), 0) << out;
  EXPECT_NE(out.find("kernel table: none (unknown ISA 'sse9'"), std::string::npos) << out;
}

TEST_F(CliTest, HelpEverywhere) {
  for (const char* sub : {"", " info", " mel", " tokenize", " detokenize"}) {
    std::string out;
    EXPECT_EQ(test::run_command(bin("voxtral-rt") + sub + " --help", &out), 0) << sub;
    EXPECT_NE(out.find("Usage"), std::string::npos) << sub << ": " << out;
  }
  std::string out;
  EXPECT_EQ(test::run_command(bin("voxtral-rt-synth") + " --help", &out), 0);
  EXPECT_NE(test::run_command(bin("voxtral-rt") + " frobnicate", &out), 0);
}

}  // namespace
}  // namespace vrt

namespace vrt {
namespace {

class TranscribeCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    std::string out;
    ASSERT_EQ(test::run_command(bin("voxtral-rt-synth") + " -q --config tiny --weight-scale 2 --seed 11 -o " +
                                    dir_->file("tiny"), &out), 0) << out;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string run(const std::string& args, int expect = 0) {
    std::string out;
    EXPECT_EQ(test::run_command(bin("voxtral-rt") + " transcribe -m " + dir_->file("tiny") + " " + args, &out), expect)
        << args << "\n" << out;
    return out;
  }
  static std::string clip() { return test::shared_data("audio/librispeech_dev-clean_8297-275156-0000.wav"); }
  static test::TempDir* dir_;
};
test::TempDir* TranscribeCliTest::dir_ = nullptr;

TEST_F(TranscribeCliTest, JsonHasTextTokensWordsSegmentsAndStats) {
  const auto j = nlohmann::json::parse(run(clip() + " -f json 2>/dev/null"));
  EXPECT_TRUE(j["text"].is_string());
  ASSERT_TRUE(j["tokens"].is_array());
  const auto n = j["tokens"].size();
  const bool eos = j["tokens"].back()["id"] == 2;
  if (!eos) EXPECT_EQ(n, 56u);  // ceil(57280 / 1280) + 11
  EXPECT_TRUE(j["tokens"][0].contains("piece"));
  EXPECT_DOUBLE_EQ(j["tokens"][3]["time"].get<double>(), 0.16);  // (3 - 1) x 80 ms
  EXPECT_TRUE(j["words"].is_array());
  EXPECT_TRUE(j["segments"].is_array());
  EXPECT_DOUBLE_EQ(j["stats"]["audio_s"].get<double>(), 57280.0 / 16000.0);
  EXPECT_EQ(j["stats"]["generated_tokens"], n);
}

TEST_F(TranscribeCliTest, MaxNewTokensAndDump) {
  test::TempDir d;
  const auto j = nlohmann::json::parse(run(clip() + " -f json --max-new-tokens 7 --dump " + d.path() + " 2>/dev/null"));
  EXPECT_EQ(j["tokens"].size(), 7u);
  const auto logits = npy::read_f32(d.file("logits.npy"));
  EXPECT_EQ(logits.shape, (std::vector<std::int64_t>{7, 2000}));  // 1000 ranks + 1000 specials
  const auto mel = npy::read_f32(d.file("mel.npy"));
  EXPECT_EQ(mel.shape[0], 128);
  const auto enc = npy::read_f32(d.file("encoder.npy"));
  EXPECT_EQ(enc.shape[1], 64);
  const auto ad = npy::read_f32(d.file("adapter.npy"));
  EXPECT_EQ(ad.shape[1], 64);
  EXPECT_TRUE(std::filesystem::exists(d.file("tokens.npy")));
}

TEST_F(TranscribeCliTest, TextFromStdinEqualsFromFile) {
  const auto a = run(clip() + " 2>/dev/null");
  const auto b = run("- < " + clip() + " 2>/dev/null");
  EXPECT_EQ(a, b);
}

TEST_F(TranscribeCliTest, SrtAndVtt) {
  const auto srt = run(clip() + " -f srt 2>/dev/null");
  const auto vtt = run(clip() + " -f vtt 2>/dev/null");
  EXPECT_EQ(vtt.rfind("WEBVTT\n", 0), 0u);
  if (!srt.empty()) {
    EXPECT_EQ(srt.rfind("1\n", 0), 0u) << srt;
    EXPECT_NE(srt.find(" --> "), std::string::npos);
    EXPECT_NE(srt.find(","), std::string::npos);
  }
}

TEST_F(TranscribeCliTest, StatsAndErrors) {
  std::string out;
  ASSERT_EQ(test::run_command("(" + bin("voxtral-rt") + " transcribe -m " + dir_->file("tiny") + " " + clip() +
                                  " --stats > /dev/null)", &out), 0) << out;
  for (const char* key : {"audio 3.58 s", "load", "encoder", "prefill", "ms/step", "tokens/s", "real-time factor", "peak RSS"})
    EXPECT_NE(out.find(key), std::string::npos) << key << " in " << out;
  run(clip() + " --delay-ms 100", 1);
  run("/no/such/file.wav", 3);
  run(clip() + " -f xml", 105);  // CLI11 rejects the value before running
}

}  // namespace
}  // namespace vrt

namespace vrt {
namespace {

// `voxtral-rt stream` with real piped data: the text equals the offline transcription's.
class StreamCliTest : public TranscribeCliTest {
 protected:
  static std::string pcm_of(const std::string& wav, const std::string& fmt, int rate, const test::TempDir& d) {
    // Raw PCM made from the WAV by python's wave module (int16) or converted to float32 / another rate.
    const std::string out = d.file("audio." + fmt + std::to_string(rate));
    const std::string script =
        "import sys, wave, struct, array\n"
        "w = wave.open(sys.argv[1]); x = array.array('h', w.readframes(w.getnframes()))\n"
        "fmt, rate = sys.argv[3], int(sys.argv[4])\n"
        "if rate != 16000:\n"
        "    x = array.array('h', [x[int(i * 16000 / rate)] for i in range(int(len(x) * rate / 16000))])\n"
        "data = x.tobytes() if fmt == 's16le' else array.array('f', [v / 32768.0 for v in x]).tobytes()\n"
        "open(sys.argv[2], 'wb').write(data)\n";
    test::write_text(d.file("conv.py"), script);
    std::string log;
    EXPECT_EQ(test::run_command(test::python() + " " + d.file("conv.py") + " " + wav + " " + out + " " + fmt + " " + std::to_string(rate), &log), 0) << log;
    return out;
  }
  static std::string stream(const std::string& args) {
    std::string out;
    EXPECT_EQ(test::run_command("(" + bin("voxtral-rt") + " stream -m " + dir_->file("tiny") + " --stop-on-eos " + args +
                                    " 2>/dev/null)", &out), 0) << args << "\n" << out;
    return out;
  }
};

TEST_F(StreamCliTest, PipedPcmAndWavGiveTheOfflineText) {
  test::TempDir d;
  const std::string offline = run(clip() + " 2>/dev/null");
  const auto trim = [](std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    const auto f = s.find_first_not_of(" \n");
    return f == std::string::npos ? std::string() : s.substr(f);
  };
  EXPECT_EQ(trim(stream("- < " + pcm_of(clip(), "s16le", 16000, d))), trim(offline));
  EXPECT_EQ(trim(stream("--input-format f32le - < " + pcm_of(clip(), "f32le", 16000, d))), trim(offline));
  EXPECT_EQ(trim(stream("--input-format wav - < " + clip())), trim(offline));
  EXPECT_EQ(trim(stream("--input-format wav --interval-ms 1000 - < " + clip())), trim(offline));
  EXPECT_EQ(trim(stream("--input-format wav - < " + clip() + " | cat")), trim(offline));  // through a pipe
}

TEST_F(StreamCliTest, OtherRatesAreResampled) {
  test::TempDir d;
  const auto out = stream("--rate 8000 - < " + pcm_of(clip(), "s16le", 8000, d));
  EXPECT_FALSE(out.empty());
}

TEST_F(StreamCliTest, StatsAndBadInput) {
  std::string out;
  EXPECT_EQ(test::run_command("(" + bin("voxtral-rt") + " stream -m " + dir_->file("tiny") +
                                  " --input-format wav --stats - < " + clip() + " > /dev/null)", &out), 0);
  EXPECT_NE(out.find("latency p50"), std::string::npos) << out;
  EXPECT_NE(out.find("compute per step"), std::string::npos) << out;
  EXPECT_EQ(test::run_command(bin("voxtral-rt") + " stream -m " + dir_->file("tiny") + " --input-format wav - < /etc/passwd", &out), 1);
  EXPECT_NE(out.find("bad_audio"), std::string::npos) << out;
}

}  // namespace
}  // namespace vrt

namespace vrt {
namespace {

TEST_F(StreamCliTest, MicrophoneWithoutASoundServerIsAClearError) {
  test::TempDir d;
  std::string out;
  EXPECT_EQ(test::run_command("XDG_RUNTIME_DIR=" + d.path() + " PULSE_SERVER=unix:" + d.file("none") + " " +
                                  bin("voxtral-rt") + " stream -m " + dir_->file("tiny") + " --mic", &out), 3);
  EXPECT_NE(out.find("no microphone"), std::string::npos) << out;
}

// A private PulseAudio server with a null sink: a clip played into the sink is captured from its
// monitor source through --mic-device, as a microphone would be.
TEST_F(StreamCliTest, MicrophoneThroughANullSource) {
  if (!microphone_supported()) GTEST_SKIP() << "built without microphone support (-DVRT_MIC=OFF or no libpulse-dev)";
  std::string out;
  if (test::run_command("command -v pulseaudio && command -v paplay", &out) != 0)
    GTEST_SKIP() << "pulseaudio/paplay not installed (scripts/setup.sh installs them)";
  test::TempDir d;
  const std::string env = "XDG_RUNTIME_DIR=" + d.path() + " HOME=" + d.path() + " ";
  ASSERT_EQ(test::run_command(env + "pulseaudio -n --daemonize=yes --exit-idle-time=-1 --use-pid-file=no "
                                    "-L 'module-native-protocol-unix auth-anonymous=1' -L 'module-null-sink sink_name=null' "
                                    "--log-target=stderr", &out), 0) << out;
  std::string log;
  const int rc = test::run_command(
      "(" + env + "paplay -d null " + clip() + " & " + env + "timeout --preserve-status -s INT 6 " + bin("voxtral-rt") + " stream -m " +
          dir_->file("tiny") + " --mic-device null.monitor --stats > " + d.file("text") + ")", &log);
  test::run_command(env + "pulseaudio -k", &out);
  EXPECT_EQ(rc, 0) << log;
  EXPECT_NE(log.find("listening"), std::string::npos) << log;
  // About 6 s were captured (timeout's SIGINT ends the stream cleanly with its final text).
  const auto at = log.find("stats: audio ");
  ASSERT_NE(at, std::string::npos) << log;
  EXPECT_GT(std::stod(log.substr(at + 13)), 3.0) << log;
}

}  // namespace
}  // namespace vrt
