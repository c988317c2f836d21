// voxtral-rt's realtime transcription server: WebSocket /v1/realtime (vLLM's realtime
// protocol), POST /v1/audio/transcriptions (OpenAI-style multipart), /v1/models, /health and
// /metrics, over Boost.Beast. One model is loaded once and shared; all compute goes through the
// Scheduler (server/scheduler.h). docs/SERVER.md describes the protocol, limits and behaviour.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "voxtral_rt/model.h"

namespace vrt::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8000;                // 0 = an ephemeral port (bind() returns it)
  std::string api_key;                       // empty: no authentication (loopback only, or insecure)
  bool insecure = false;                     // allow a non-loopback bind without a key
  std::vector<std::string> model_names;      // accepted `model` values; the first is listed
  int max_sessions = 4;                      // realtime sessions + transcription jobs at once
  int io_threads = 2;
  std::size_t max_message_bytes = 1 << 20;   // one WebSocket message (close 1009 above)
  std::size_t max_upload_bytes = 25u << 20;  // one HTTP request body
  double max_upload_duration_s = 600;        // decoded audio of one upload
  double max_backlog_s = 10;                 // queued audio per realtime session before reads pause
  int quantum_ms = 640;                      // audio per stream per compute round (a multiple of 80)
  // Positions a stream may verify per batched decoder pass (SessionOptions::verify_tokens). 4, as
  // offline: real speech accepts about 2 positions per pass (2.04 at 4 rows, 2.35 at 8), so 8
  // rows mostly compute rejected ones (measured under replay, docs/PERFORMANCE.md; 8 had been
  // chosen on synthetic statistics, where every row is accepted).
  int verify_tokens = 4;
  std::size_t max_outbound_events = 256;     // unsent events before a non-reading client is closed
  int handshake_timeout_s = 30;
  int idle_timeout_s = 300;                  // WebSocket: no frame (pings are sent at half of it)
  int request_timeout_s = 30;                // HTTP: reading one request
  int keep_alive_s = 5;                      // HTTP: idle between requests
  std::int64_t max_kept_tokens = 4096;       // live sessions (text goes out as deltas)
  double shutdown_grace_s = 10;              // shutdown: time for sessions to get their last event
  // Drain (SIGTERM, drain()): /health turns 503 at once, nothing new is admitted, live sessions
  // go on for up to this long, then the rest are shut down (their text so far delivered).
  double drain_timeout_s = 60;
  int retry_after_s = 1;                     // Retry-After of a 503 (full or draining)
  bool web_page = true;                      // the page at / (live microphone, uploads)
  bool handle_signals = true;                // SIGTERM drains; SIGINT, or a second SIGTERM, shuts down
  // Benchmarks only (`serve --bench --replay`): every session replays this recorded token stream
  // (SessionOptions::replay_tokens), session n from offset 97 n, so that concurrent streams sit
  // at different places of the recording. Empty: the model decides (always, outside benchmarks).
  std::vector<int> replay_tokens;
};

class Server {
 public:
  Server(std::shared_ptr<const Model> model, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Resolves and binds. Throws vrt::Error: invalid_argument for a non-loopback address without
  // an API key (unless insecure), io_error when the address cannot be bound. Returns the port.
  unsigned short bind();
  // Serves until shutdown() (or a signal) has drained the sessions. Call bind() first.
  void run();
  // Graceful shutdown, from any thread: stop accepting, give every realtime session its final
  // event, wait up to shutdown_grace_s, then stop.
  void shutdown();
  // Drain, from any thread: keep answering (health 503 "draining", new sessions and uploads 503
  // with Retry-After) while the live sessions and uploads finish; when they have, or after
  // drain_timeout_s, shut down as above. run() then returns.
  void drain();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// Whether a resolved address is loopback (127.0.0.0/8, ::1, ::ffff:127.x).
bool is_loopback_address(const std::string& address);

}  // namespace vrt::server
