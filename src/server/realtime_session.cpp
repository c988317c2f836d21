// WebSocket /v1/realtime: one connection, one scheduler Stream, any number of utterances.
#include <chrono>
#include <cstdio>

#include "server/realtime_protocol.h"
#include "server/server_internal.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/subtitles.h"

namespace vrt::server {

// Touched on the compute thread only, except the flags (set from I/O, read by compute).
struct RealtimeCompute {
  RealtimeCompute(int word_id, Dialect d, std::string m) : dialect(d), model(std::move(m)), tracker(word_id) {}
  std::weak_ptr<RealtimeSession> session;  // set before the stream starts
  const Dialect dialect;
  const std::string model;  // Mistral: named in transcription.done
  std::atomic<bool> words{false};
  std::atomic<bool> segments{false};
  WordTracker tracker;
  std::vector<Word> completed;
  SegmentBuilder segment_builder;  // Mistral: transcription.segment as segments close
  std::string text;  // this utterance so far (the deltas), for transcription.done
  // The web page (it offered the voxtral-rt subprotocol) also gets voxtral_rt.progress events:
  // the audio decided so far, for its lag readout. SDK clients never see them.
  bool progress = false;
  double decided_s = 0, reported_s = 0;

  // Mistral: the completed words into segments; each segment that closes (all of them at the
  // utterance's end) goes out as transcription.segment.
  void post_segments(const std::shared_ptr<RealtimeSession>& s, bool utterance_end) {
    std::vector<Segment> closed;
    for (const Word& w : completed) segment_builder.push(w, closed);
    completed.clear();
    if (utterance_end) segment_builder.finish(closed);
    if (s)
      for (const Segment& seg : closed) s->post_event(mistral::segment_event(seg), false);
  }
};

namespace {
constexpr std::size_t kMaxDoneText = 4u << 20;  // an hours-long utterance keeps its last 4 MiB in `done`
}

bool try_start_realtime(beast::tcp_stream& stream, http::request<http::string_body>& req,
                        const std::shared_ptr<Server::State>& st, Dialect dialect, std::string model) {
  auto compute = std::make_shared<RealtimeCompute>(st->model->tokenizer().streaming_word_id(), dialect, model);
  if (dialect == Dialect::mistral) compute->words = true;  // segments are built from the words
  StreamHandlers h;
  compute->progress = dialect == Dialect::mistral && Server::State::offers_subprotocol(req, Server::State::kPageSubprotocol);
  const double frame_s = static_cast<double>(st->model->config().samples_per_token()) / kModelSampleRateHz;
  h.on_token = [c = compute.get(), frame_s](const Token& t) {
    if (c->words) c->tracker.push(t, c->completed);
    c->decided_s = t.time_s + frame_s;
  };
  // The handlers own `compute` (the stream outlives nothing it needs).
  h.on_text = [compute](std::string_view d) {
    auto s = compute->session.lock();
    if (compute->dialect == Dialect::mistral) {
      if (compute->text.size() < kMaxDoneText) compute->text.append(d);
      if (!d.empty() && s) s->post_event(mistral::text_delta_event(d), false);
      compute->post_segments(s, false);
      if (compute->progress && s && compute->decided_s > compute->reported_s) {
        compute->reported_s = compute->decided_s;
        s->post_event(mistral::progress_event(compute->decided_s), false);
      }
      return;
    }
    if (d.empty() && compute->completed.empty()) return;
    if (compute->text.size() < kMaxDoneText) compute->text.append(d);
    std::string ev = delta_event(d, compute->completed);
    compute->completed.clear();
    if (s) s->post_event(std::move(ev), false);
  };
  h.on_done = [compute](Transcript&& t) {
    auto s = compute->session.lock();
    std::vector<Word> last;
    compute->tracker.finish(last);
    const Usage u{t.stats.prefill_positions, t.stats.generated_tokens};
    std::string ev;
    if (compute->dialect == Dialect::mistral) {
      compute->completed.insert(compute->completed.end(), last.begin(), last.end());
      compute->post_segments(s, true);
      ev = mistral::done_event(compute->model, compute->text, t.segments, u, t.stats.audio_s);
    } else {
      ev = done_event(compute->text, u, compute->words ? &t.words : nullptr, compute->segments ? &t.segments : nullptr);
    }
    compute->completed.clear();
    compute->text.clear();
    if (s) s->post_event(std::move(ev), true);
  };
  h.on_error = [compute](const std::string& m) {
    if (auto s = compute->session.lock()) s->post_error(code::processing_error, m, true);
  };
  h.on_resume = [compute] {
    if (auto s = compute->session.lock()) s->post_resume();
  };
  StreamLimits limits;
  limits.max_backlog_samples = static_cast<std::size_t>(st->opt.max_backlog_s * kModelSampleRateHz);
  auto slot = st->scheduler->open(std::move(h), limits);
  if (!slot) return false;
  auto session = std::make_shared<RealtimeSession>(std::move(stream), st, dialect, std::move(model));
  compute->session = session;
  session->run(std::move(req), std::move(slot), std::move(compute));
  return true;
}

RealtimeSession::RealtimeSession(beast::tcp_stream stream, std::shared_ptr<Server::State> st, Dialect dialect,
                                 std::string model)
    : ws_(std::move(stream)), dialect_(dialect), model_(std::move(model)), exec_(ws_.get_executor()),
      st_(std::move(st)), write_timer_(exec_) {}

RealtimeSession::~RealtimeSession() {
  if (stream_) stream_->close();
  st_->remove_realtime(this);
}

void RealtimeSession::run(http::request<http::string_body> req, std::shared_ptr<Stream> stream,
                          std::shared_ptr<RealtimeCompute> compute) {
  stream_ = std::move(stream);
  compute_ = std::move(compute);
  st_->add_realtime(shared_from_this());
  ++st_->metrics.realtime_sessions;
  beast::get_lowest_layer(ws_).expires_never();  // the websocket timeouts take over
  websocket::stream_base::timeout t{};
  t.handshake_timeout = std::chrono::seconds(st_->opt.handshake_timeout_s);
  t.idle_timeout = std::chrono::seconds(st_->opt.idle_timeout_s);
  t.keep_alive_pings = true;
  ws_.set_option(t);
  // The page's subprotocol is selected when offered (a browser fails a handshake that selects
  // none of those it offered); the SDKs offer none and must get none back.
  const bool page = Server::State::offers_subprotocol(req, Server::State::kPageSubprotocol);
  ws_.set_option(websocket::stream_base::decorator([page](websocket::response_type& res) {
    res.set(http::field::server, "voxtral-rt");
    if (page) res.set(http::field::sec_websocket_protocol, std::string(Server::State::kPageSubprotocol));
  }));
  ws_.read_message_max(st_->opt.max_message_bytes);
  ws_.async_accept(req, beast::bind_front_handler(&RealtimeSession::on_accept, shared_from_this()));
}

void RealtimeSession::on_accept(beast::error_code ec) {
  if (ec) return fail();
  accepted_ = true;
  if (dialect_ == Dialect::mistral) {
    if (!st_->model_served(model_)) {
      ++st_->metrics.protocol_errors;
      send(mistral::error_event({mistral::kNotFound, "model '" + model_.substr(0, 200) +
                                                         "' is not served here; available: " + st_->served_names()}));
      return close_after_flush(websocket::close_code::policy_error, "model not found");
    }
    // The session starts at once (the model came with the URL), as a live stream.
    SessionOptions so;
    so.max_kept_tokens = st_->opt.max_kept_tokens;
    stream_->configure(so);
    validated_ = true;
    stream_->start();
    mistral_.request_id = stream_->id();
    mistral_.model = model_;
    mistral_.delay_ms = st_->model->tokenizer().streaming().transcription_delay_ms;
    pcm_.emplace(mistral_.audio_format.encoding, 1);
    // Nothing else is sent until the client speaks: the SDK drops frames that arrive together
    // with session.created.
    send(mistral::session_event("session.created", mistral_));
  } else {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    send(session_created_event(stream_->id(), std::chrono::duration_cast<std::chrono::seconds>(now).count()));
  }
  if (st_->shutting_down) return on_shutdown("server shutting down");
  do_read();
}

void RealtimeSession::send_error(const char* vllm_code, int mistral_code, std::string message) {
  if (dialect_ == Dialect::mistral) return send(mistral::error_event({mistral_code, std::move(message)}));
  send(error_event(vllm_code, message));
}

void RealtimeSession::append_audio(std::vector<float> samples) {
  if (shutdown_) return send_error(code::server_shutdown, mistral::kUnavailable, "server is shutting down: audio not accepted");
  if (samples.empty()) return;
  switch (stream_->append(std::move(samples))) {
    case Stream::AppendResult::ok: break;
    case Stream::AppendResult::pause:  // backpressure: no read until on_resume
      if (!validated_) {  // nothing is processed before session.update: it would never resume
        send_error(code::model_not_validated, mistral::kBadRequest, "audio backlog full before a session.update");
        return close_after_flush(websocket::close_code::policy_error, "audio backlog full");
      }
      read_paused_ = true;
      keep_self_ = shared_from_this();  // nothing else is pending on our side meanwhile
      break;
    case Stream::AppendResult::closed: return send_error(code::processing_error, mistral::kInternal, "the session has failed");
  }
  open_utterance_ = true;
}

void RealtimeSession::handle_mistral(std::string_view text) {
  auto parsed = mistral::parse_client_event(text, {.max_depth = 16, .max_audio_bytes = st_->opt.max_message_bytes});
  if (auto* err = std::get_if<mistral::Error>(&parsed)) {
    ++st_->metrics.protocol_errors;
    return send_error(code::invalid_event, err->code, err->message);
  }
  auto& ev = std::get<mistral::ClientEvent>(parsed);
  if (end_after_done_) {  // after input_audio.end the session only finishes
    if (std::holds_alternative<mistral::Flush>(ev)) return;
    return send_error(code::invalid_event, mistral::kBadRequest, "input_audio.end was sent: the session takes no more events");
  }
  if (auto* u = std::get_if<mistral::SessionUpdate>(&ev)) {
    if (audio_started_)
      return send_error(code::invalid_event, mistral::kBadRequest, "session.update is accepted before audio only");
    if (u->delay_ms) {
      SessionOptions so;
      so.delay_ms = *u->delay_ms;
      so.max_kept_tokens = st_->opt.max_kept_tokens;
      stream_->configure(so);
      mistral_.delay_ms = *u->delay_ms;
    }
    if (u->audio_format) {
      mistral_.audio_format = *u->audio_format;
      pcm_.emplace(mistral_.audio_format.encoding, 1);
      if (mistral_.audio_format.sample_rate != kModelSampleRateHz)
        resampler_.emplace(mistral_.audio_format.sample_rate, kModelSampleRateHz);
      else
        resampler_.reset();
    }
    return send(mistral::session_event("session.updated", mistral_));
  }
  if (auto* a = std::get_if<mistral::AudioAppend>(&ev)) {
    audio_started_ = true;
    std::vector<float> samples;
    pcm_->push_bytes(a->bytes, samples);
    if (resampler_) samples = resampler_->process(samples);
    return append_audio(std::move(samples));
  }
  if (std::holds_alternative<mistral::Flush>(ev)) return;  // audio is processed as it arrives
  // input_audio.end: the rest of the audio, then transcription.done, then the session ends.
  audio_started_ = true;
  std::vector<float> tail;
  try {
    pcm_->finish();
  } catch (const vrt::Error& e) {
    send_error(code::invalid_audio, mistral::kBadRequest, e.what());
  }
  if (resampler_) resampler_->flush(tail);
  append_audio(std::move(tail));
  stream_->end_utterance();
  ++dones_owed_;
  open_utterance_ = false;
  end_after_done_ = true;
}

void RealtimeSession::do_read() {
  if (reading_ || read_paused_ || closing_ || failed_) return;
  reading_ = true;
  ws_.async_read(buf_, beast::bind_front_handler(&RealtimeSession::on_read, shared_from_this()));
}

void RealtimeSession::on_read(beast::error_code ec, std::size_t) {
  reading_ = false;
  if (ec) {
    // Closed by the client, reset, idle timeout, or a message over read_message_max (Beast
    // has sent close 1009). Either way the session's work is dropped and its memory freed.
    if (ec == websocket::error::message_too_big) {  // the client is still sending that message
      fail(/*close_socket=*/false);
      return discard_then_close(beast::get_lowest_layer(ws_), shared_from_this(), 2 * st_->opt.max_message_bytes + 65536);
    }
    return fail();
  }
  if (!ws_.got_text()) {
    buf_.consume(buf_.size());
    ++st_->metrics.protocol_errors;
    send_error(code::invalid_event, mistral::kBadRequest, "binary frames are not accepted: send JSON text events");
  } else {
    const std::string text = beast::buffers_to_string(buf_.data());
    buf_.consume(buf_.size());
    handle(text);
  }
  do_read();
}

void RealtimeSession::handle(std::string_view text) {
  if (dialect_ == Dialect::mistral) return handle_mistral(text);
  auto parsed = parse_client_event(text, {.max_depth = 16, .max_audio_bytes = st_->opt.max_message_bytes});
  if (auto* err = std::get_if<ProtocolError>(&parsed)) {
    ++st_->metrics.protocol_errors;
    return send(error_event(err->code, err->message));
  }
  auto& ev = std::get<ClientEvent>(parsed);
  if (auto* u = std::get_if<SessionUpdate>(&ev)) {
    if (!st_->model_served(u->model)) {
      ++st_->metrics.protocol_errors;
      return send(error_event(code::model_not_found,
                              "model '" + u->model.substr(0, 200) + "' is not served here; available: " + st_->served_names()));
    }
    SessionOptions so;
    so.delay_ms = u->delay_ms.value_or(0);
    so.stop_on_eos = u->stop_on_eos.value_or(false);
    so.max_kept_tokens = st_->opt.max_kept_tokens;
    const bool changes = u->delay_ms || u->stop_on_eos;
    if (!stream_->configure(so) && changes)
      return send(error_event(code::invalid_event,
                              "delay_ms and stop_on_eos can only change between utterances (before audio is processed)"));
    compute_->words = u->word_timestamps;
    compute_->segments = u->segment_timestamps;
    validated_ = true;
    stream_->start();
    const int delay = so.delay_ms ? so.delay_ms : st_->model->tokenizer().streaming().transcription_delay_ms;
    return send(session_updated_event(stream_->id(), u->model, delay, u->word_timestamps, u->segment_timestamps,
                                      so.stop_on_eos));
  }
  if (auto* a = std::get_if<AudioAppend>(&ev)) return append_audio(std::move(a->samples));
  const auto& c = std::get<Commit>(ev);
  if (!validated_)
    return send(error_event(code::model_not_validated, "commit before a session.update naming a served model"));
  if (c.final) {
    stream_->end_utterance();
    ++dones_owed_;
    open_utterance_ = false;
  }
  // A non-final commit starts generation in vLLM; here audio is processed as it arrives.
}

void RealtimeSession::post_event(std::string event, bool is_done) {
  net::post(exec_, [self = shared_from_this(), ev = std::move(event), is_done]() mutable {
    self->send(std::move(ev));
    if (is_done && self->dones_owed_ > 0 && --self->dones_owed_ == 0) {
      if (self->shutdown_) self->close_after_flush(websocket::close_code::going_away, self->shutdown_reason_);
      else if (self->end_after_done_) self->close_after_flush(websocket::close_code::normal, "transcription done");
    }
  });
}

void RealtimeSession::post_error(std::string c, std::string message, bool fatal) {
  net::post(exec_, [self = shared_from_this(), c = std::move(c), m = std::move(message), fatal] {
    self->send_error(c.c_str(), mistral::kInternal, m);
    if (fatal) self->close_after_flush(websocket::close_code::internal_error, "processing error");
  });
}

void RealtimeSession::post_resume() {
  net::post(exec_, [self = shared_from_this()] {
    self->read_paused_ = false;
    self->keep_self_.reset();
    self->do_read();
  });
}

void RealtimeSession::shutdown(std::string reason) {
  net::post(exec_, [self = shared_from_this(), reason = std::move(reason)] { self->on_shutdown(reason); });
}

void RealtimeSession::on_shutdown(const std::string& reason) {
  if (shutdown_ || failed_) return;
  // Nothing may be written before the handshake is done (Beast would write client-role, masked
  // frames and start a close handshake inside the accept); on_accept sees shutting_down and
  // comes back here.
  if (!accepted_) return;
  shutdown_ = true;
  shutdown_reason_ = reason;
  // The open utterance ends now and gets its transcription.done (the text so far); an idle
  // session gets an error event saying why it is closed. Either way the close carries `reason`.
  if (validated_ && open_utterance_) {
    stream_->end_utterance();
    ++dones_owed_;
    open_utterance_ = false;
  }
  if (dones_owed_ == 0 || !validated_) {
    send_error(code::server_shutdown, mistral::kUnavailable, reason);
    close_after_flush(websocket::close_code::going_away, reason);
  }
}

void RealtimeSession::send(std::string event) {
  if (closing_ || failed_) return;
  if (outq_.size() >= st_->opt.max_outbound_events) {
    // The client stopped reading: events cannot be dropped (deltas make the transcript), so
    // the connection goes.
    ++st_->metrics.slow_reader_closes;
    std::fprintf(stderr, "voxtral-rt serve: %s: client not reading (%zu events queued), closing\n",
                 stream_->id().c_str(), outq_.size());
    return fail();
  }
  outq_.push_back(std::move(event));
  if (!writing_) do_write();
}

void RealtimeSession::do_write() {
  writing_ = true;
  ws_.text(true);
  ws_.async_write(net::buffer(outq_.front()), beast::bind_front_handler(&RealtimeSession::on_write, shared_from_this()));
  // A write that cannot finish within the idle timeout means the client stopped reading and the
  // kernel buffers are full. Closed here whatever the rate of events: a client sending audio
  // slowly and reading nothing would otherwise hold its slot until the outbound cap filled.
  write_timer_.expires_after(std::chrono::seconds(st_->opt.idle_timeout_s));
  write_timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || !self->writing_ || self->failed_) return;
    ++self->st_->metrics.slow_reader_closes;
    std::fprintf(stderr, "voxtral-rt serve: %s: client not reading (a write stalled %d s), closing\n",
                 self->stream_ ? self->stream_->id().c_str() : "-", self->st_->opt.idle_timeout_s);
    self->fail();
  });
}

void RealtimeSession::on_write(beast::error_code ec, std::size_t) {
  writing_ = false;
  write_timer_.cancel();
  if (ec) return fail();
  outq_.pop_front();
  if (!outq_.empty()) return do_write();
  if (close_after_ && !failed_) {
    closing_ = true;
    writing_ = true;
    ws_.async_close(*close_after_, [self = shared_from_this()](beast::error_code) {
      self->writing_ = false;
      self->fail();
    });
  }
}

void RealtimeSession::close_after_flush(websocket::close_code code, std::string reason) {
  if (close_after_ || failed_) return;
  close_after_ = websocket::close_reason(code, reason);
  if (!writing_) {
    closing_ = true;
    writing_ = true;
    ws_.async_close(*close_after_, [self = shared_from_this()](beast::error_code) {
      self->writing_ = false;
      self->fail();
    });
  }
}

void RealtimeSession::fail(bool close_socket) {
  if (failed_) return;
  failed_ = true;
  closing_ = true;
  write_timer_.cancel();
  if (!writing_) outq_.clear();  // a pending write still points at the front
  if (stream_) stream_->close();  // frees the session's compute state on the compute thread
  if (close_socket) {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close();
  }
  st_->remove_realtime(this);
  keep_self_.reset();
}

}  // namespace vrt::server
