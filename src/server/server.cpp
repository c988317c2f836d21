#include "voxtral_rt/server.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string_view>
#include <sstream>

#include "server/server_internal.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/error.h"

namespace vrt::server {

bool is_loopback_address(const std::string& address) {
  beast::error_code ec;
  const auto a = net::ip::make_address(address, ec);
  if (ec) return false;
  if (a.is_v4()) return a.to_v4().is_loopback();
  const auto v6 = a.to_v6();
  if (v6.is_loopback()) return true;
  return v6.is_v4_mapped() && net::ip::make_address_v4(net::ip::v4_mapped, v6).is_loopback();
}

void discard_then_close(beast::tcp_stream& stream, std::shared_ptr<void> owner, std::size_t limit) {
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(std::chrono::seconds(5));
  auto sink = std::make_shared<std::array<char, 16384>>();
  auto left = std::make_shared<std::size_t>(limit);
  // The pending read's handler holds the only strong reference to `step` (no cycle).
  auto step = std::make_shared<std::function<void(beast::error_code, std::size_t)>>();
  *step = [&stream, owner, sink, left, weak = std::weak_ptr(step)](beast::error_code ec, std::size_t n) {
    *left -= std::min(*left, n);
    auto next = weak.lock();  // held by the handler running now
    if (ec || *left == 0 || !next) return stream.close();
    stream.async_read_some(net::buffer(*sink), [next](beast::error_code e, std::size_t m) { (*next)(e, m); });
  };
  stream.async_read_some(net::buffer(*sink), [step](beast::error_code ec, std::size_t n) { (*step)(ec, n); });
}

Server::State::State(std::shared_ptr<const Model> m, ServerOptions o)
    : model(std::move(m)),
      opt(std::move(o)),
      ioc_owner(std::make_unique<net::io_context>(std::max(1, opt.io_threads))),
      ioc(*ioc_owner) {
  SchedulerOptions so;
  so.max_streams = opt.max_sessions;
  // VRT_BATCH=0 turns cross-session batching off (benchmarks compare both).
  if (const char* b = std::getenv("VRT_BATCH"); b != nullptr && std::string_view(b) == "0") so.batch = false;
  so.quantum_samples = static_cast<std::size_t>(std::max(80, opt.quantum_ms)) * (kModelSampleRateHz / 1000);
  so.verify_tokens = std::clamp(opt.verify_tokens, 0, SessionOptions::kMaxVerifyTokens);
  so.replay_tokens = opt.replay_tokens;
  scheduler = Scheduler::create(model, so);
}

namespace {
// The comma-separated tokens of a header (Sec-WebSocket-Protocol), without surrounding blanks.
template <class F>
void for_each_token(std::string_view v, F&& f) {
  while (!v.empty()) {
    const auto comma = v.find(',');
    std::string_view t = v.substr(0, comma);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (!t.empty() && f(t)) return;
    if (comma == std::string_view::npos) return;
    v.remove_prefix(comma + 1);
  }
}
}  // namespace

bool Server::State::offers_subprotocol(const http::request_header<>& h, std::string_view name) {
  bool found = false;
  for_each_token(sv(h[http::field::sec_websocket_protocol]), [&](std::string_view t) { return found = t == name; });
  return found;
}

bool Server::State::authorized(const http::request_header<>& h) const {
  if (opt.api_key.empty()) return true;
  std::string_view key;
  const std::string_view v = sv(h[http::field::authorization]);
  const std::string_view prefix = "Bearer ";
  if (v.size() >= prefix.size() && beast::iequals(beast::string_view(v.data(), prefix.size()), beast::string_view(prefix.data(), prefix.size()))) {
    key = v.substr(prefix.size());
  } else if (v.empty()) {
    bool found = false;
    for_each_token(sv(h[http::field::sec_websocket_protocol]), [&](std::string_view t) {
      if (t.substr(0, kKeySubprotocolPrefix.size()) != kKeySubprotocolPrefix) return false;
      key = t.substr(kKeySubprotocolPrefix.size());
      return found = true;
    });
    if (!found) return false;
  } else {
    return false;
  }
  // Constant time in the key's content (its length is not a secret worth hiding).
  unsigned diff = key.size() == opt.api_key.size() ? 0u : 1u;
  for (std::size_t i = 0; i < key.size(); ++i)
    diff |= static_cast<unsigned>(key[i] ^ opt.api_key[i % opt.api_key.size()]);
  return diff == 0;
}

bool Server::State::model_served(const std::string& name) const {
  for (const auto& n : opt.model_names)
    if (n == name) return true;
  return false;
}

std::string Server::State::served_names() const {
  std::string s;
  for (const auto& n : opt.model_names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

namespace {
std::string prom_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out;
}
}  // namespace

void Server::State::register_io_thread() {
  clockid_t c{};
  if (pthread_getcpuclockid(pthread_self(), &c) != 0) return;
  std::lock_guard lk(io_clocks_mu);
  io_clocks.push_back(c);
}

double Server::State::io_cpu_s() const {
  std::lock_guard lk(io_clocks_mu);
  double s = 0;
  for (const clockid_t c : io_clocks) {
    timespec ts{};
    if (clock_gettime(c, &ts) == 0) s += static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  }
  return s;
}

std::string Server::State::render_metrics() const {
  const auto s = scheduler->stats();
  std::ostringstream o;
  const auto metric = [&](const char* name, const char* type, const char* help, auto value) {
    o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n' << name << ' ' << value << '\n';
  };
  metric("vrt_active_sessions", "gauge", "Realtime sessions and transcription jobs holding a slot.", s.active_streams);
  metric("vrt_max_sessions", "gauge", "Slots (--max-sessions).", opt.max_sessions);
  metric("vrt_ready", "gauge", "1 while new sessions are admitted (not draining or shutting down).",
         admitting() ? 1 : 0);
  metric("vrt_queued_audio_seconds", "gauge", "Audio received but not yet processed, all sessions.", s.backlog_s);
  metric("vrt_real_time_factor", "gauge",
         "Compute seconds per second of audio processed over the last 10 s (above 1: falling behind).",
         s.real_time_factor);
  metric("vrt_decoder_steps_total", "counter", "Decoder steps (generated tokens), all sessions.", s.steps_total);
  metric("vrt_decoder_steps_per_second", "gauge", "Decoder steps per second over the last 10 s.", s.steps_per_s);
  metric("vrt_audio_seconds_total", "counter", "Audio processed, all sessions.", s.audio_s_total);
  metric("vrt_compute_seconds_total", "counter", "Time the compute thread spent in feed/finish.", s.compute_s_total);
  metric("vrt_utterances_total", "counter", "Utterances and uploads transcribed to the end.", s.utterances_total);
  metric("vrt_scheduler_rounds_total", "counter", "Compute rounds (each takes up to a quantum of audio per stream).",
         s.rounds_total);
  metric("vrt_http_requests_total", "counter", "HTTP requests (upgrades included).", metrics.http_requests.load());
  metric("vrt_realtime_sessions_total", "counter", "Realtime sessions accepted.", metrics.realtime_sessions.load());
  metric("vrt_slow_reader_closes_total", "counter", "Connections closed because the client stopped reading.",
         metrics.slow_reader_closes.load());
  metric("vrt_protocol_errors_total", "counter", "Realtime events answered with an error.", metrics.protocol_errors.load());
  o << "# HELP vrt_rejected_requests_total Requests refused, by reason.\n# TYPE vrt_rejected_requests_total counter\n";
  o << "vrt_rejected_requests_total{reason=\"capacity\"} " << metrics.rejected_capacity.load() << '\n';
  o << "vrt_rejected_requests_total{reason=\"draining\"} " << metrics.rejected_draining.load() << '\n';
  o << "vrt_rejected_requests_total{reason=\"unauthorized\"} " << metrics.rejected_unauthorized.load() << '\n';
  o << "vrt_rejected_requests_total{reason=\"bad_request\"} " << metrics.rejected_bad_request.load() << '\n';
  o << "vrt_rejected_requests_total{reason=\"too_large\"} " << metrics.rejected_too_large.load() << '\n';
  // Where compute time goes (attention is part of its encoder / decoder time, shown apart).
  const ComputeTimes ct = model->compute_times();
  o << "# HELP vrt_stage_seconds_total Compute time by stage, all sessions (attention is inside encoder and decoder).\n"
       "# TYPE vrt_stage_seconds_total counter\n";
  const std::pair<const char*, double> stages[] = {{"mel", ct.mel_s},
                                                   {"encoder", ct.encoder_s},
                                                   {"encoder_attention", ct.encoder_attention_s},
                                                   {"decoder", ct.decoder_s},
                                                   {"decoder_attention", ct.decoder_attention_s}};
  for (const auto& [name, v] : stages) o << "vrt_stage_seconds_total{stage=\"" << name << "\"} " << v << '\n';
  metric("vrt_decoder_passes_total", "counter", "Decoder passes past the prompt (a batched pass counts once).",
         ct.decoder_passes);
  metric("vrt_decoder_rows_total", "counter", "Rows computed by those passes, rejected verification rows included.",
         ct.decoder_rows);
  metric("vrt_io_cpu_seconds_total", "counter", "CPU time of the network threads (HTTP, WebSocket, event parsing).",
         io_cpu_s());
  o << "# HELP vrt_session_lag_seconds Audio received but not yet processed, per session.\n"
       "# TYPE vrt_session_lag_seconds gauge\n";
  for (const auto& l : s.lags) o << "vrt_session_lag_seconds{session=\"" << prom_escape(l.id) << "\"} " << l.lag_s << '\n';
  return o.str();
}

void Server::State::do_accept() {
  acceptor->async_accept(net::make_strand(ioc), [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (!self->acceptor->is_open() || self->shutting_down) return;
    if (!ec) {
      beast::error_code e;
      socket.set_option(tcp::no_delay(true), e);  // deltas are small and latency-bound
      // A bounded kernel send buffer, so a client that stops reading fills the outbound queue
      // (and is closed) in seconds instead of parking megabytes in the kernel.
      socket.set_option(net::socket_base::send_buffer_size(64 * 1024), e);
      start_http_session(std::move(socket), self);
    }
    self->do_accept();
  });
}

void Server::State::add_realtime(const std::shared_ptr<RealtimeSession>& s) {
  std::lock_guard lk(mu);
  realtime[s.get()] = s;
}

void Server::State::remove_realtime(RealtimeSession* s) {
  std::lock_guard lk(mu);
  realtime.erase(s);
}

void Server::State::when_idle(double timeout_s, std::function<void(bool idle)> then) {
  auto timer = std::make_shared<net::steady_timer>(ioc);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(timeout_s));
  // The pending timer handler holds the only strong reference to `poll` (the lambda holds a
  // weak one): if the context stops first, destroying that handler frees everything.
  auto poll = std::make_shared<std::function<void()>>();
  *poll = [self = shared_from_this(), timer, deadline, then = std::move(then),
           weak = std::weak_ptr<std::function<void()>>(poll)] {
    bool idle;
    {
      std::lock_guard lk(self->mu);
      idle = self->realtime.empty() && self->http_jobs == 0;
    }
    if (idle || std::chrono::steady_clock::now() >= deadline) return then(idle);
    timer->expires_after(std::chrono::milliseconds(20));
    timer->async_wait([p = weak.lock()](beast::error_code ec) {
      if (!ec && p) (*p)();
    });
  };
  (*poll)();
}

void Server::State::begin_drain() {
  if (shutting_down || draining.exchange(true)) return;
  std::fprintf(stderr, "voxtral-rt serve: draining (health 503, nothing new admitted; live sessions have %.0f s)\n",
               opt.drain_timeout_s);
  // When the live sessions and uploads have ended, or at the drain timeout, the shutdown closes
  // what is left (with the text so far) and stops. (After a second signal that shutdown has
  // already begun, and this one is a no-op.)
  net::post(ioc, [self = shared_from_this()] {
    self->when_idle(self->opt.drain_timeout_s, [self](bool idle) {
      self->begin_shutdown(idle ? "server drained" : "server draining: drain timeout reached");
    });
  });
}

void Server::State::begin_shutdown(std::string reason) {
  if (shutting_down.exchange(true)) return;
  std::fprintf(stderr, "voxtral-rt serve: shutting down (%s; grace %.0f s)\n", reason.c_str(), opt.shutdown_grace_s);
  net::post(ioc, [self = shared_from_this(), reason = std::move(reason)] {
    beast::error_code ec;
    if (self->acceptor) self->acceptor->close(ec);
    std::vector<std::shared_ptr<RealtimeSession>> live;
    {
      std::lock_guard lk(self->mu);
      for (auto& [p, w] : self->realtime)
        if (auto s = w.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) s->shutdown(reason);
    // Every realtime session and upload done, or the grace period over: stop.
    self->when_idle(self->opt.shutdown_grace_s, [self](bool) { self->ioc.stop(); });
  });
}

Server::Server(std::shared_ptr<const Model> model, ServerOptions options)
    : state_(std::make_shared<State>(std::move(model), std::move(options))) {
  if (state_->opt.model_names.empty()) throw Error(Status::invalid_argument, "the server needs at least one model name");
}

Server::~Server() {
  state_->scheduler->stop();
  state_->decode_pool.join();
  state_->acceptor.reset();
  state_->ioc_owner.reset();  // destroys pending handlers, and with them the sessions
}

unsigned short Server::bind() {
  auto& st = *state_;
  beast::error_code ec;
  tcp::resolver resolver(st.ioc);
  const auto results = resolver.resolve(st.opt.host, std::to_string(st.opt.port), tcp::resolver::passive, ec);
  if (ec || results.empty()) throw Error(Status::invalid_argument, "cannot resolve host '" + st.opt.host + "': " + ec.message());
  const tcp::endpoint ep = results.begin()->endpoint();
  const bool loopback = is_loopback_address(ep.address().to_string());
  if (!loopback && st.opt.api_key.empty() && !st.opt.insecure)
    throw Error(Status::invalid_argument, "refusing to listen on non-loopback address " + ep.address().to_string() +
                                              " without --api-key (pass --insecure to do it anyway)");
  st.acceptor.emplace(st.ioc);
  st.acceptor->open(ep.protocol(), ec);
  if (!ec) st.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) st.acceptor->bind(ep, ec);
  if (!ec) st.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw Error(Status::io_error, "cannot listen on " + st.opt.host + ":" + std::to_string(st.opt.port) + ": " + ec.message());
  return st.acceptor->local_endpoint().port();
}

void Server::run() {
  auto& st = *state_;
  if (!st.acceptor) throw Error(Status::bad_state, "Server::run before bind");
  // SIGTERM (what orchestrators send) drains; SIGINT (Ctrl-C), or SIGTERM during a drain, shuts
  // down at once.
  std::optional<net::signal_set> signals;
  std::function<void(beast::error_code, int)> on_signal;  // outlives the context's run below
  if (st.opt.handle_signals) {
    signals.emplace(st.ioc, SIGINT, SIGTERM);
    on_signal = [s = state_, &signals, &on_signal](beast::error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGTERM && !s->draining && !s->shutting_down) {
        s->begin_drain();
        signals->async_wait([&on_signal](beast::error_code e, int n) { on_signal(e, n); });  // a second one
      } else {
        s->begin_shutdown(sig == SIGTERM ? "server shutting down: second SIGTERM" : "server shutting down");
      }
    };
    signals->async_wait([&on_signal](beast::error_code e, int n) { on_signal(e, n); });
  }
  st.do_accept();
  std::vector<std::thread> threads;
  for (int i = 1; i < std::max(1, st.opt.io_threads); ++i)
    threads.emplace_back([&] {
      st.register_io_thread();
      st.ioc.run();
    });
  st.register_io_thread();
  st.ioc.run();
  for (auto& t : threads) t.join();
  st.scheduler->stop();
}

void Server::shutdown() { state_->begin_shutdown(); }

void Server::drain() { state_->begin_drain(); }

}  // namespace vrt::server
