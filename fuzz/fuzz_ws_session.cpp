// Fuzz target: the realtime WebSocket server end to end. A real vrt::server::Server (the object
// `voxtral-rt serve` runs) on 127.0.0.1 with an ephemeral port, serving a tiny synthetic model
// (written once by tools/synth into a temporary directory), is driven over a real loopback TCP
// socket: the HTTP upgrade (src/server/http_session.cpp), Beast's WebSocket framing, and the
// realtime session's state machine (src/server/realtime_session.cpp), the scheduler and the model
// behind it (session.update, appends, commits, several utterances per socket, errors,
// backpressure, close handshakes, abrupt disconnects, graceful shutdown).
//
// Input, read as a script (every byte string is a valid script):
//   byte 0  handshake: 0-18 a valid upgrade; 19 valid upgrades racing a graceful server
//           shutdown that starts byte 3 * 20 us after the request, repeated byte 4 % 8 more
//           times with byte 5 * 10 us more delay each time (each time a fresh server);
//           20 wrong path (404); 21 no Sec-WebSocket-Key (400);
//           22 a 25-byte key (400); 23 version 12 (426); 24 no Host (400); 25 a plain GET of
//           /v1/realtime (426); 26 POST with upgrade headers (not an upgrade: 426);
//           27 HTTP/1.0 (not an upgrade: 426); 28 an upgrade with a body (400); 29 GET /health
//           (200); 30-31 the request is u16 % 2048 raw bytes of the input (any answer).
//   byte 1  flags: bits 0-2 how sends are cut (whole, or pieces of 1, 2, 3, 7, 64, 512, 1000
//           bytes), bits 3-4 header variants of a valid upgrade (subprotocol + deflate offer;
//           lower-case names, "keep-alive, Upgrade", a query string, an Origin), bit 5 an abrupt
//           close is a reset (else FIN), bit 6 no final sync, bit 7 end abruptly (else a close
//           frame).
//   byte 2  mask key seed (0: the all-zero key, which is legal).
//   then ops, one byte each (op % 16) plus operands:
//     0 session.update (operand: model served/other served name/unknown/missing, delay_ms from
//       {absent, 480, 80, 2400, 1200, 100, -80, "480"}, granularities, stop_on_eos)
//     1,2 input_audio_buffer.append (operand n: n < 128: n samples of input bytes, 0 = empty
//       audio; else (n-127)*64 samples of a tiled waveform; a flag byte adds an event_id and
//       reorders the keys)
//     3 commit, 4 commit final, 5 raw text frame (u8 length, input bytes), 6 raw binary frame,
//     7 a fragmented message (templated or raw text, 2-5 fragments, pings in between),
//     8 ping (payload from input), 9 a second session beside this one (an utterance; a third
//       connection meanwhile must get 503), or with bit 4 an unsolicited pong,
//     10 an arbitrary frame header (fin, rsv, opcode, unmasked, non-minimal 16/64-bit lengths):
//        the rest is unpredicted,
//     11 an oversized message (one frame, or fragments, past max_message_bytes),
//     12 a close frame (code from a table of valid and invalid ones, reason from input),
//     13 abrupt close (FIN or reset), 14 sync (see below), 15 graceful server shutdown (after a
//        sync; with bit 4 racing the frames in flight, unpredicted), then a fresh server.
//
// The harness predicts the server's answer to every complete message with the rules of
// realtime_session.cpp (classifying the text with parse_client_event, which fuzz_ws_event
// checks on its own) and checks, as the events arrive:
//   - every server frame is well formed (no mask, RSV 0, known opcode, control frames final and
//     <= 125 bytes, minimal length encoding, continuation only inside a message, nothing after
//     a close frame, close codes valid to send and reasons UTF-8); pongs echo our pings in order;
//   - every text message is UTF-8 JSON with a "type" among session.created (first, id sess-...),
//     session.updated, transcription.delta, transcription.done, error (code among the documented
//     ones); no binary messages;
//   - the session.updated / error replies come one per message, in order, with the predicted
//     type, code, model, delay_ms and stop_on_eos (racy cases, such as delay_ms changing after
//     audio was processed, allow both answers);
//   - no delta or done before session.updated; each done's text is the concatenation of the
//     utterance's deltas; usage totals add up; never more dones than accepted final commits;
//   - sync: a sentinel event (unknown type) gets its error only after every earlier reply, then
//     every accepted final commit gets exactly one transcription.done; the server never closes a
//     healthy session, and closes with the predicted code (1007 bad UTF-8, 1009 too big, 1008
//     backlog full before session.update, 1001 shutdown, the echo of ours) when it must;
//   - after our FIN the server closes its side (no half-open session is kept);
//   - after every input, a fresh session on a new socket gets 101, session.created and an error
//     for an early commit: the server is alive and the sessions' slots were given back (a 503
//     for more than 5 s is a finding).
// The harness's own deadlines (5-7 s) stay below the target's -timeout=20 (fuzz/CMakeLists.txt),
// so a hang is reported as a broken invariant with the script's trace (VRT_FUZZ_TRACE=1 prints
// the trace of every input). An input takes 5-200 ms. The server runs on its own threads, so
// coverage is not fully deterministic, and a race can need several runs of its input.
// Client sockets bind 127.0.0.2-251 in turn (many connections a second would otherwise run out
// of loopback ports in TIME_WAIT); the model's temporary directory is removed once it is loaded.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "fuzz_util.h"
#include "server/realtime_protocol.h"
#include "voxtral_rt/server.h"
#include "synth.h"
#include "common/base64.h"
#include "voxtral_rt/model.h"
#include "voxtral_rt/model_path.h"

namespace {

using njson = nlohmann::json;
namespace srv = vrt::server;
using Clock = std::chrono::steady_clock;
using vrt::fuzz::Reader;

constexpr const char* kModelName = "voxtral-fuzz";
constexpr std::size_t kMaxMessage = 32 * 1024;   // ServerOptions::max_message_bytes
constexpr double kBacklogS = 0.25;               // ServerOptions::max_backlog_s
constexpr std::size_t kBacklogSamples = 4000;    // = kBacklogS * 16 kHz (Stream's pause point)
constexpr std::size_t kMaxAudioSamples = 24000;  // templated audio per input (1.5 s)
constexpr int kMaxFinalCommits = 4;              // utterances per input (each costs a prefill)
constexpr int kMaxOps = 64;
constexpr int kDefaultDelayMs = 480;             // the synthetic tokenizer's transcription delay
// RFC 6455's example key and its accept value.
constexpr const char* kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr const char* kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// ------------------------------------------------------------------------------------ server

struct Host {
  std::string dir;
  std::shared_ptr<const vrt::Model> model;
  std::unique_ptr<srv::Server> server;
  std::thread thread;
  std::atomic<bool> running{false};  // run() has not returned yet
  unsigned short port = 0;

  void start() {
    srv::ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.model_names = {kModelName, vrt::kDefaultModelId};
    o.max_sessions = 2;
    o.io_threads = 1;
    o.max_message_bytes = kMaxMessage;
    o.max_upload_bytes = 64 * 1024;
    o.max_backlog_s = kBacklogS;
    o.handshake_timeout_s = 5;
    o.idle_timeout_s = 10;
    o.request_timeout_s = 5;
    o.keep_alive_s = 2;
    o.shutdown_grace_s = 5;
    o.handle_signals = false;  // libFuzzer owns SIGINT
    server = std::make_unique<srv::Server>(model, o);
    port = server->bind();
    running = true;
    thread = std::thread([this, s = server.get()] {
      s->run();
      running = false;
    });
  }
  // Graceful shutdown (sessions get their last events), then the server is destroyed.
  void stop() {
    if (!server) return;
    server->shutdown();
    thread.join();
    server.reset();
  }
};

Host* g_host = nullptr;

Host& host() {
  if (g_host) return *g_host;
  std::signal(SIGPIPE, SIG_IGN);
  auto* h = new Host();
  char tmpl[] = "/tmp/fuzz_ws_session.XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    std::abort();
  }
  h->dir = tmpl;
  vrt::synth::SynthOptions so;
  so.preset = "tiny";
  so.vocab_ranks = 400;
  so.weight_scale = 2.0;  // as the server tests: the model writes text
  so.seed = 21;
  vrt::synth::write_checkpoint(h->dir, so);
  vrt::LoadOptions lo;
  lo.threads = 1;
  h->model = vrt::Model::load(h->dir, lo);
  // The loaded model needs no file any more (a mapping outlives its unlinked file): removed now,
  // so a run that aborts on a finding leaves nothing behind.
  std::error_code ec;
  std::filesystem::remove_all(h->dir, ec);
  h->start();
  g_host = h;
  std::atexit([] {
    g_host->stop();
    delete g_host;
    g_host = nullptr;
  });
  return *h;
}

// ------------------------------------------------------------------------------------ helpers

bool valid_utf8(std::string_view s) {  // RFC 3629: no overlongs, surrogates or > U+10FFFF
  std::size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  while (i < s.size()) {
    const unsigned c = p[i];
    std::size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) { ++i; continue; }
    if (c >= 0xC2 && c <= 0xDF) n = 1;
    else if (c == 0xE0) { n = 2; lo = 0xA0; }
    else if (c == 0xED) { n = 2; hi = 0x9F; }
    else if (c >= 0xE1 && c <= 0xEF) n = 2;
    else if (c == 0xF0) { n = 3; lo = 0x90; }
    else if (c == 0xF4) { n = 3; hi = 0x8F; }
    else if (c >= 0xF1 && c <= 0xF3) n = 3;
    else return false;
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const unsigned b = p[i + k];
      if (b < (k == 1 ? lo : 0x80u) || b > (k == 1 ? hi : 0xBFu)) return false;
    }
    i += n + 1;
  }
  return true;
}

bool is_documented_code(const std::string& c) {
  namespace k = srv::code;
  for (const char* d : {k::invalid_json, k::unknown_event, k::invalid_event, k::invalid_audio, k::model_not_found,
                        k::model_not_validated, k::processing_error, k::server_shutdown, k::slow_reader})
    if (c == d) return true;
  return false;
}

// A close code the server may send: RFC 6455 7.4's and IANA's (1012, 1013), or an echo of a
// client's code from 5000 up, which Beast accepts and echoes (checked against the prediction).
bool valid_close_code(unsigned c) {
  return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1013) || c >= 3000;
}

std::string frame(unsigned opcode, std::string_view payload, std::uint32_t mask, bool fin = true) {
  std::string f;
  f += static_cast<char>((fin ? 0x80 : 0) | (opcode & 0x0F));
  const std::size_t n = payload.size();
  if (n < 126) {
    f += static_cast<char>(0x80 | n);
  } else if (n < 65536) {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xFF);
  } else {
    f += static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i) f += static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xFF);
  }
  const unsigned char m[4] = {static_cast<unsigned char>(mask >> 24), static_cast<unsigned char>(mask >> 16),
                              static_cast<unsigned char>(mask >> 8), static_cast<unsigned char>(mask)};
  f.append(reinterpret_cast<const char*>(m), 4);
  for (std::size_t i = 0; i < n; ++i) f += static_cast<char>(payload[i] ^ static_cast<char>(m[i % 4]));
  return f;
}

std::string hex(std::string_view s) {
  std::string out;
  char b[4];
  for (std::size_t i = 0; i < s.size() && i < 64; ++i) {
    std::snprintf(b, sizeof b, "%02x ", static_cast<unsigned char>(s[i]));
    out += b;
  }
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ------------------------------------------------------------------------------------ client

// One expected reply to a message: its alternatives (racy cases have two).
struct Expect {
  std::string type;   // "session.updated" or "error"
  std::string code;   // error
  std::string model;  // session.updated
  int delay_ms = 0;
  bool stop_on_eos = false;
  bool words = false, segments = false;
};
struct Slot {
  std::vector<Expect> alts;
  std::string what;  // the message, for the trace
};
Expect reply_of_type(std::string type) {
  Expect e;
  e.type = std::move(type);
  return e;
}
Expect error_reply(std::string code) {
  Expect e = reply_of_type("error");
  e.code = std::move(code);
  return e;
}

class Client {
 public:
  explicit Client(std::string* trace) : trace_(trace) {}
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }

  [[noreturn]] void violated(const std::string& what) {
    std::fprintf(stderr, "fuzz_ws_session: script so far:\n%s\n", trace_->c_str());
    std::fprintf(stderr, "fuzz_ws_session: %s\n", what.c_str());
    vrt::fuzz::violated(__FILE__, __LINE__, what.c_str());
  }
  void note(const std::string& s) {
    static const auto t0 = Clock::now();
    if (trace_->size() < 64 * 1024)
      *trace_ += "  " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()) +
                 " ms " + s.substr(0, 300) + "\n";
  }

  bool connect_to(unsigned short port) {
    // Thousands of connections a minute leave their 4-tuples in TIME_WAIT for 60 s; the client
    // address rotates over 127.0.0.2-251 so the loopback's ephemeral ports never run out.
    static unsigned next_source = 0;
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) violated("socket() failed");
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + next_source++ % 250);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0)
      violated(std::string("bind() of a loopback client address failed: ") + std::strerror(errno));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      connect_errno_ = errno;
      return false;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    return true;
  }

  // ---- raw I/O: reads whatever comes while sending, so neither side can block the other.

  void set_chunk(std::size_t c) { chunk_ = c; }
  bool peer_gone() const { return eof_ || send_failed_; }
  std::string connect_error() const { return std::strerror(connect_errno_); }

  // False when the connection broke before everything was sent.
  bool send_raw(std::string_view bytes, bool chunked = true) {
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    std::size_t at = 0;
    const std::size_t piece = chunked && chunk_ && bytes.size() <= 4096 ? chunk_ : bytes.size();
    while (at < bytes.size()) {
      if (send_failed_) return false;
      pollfd p{fd_, POLLOUT | POLLIN, 0};
      const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
      if (left <= 0) {
        // The server stopped reading: only legitimate while its reads are paused (backpressure,
        // which lasts while the compute thread works through at most max_backlog_s of audio).
        violated("could not send for 5 s: the server stopped reading");
      }
      ::poll(&p, 1, std::min(left, 100));
      if (p.revents & (POLLIN | POLLHUP | POLLERR)) read_some();
      if (p.revents & POLLOUT) {
        const std::size_t n = std::min(piece, bytes.size() - at);
        const ssize_t w = ::send(fd_, bytes.data() + at, n, MSG_NOSIGNAL);
        if (w > 0) at += static_cast<std::size_t>(w);
        else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) send_failed_ = true;
      } else if (p.revents & (POLLHUP | POLLERR)) {
        send_failed_ = true;
      }
    }
    return true;
  }

  // Reads and processes what is there; waits up to `ms` for the first bytes.
  void read_some(int ms = 0) {
    if (eof_) return;
    if (ms > 0) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, ms) <= 0) return;
    }
    char buf[16384];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        in_.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) eof_ = true;
      break;
    }
    process();
  }

  template <typename Pred>
  bool wait_for(Pred pred, int ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    read_some();
    while (!pred() && !eof_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) break;
      read_some(static_cast<int>(std::min<long long>(left, 50)));
    }
    return pred();
  }

  // ---- handshake

  // Sends the request and reads the response head; returns the status (0: none came).
  int handshake(const std::string& request, int wait_ms = 3000) {
    note("request: " + request.substr(0, request.find("\r\n")));
    send_raw(request);
    wait_for([&] { return http_done_; }, wait_ms);
    return status_;
  }

  // ---- messages

  std::uint32_t next_mask() {
    mask_ = mask_ * 1664525u + 1013904223u;
    return mask_seed_ == 0 ? 0u : mask_;
  }
  void set_mask_seed(std::uint8_t s) {
    mask_seed_ = s;
    mask_ = s;
  }

  // A complete client message whose reply the model predicts.
  void send_message(bool text, const std::string& payload, const std::string& label) {
    note((text ? "text " : "binary ") + label + " (" + std::to_string(payload.size()) + " bytes)");
    if (predictable_) predict(text, payload, label);
    send_raw(frame(text ? 1 : 2, payload, next_mask()));
  }

  // The same message as fragments (payload cut at `cuts`), with pings between some of them.
  void send_fragmented(bool text, const std::string& payload, std::vector<std::size_t> cuts,
                       unsigned ping_mask, const std::string& label) {
    note("fragmented " + label + " in " + std::to_string(cuts.size() + 1) + " frames");
    if (predictable_) predict(text, payload, label);
    std::string bytes;
    std::size_t at = 0;
    for (std::size_t i = 0; i <= cuts.size(); ++i) {
      const std::size_t end = i < cuts.size() ? cuts[i] : payload.size();
      const unsigned op = i == 0 ? (text ? 1u : 2u) : 0u;
      bytes += frame(op, std::string_view(payload).substr(at, end - at), next_mask(), i == cuts.size());
      at = end;
      if (i < cuts.size() && (ping_mask >> i) & 1) {
        const std::string data = "p" + std::to_string(pings_sent_++);
        if (predictable_) pings_.push_back(data);
        bytes += frame(9, data, next_mask());
      }
    }
    send_raw(bytes);
  }

  void send_ping(const std::string& data) {
    note("ping (" + std::to_string(data.size()) + " bytes)");
    if (predictable_) pings_.push_back(data);
    send_raw(frame(9, data, next_mask()));
  }

  void send_pong(const std::string& data) {
    note("unsolicited pong");
    send_raw(frame(10, data, next_mask()));
  }

  // Bytes whose effect is not predicted (arbitrary frame headers): only the generic checks
  // apply from here on.
  void send_unpredicted(const std::string& bytes, const std::string& label) {
    note("unpredicted: " + label);
    predictable_ = false;
    send_raw(bytes);
  }

  // A message over max_message_bytes: Beast fails the connection with 1009 before the
  // session sees it.
  void send_oversized(const std::string& bytes, const std::string& label) {
    note("oversized: " + label);
    expect_close(1009);
    send_raw(bytes, false);
  }

  // A close frame; the server echoes it (or answers 1002 to an invalid one).
  void send_close(std::string payload, std::optional<unsigned> echo, const std::string& label) {
    note("close " + label);
    if (predictable_ && !closing_) {
      closing_ = true;
      close_code_expected_ = echo ? static_cast<int>(*echo) : -1;
    }
    sent_close_ = true;
    send_raw(frame(8, payload, next_mask()));
  }

  // Client side gone without a close frame.
  void abrupt(bool reset) {
    note(reset ? "abrupt close: reset" : "abrupt close: FIN");
    if (reset) {
      linger l{1, 0};
      ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      ::close(fd_);
      fd_ = -1;
    } else {
      ::shutdown(fd_, SHUT_WR);
      half_closed_ = true;
    }
  }

  // Sends a sentinel (an unknown event type) and waits for its error: every message before it
  // has been handled and answered. Then waits for a transcription.done per accepted final
  // commit. Only for a predictable, open session.
  void sync() {
    if (!predictable_ || closing_ || peer_gone()) return;
    const std::size_t want = slots_.size() + 1;
    send_message(true, R"({"type":"fuzz.sync"})", "sync");
    if (closing_) return;
    if (!wait_for([&] { return matched_ >= want; }, 5000)) {
      if (eof_ || got_close_) violated("the server closed a healthy session (no close expected)");
      violated("no reply to the sync event within 5 s (" + std::to_string(matched_) + " of " +
               std::to_string(want) + " replies)");
    }
    if (!pings_.empty()) violated("a ping sent before the sync event got no pong before its reply");
    if (!wait_for([&] { return dones_ >= dones_expected_; }, 6000)) {
      if (eof_ || got_close_) violated("the server closed a healthy session while transcribing");
      violated("missing transcription.done: " + std::to_string(dones_) + " of " + std::to_string(dones_expected_) +
               " within 6 s of the last reply");
    }
  }

  // Graceful shutdown of the whole server with this session open: it gets the done of its
  // open utterance, or an error server_shutdown, then close 1001.
  void expect_shutdown() {
    if (!predictable_ || closing_ || peer_gone()) return;
    if (validated_ && open_utterance_) {
      ++dones_expected_;
    } else {
      slots_.push_back({{error_reply(srv::code::server_shutdown)}, "shutdown"});
    }
    expect_close(1001);
  }

  // After the script: the close handshake, or our FIN, then the server must close its side.
  void finish(bool clean) {
    if (fd_ < 0) return;
    if (clean && websocket_ && !sent_close_ && !half_closed_ && !closing_ && !peer_gone()) {
      const std::string p = {'\x03', '\xe8'};  // 1000
      send_close(p, 1000u, "1000 (end of script)");
    }
    // Always, even after the server's FIN: a server tearing down a WebSocket reads until ours.
    if (!half_closed_) ::shutdown(fd_, SHUT_WR);
    half_closed_ = true;
    if (!wait_for([&] { return eof_; }, 4000)) violated("the server kept the connection open 4 s after our FIN");
    if (predictable_ && websocket_ && closing_ && close_code_expected_ > 0 && got_close_ &&
        close_code_ != close_code_expected_)
      violated("close code " + std::to_string(close_code_) + ", expected " + std::to_string(close_code_expected_));
    if (predictable_ && websocket_ && !closing_ && (got_close_ || server_closed_early_))
      violated("the server closed a healthy session");
  }

  void make_unpredictable() { predictable_ = false; }
  void half_close() {
    if (fd_ >= 0 && !half_closed_) ::shutdown(fd_, SHUT_WR);
    half_closed_ = true;
  }
  bool predictable() const { return predictable_; }
  bool closing() const { return closing_; }
  bool websocket() const { return websocket_; }
  int final_commits() const { return final_commits_; }
  int status() const { return status_; }
  const std::string& head() const { return head_; }
  bool got_event(const std::string& type) const { return types_seen_.count(type) > 0; }
  std::size_t replies() const { return matched_; }

 private:
  // ---- the model of realtime_session.cpp

  void expect_close(int code) {
    if (!predictable_) return;
    closing_ = true;
    close_code_expected_ = code;
  }

  void predict(bool text, const std::string& payload, const std::string& label) {
    if (closing_) return;  // nothing after a close is handled
    if (!text) {
      slots_.push_back({{error_reply(srv::code::invalid_event)}, label});
      return;
    }
    if (!valid_utf8(payload)) return expect_close(1007);
    auto parsed = srv::parse_client_event(payload, {.max_depth = 16, .max_audio_bytes = kMaxMessage});
    if (auto* e = std::get_if<srv::ProtocolError>(&parsed)) {
      slots_.push_back({{error_reply(e->code)}, label});
      return;
    }
    auto& ev = std::get<srv::ClientEvent>(parsed);
    if (auto* u = std::get_if<srv::SessionUpdate>(&ev)) {
      if (u->model != kModelName && u->model != vrt::kDefaultModelId) {
        slots_.push_back({{error_reply(srv::code::model_not_found)}, label});
        return;
      }
      Expect ok = reply_of_type("session.updated");
      ok.model = u->model;
      ok.delay_ms = u->delay_ms.value_or(kDefaultDelayMs);
      ok.stop_on_eos = u->stop_on_eos.value_or(false);
      ok.words = u->word_timestamps;
      ok.segments = u->segment_timestamps;
      Slot s{{ok}, label};
      // configure() fails once the compute thread has created the utterance's decoder session;
      // when that happens is a race with the compute thread, so both answers are right.
      if ((u->delay_ms || u->stop_on_eos) && may_have_session_)
        s.alts.push_back(error_reply(srv::code::invalid_event));
      slots_.push_back(std::move(s));
      validated_ = true;
      if (queued_) may_have_session_ = true;
      return;
    }
    if (auto* a = std::get_if<srv::AudioAppend>(&ev)) {
      queued_ = true;
      open_utterance_ = true;
      if (!validated_) {
        // Nothing is processed before session.update: the backlog only grows.
        backlog_ += a->samples.size();
        if (backlog_ >= kBacklogSamples) {
          slots_.push_back({{error_reply(srv::code::model_not_validated)}, label});
          expect_close(1008);
        }
      } else {
        may_have_session_ = true;
      }
      return;
    }
    const auto& c = std::get<srv::Commit>(ev);
    if (!validated_) {
      slots_.push_back({{error_reply(srv::code::model_not_validated)}, label});
      return;
    }
    if (c.final) {
      ++dones_expected_;
      ++final_commits_;
      queued_ = true;
      may_have_session_ = true;
      open_utterance_ = false;
    }
  }

  // ---- what the server sends

  void process() {
    if (!http_done_) {
      const auto end = in_.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (in_.size() > 16384) violated("HTTP response head over 16 KiB");
        return;
      }
      head_ = in_.substr(0, end + 4);
      in_.erase(0, end + 4);
      http_done_ = true;
      if (head_.rfind("HTTP/1.", 0) != 0 || head_.size() < 12 || !std::isdigit(static_cast<unsigned char>(head_[9])))
        violated("not an HTTP response: " + head_.substr(0, 40));
      status_ = std::atoi(head_.c_str() + 9);
      if (status_ < 100 || status_ > 599) violated("HTTP status " + std::to_string(status_));
      note("response: " + head_.substr(0, head_.find("\r\n")));
      if (status_ != 101) return;  // the body and anything after it are not WebSocket frames
      const std::string h = lower(head_);
      if (h.find("\r\nupgrade: websocket\r\n") == std::string::npos)
        violated("101 without 'Upgrade: websocket'");
      if (sent_key_ && head_.find(std::string("Sec-WebSocket-Accept: ") + kAccept + "\r\n") == std::string::npos)
        violated("101 without the right Sec-WebSocket-Accept");
      // The session.created may come in the same read as the head.
      websocket_ = true;
      slots_.push_back({{reply_of_type("session.created")}, "accept"});
    }
    if (status_ != 101) return;
    while (!in_.empty()) {
      if (after_close_ && !in_.empty()) violated("bytes after the server's close frame");
      const auto* p = reinterpret_cast<const unsigned char*>(in_.data());
      if (in_.size() < 2) return;
      const bool fin = p[0] & 0x80;
      const unsigned rsv = p[0] & 0x70, op = p[0] & 0x0F;
      if (rsv) violated("server frame with RSV bits: " + hex(in_));
      if (p[1] & 0x80) violated("masked server frame: " + hex(in_));
      std::uint64_t len = p[1] & 0x7F;
      std::size_t hdr = 2;
      if (len == 126) {
        if (in_.size() < 4) return;
        len = (std::uint64_t{p[2]} << 8) | p[3];
        hdr = 4;
        if (len < 126) violated("non-minimal 16-bit length from the server");
      } else if (len == 127) {
        if (in_.size() < 10) return;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
        hdr = 10;
        if (len < 65536 || (len >> 63)) violated("bad 64-bit length from the server");
      }
      if (len > (64u << 20)) violated("server frame over 64 MiB");
      if (in_.size() < hdr + len) return;
      const std::string payload = in_.substr(hdr, static_cast<std::size_t>(len));
      in_.erase(0, hdr + static_cast<std::size_t>(len));
      on_frame(fin, op, payload);
    }
  }

  void on_frame(bool fin, unsigned op, const std::string& payload) {
    if (op >= 8) {
      if (!fin || payload.size() > 125) violated("fragmented or long control frame from the server");
    }
    switch (op) {
      case 0:
        if (!in_message_) violated("continuation frame outside a message");
        message_ += payload;
        if (message_.size() > (64u << 20)) violated("server message over 64 MiB");
        if (fin) {
          in_message_ = false;
          on_message(message_);
        }
        return;
      case 1:
        if (in_message_) violated("new text message inside a fragmented one");
        message_ = payload;
        in_message_ = !fin;
        if (fin) on_message(message_);
        return;
      case 2: violated("binary message from the server");
      case 8: {
        got_close_ = true;
        after_close_ = true;
        if (payload.size() == 1) violated("close frame with a 1-byte payload");
        if (payload.size() >= 2) {
          close_code_ = (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
          if (!valid_close_code(static_cast<unsigned>(close_code_)))
            violated("server close code " + std::to_string(close_code_));
          if (!valid_utf8(std::string_view(payload).substr(2))) violated("close reason not UTF-8");
        } else {
          close_code_ = 1005;
        }
        note("server close " + std::to_string(close_code_));
        if (!closing_ && predictable_ && websocket_) server_closed_early_ = true;
        if (!sent_close_ && !send_failed_ && fd_ >= 0) {  // echo it, as a client must
          sent_close_ = true;
          const std::string echo = payload.size() >= 2 ? payload.substr(0, 2) : std::string();
          const std::string f = frame(8, echo, next_mask());
          (void)::send(fd_, f.data(), f.size(), MSG_NOSIGNAL);
        }
        return;
      }
      case 9: {  // a keep-alive ping: answer it
        const std::string f = frame(10, payload, next_mask());
        if (!sent_close_ && fd_ >= 0) (void)::send(fd_, f.data(), f.size(), MSG_NOSIGNAL);
        return;
      }
      case 10:
        if (!predictable_) return;
        if (pings_.empty()) violated("pong without a ping");
        if (pings_.front() != payload) violated("pong payload differs from the ping's");
        pings_.pop_front();
        return;
      default: violated("server frame with opcode " + std::to_string(op));
    }
  }

  static const njson& field(const njson& j, const char* k, bool (njson::*is)() const noexcept, const char* what) {
    const auto it = j.find(k);
    if (it == j.end() || !((*it).*is)()) {
      std::fprintf(stderr, "fuzz_ws_session: event %s\n", j.dump(-1, ' ', true, njson::error_handler_t::replace).c_str());
      vrt::fuzz::violated(__FILE__, __LINE__, what);
    }
    return *it;
  }

  void on_message(const std::string& text) {
    if (!valid_utf8(text)) violated("server text message not UTF-8");
    const njson j = njson::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) violated("server message not a JSON object: " + text.substr(0, 200));
    const std::string type = field(j, "type", &njson::is_string, "event without a string type").get<std::string>();
    types_seen_.insert(type);
    note("event " + (type == "error" || type == "session.updated" ? text : type));
    const bool first = messages_++ == 0;
    if (first != (type == "session.created")) violated("session.created must come first, and once");
    if (type == "session.created") {
      const auto id = field(j, "id", &njson::is_string, "session.created without id").get<std::string>();
      if (id.rfind("sess-", 0) != 0) violated("session id " + id);
      field(j, "created", &njson::is_number_integer, "session.created without created");
      return reply(type, j);
    }
    if (type == "session.updated") {
      updated_ = true;
      field(j, "id", &njson::is_string, "session.updated without id");
      field(j, "model", &njson::is_string, "session.updated without model");
      field(j, "delay_ms", &njson::is_number_integer, "session.updated without delay_ms");
      field(j, "timestamp_granularities", &njson::is_array, "session.updated without timestamp_granularities");
      field(j, "stop_on_eos", &njson::is_boolean, "session.updated without stop_on_eos");
      return reply(type, j);
    }
    if (type == "error") {
      field(j, "error", &njson::is_string, "error without message");
      const auto c = field(j, "code", &njson::is_string, "error without code").get<std::string>();
      if (!is_documented_code(c)) violated("undocumented error code " + c);
      if (c == srv::code::processing_error) violated("processing_error: " + text.substr(0, 300));
      return reply(type, j);
    }
    if (type == "transcription.delta") {
      if (!updated_) violated("delta before session.updated");
      utterance_ += field(j, "delta", &njson::is_string, "delta without delta").get<std::string>();
      if (const auto w = j.find("words"); w != j.end()) {
        if (!w->is_array()) violated("delta words not an array");
        for (const auto& x : *w)
          if (!x.is_object() || !x.contains("word") || !x["word"].is_string() || !x.contains("start") ||
              !x["start"].is_number() || !x.contains("end") || !x["end"].is_number() || x["start"] > x["end"])
            violated("bad word in a delta: " + x.dump());
      }
      return;
    }
    if (type == "transcription.done") {
      if (!updated_) violated("done before session.updated");
      const auto t = field(j, "text", &njson::is_string, "done without text").get<std::string>();
      if (t != utterance_) violated("done text '" + t.substr(0, 100) + "' is not the concatenated deltas '" + utterance_.substr(0, 100) + "'");
      utterance_.clear();
      const auto& u = field(j, "usage", &njson::is_object, "done without usage");
      for (const char* k : {"prompt_tokens", "completion_tokens", "total_tokens"})
        if (!u.contains(k) || !u[k].is_number_integer() || u[k].get<std::int64_t>() < 0) violated("bad usage in done");
      if (u["total_tokens"] != u["prompt_tokens"].get<std::int64_t>() + u["completion_tokens"].get<std::int64_t>())
        violated("usage total is not prompt + completion");
      ++dones_;
      if (predictable_ && dones_ > dones_expected_) violated("more transcription.done events than final commits");
      return;
    }
    violated("unknown server event type '" + type.substr(0, 64) + "'");
  }

  // A synchronous reply (session.created/updated, error): the next expected slot.
  void reply(const std::string& type, const njson& j) {
    if (!predictable_) return;
    if (matched_ >= slots_.size()) violated("unexpected " + type + ": " + j.dump(-1, ' ', true, njson::error_handler_t::replace).substr(0, 300));
    const Slot& s = slots_[matched_];
    for (const auto& e : s.alts) {
      if (e.type != type) continue;
      if (type == "error" && j["code"] != e.code) continue;
      if (type == "session.updated") {
        if (j["model"] != e.model || j["delay_ms"] != e.delay_ms || j["stop_on_eos"] != e.stop_on_eos) continue;
        njson g = njson::array();
        if (e.words) g.push_back("word");
        if (e.segments) g.push_back("segment");
        if (j["timestamp_granularities"] != g) continue;
      }
      ++matched_;
      return;
    }
    std::string want;
    for (const auto& e : s.alts) want += " " + e.type + (e.code.empty() ? "" : "/" + e.code);
    violated("reply " + std::to_string(matched_) + " to '" + s.what + "': got " +
             j.dump(-1, ' ', true, njson::error_handler_t::replace).substr(0, 300) + ", expected" + want);
  }

  std::string* trace_;
  int fd_ = -1;
  std::string in_;
  std::size_t chunk_ = 0;
  bool eof_ = false, send_failed_ = false, half_closed_ = false;
  int connect_errno_ = 0;
  // HTTP
  bool http_done_ = false;
  int status_ = 0;
  std::string head_;
  // WebSocket
  bool websocket_ = false;
  bool in_message_ = false;
  std::string message_;
  bool got_close_ = false, after_close_ = false, sent_close_ = false, server_closed_early_ = false;
  int close_code_ = 0;
  std::uint32_t mask_ = 0;
  std::uint8_t mask_seed_ = 0;
  int pings_sent_ = 0;
  std::deque<std::string> pings_;
  std::size_t messages_ = 0;
  std::set<std::string> types_seen_;
  // Predicted session state
  bool predictable_ = true;
  bool closing_ = false;  // the server is expected to close (or we sent a close)
  int close_code_expected_ = 0;
  std::vector<Slot> slots_;
  std::size_t matched_ = 0;
  int dones_ = 0, dones_expected_ = 0, final_commits_ = 0;
  bool updated_ = false;
  bool validated_ = false, queued_ = false, may_have_session_ = false, open_utterance_ = false;
  std::size_t backlog_ = 0;
  std::string utterance_;

 public:
  bool sent_key_ = true;
};

// ------------------------------------------------------------------------------------ script

std::string upgrade_request(const std::string& target, unsigned variants) {
  const bool lc = variants & 2;
  auto h = [&](const char* name) { return lc ? lower(name) : std::string(name); };
  std::string r = "GET " + target + ((variants & 2) ? "?intent=transcription" : "") + " HTTP/1.1\r\n";
  r += h("Host") + ": 127.0.0.1\r\n";
  r += h("Upgrade") + ": websocket\r\n";
  r += h("Connection") + ((variants & 2) ? ": keep-alive, Upgrade\r\n" : ": Upgrade\r\n");
  r += h("Sec-WebSocket-Key") + ": " + kKey + "\r\n";
  r += h("Sec-WebSocket-Version") + ": 13\r\n";
  if (variants & 1) {
    r += "Sec-WebSocket-Protocol: realtime, openai-beta.realtime-v1\r\n";
    r += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
  }
  if (variants & 2) r += "Origin: http://example.com\r\nUser-Agent: fuzz\r\n";
  return r + "\r\n";
}

std::string invalid_request(unsigned v) {
  const std::string common = "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  switch (v) {
    case 20: return std::string("GET /v1/other HTTP/1.1\r\n") + common + "Sec-WebSocket-Key: " + kKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    case 21: return "GET /v1/realtime HTTP/1.1\r\n" + common + "Sec-WebSocket-Version: 13\r\n\r\n";
    case 22: return "GET /v1/realtime HTTP/1.1\r\n" + common + "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAAA\r\nSec-WebSocket-Version: 13\r\n\r\n";
    case 23: return "GET /v1/realtime HTTP/1.1\r\n" + common + "Sec-WebSocket-Key: " + kKey + "\r\nSec-WebSocket-Version: 12\r\n\r\n";
    case 24: return std::string("GET /v1/realtime HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ") + kKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    case 25: return "GET /v1/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    case 26: return "POST /v1/realtime HTTP/1.1\r\n" + common + "Sec-WebSocket-Key: " + kKey + "\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n";
    case 27: return "GET /v1/realtime HTTP/1.0\r\n" + common + "Sec-WebSocket-Key: " + kKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    case 28: return "GET /v1/realtime HTTP/1.1\r\n" + common + "Sec-WebSocket-Key: " + kKey + "\r\nSec-WebSocket-Version: 13\r\nContent-Length: 5\r\n\r\nhello";
    default: return "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  }
}

int expected_status(unsigned v) {
  switch (v) {
    case 20: return 404;
    case 21: case 22: case 24: case 28: return 400;
    case 23: return 426;
    case 25: case 27: return 426;  // not an upgrade: /v1/realtime says upgrade_required
    case 26: return 426;           // POST is not an upgrade either; the path answers first
    default: return 200;
  }
}

std::string session_update(std::uint8_t v) {
  njson j = {{"type", "session.update"}};
  switch (v & 3) {
    case 0: j["model"] = kModelName; break;
    case 1: j["model"] = vrt::kDefaultModelId; break;
    case 2: j["model"] = "not-served"; break;
    default: break;
  }
  switch ((v >> 2) & 7) {
    case 1: j["delay_ms"] = 480; break;
    case 2: j["delay_ms"] = 80; break;
    case 3: j["delay_ms"] = 2400; break;
    case 4: j["delay_ms"] = 1200; break;
    case 5: j["delay_ms"] = 100; break;
    case 6: j["delay_ms"] = -80; break;
    case 7: j["delay_ms"] = "480"; break;
    default: break;
  }
  switch ((v >> 5) & 3) {
    case 1: j["timestamp_granularities"] = {"word"}; break;
    case 2: j["timestamp_granularities"] = {"word", "segment"}; break;
    case 3: j["timestamp_granularities"] = {"bogus"}; break;
    default: break;
  }
  if (v & 0x80) j["stop_on_eos"] = true;
  return j.dump();
}

std::string append_event(const std::string& pcm, std::uint8_t style) {
  const std::string b64 = vrt::base64::encode(pcm);
  if (style & 1) return R"({"audio":")" + b64 + R"(","event_id":"evt_1","type":"input_audio_buffer.append"})";
  return R"({"type":"input_audio_buffer.append","audio":")" + b64 + "\"}";
}

// PCM16 for an append: n < 128 samples straight from the input, else a tiled waveform.
std::string append_pcm(Reader& r, std::uint8_t n, std::size_t& budget) {
  std::string pcm;
  if (n < 128) {
    const auto b = r.take(2u * n);
    pcm.assign(reinterpret_cast<const char*>(b.data()), b.size() & ~std::size_t{1});
  } else {
    const std::size_t samples = std::min<std::size_t>((n - 127u) * 64u, budget);
    const auto seed = r.take(16);
    pcm.resize(2 * samples);
    for (std::size_t i = 0; i < samples; ++i) {
      const std::uint8_t a = seed.empty() ? 0 : seed[i % seed.size()];
      const auto v = static_cast<std::int16_t>(static_cast<int>(a) * 200 - 25600 + static_cast<int>((i * 37) % 512));
      pcm[2 * i] = static_cast<char>(static_cast<std::uint16_t>(v) & 0xFF);
      pcm[2 * i + 1] = static_cast<char>(static_cast<std::uint16_t>(v) >> 8);
    }
  }
  budget -= std::min(budget, pcm.size() / 2);
  return pcm;
}

std::string raw_bytes(Reader& r, std::size_t n) {
  const auto b = r.take(n);
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// An arbitrary frame: header fields from the input, payload masked or not.
std::string edge_frame(Reader& r) {
  const std::uint8_t a = r.u8(), b = r.u8();
  const std::string payload = raw_bytes(r, r.u8());
  std::string f;
  f += static_cast<char>(((a & 1) ? 0x80 : 0) | (((a >> 1) & 7) << 4) | (b & 0x0F));
  const bool masked = !(a & 0x10);
  const unsigned enc = (a >> 5) & 3;
  const std::size_t n = payload.size();
  if (enc == 0 && n < 126) {
    f += static_cast<char>((masked ? 0x80 : 0) | n);
  } else if (enc <= 1) {
    f += static_cast<char>((masked ? 0x80 : 0) | 126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xFF);
  } else {
    f += static_cast<char>((masked ? 0x80 : 0) | 127);
    // enc 3: a top bit set (lengths >= 2^63 are invalid)
    for (int i = 7; i >= 0; --i)
      f += static_cast<char>(((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xFF) | (enc == 3 && i == 7 ? 0x80 : 0));
  }
  if (masked) {
    const char m[4] = {static_cast<char>(b), 0x5a, 0x3c, 0x11};
    f.append(m, 4);
    for (std::size_t i = 0; i < n; ++i) f += static_cast<char>(payload[i] ^ m[i % 4]);
  } else {
    f += payload;
  }
  return f;
}

// A second session beside `main` (cross-session batching in the scheduler): an utterance from
// the input's waveform, its done; while both are open (max_sessions 2), a third is refused with
// HTTP 503.
void concurrent_session(unsigned short port, Client& main, Reader& r, std::size_t& budget, std::string* trace) {
  const std::uint8_t n = r.u8();
  const std::uint8_t v = r.u8();
  Client c2(trace);
  c2.note("second session");
  if (!c2.connect_to(port)) c2.violated("cannot connect a second session: " + c2.connect_error());
  const int st = c2.handshake(upgrade_request("/v1/realtime", 0));
  if (st == 503) {  // a slot of the previous input's session not given back yet
    c2.finish(false);
    return;
  }
  if (st != 101) c2.violated("second session: handshake answered " + std::to_string(st));
  c2.send_message(true, session_update(v & 0x7F), "session.update");
  c2.send_message(true, append_event(append_pcm(r, n, budget), 0), "append");
  c2.send_message(true, R"({"type":"input_audio_buffer.commit","final":true})", "commit final");
  // Both hold their slots unless one is being closed (e.g. c2's backlog full before a valid update).
  if (main.predictable() && !main.closing() && !main.peer_gone() && !c2.closing() && !c2.peer_gone()) {
    Client c3(trace);
    c3.note("third session");
    if (!c3.connect_to(port)) c3.violated("cannot connect a third session: " + c3.connect_error());
    const int st3 = c3.handshake(upgrade_request("/v1/realtime", 0));
    if (st3 != 503) c3.violated("a third session got HTTP " + std::to_string(st3) + " with max_sessions 2 in use");
    c3.finish(false);
  }
  c2.sync();
  c2.finish(true);
}

// A graceful shutdown racing the upgrade on `c` (connected): the answer is a 503, nothing (the
// upgrade was not read yet: no session, closed when the server object goes, as when serve
// exits), or a session that opens (session.created first, unmasked frames) and is closed by the
// shutdown. Then a fresh server.
void race_upgrade_with_shutdown(Host& h, Client& c, unsigned variants, unsigned delay_us) {
  c.note("upgrade racing a graceful shutdown " + std::to_string(delay_us) + " us later");
  c.make_unpredictable();
  c.send_raw(upgrade_request("/v1/realtime", variants));
  std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
  h.server->shutdown();
  const auto t0 = Clock::now();
  c.wait_for([&] { return c.peer_gone() || !h.running; }, 7000);
  // run() returns once no realtime session is left (or after the 5 s grace): a session that got
  // its 101 must have been closed by then.
  if (c.status() == 101 && !h.running) c.wait_for([&] { return c.peer_gone(); }, 200);  // the FIN in flight
  if (c.status() == 101 && !c.peer_gone() && Clock::now() - t0 < std::chrono::milliseconds(4500))
    c.violated("the server stopped with a realtime session still open");
  c.half_close();  // a server tearing down a WebSocket waits for our FIN
  h.stop();
  c.finish(true);
  h.start();
}

// A fresh session must open and answer: the server is alive and has a free slot.
void probe(unsigned short port, std::string* trace) {
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  for (int attempt = 0;; ++attempt) {
    Client c(trace);
    if (!c.connect_to(port)) c.violated("probe: cannot connect to the server: " + c.connect_error());
    const int st = c.handshake(upgrade_request("/v1/realtime", 0));
    if (st == 503) {
      if (Clock::now() > deadline) c.violated("probe: HTTP 503 for 5 s: session slots were not given back");
      c.finish(false);
      std::this_thread::sleep_for(std::chrono::milliseconds(attempt < 10 ? 1 : 5));
      continue;
    }
    if (st != 101) c.violated("probe: handshake answered " + std::to_string(st));
    c.send_message(true, R"({"type":"input_audio_buffer.commit"})", "probe commit");
    if (!c.wait_for([&] { return c.replies() >= 2; }, 5000)) c.violated("probe: no session.created + error within 5 s");
    c.finish(true);
    return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Host& h = host();
  Reader r(data, size);
  std::string trace;
  const unsigned hs = r.u8() % 32;
  const std::uint8_t flags = r.u8();
  static constexpr std::array<std::size_t, 8> kChunks = {0, 1, 2, 3, 7, 64, 512, 1000};
  {
    Client c(&trace);
    c.set_chunk(kChunks[flags & 7]);
    c.set_mask_seed(r.u8());
    if (!c.connect_to(h.port)) c.violated("cannot connect to the server: " + c.connect_error());
    int status = 0;
    if (hs == 19) {
      // Graceful shutdowns racing upgrades: byte 3 * 20 us after the request, byte 4 % 8 more
      // times, byte 5 * 10 us later each time, each time right after a fresh server started
      // (the window is a few us wide; such a sweep finds it in most runs).
      const unsigned base_us = 20u * r.u8();
      const unsigned rounds = 1u + r.u8() % 8u;
      const unsigned step_us = 10u * r.u8();
      for (unsigned i = 0; i < rounds; ++i) {
        std::unique_ptr<Client> fresh;
        Client* ci = &c;
        if (i > 0) {
          fresh = std::make_unique<Client>(&trace);
          ci = fresh.get();
          if (!ci->connect_to(h.port)) ci->violated("cannot connect to the server: " + ci->connect_error());
        }
        race_upgrade_with_shutdown(h, *ci, (flags >> 3) & 3, base_us + i * step_us);
      }
    } else if (hs < 19) {
      status = c.handshake(upgrade_request("/v1/realtime", (flags >> 3) & 3));
      if (status == 503) {
        // A slot still held by the previous input's session (freed on the compute thread):
        // the probe after each input waits for that, so this is rare; nothing more to test.
        c.finish(false);
        probe(h.port, &trace);
        return 0;
      }
      if (status != 101) c.violated("valid upgrade answered " + std::to_string(status));
    } else if (hs < 30) {
      c.sent_key_ = false;
      status = c.handshake(invalid_request(hs));
      if (status != expected_status(hs) && status != 503)
        c.violated("handshake variant " + std::to_string(hs) + " answered " + std::to_string(status) + ", expected " +
                   std::to_string(expected_status(hs)));
    } else {
      c.sent_key_ = false;
      const std::string req = raw_bytes(r, r.u16() % 2048);
      status = c.handshake(req, 100);  // a partial request gets no answer until it is complete
    }
    if (hs == 19) {
      // done above
    } else if (status == 101) {
      std::size_t budget = kMaxAudioSamples;
      bool ended = false;
      for (int ops = 0; ops < kMaxOps && !r.rest().empty() && !ended && !c.peer_gone() && !c.closing() &&
                        c.final_commits() < kMaxFinalCommits;
           ++ops) {
        const std::uint8_t op = r.u8();
        switch (op % 16) {
          case 0: c.send_message(true, session_update(r.u8()), "session.update"); break;
          case 1:
          case 2: {
            const std::uint8_t n = r.u8();
            const std::uint8_t style = r.u8();
            if (budget == 0 && n >= 128) break;
            const std::string pcm = append_pcm(r, n, budget);
            c.send_message(true, append_event(pcm, style), "append " + std::to_string(pcm.size() / 2) + " samples");
            break;
          }
          case 3: c.send_message(true, R"({"type":"input_audio_buffer.commit"})", "commit"); break;
          case 4:
            c.send_message(true, (op & 0x10) ? R"({"type":"input_audio_buffer.commit","final":true,"event_id":"x"})"
                                             : R"({"type":"input_audio_buffer.commit","final":true})",
                           "commit final");
            break;
          case 5: c.send_message(true, raw_bytes(r, r.u8()), "raw text"); break;
          case 6: c.send_message(false, raw_bytes(r, r.u8()), "raw binary"); break;
          case 7: {
            const std::uint8_t k = r.u8(), what = r.u8();
            std::string payload;
            bool text = true;
            switch (what % 5) {
              case 0: payload = session_update(r.u8()); break;
              case 1: {
                const std::uint8_t n = r.u8();
                payload = append_event(append_pcm(r, n, budget), 0);
                break;
              }
              case 2: payload = R"({"type":"input_audio_buffer.commit","final":true})"; break;
              case 3: payload = raw_bytes(r, r.u8()); break;
              default: payload = raw_bytes(r, r.u8()); text = false; break;
            }
            const std::size_t parts = 2 + k % 4;
            std::vector<std::size_t> cuts;
            for (std::size_t i = 1; i < parts; ++i) {
              const std::size_t at = payload.empty() ? 0 : (payload.size() * i) / parts + (r.u8() % 3);
              cuts.push_back(std::min(payload.size(), std::max(cuts.empty() ? 0 : cuts.back(), at)));
            }
            c.send_fragmented(text, payload, cuts, k >> 2, "fragmented message");
            break;
          }
          case 8: c.send_ping(raw_bytes(r, r.u8() % 126)); break;
          case 9:
            if (op & 0x10) {
              c.send_pong(raw_bytes(r, r.u8() % 126));
            } else {
              concurrent_session(h.port, c, r, budget, &trace);
            }
            break;
          case 10: c.send_unpredicted(edge_frame(r), "arbitrary frame header"); break;
          case 11: {
            const std::uint8_t v = r.u8();
            const std::size_t extra = 1 + v % 64;
            if (v & 0x80) {  // fragments, each under the limit, adding up past it
              std::string f = frame(1, std::string(kMaxMessage / 2, 'a'), c.next_mask(), false);
              f += frame(0, std::string(kMaxMessage / 2, 'b'), c.next_mask(), false);
              f += frame(0, std::string(extra, 'c'), c.next_mask(), true);
              c.send_oversized(f, "fragments of " + std::to_string(kMaxMessage + extra) + " bytes");
            } else {
              c.send_oversized(frame(v & 1 ? 2 : 1, std::string(kMaxMessage + extra, ' '), c.next_mask()),
                               "one frame of " + std::to_string(kMaxMessage + extra) + " bytes");
            }
            break;
          }
          case 12: {
            // {code, accepted}: the server echoes a code Beast accepts, answers 1002 otherwise.
            // Beast accepts codes from 5000 up, which RFC 6455 leaves undefined.
            static constexpr std::array<std::pair<unsigned, bool>, 14> kCodes = {
                {{1000, true}, {1001, true}, {1002, true}, {1003, true}, {1007, true}, {1011, true},
                 {1013, true}, {3000, true}, {4999, true}, {5000, true}, {1005, false}, {1006, false},
                 {999, false}, {1016, false}}};
            const std::uint8_t v = r.u8();
            std::string p;
            std::optional<unsigned> echo;
            if (v == 0xFF) {
              echo = 1000;  // no payload: answered with 1000
            } else if (v == 0xFE) {
              p = "x";  // one byte: invalid
              echo = 1002;
            } else {
              const auto [code, ok] = kCodes[v % kCodes.size()];
              p = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
              const std::string reason = raw_bytes(r, r.u8() % 124);
              p += reason;
              echo = ok && valid_utf8(reason) ? code : 1002u;
            }
            c.send_close(p, echo, "code " + std::to_string(echo.value_or(0)));
            ended = true;
            break;
          }
          case 13:
            c.abrupt(op & 0x10);
            c.finish(false);
            ended = true;
            break;
          case 14: c.sync(); break;
          case 15:
            if (op & 0x10) {  // no sync first: the shutdown races with the frames in flight
              c.note("graceful server shutdown, unsynchronized");
              c.make_unpredictable();
              h.server->shutdown();
              if (!c.wait_for([&] { return c.peer_gone(); }, 7000))
                c.violated("the session was not closed within 7 s of a graceful shutdown (grace 5 s)");
              c.finish(true);
              h.stop();
              h.start();
              ended = true;
              break;
            }
            if (!c.predictable()) break;
            c.sync();
            if (c.closing() || c.peer_gone()) break;
            c.note("graceful server shutdown");
            c.expect_shutdown();
            h.server->shutdown();
            c.wait_for([&] { return c.peer_gone(); }, 6000);
            c.finish(true);
            h.stop();
            h.start();
            ended = true;
            break;
        }
      }
      if (!ended) {
        if (flags & 0x80) {
          if (!(flags & 0x40)) c.sync();
          c.abrupt(flags & 0x20);
          c.finish(false);
        } else {
          if (!(flags & 0x40)) c.sync();
          c.finish(true);
        }
      } else {
        c.finish(true);
      }
    } else {
      c.finish(false);
    }
  }
  probe(h.port, &trace);
  if (std::getenv("VRT_FUZZ_TRACE")) std::fprintf(stderr, "fuzz_ws_session trace:\n%s", trace.c_str());
  return 0;
}
