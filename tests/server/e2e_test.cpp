// `voxtral-rt serve` end to end over loopback with real clients: Python websockets (vLLM's example
// realtime flow, tests/server/realtime_client.py) and curl multipart uploads. Expected transcripts
// come from `voxtral-rt transcribe` of the same audio with the same tiny synthetic model.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace vrt {
namespace {

using nlohmann::json;

std::string bin(const char* name) { return test::program(name); }
std::string clip(const char* name) { return test::shared_data(std::string("audio/") + name); }
const char* const kModelId = "mistralai/Voxtral-Mini-4B-Realtime-2602";
const char* const kClipA = "librispeech_dev-clean_8297-275156-0000.wav";  // 3.6 s
const char* const kClipB = "jfk.wav";                                      // 11 s
const char* const kClipC = "night1968_15s_there_are_two_of_them_out_there.wav";

// A `voxtral-rt serve` child process on an ephemeral loopback port.
class ServerProcess {
 public:
  ServerProcess(const std::string& model, const std::string& args, const std::string& log) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe");
    // A test ends its server with SIGTERM, a drain: bound it (5 s) unless the test sets its own.
    const std::string drain = args.find("--drain-timeout-s") == std::string::npos ? " --drain-timeout-s 5" : "";
    const std::string cmd = "exec " + bin("voxtral-rt") + " serve -m " + model + " --port 0 " + args + drain + " 2>" + log;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    fd_ = out[0];
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      char c[256];
      const ssize_t n = read(fd_, c, sizeof c);
      if (n <= 0) break;
      line.append(c, static_cast<std::size_t>(n));
    }
    const auto colon = line.rfind(':');
    if (line.rfind("listening on 127.0.0.1:", 0) != 0 || colon == std::string::npos)
      throw std::runtime_error("server did not start: '" + line + "' log: " + test::read_text(log));
    port_ = std::stoi(line.substr(colon + 1));
  }
  ~ServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) close(fd_);
  }
  int port() const { return port_; }
  std::string http(const std::string& path = "") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  std::string ws() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/v1/realtime"; }
  // Sends `sig` and waits up to timeout_s; returns the exit status, or -1 if it had to be killed.
  int stop(int sig, double timeout_s) {
    kill(pid_, sig);
    return wait(timeout_s);
  }
  void signal(int sig) { kill(pid_, sig); }
  // Waits up to timeout_s for the process to end; its exit status, or -1 if it is still running.
  int wait(double timeout_s) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  int port_ = 0;
};

std::vector<json> json_lines(const std::string& out) {
  std::vector<json> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '{') v.push_back(json::parse(line));
  return v;
}

// The metric's value (first sample line starting with `name`), or -1.
double metric(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  return -1;
}

class ServerE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    std::string out;
    ASSERT_EQ(test::run_command(bin("voxtral-rt-synth") + " -q --config tiny --vocab-ranks 400 --weight-scale 2 --seed 21 -o " +
                                    model(), &out), 0) << out;
    refs_ = new std::map<std::string, json>();
    for (const char* c : {kClipA, kClipB, kClipC}) {
      ASSERT_EQ(test::run_command(bin("voxtral-rt") + " transcribe -t 1 -f json -m " + model() + " " + clip(c) + " 2>/dev/null", &out), 0) << out;
      (*refs_)[c] = json::parse(out);
      ASSERT_FALSE((*refs_)[c]["text"].get<std::string>().empty()) << "the test model must write text";
    }
    setup_ok_ = true;
  }
  // A failed suite setup must fail every test (gtest would only skip them).
  void SetUp() override { ASSERT_TRUE(setup_ok_) << "suite setup failed (synthetic model or offline reference)"; }
  static void TearDownTestSuite() {
    delete refs_;
    delete dir_;
  }
  static std::string model() { return dir_->file("tiny"); }
  static const json& ref(const char* c) { return refs_->at(c); }
  static std::string log() { return dir_->file("server.log"); }
  static std::string client(const ServerProcess& s, const std::string& args) {
    std::string out;
    test::run_command("timeout 120 " + test::python() + " " + test::source_dir() + "/tests/server/realtime_client.py " +
                          s.ws() + " " + args, &out);
    return out;
  }
  static std::string curl(const std::string& args) {
    std::string out;
    test::run_command("curl -sS --max-time 60 " + args, &out);
    return out;
  }
  static void expect_matches(const json& r, const char* c) {
    SCOPED_TRACE(c);
    ASSERT_TRUE(r.contains("text")) << r.dump();
    EXPECT_EQ(r["text"], ref(c)["text"]);
    EXPECT_EQ(r["deltas"], ref(c)["text"]);  // the deltas add up to the final text
    EXPECT_EQ(r["usage"]["completion_tokens"], ref(c)["tokens"].size());
    EXPECT_EQ(r["usage"]["prompt_tokens"], 39);
    EXPECT_EQ(r["events"].back(), "transcription.done");
  }
  static test::TempDir* dir_;
  static std::map<std::string, json>* refs_;
  static bool setup_ok_;
};
bool ServerE2E::setup_ok_ = false;
test::TempDir* ServerE2E::dir_ = nullptr;
std::map<std::string, json>* ServerE2E::refs_ = nullptr;

TEST_F(ServerE2E, RealtimeTranscriptsEqualOffline) {
  ServerProcess s(model(), "-t 1", log());
  // Two clips, each twice on the same socket: the next utterance follows transcription.done.
  const auto out = client(s, std::string("stream ") + clip(kClipA) + " " + clip(kClipB) + " --utterances 2");
  const auto rs = json_lines(out);
  ASSERT_EQ(rs.size(), 4u) << out;
  expect_matches(rs[0], kClipA);
  expect_matches(rs[1], kClipA);
  expect_matches(rs[2], kClipB);
  expect_matches(rs[3], kClipB);
  EXPECT_EQ(rs[0]["session"], rs[3]["session"]);
  EXPECT_EQ(s.stop(SIGTERM, 15), 0);
}

TEST_F(ServerE2E, RealtimeWordAndSegmentTimestamps) {
  ServerProcess s(model(), "-t 1", log());
  const auto out = client(s, std::string("stream ") + clip(kClipB) + " --extra '{\"timestamp_granularities\":[\"word\",\"segment\"],\"delay_ms\":480}'");
  const auto rs = json_lines(out);
  ASSERT_EQ(rs.size(), 1u) << out;
  expect_matches(rs[0], kClipB);
  const auto& words = ref(kClipB)["words"];
  ASSERT_TRUE(rs[0].contains("done_words")) << out;
  ASSERT_EQ(rs[0]["done_words"].size(), words.size());
  ASSERT_EQ(rs[0]["words"].size() + 1, words.size());  // deltas carry every word but the last, done has all
  for (std::size_t i = 0; i < words.size(); ++i) {
    EXPECT_EQ(rs[0]["done_words"][i]["word"], words[i]["text"]);
    EXPECT_DOUBLE_EQ(rs[0]["done_words"][i]["start"].get<double>(), words[i]["start"].get<double>());
    EXPECT_DOUBLE_EQ(rs[0]["done_words"][i]["end"].get<double>(), words[i]["end"].get<double>());
    if (i + 1 < words.size()) {
      EXPECT_EQ(rs[0]["words"][i]["word"], words[i]["text"]);
      EXPECT_DOUBLE_EQ(rs[0]["words"][i]["end"].get<double>(), words[i]["end"].get<double>());
    }
  }
  EXPECT_EQ(rs[0]["done_segments"].size(), ref(kClipB)["segments"].size());
}

TEST_F(ServerE2E, HttpTranscriptionsEqualOffline) {
  ServerProcess s(model(), "-t 1", log());
  const std::string wav = clip(kClipB);
  const std::string url = " " + s.http("/v1/audio/transcriptions");
  auto j = json::parse(curl("-F file=@" + wav + " -F model=" + kModelId + url));
  EXPECT_EQ(j["text"], ref(kClipB)["text"]);
  EXPECT_EQ(j["usage"]["completion_tokens"], ref(kClipB)["tokens"].size());
  std::string expected;
  for (const char* f : {"txt", "srt", "vtt"}) {
    ASSERT_EQ(test::run_command(bin("voxtral-rt") + " transcribe -t 1 -f " + f + " -m " + model() + " " + wav + " 2>/dev/null", &expected), 0);
    const std::string rf = std::string(f) == "txt" ? "text" : f;
    EXPECT_EQ(curl("-F file=@" + wav + " -F response_format=" + rf + url), expected) << f;
  }
  j = json::parse(curl("-F file=@" + wav + " -F response_format=verbose_json" + url));
  EXPECT_FALSE(j.contains("words"));  // OpenAI: segments unless words are asked for
  j = json::parse(curl("-F file=@" + wav + " -F response_format=verbose_json -F timestamp_granularities[]=word"
                       " -F timestamp_granularities[]=segment" + url));
  EXPECT_EQ(j["text"], ref(kClipB)["text"]);
  EXPECT_EQ(j["words"].size(), ref(kClipB)["words"].size());
  EXPECT_EQ(j["segments"].size(), ref(kClipB)["segments"].size());
  EXPECT_EQ(j["segments"][0]["text"], ref(kClipB)["segments"][0]["text"]);
  EXPECT_NEAR(j["duration"].get<double>(), 11.0, 0.01);
  // A FLAC at 44.1 kHz stereo is decoded and resampled like the CLI does it.
  ASSERT_EQ(test::run_command(bin("voxtral-rt") + " transcribe -t 1 -f txt -m " + model() + " " + clip("jfk.flac") + " 2>/dev/null", &expected), 0);
  EXPECT_EQ(curl("-F file=@" + clip("jfk.flac") + " -F response_format=text" + url), expected);

  // stream=true: server-sent events whose deltas add up to the text.
  const std::string sse = curl("-N -F file=@" + wav + " -F stream=true" + url);
  std::string deltas, done_text;
  std::istringstream in(sse);
  bool saw_done_marker = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "data: [DONE]") saw_done_marker = true;
    if (line.rfind("data: {", 0) != 0) continue;
    const auto e = json::parse(line.substr(6));
    if (e["type"] == "transcript.text.delta") deltas += e["delta"].get<std::string>();
    if (e["type"] == "transcript.text.done") done_text = e["text"];
  }
  EXPECT_EQ(deltas, ref(kClipB)["text"]) << sse;
  EXPECT_EQ(done_text, ref(kClipB)["text"]);
  EXPECT_TRUE(saw_done_marker);
}

TEST_F(ServerE2E, HttpEndpointsAndBadRequests) {
  ServerProcess s(model(), "-t 1 --max-upload-mb 1", log());
  EXPECT_EQ(curl(s.http("/health")), R"({"status":"ok","active_sessions":0,"max_sessions":4})");
  EXPECT_EQ(json::parse(curl(s.http("/health/live")))["status"], "ok");
  EXPECT_EQ(json::parse(curl(s.http("/health/ready")))["status"], "ok");
  const auto models = json::parse(curl(s.http("/v1/models")));
  EXPECT_EQ(models["data"][0]["id"], kModelId);
  const auto code = [&](const std::string& args) { return curl("-o /dev/null -w %{http_code} " + args); };
  const std::string url = " " + s.http("/v1/audio/transcriptions");
  EXPECT_EQ(code(s.http("/nope")), "404");
  EXPECT_EQ(code("-X POST " + s.http("/health")), "405");
  EXPECT_EQ(code(s.http("/v1/realtime")), "426");
  EXPECT_EQ(code(s.http("/v1/audio/transcriptions")), "405");
  test::TempDir d;
  test::write_text(d.file("notaudio.wav"), "this is not audio at all, just text");
  auto err = json::parse(curl("-F file=@" + d.file("notaudio.wav") + url));
  EXPECT_EQ(err["error"]["code"], "invalid_audio") << err.dump();
  EXPECT_EQ(code("-F file=@" + d.file("notaudio.wav") + url), "400");
  test::write_text(d.file("big.bin"), std::string(2u << 20, 'x'));
  EXPECT_EQ(code("-F file=@" + d.file("big.bin") + url), "413");
  EXPECT_EQ(code("-F model=" + std::string(kModelId) + url), "400");                       // no file
  EXPECT_EQ(code("-F file=@" + clip(kClipA) + " -F model=other" + url), "404");            // unknown model
  EXPECT_EQ(code("-F file=@" + clip(kClipA) + " -F response_format=xml" + url), "400");
  EXPECT_EQ(code("-F file=@" + clip(kClipA) + " -F file=@" + clip(kClipA) + url), "400");  // two files
  EXPECT_EQ(code("-H 'Content-Type: multipart/form-data; boundary=x' --data-binary 'junk'" + url), "400");
  EXPECT_EQ(code("-H 'Content-Type: application/json' --data-binary '{}'" + url), "400");
  EXPECT_EQ(code("-H 'Content-Type: multipart/form-data; boundary=x' --data-binary $'--x\\r\\nContent-Disposition: form-data; name=\"file\"\\r\\n\\r\\nabc'" + url), "400");
  // Content-Length together with chunked encoding is refused by the parser.
  std::string raw;
  test::run_command("printf 'POST /v1/audio/transcriptions HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\n"
                    "Transfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n' | timeout 5 curl -sS telnet://127.0.0.1:" +
                        std::to_string(s.port()) + " 2>&1 | head -1", &raw);
  EXPECT_NE(raw.find("400"), std::string::npos) << raw;
  // Still serving, and the refusals are counted.
  EXPECT_EQ(json::parse(curl("-F file=@" + clip(kClipA) + url))["text"], ref(kClipA)["text"]);
  const std::string m = curl(s.http("/metrics"));
  EXPECT_GE(metric(m, "vrt_rejected_requests_total{reason=\"bad_request\"}"), 8) << m;
  EXPECT_GE(metric(m, "vrt_rejected_requests_total{reason=\"too_large\"}"), 1) << m;
  EXPECT_EQ(metric(m, "vrt_active_sessions"), 0) << m;
  EXPECT_GT(metric(m, "vrt_decoder_steps_total"), 0) << m;
}

TEST_F(ServerE2E, ApiKeyOnEveryRequestAndUpgrade) {
  ServerProcess s(model(), "-t 1 --api-key s3cret", log());
  const auto code = [&](const std::string& args) { return curl("-o /dev/null -w %{http_code} " + args); };
  EXPECT_EQ(code(s.http("/health")), "200");  // probes carry no credentials
  EXPECT_EQ(code(s.http("/health/ready")), "200");
  EXPECT_EQ(code(s.http("/metrics")), "401");
  EXPECT_EQ(code("-H 'Authorization: Bearer wrong!' " + s.http("/v1/models")), "401");
  EXPECT_EQ(code("-H 'Authorization: Bearer s3cret' " + s.http("/v1/models")), "200");
  EXPECT_EQ(code("-H 'Authorization: Bearer s3cret' " + s.http("/metrics")), "200");
  EXPECT_EQ(code("-F file=@" + clip(kClipA) + " " + s.http("/v1/audio/transcriptions")), "401");
  const auto bad = client(s, std::string("stream ") + clip(kClipA) + " --key nope");
  EXPECT_NE(bad.find("401"), std::string::npos) << bad;
  const auto rs = json_lines(client(s, std::string("stream ") + clip(kClipA) + " --key s3cret"));
  ASSERT_EQ(rs.size(), 1u);
  expect_matches(rs[0], kClipA);
  // Without a key the server refuses a non-loopback address, before loading anything.
  std::string out;
  EXPECT_EQ(test::run_command(bin("voxtral-rt") + " serve -m /nonexistent --host 0.0.0.0 --port 0", &out), 1);
  EXPECT_NE(out.find("--api-key"), std::string::npos) << out;
}

// A round quantum that is not a whole number of decoder positions (80 ms) is refused before
// anything loads.
TEST_F(ServerE2E, QuantumMustBeWholeDecoderPositions) {
  std::string out;
  EXPECT_NE(test::run_command(bin("voxtral-rt") + " serve -m /nonexistent --quantum-ms 100", &out), 0);
  EXPECT_NE(out.find("multiple of 80"), std::string::npos) << out;
  EXPECT_NE(test::run_command(bin("voxtral-rt") + " serve -m /nonexistent --quantum-ms 0", &out), 0);
  EXPECT_NE(out.find("--quantum-ms: Value 0 not in range"), std::string::npos) << out;
}

// Replay (measurement only) needs --bench; with it, session n replays the recording from
// offset 97 n: on the real tokenizer, the first upload of the recording's own clip is the golden
// transcript, the second the recording from token 97 mod 56 = 41 (as `transcribe` replays it).
TEST_F(ServerE2E, ReplayOnlyInBenchModeEachSessionElsewhere) {
  const std::string rec = test::shared_data("reference/voxtral_realtime_tokens_8297-275156-0000.json");
  std::string out;
  EXPECT_NE(test::run_command(bin("voxtral-rt") + " serve -m " + model() + " --replay " + rec, &out), 0);
  EXPECT_NE(out.find("needs --bench"), std::string::npos) << out;
  const std::string real = dir_->file("tiny-real-tokenizer");
  ASSERT_EQ(test::run_command(bin("voxtral-rt-synth") + " -q --config tiny --seed 21 --tekken " +
                                  test::shared_data("tokenizer/tekken_voxtral_mini_4b_realtime_2602.vocab130072.json") +
                                  " -o " + real, &out), 0) << out;
  ServerProcess s(real, "-t 1 --bench --replay " + rec, log());
  const std::string url = " -F response_format=text " + s.http("/v1/audio/transcriptions");
  const auto golden = json::parse(test::read_text(rec));
  EXPECT_EQ(curl("-F file=@" + clip(kClipA) + url), golden["text"].get<std::string>() + "\n");
  ASSERT_EQ(test::run_command("(" + bin("voxtral-rt") + " transcribe -m " + real + " --replay " + rec +
                                  " --replay-offset 41 " + clip(kClipA) + " 2>/dev/null) >" + dir_->file("offset41.txt"),
                              &out), 0) << out;
  EXPECT_EQ(curl("-F file=@" + clip(kClipA) + url), test::read_text(dir_->file("offset41.txt")));
}

// Positions verified per shared pass change how many passes run, never the transcript: one
// position per pass and the largest block both equal the offline transcripts (the default, 4,
// is covered by the tests above); out-of-range values are refused before loading.
TEST_F(ServerE2E, VerifyTokensChangeNoTranscript) {
  for (const char* k : {"1", "16"}) {
    ServerProcess s(model(), std::string("-t 1 --max-sessions 4 --verify-tokens ") + k, log());
    const auto out = client(s, std::string("load ") + clip(kClipA) + " " + clip(kClipB) + " --sessions 2 --pace 4");
    int done = 0;
    for (const auto& r : json_lines(out)) {
      if (!r.contains("file")) continue;
      expect_matches(r, r["file"].get<std::string>().find(kClipA) != std::string::npos ? kClipA : kClipB);
      ++done;
    }
    EXPECT_EQ(done, 2) << "--verify-tokens " << k << ": " << out;
  }
  std::string out;
  EXPECT_NE(test::run_command(bin("voxtral-rt") + " serve -m /nonexistent --verify-tokens 17", &out), 0);
  EXPECT_NE(out.find("--verify-tokens: Value 17 not in range"), std::string::npos) << out;
}

TEST_F(ServerE2E, HostileRealtimeEventsGetErrorEvents) {
  ServerProcess s(model(), "-t 1", log());
  const auto out = client(s, std::string("errors ") + clip(kClipA));
  const auto rs = json_lines(out);
  ASSERT_EQ(rs.size(), 3u) << out;
  EXPECT_EQ(rs[0]["codes"], json::parse(R"(["model_not_validated","model_not_found","invalid_json","unknown_event",
      "invalid_event","invalid_audio","invalid_audio","invalid_audio","invalid_event","invalid_event"])"));
  expect_matches(rs[1], kClipA);  // the session survived all of it
  EXPECT_EQ(rs[2]["oversize_close_code"], 1009);
}

TEST_F(ServerE2E, DisconnectsHalfOpenAndSlowReadersDoNotDisturbOthers) {
  ServerProcess s(model(), "-t 1 --max-sessions 8 --idle-timeout-s 2 --max-outbound-events 16", log());
  // A good session paced at 4x real time while the misbehaving clients come and go.
  FILE* good = popen(("timeout 120 " + test::python() + " " + test::source_dir() + "/tests/server/realtime_client.py " + s.ws() +
                      " stream " + clip(kClipC) + " --pace 4 2>&1").c_str(), "r");
  ASSERT_NE(good, nullptr);
  for (int i = 0; i < 3; ++i) EXPECT_NE(client(s, std::string("disconnect ") + clip(kClipB)).find("aborted"), std::string::npos);
  const auto half = json_lines(client(s, "halfopen"));
  ASSERT_EQ(half.size(), 1u);
  EXPECT_TRUE(half[0]["switched"].get<bool>());
  EXPECT_LT(half[0]["closed_after_s"].get<double>(), 10.0);  // idle timeout 2 s
  const auto slow = json_lines(client(s, std::string("nonreader ") + clip(kClipC) + " --seconds 100"));
  ASSERT_EQ(slow.size(), 1u);
  EXPECT_TRUE(slow[0]["closed_by_server"].get<bool>()) << slow[0].dump();
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, good)) > 0;) out.append(buf, n);
  EXPECT_EQ(pclose(good), 0) << out;
  const auto rs = json_lines(out);
  ASSERT_EQ(rs.size(), 1u) << out;
  expect_matches(rs[0], kClipC);
  // Every session's memory is released: the slots drain to zero.
  double active = -1;
  for (int i = 0; i < 100 && active != 0; ++i) {
    active = metric(curl(s.http("/metrics")), "vrt_active_sessions");
    if (active != 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(active, 0);
  // The non-reader is closed at the outbound cap (vrt_slow_reader_closes_total) or, when reads
  // are paused for backpressure on a slow build, by the idle timeout: either way by the server.
  EXPECT_EQ(s.stop(SIGTERM, 15), 0);  // and it shuts down cleanly afterwards (sanitizers: exit status)
}

// The handshake limit: an upgrade request that never completes (a slowloris client) is dropped
// at --request-timeout-s, with no reply, and the server keeps serving.
TEST_F(ServerE2E, UpgradeThatNeverCompletesIsDroppedAtTheRequestTimeout) {
  ServerProcess s(model(), "-t 1 --request-timeout-s 2", log());
  const auto r = json_lines(client(s, "slowupgrade"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["reply"], "");
  EXPECT_GE(r[0]["closed_after_s"].get<double>(), 1.5);  // not before the timeout
  EXPECT_LT(r[0]["closed_after_s"].get<double>(), 10.0);
  expect_matches(json_lines(client(s, std::string("stream ") + clip(kClipA)))[0], kClipA);
  EXPECT_EQ(s.stop(SIGTERM, 15), 0);
}

// A realtime_client.py run in the background; output() waits for it.
class BackgroundClient {
 public:
  BackgroundClient(const ServerProcess& s, const std::string& args)
      : f_(popen(("timeout 90 " + test::python() + " " + test::source_dir() + "/tests/server/realtime_client.py " +
                  s.ws() + " " + args + " 2>&1").c_str(), "r")) {}
  ~BackgroundClient() { output(); }
  std::string output() {
    if (f_ == nullptr) return out_;
    char buf[4096];
    for (std::size_t n; (n = fread(buf, 1, sizeof buf, f_)) > 0;) out_.append(buf, n);
    pclose(f_);
    f_ = nullptr;
    return out_;
  }

 private:
  FILE* f_;
  std::string out_;
};

TEST_F(ServerE2E, AdmissionControlRefusesWhenFull) {
  ServerProcess s(model(), "-t 1 --max-sessions 2", log());
  BackgroundClient load(s, std::string("load ") + clip(kClipA) + " --sessions 4 --pace 1");
  // While the two admitted sessions stream (3.6 s at real time), an upload is refused before its
  // body is read: 503 with Retry-After, so a balancer can send it elsewhere.
  for (int i = 0; i < 100 && metric(curl(s.http("/metrics")), "vrt_active_sessions") != 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const std::string upload = curl("-i -F file=@" + clip(kClipC) + " " + s.http("/v1/audio/transcriptions"));
  EXPECT_NE(upload.find("HTTP/1.1 503"), std::string::npos) << upload;
  EXPECT_NE(upload.find("Retry-After: 1"), std::string::npos) << upload;
  EXPECT_NE(upload.find("server_full"), std::string::npos) << upload;
  const auto out = load.output();
  int ok = 0, refused = 0;
  for (const auto& r : json_lines(out)) {
    if (r.contains("exception")) {
      ++refused;
      EXPECT_NE(r["exception"].get<std::string>().find("503"), std::string::npos) << r.dump();
    } else if (r.contains("text")) {
      ++ok;
      expect_matches(r, kClipA);
    }
  }
  EXPECT_EQ(ok, 2) << out;
  EXPECT_EQ(refused, 2) << out;
  const std::string m = curl(s.http("/metrics"));
  EXPECT_EQ(metric(m, "vrt_rejected_requests_total{reason=\"capacity\"}"), 3) << m;
}

TEST_F(ServerE2E, LoadConcurrentStreamsAllCorrect) {
  constexpr int K = 8;
  ServerProcess s(model(), "-t 1 --max-sessions 8", log());
  const auto out = client(s, std::string("load ") + clip(kClipA) + " " + clip(kClipB) + " " + clip(kClipC) +
                                 " --sessions " + std::to_string(K) + " --pace 4");
  int done = 0;
  for (const auto& r : json_lines(out)) {
    if (!r.contains("file")) continue;
    const std::string f = r["file"];
    const char* c = f.find(kClipA) != std::string::npos ? kClipA : f.find(kClipB) != std::string::npos ? kClipB : kClipC;
    expect_matches(r, c);
    ++done;
  }
  EXPECT_EQ(done, K) << out;
}

TEST_F(ServerE2E, SigtermDrainsLiveSessionsToTheirEnd) {
  ServerProcess s(model(), "-t 1 --drain-timeout-s 60", log());
  BackgroundClient live(s, std::string("stream ") + clip(kClipC) + " --pace 3");  // 15 s of audio in 5 s
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  s.signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Draining: not ready, still live; nothing new is admitted, with Retry-After.
  const auto code = [&](const std::string& args) { return curl("-o /dev/null -w %{http_code} " + args); };
  EXPECT_EQ(code(s.http("/health")), "503");
  EXPECT_EQ(json::parse(curl(s.http("/health")))["status"], "draining");
  EXPECT_EQ(code(s.http("/health/live")), "200");
  const std::string upload = curl("-i -F file=@" + clip(kClipA) + " " + s.http("/v1/audio/transcriptions"));
  EXPECT_NE(upload.find("HTTP/1.1 503"), std::string::npos) << upload;
  EXPECT_NE(upload.find("Retry-After: 1"), std::string::npos) << upload;
  EXPECT_NE(upload.find("server_draining"), std::string::npos) << upload;
  const auto refused = json_lines(client(s, std::string("load ") + clip(kClipA) + " --sessions 1"));
  ASSERT_GE(refused.size(), 1u);
  EXPECT_NE(refused[0].value("exception", "").find("503"), std::string::npos) << refused[0].dump();
  const std::string m = curl(s.http("/metrics"));
  EXPECT_EQ(metric(m, "vrt_ready"), 0) << m;
  EXPECT_EQ(metric(m, "vrt_active_sessions"), 1) << m;
  EXPECT_GE(metric(m, "vrt_rejected_requests_total{reason=\"draining\"}"), 2) << m;
  // The live session runs to its end, exact; then the process exits 0 by itself.
  const auto rs = json_lines(live.output());
  ASSERT_EQ(rs.size(), 1u) << live.output();
  expect_matches(rs[0], kClipC);
  EXPECT_EQ(s.wait(15), 0);
}

// A session streaming 15 s of audio at real time gets `sig` after 2.5 s: the server exits 0 within
// 15 s, and the session its transcription.done (the text so far) and close 1001 with `reason`.
void expect_final_event_and_close(ServerProcess& s, const std::string& live_args, int sig, const char* reason) {
  BackgroundClient live(s, live_args);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(s.stop(sig, 15), 0);
  const std::string out = live.output();
  const auto rs = json_lines(out);
  ASSERT_EQ(rs.size(), 1u) << out;
  EXPECT_EQ(rs[0]["events"].back(), "transcription.done");  // the open utterance was finished
  EXPECT_EQ(rs[0]["text"], rs[0]["deltas"]);
  EXPECT_FALSE(rs[0]["text"].get<std::string>().empty());
  EXPECT_EQ(rs[0]["close_code"], 1001) << out;
  EXPECT_EQ(rs[0]["close_reason"], reason) << out;
}

TEST_F(ServerE2E, DrainTimeoutClosesSessionsWithTheirTextSoFar) {
  ServerProcess s(model(), "-t 1 --drain-timeout-s 1 --shutdown-grace-s 10", log());
  expect_final_event_and_close(s, std::string("stream ") + clip(kClipC) + " --pace 1 --wait-close", SIGTERM,
                               "server draining: drain timeout reached");
}

TEST_F(ServerE2E, SigintShutsDownAtOnceWithAFinalEvent) {
  ServerProcess s(model(), "-t 1 --drain-timeout-s 60 --shutdown-grace-s 10", log());
  expect_final_event_and_close(s, std::string("stream ") + clip(kClipC) + " --pace 1 --wait-close", SIGINT,
                               "server shutting down");
}

}  // namespace
}  // namespace vrt
