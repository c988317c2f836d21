// Internals shared by the listener, the HTTP sessions and the realtime sessions.
#pragma once

#include <pthread.h>
#include <time.h>

#include <atomic>
#include <utility>  // before Asio: its awaitable.hpp uses std::exchange without it
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/beast/websocket.hpp>
#include <functional>
#include <map>
#include <mutex>
#include <optional>

#include "server/mistral_protocol.h"
#include "server/scheduler.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/server.h"

namespace vrt::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class RealtimeSession;

// Beast 1.74 speaks boost::string_view.
inline std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

struct Metrics {
  std::atomic<std::int64_t> http_requests{0};
  std::atomic<std::int64_t> realtime_sessions{0};
  std::atomic<std::int64_t> rejected_capacity{0};
  std::atomic<std::int64_t> rejected_draining{0};
  std::atomic<std::int64_t> rejected_unauthorized{0};
  std::atomic<std::int64_t> rejected_bad_request{0};
  std::atomic<std::int64_t> rejected_too_large{0};
  std::atomic<std::int64_t> slow_reader_closes{0};
  std::atomic<std::int64_t> protocol_errors{0};
};

struct Server::State : std::enable_shared_from_this<Server::State> {
  State(std::shared_ptr<const Model> m, ServerOptions o);

  std::shared_ptr<const Model> model;
  ServerOptions opt;
  // Destroyed explicitly by ~Server before the State: pending handlers own the sessions, and
  // the sessions own the State.
  std::unique_ptr<net::io_context> ioc_owner;
  net::io_context& ioc;
  std::optional<tcp::acceptor> acceptor;
  net::thread_pool decode_pool{1};  // audio file decoding, off the I/O threads
  std::shared_ptr<Scheduler> scheduler;
  Metrics metrics;
  // CPU clocks of the I/O threads (network, protocol parsing, base64), for /metrics.
  mutable std::mutex io_clocks_mu;
  std::vector<clockid_t> io_clocks;
  void register_io_thread();
  double io_cpu_s() const;
  std::atomic<bool> shutting_down{false};
  std::atomic<bool> draining{false};  // set by drain(); shutting_down follows when it is done
  std::atomic<int> http_jobs{0};

  std::mutex mu;  // guards realtime
  std::map<RealtimeSession*, std::weak_ptr<RealtimeSession>> realtime;

  // New sessions and uploads are taken (not draining or shutting down).
  bool admitting() const { return !draining && !shutting_down; }
  // Authorization: Bearer KEY (constant-time compare); true when no key is configured. A browser
  // cannot set headers on a WebSocket, so an upgrade may instead offer the subprotocol
  // "voxtral-rt.key.KEY" next to "voxtral-rt" (which the server then selects).
  bool authorized(const http::request_header<>& h) const;
  bool model_served(const std::string& name) const;
  static constexpr std::string_view kPageSubprotocol = "voxtral-rt";
  static constexpr std::string_view kKeySubprotocolPrefix = "voxtral-rt.key.";
  // Whether a Sec-WebSocket-Protocol list offers `name`.
  static bool offers_subprotocol(const http::request_header<>& h, std::string_view name);
  std::string served_names() const;
  std::string render_metrics() const;

  void do_accept();
  void begin_shutdown(std::string reason = "server shutting down");
  void begin_drain();
  // On the I/O context: calls then(true) once every realtime session and upload has ended, or
  // then(false) after timeout_s, checking every 20 ms.
  void when_idle(double timeout_s, std::function<void(bool idle)> then);
  void add_realtime(const std::shared_ptr<RealtimeSession>& s);
  void remove_realtime(RealtimeSession* s);
};

// One keep-alive HTTP connection; hands the socket to a RealtimeSession on a WebSocket upgrade.
void start_http_session(tcp::socket socket, std::shared_ptr<Server::State> st);

// Closes a connection whose peer may still be sending (a reply before the request body was read,
// a WebSocket message over the limit): closing with unread data makes the kernel answer with a
// reset that can destroy our last reply before the peer reads it. So the rest is read and thrown
// away first, up to `limit` bytes and for at most 5 s. `owner` keeps `stream` alive meanwhile.
void discard_then_close(beast::tcp_stream& stream, std::shared_ptr<void> owner, std::size_t limit);

// Compute-thread state of a realtime session (word tracker, utterance text).
struct RealtimeCompute;

// The two realtime protocols: vLLM's (/v1/realtime) and Mistral's
// (/v1/audio/transcriptions/realtime?model=..., as the official SDK speaks it).
enum class Dialect { vllm, mistral };

// Takes a free slot and starts a realtime session on this upgrade request (auth checked).
// Returns false, leaving the stream untouched, when max_sessions are busy. `model`: the
// Mistral dialect's model from the URL (checked after the handshake, so the client's SDK can
// report the error event).
bool try_start_realtime(beast::tcp_stream& stream, http::request<http::string_body>& req,
                        const std::shared_ptr<Server::State>& st, Dialect dialect = Dialect::vllm,
                        std::string model = {});


class RealtimeSession : public std::enable_shared_from_this<RealtimeSession> {
 public:
  RealtimeSession(beast::tcp_stream stream, std::shared_ptr<Server::State> st, Dialect dialect, std::string model);
  ~RealtimeSession();
  void run(http::request<http::string_body> req, std::shared_ptr<Stream> stream,
           std::shared_ptr<RealtimeCompute> compute);
  void shutdown(std::string reason);  // any thread; `reason` goes in the error event and the close
  // Posted from the compute thread:
  void post_event(std::string event, bool is_done);
  void post_error(std::string code, std::string message, bool fatal);
  void post_resume();
  net::any_io_executor executor() const { return exec_; }

 private:
  void on_accept(beast::error_code ec);
  void do_read();
  void on_read(beast::error_code ec, std::size_t n);
  void handle(std::string_view text);
  void handle_mistral(std::string_view text);
  void append_audio(std::vector<float> samples);
  // An error event in the session's dialect: vLLM's string code, or Mistral's integer one.
  void send_error(const char* vllm_code, int mistral_code, std::string message);
  void send(std::string event);
  void do_write();
  void on_write(beast::error_code ec, std::size_t n);
  void close_after_flush(websocket::close_code code, std::string reason);
  void fail(bool close_socket = true);  // drops the session; closes the socket unless told not to
  void on_shutdown(const std::string& reason);

  websocket::stream<beast::tcp_stream> ws_;
  Dialect dialect_;
  std::string model_;                    // Mistral: the model named in the URL
  mistral::SessionState mistral_;        // Mistral: format and delay of this session
  std::optional<PcmDecoder> pcm_;        // Mistral: raw bytes in the session's encoding
  std::optional<StreamResampler> resampler_;  // Mistral: the session's rate to 16 kHz
  bool audio_started_ = false;           // Mistral: session.update is refused after audio
  bool end_after_done_ = false;          // Mistral: input_audio.end closes after transcription.done
  net::any_io_executor exec_;
  std::shared_ptr<Server::State> st_;
  std::shared_ptr<Stream> stream_;
  std::shared_ptr<RealtimeCompute> compute_;
  net::steady_timer write_timer_;  // a stalled write: the client stopped reading
  beast::flat_buffer buf_;
  std::deque<std::string> outq_;
  bool writing_ = false;
  bool reading_ = false;
  bool read_paused_ = false;
  bool closing_ = false;     // a close is queued or done: no more reads or events
  bool failed_ = false;
  bool accepted_ = false;  // the WebSocket handshake is done: events may be written
  bool validated_ = false;
  bool open_utterance_ = false;  // audio appended since the last final commit
  int dones_owed_ = 0;
  bool shutdown_ = false;
  std::string shutdown_reason_;  // the close reason once shutdown_ (at most 123 bytes)
  std::optional<websocket::close_reason> close_after_;
  std::shared_ptr<RealtimeSession> keep_self_;  // while reads are paused (backpressure)
};

}  // namespace vrt::server
