// `voxtral-rt serve -m MODEL`: the realtime transcription server (src/server, docs/SERVER.md).
// Loads the model once; binds loopback by default and refuses any other address without an API
// key unless --insecure. Prints "listening on HOST:PORT" on stdout once bound (--port 0 picks a
// free port, for tests).
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "commands.h"
#include "model_options.h"
#include "replay_input.h"
#include "voxtral_rt/server.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/model.h"
#include "voxtral_rt/model_path.h"
#include "voxtral_rt/session.h"

namespace vrt::cli {
namespace {

struct ServeCli {
  std::string model = kDefaultModelId;
  std::vector<std::string> names;
  SchemeFlags schemes;
  server::ServerOptions opt;
  double max_upload_mb = 25;
  bool bench = false;
  std::string replay;
};

}  // namespace

Runner add_serve_command(CLI::App& app) {
  auto o = std::make_shared<ServeCli>();
  auto* cmd = app.add_subcommand("serve", "Serve realtime transcription: Mistral's API (WebSocket "
                                          "/v1/audio/transcriptions/realtime, POST /v1/audio/transcriptions; its SDKs and "
                                          "OpenAI's work unchanged), WebSocket /v1/realtime (vLLM protocol), a web page at /, "
                                          "/v1/models, /health, /metrics");
  cmd->add_option("-m,--model", o->model, "Checkpoint directory or Hugging Face repo id")->capture_default_str();
  cmd->add_option("--host", o->opt.host, "Address to bind (non-loopback needs --api-key or --insecure)")->capture_default_str();
  cmd->add_option("--port", o->opt.port, "TCP port; 0 picks a free one (printed on stdout)")->capture_default_str();
  cmd->add_option("--max-sessions", o->opt.max_sessions,
                  "Realtime sessions + transcription requests at once; more get HTTP 503")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--api-key", o->opt.api_key, "Require 'Authorization: Bearer KEY' (default: $VRT_API_KEY)");
  cmd->add_flag("--insecure", o->opt.insecure, "Allow a non-loopback address without an API key");
  cmd->add_option("--served-model-name", o->names,
                  "More names clients may give as `model` (always accepted: the -m value, " + std::string(kDefaultModelId) +
                      " and voxtral-mini-transcribe-realtime-2602, Mistral's API id)");
  cmd->add_flag("!--no-web", o->opt.web_page, "Do not serve the web page at / (live microphone and uploads)");
  add_scheme_options(cmd, o->schemes);
  cmd->add_option("--io-threads", o->opt.io_threads, "Network threads")->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_option("--max-backlog-s", o->opt.max_backlog_s,
                  "Queued audio per realtime session before the server stops reading it (backpressure)")
      ->check(CLI::Range(0.5, 3600.0))
      ->capture_default_str();
  cmd->add_option("--quantum-ms", o->opt.quantum_ms,
                  "Most audio per stream per compute round: a stream that fell behind catches up in batches "
                  "of this size (larger: more throughput, more latency while behind)")
      ->check(CLI::Range(80, 10240) & CLI::Validator([](std::string& s) {
        return std::stoi(s) % 80 == 0 ? std::string() : std::string("a multiple of 80 ms (one decoder position)");
      }, "multiple of 80"))
      ->capture_default_str();
  cmd->add_option("--verify-tokens", o->opt.verify_tokens,
                  "Positions a stream may verify per shared decoder pass (guessing [STREAMING_PAD]; output "
                  "identical to greedy decoding). 1 = one position per pass; real speech accepts about 2 per pass "
                  "(docs/PERFORMANCE.md)")
      ->check(CLI::Range(1, SessionOptions::kMaxVerifyTokens))
      ->capture_default_str();
  cmd->add_option("--max-message-kb", o->opt.max_message_bytes, "")->group("")->transform([](std::string s) {
    return std::to_string(std::stoull(s) * 1024);
  });
  cmd->add_option("--max-upload-mb", o->max_upload_mb, "Largest upload (request body)")->check(CLI::Range(0.01, 2048.0))->capture_default_str();
  cmd->add_option("--max-upload-s", o->opt.max_upload_duration_s, "Longest uploaded audio")->check(CLI::Range(1.0, 86400.0))->capture_default_str();
  cmd->add_option("--max-outbound-events", o->opt.max_outbound_events, "Unsent events before a client that does not read is closed")
      ->check(CLI::Range(4, 1000000))
      ->capture_default_str();
  cmd->add_option("--idle-timeout-s", o->opt.idle_timeout_s, "WebSocket idle timeout (pings at half of it)")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  cmd->add_option("--request-timeout-s", o->opt.request_timeout_s, "HTTP: time to read one request or write a reply")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cmd->add_option("--max-kept-tokens", o->opt.max_kept_tokens, "Tokens a live session keeps for words/segments in transcription.done")
      ->check(CLI::Range(std::int64_t{16}, std::int64_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--drain-timeout-s", o->opt.drain_timeout_s,
                  "SIGTERM drains: /health turns 503, nothing new is admitted (503 + Retry-After), live sessions "
                  "go on this long before they are closed with their text so far; then the process exits 0. "
                  "A second SIGTERM, or SIGINT, shuts down at once")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  cmd->add_option("--shutdown-grace-s", o->opt.shutdown_grace_s,
                  "Shutdown: time for closed sessions to receive their final event")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--retry-after-s", o->opt.retry_after_s, "Retry-After of a 503 (server full or draining)")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  cmd->add_flag("--bench", o->bench, "Measurement mode: a server for benchmarks, not for users (allows --replay)");
  cmd->add_option("--replay", o->replay,
                  std::string(kReplayHelp) + "; each session starts at another offset. Only with --bench");
  return [o] {
    std::signal(SIGPIPE, SIG_IGN);
    // A replaying server transcribes nothing: it must never run by mistake.
    if (!o->replay.empty() && !o->bench)
      throw Error(Status::invalid_argument, "--replay makes every transcript a recording: it is for benchmarks only "
                                            "and needs --bench");
    if (!o->replay.empty()) o->opt.replay_tokens = load_replay_tokens(o->replay);
    if (o->opt.api_key.empty())
      if (const char* k = std::getenv("VRT_API_KEY")) o->opt.api_key = k;
    o->opt.max_upload_bytes = static_cast<std::size_t>(o->max_upload_mb * 1024 * 1024);
    // The Hugging Face id, the id of Mistral's API (its SDK's realtime examples use it), the
    // -m value, then the names given; the first is what replies name.
    o->opt.model_names = {kDefaultModelId, "voxtral-mini-transcribe-realtime-2602", o->model};
    o->opt.model_names.insert(o->opt.model_names.end(), o->names.begin(), o->names.end());
    for (std::size_t i = 1; i < o->opt.model_names.size();)  // unique, in order
      if (std::find(o->opt.model_names.begin(), o->opt.model_names.begin() + static_cast<std::ptrdiff_t>(i),
                    o->opt.model_names[i]) != o->opt.model_names.begin() + static_cast<std::ptrdiff_t>(i))
        o->opt.model_names.erase(o->opt.model_names.begin() + static_cast<std::ptrdiff_t>(i));
      else
        ++i;
    // Check the bind policy before the (possibly long) model load.
    if (!server::is_loopback_address(o->opt.host) && o->opt.host != "localhost" && o->opt.api_key.empty() && !o->opt.insecure)
      throw Error(Status::invalid_argument, "refusing to listen on non-loopback address " + o->opt.host +
                                                " without --api-key (pass --insecure to do it anyway)");
    const auto model = Model::load(resolve_model_path(o->model), load_options(o->schemes));
    if (!o->replay.empty()) note_replay(o->replay, o->opt.replay_tokens.size());
    server::Server srv(model, o->opt);
    const unsigned short port = srv.bind();
    std::printf("listening on %s:%u\n", o->opt.host.c_str(), static_cast<unsigned>(port));
    std::fflush(stdout);
    srv.run();
    std::fprintf(stderr, "voxtral-rt serve: stopped\n");
    return 0;
  };
}

}  // namespace vrt::cli
