// HTTP/1.1 connections: /health, /v1/models, /metrics, POST /v1/audio/transcriptions (plain or
// server-sent events), and the WebSocket upgrade to /v1/realtime.
#include <array>
#include <cmath>
#include <functional>
#include <optional>
#include <nlohmann/json.hpp>

#include "voxtral_rt/subtitles.h"
#include "server/mistral_protocol.h"
#include "server/multipart.h"
#include "server/realtime_protocol.h"
#include "server/server_internal.h"
#include "server/web_assets.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/error.h"

namespace vrt::server {
namespace {

using ojson = nlohmann::ordered_json;
std::string dump(const ojson& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// OpenAI's error shape for HTTP endpoints.
std::string error_body(std::string_view message, std::string_view type, std::string_view code) {
  return dump(ojson{{"error", {{"message", std::string(message)}, {"type", std::string(type)}, {"param", nullptr},
                               {"code", std::string(code)}}}});
}

std::string strip_leading_spaces(const std::string& s) {
  const auto first = s.find_first_not_of(' ');
  return first == std::string::npos ? std::string() : s.substr(first);
}

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, std::shared_ptr<Server::State> st) : stream_(std::move(socket)), st_(std::move(st)) {}

  void run() { net::dispatch(stream_.get_executor(), beast::bind_front_handler(&HttpSession::do_read, shared_from_this())); }

 private:
  using Request = http::request<http::string_body>;

  void do_read() {
    parser_.emplace();
    parser_->header_limit(8 * 1024);
    parser_->body_limit(st_->opt.max_upload_bytes);
    stream_.expires_after(std::chrono::seconds(first_ ? st_->opt.request_timeout_s : st_->opt.keep_alive_s));
    first_ = false;
    http::async_read_header(stream_, buf_, *parser_, beast::bind_front_handler(&HttpSession::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted ||
        ec == net::error::connection_reset || ec == net::error::eof)
      return close();
    if (ec == http::error::body_limit)  // a Content-Length over the limit fails at the header
      return reject(http::status::payload_too_large, "request body over " + std::to_string(st_->opt.max_upload_bytes) + " bytes", "too_large");
    if (ec == http::error::header_limit) return reject(http::status::request_header_fields_too_large, "request header too large", "too_large");
    if (ec) return reject(http::status::bad_request, "malformed HTTP request: " + ec.message(), "bad_request");
    ++st_->metrics.http_requests;
    auto& req = parser_->get();
    version_ = req.version();
    stream_.expires_after(std::chrono::seconds(st_->opt.request_timeout_s));
    // Health probes (balancers, orchestrators) carry no credentials; they learn only whether this
    // replica serves and how many sessions it holds.
    const auto target = path(sv(req.target()));
    const bool probe = target == "/health" || target == "/health/live" || target == "/health/ready";
    const bool page = req.method() == http::verb::get && st_->opt.web_page && find_web_asset(target);
    if (!probe && !page && !st_->authorized(req)) {
      ++st_->metrics.rejected_unauthorized;
      auto res = make(http::status::unauthorized, error_body("missing or wrong API key (Authorization: Bearer KEY)",
                                                             "invalid_request_error", "invalid_api_key"));
      res.set(http::field::www_authenticate, "Bearer");
      return send(std::move(res), true);
    }
    if (websocket::is_upgrade(req)) {
      const bool mistral = target == "/v1/audio/transcriptions/realtime";
      if (target != "/v1/realtime" && !mistral)
        return reject(http::status::not_found,
                      "no WebSocket endpoint here; use /v1/realtime or /v1/audio/transcriptions/realtime?model=...",
                      "not_found");
      std::string model;
      if (mistral) {
        const auto m = query_param(sv(req.target()), "model");
        if (!m || m->empty()) return reject(http::status::bad_request, "the URL needs ?model=...", "invalid_request");
        model = *m;
      }
      if (!st_->admitting()) return unavailable_draining();
      if (!parser_->is_done()) return reject(http::status::bad_request, "a WebSocket upgrade has no body", "bad_request");
      Request r = parser_->release();
      if (!try_start_realtime(stream_, r, st_, mistral ? Dialect::mistral : Dialect::vllm, std::move(model)))
        return unavailable_full();
      return;  // the socket now belongs to the realtime session
    }
    // An upload this server cannot take is refused before its body is read, so a balancer can
    // send it elsewhere at no cost (the check after the body stays: a slot may go meanwhile).
    if (req.method() == http::verb::post && target == "/v1/audio/transcriptions") {
      if (!st_->admitting()) return unavailable_draining();
      if (st_->scheduler->full()) return unavailable_full();
    }
    if (const auto cl = parser_->content_length(); cl && *cl > st_->opt.max_upload_bytes)
      return reject(http::status::payload_too_large,
                    "request body over " + std::to_string(st_->opt.max_upload_bytes) + " bytes", "too_large");
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      // curl waits for this before sending a large upload.
      auto res = std::make_shared<http::response<http::empty_body>>(http::status::continue_, version_);
      return http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code e, std::size_t) {
        if (e) return self->close();
        self->read_body();
      });
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buf_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::body_limit)
      return reject(http::status::payload_too_large, "request body over " + std::to_string(st_->opt.max_upload_bytes) + " bytes", "too_large");
    if (ec == beast::error::timeout || ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == net::error::connection_reset || ec == net::error::eof)
      return close();
    if (ec) return reject(http::status::bad_request, "malformed HTTP request: " + ec.message(), "bad_request");
    handle(parser_->release());
  }

  static std::string_view path(std::string_view target) { return target.substr(0, target.find('?')); }

  // The value of `name` in the target's query, percent-decoded ('+' is a space); nullopt when
  // absent or malformed.
  static std::optional<std::string> query_param(std::string_view target, std::string_view name) {
    const auto q = target.find('?');
    if (q == std::string_view::npos) return std::nullopt;
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const std::string_view pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      const auto eq = pair.find('=');
      if (pair.substr(0, eq) != name || eq == std::string_view::npos) continue;
      std::string out;
      const std::string_view v = pair.substr(eq + 1);
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '+') {
          out += ' ';
        } else if (v[i] == '%') {
          const auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; };
          if (i + 2 >= v.size() || hex(v[i + 1]) < 0 || hex(v[i + 2]) < 0) return std::nullopt;
          out += static_cast<char>(hex(v[i + 1]) * 16 + hex(v[i + 2]));
          i += 2;
        } else {
          out += v[i];
        }
      }
      return out;
    }
    return std::nullopt;
  }

  http::response<http::string_body> make(http::status s, std::string body, const char* type = "application/json") {
    http::response<http::string_body> res{s, version_};
    res.set(http::field::server, "voxtral-rt");
    res.set(http::field::content_type, type);
    res.body() = std::move(body);
    return res;
  }

  void reject(http::status s, const std::string& message, const char* code, bool count = true) {
    if (count) {
      if (s == http::status::payload_too_large || s == http::status::request_header_fields_too_large) ++st_->metrics.rejected_too_large;
      else ++st_->metrics.rejected_bad_request;
    }
    send(make(s, error_body(message, "invalid_request_error", code)), true);
  }

  // 503 with Retry-After: this replica cannot take the request now; another one (or this one a
  // moment later) can. The connection closes, so a balancer's retry opens a fresh one.
  void unavailable(const std::string& message, const char* code) {
    auto res = make(http::status::service_unavailable, error_body(message, "invalid_request_error", code));
    res.set(http::field::retry_after, std::to_string(st_->opt.retry_after_s));
    send(std::move(res), true);
  }
  void unavailable_full() {
    ++st_->metrics.rejected_capacity;
    unavailable("server full: " + std::to_string(st_->opt.max_sessions) + " sessions busy (--max-sessions); retry later",
                "server_full");
  }
  void unavailable_draining() {
    ++st_->metrics.rejected_draining;
    unavailable(st_->shutting_down ? "server is shutting down" : "server is draining: retry on another replica",
                st_->shutting_down ? "server_shutdown" : "server_draining");
  }

  void send(http::response<http::string_body> res, bool close_after = false) {
    // A reply before the body was read (a 401, 503, 413 at the header) ends the connection.
    if (parser_ && !parser_->is_done()) unread_body_ = close_after = true;
    res.keep_alive(!close_after && keep_alive_);
    res.prepare_payload();
    auto p = std::make_shared<http::response<http::string_body>>(std::move(res));
    stream_.expires_after(std::chrono::seconds(st_->opt.request_timeout_s));
    http::async_write(stream_, *p, [self = shared_from_this(), p](beast::error_code ec, std::size_t) {
      if (ec || !p->keep_alive()) return self->close();
      self->do_read();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (unread_body_) {
      unread_body_ = false;
      return discard_then_close(stream_, shared_from_this(), st_->opt.max_upload_bytes + 65536);
    }
    stream_.close();
  }

  void handle(Request req) {
    keep_alive_ = req.keep_alive();
    const auto p = path(sv(req.target()));
    const auto method = req.method();
    if (p == "/health" || p == "/health/ready" || p == "/health/live") {
      if (method != http::verb::get) return reject(http::status::method_not_allowed, "use GET", "method_not_allowed");
      // Live: the process serves requests (a drain included). Ready (and /health): it admits new
      // sessions; 503 from the moment a drain starts, so balancers stop sending work at once.
      const char* status = st_->shutting_down ? "shutting_down" : st_->draining ? "draining" : "ok";
      const bool ok = p == "/health/live" ? !st_->shutting_down : st_->admitting();
      const auto stats = st_->scheduler->stats();
      return send(make(ok ? http::status::ok : http::status::service_unavailable,
                       dump(ojson{{"status", status},
                                  {"active_sessions", stats.active_streams},
                                  {"max_sessions", st_->opt.max_sessions}})));
    }
    if (p == "/v1/models") {
      if (method != http::verb::get) return reject(http::status::method_not_allowed, "use GET", "method_not_allowed");
      ojson data = ojson::array();
      for (const auto& n : st_->opt.model_names)
        data.push_back({{"id", n}, {"object", "model"}, {"created", 0}, {"owned_by", "voxtral-rt"}});
      return send(make(http::status::ok, dump(ojson{{"object", "list"}, {"data", data}})));
    }
    if (p == "/metrics") {
      if (method != http::verb::get) return reject(http::status::method_not_allowed, "use GET", "method_not_allowed");
      return send(make(http::status::ok, st_->render_metrics(), "text/plain; version=0.0.4; charset=utf-8"));
    }
    if (method == http::verb::get && st_->opt.web_page)
      if (const auto asset = find_web_asset(p)) {
        auto res = make(http::status::ok, std::string(asset->bytes), asset->content_type);
        // The page loads nothing from elsewhere; its only connections go back to this server.
        res.set("Content-Security-Policy",
                "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; media-src 'self' blob:; "
                "frame-ancestors 'none'");
        res.set("X-Content-Type-Options", "nosniff");
        res.set(http::field::cache_control, "no-cache");
        return send(std::move(res));
      }
    if (p == "/v1/realtime")
      return send(make(http::status::upgrade_required, error_body("/v1/realtime is a WebSocket endpoint", "invalid_request_error", "upgrade_required")));
    if (p == "/v1/audio/transcriptions") {
      if (method != http::verb::post) return reject(http::status::method_not_allowed, "use POST", "method_not_allowed");
      return transcribe(std::move(req));
    }
    return reject(http::status::not_found, "no such endpoint", "not_found");
  }

  void transcribe(Request req) {
    auto body = std::make_shared<Request>(std::move(req));
    format_ = "json";
    stream_mode_ = false;
    mistral_ = false;
    words_ = segments_ = false;
    std::vector<FormPart> parts;
    try {
      const std::string boundary = multipart_boundary(sv((*body)[http::field::content_type]));
      parts = parse_multipart(body->body(), boundary);
    } catch (const MultipartError& e) {
      return reject(http::status::bad_request, e.what(), "invalid_multipart");
    }
    const FormPart* file = nullptr;
    std::string model;
    for (const auto& part : parts) {
      const std::string value(part.data.substr(0, 256));
      if (part.name == "file") {
        if (file) return reject(http::status::bad_request, "more than one 'file' field", "invalid_request");
        file = &part;
      } else if (part.name == "model") {
        model = value;
      } else if (part.name == "response_format") {
        format_ = value;
      } else if (part.name == "stream") {
        if (value != "true" && value != "false") return reject(http::status::bad_request, "'stream' must be true or false", "invalid_request");
        stream_mode_ = value == "true";
      } else if (part.name == "timestamp_granularities" || part.name == "timestamp_granularities[]") {
        // Mistral's SDKs repeat the field, OpenAI's name it with [].
        if (value == "word") words_ = true;
        else if (value == "segment") segments_ = true;
        else return reject(http::status::bad_request, "timestamp_granularities must be word or segment", "invalid_request");
      } else if (part.name == "diarize") {
        // Fields only Mistral's API has (its SDKs always send diarize) select its reply formats.
        mistral_ = true;
        if (value == "true")
          return reject(http::status::bad_request, "diarize=true: this model does not identify speakers", "invalid_request");
        if (value != "false") return reject(http::status::bad_request, "'diarize' must be true or false", "invalid_request");
      } else if (part.name == "file_url" || part.name == "file_id") {
        return reject(http::status::bad_request, "'" + part.name + "' is not supported here: upload the audio as 'file'",
                      "invalid_request");
      } else if (part.name == "context_bias") {
        mistral_ = true;  // accepted and ignored: the realtime model takes no context
      }
      // language, prompt, temperature: accepted and ignored, as clients send them (the model
      // transcribes any language; decoding is greedy).
    }
    if (!file) return reject(http::status::bad_request, "missing the 'file' field (multipart/form-data)", "invalid_request");
    if (!model.empty() && !st_->model_served(model))
      return reject(http::status::not_found, "model '" + model + "' is not served here; available: " + st_->served_names(), "model_not_found");
    model_name_ = model.empty() ? st_->opt.model_names.front() : model;
    if (format_ != "json" && format_ != "text" && format_ != "srt" && format_ != "vtt" && format_ != "verbose_json")
      return reject(http::status::bad_request, "response_format must be json, text, srt, vtt or verbose_json", "invalid_request");
    if (!st_->admitting()) return unavailable_draining();

    StreamHandlers h;
    const auto weak = weak_from_this();
    const auto exec = stream_.get_executor();
    if (stream_mode_)
      h.on_text = [weak, exec, m = mistral_](std::string_view d) {
        if (d.empty()) return;
        net::post(exec, [weak, m, ev = m ? mistral::text_delta_event(d)
                                        : dump(ojson{{"type", "transcript.text.delta"}, {"delta", std::string(d)}})]() mutable {
          if (auto s = weak.lock()) s->sse_send(std::move(ev), m ? "transcription.text.delta" : "");
        });
      };
    h.on_done = [weak, exec](Transcript&& t) {
      net::post(exec, [weak, t = std::move(t)]() mutable {
        if (auto s = weak.lock()) s->on_done(std::move(t));
      });
    };
    h.on_error = [weak, exec](const std::string& m) {
      net::post(exec, [weak, m] {
        if (auto s = weak.lock()) s->on_failed(http::status::internal_server_error, m, code::processing_error);
      });
    };
    StreamLimits limits;
    limits.max_backlog_samples = 0;  // the whole upload is queued at once; its size is capped
    job_ = st_->scheduler->open(std::move(h), limits);
    if (!job_) return unavailable_full();
    ++st_->http_jobs;
    keep_self_ = shared_from_this();  // no I/O is pending while the job runs
    stream_.expires_never();  // the job may take a while; writes set their own deadline
    // Decoding a file is CPU work: do it off the I/O threads. Only the bytes travel, never the
    // client's filename.
    AudioLimits al;
    al.max_file_bytes = st_->opt.max_upload_bytes;
    al.max_duration_s = st_->opt.max_upload_duration_s;
    net::post(st_->decode_pool, [self = shared_from_this(), body, data = file->data, al, exec] {
      std::vector<float> samples;
      std::string error;
      try {
        auto buf = decode_audio_memory({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()}, "upload", al);
        resample_to_model_rate(buf);
        samples = std::move(buf.samples);
      } catch (const std::exception& e) {
        error = e.what();
      }
      net::post(exec, [self, samples = std::move(samples), error = std::move(error)]() mutable {
        if (!error.empty()) return self->on_failed(http::status::bad_request, "unsupported or invalid audio: " + error, code::invalid_audio);
        self->start_job(std::move(samples));
      });
    });
  }

  void start_job(std::vector<float> samples) {
    if (!job_) return;
    SessionOptions so;
    so.stop_on_eos = true;  // offline semantics: the same transcript as `voxtral-rt transcribe`
    job_->configure(so);
    audio_s_ = static_cast<double>(samples.size()) / kModelSampleRateHz;
    job_->append(std::move(samples));
    job_->end_utterance();
    job_->start();
    if (stream_mode_) {
      sse_res_ = std::make_shared<http::response<http::empty_body>>(http::status::ok, version_);
      sse_res_->set(http::field::server, "voxtral-rt");
      sse_res_->set(http::field::content_type, "text/event-stream");
      sse_res_->set(http::field::cache_control, "no-cache");
      sse_res_->chunked(true);
      sse_res_->keep_alive(false);
      sse_sr_ = std::make_shared<http::response_serializer<http::empty_body>>(*sse_res_);
      sse_writing_ = true;
      stream_.expires_after(std::chrono::seconds(st_->opt.request_timeout_s));
      http::async_write_header(stream_, *sse_sr_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->sse_writing_ = false;
        if (ec) return self->abort_job();
        self->sse_header_sent_ = true;
        self->sse_pump();
      });
    }
  }

  void end_job() {
    if (!job_) return;
    job_->close();
    job_.reset();
    --st_->http_jobs;
    // Released once the handler that called us returns (it holds its own reference).
    net::post(stream_.get_executor(), [p = std::move(keep_self_)] {});
  }
  void abort_job() {
    end_job();
    close();
  }

  void on_failed(http::status s, const std::string& m, const char* c) {
    if (!job_) return;
    end_job();
    if (s == http::status::bad_request) ++st_->metrics.rejected_bad_request;
    if (sse_res_) {
      if (mistral_) sse_send(mistral::error_event({s == http::status::bad_request ? mistral::kBadRequest : mistral::kInternal, m}), "error");
      else sse_send(error_event(c, m));
      sse_q_.emplace_back();  // last chunk
      return sse_pump();
    }
    send(make(s, error_body(m, s == http::status::bad_request ? "invalid_request_error" : "server_error", c)));
  }

  void on_done(Transcript t) {
    if (!job_) return;
    end_job();
    const ojson usage{{"prompt_tokens", t.stats.prefill_positions},
                      {"completion_tokens", t.stats.generated_tokens},
                      {"total_tokens", t.stats.prefill_positions + t.stats.generated_tokens},
                      {"prompt_audio_seconds", static_cast<std::int64_t>(std::ceil(audio_s_))}};
    if (stream_mode_ && mistral_) {  // Mistral's stream: named events, no [DONE]; the body's end ends it
      const auto segments = timestamp_chunks(t);
      for (const auto& seg : segments) sse_send(mistral::segment_event(seg), "transcription.segment");
      sse_send(mistral::done_event(model_name_, t.text, segments, {t.stats.prefill_positions, t.stats.generated_tokens}, audio_s_),
               "transcription.done");
      sse_q_.emplace_back();
      return sse_pump();
    }
    if (stream_mode_) {
      sse_send(dump(ojson{{"type", "transcript.text.done"}, {"text", t.text}, {"usage", usage}}));
      sse_q_.push_back("data: [DONE]\n\n");
      sse_q_.emplace_back();
      return sse_pump();
    }
    if (format_ == "text") return send(make(http::status::ok, strip_leading_spaces(t.text) + "\n", "text/plain; charset=utf-8"));
    if (format_ == "srt") return send(make(http::status::ok, to_srt(t), "application/x-subrip; charset=utf-8"));
    if (format_ == "vtt") return send(make(http::status::ok, to_vtt(t), "text/vtt; charset=utf-8"));
    // json: OpenAI's {text, usage} and, for Mistral's SDK (TranscriptionResponse: model, text,
    // language present, segments typed "transcription_segment", integer usage), the rest.
    ojson j{{"model", model_name_}, {"text", t.text}, {"language", nullptr}};
    if (format_ == "json") {
      ojson segs = ojson::array();
      for (const auto& s : timestamp_chunks(t))
        segs.push_back({{"type", "transcription_segment"}, {"text", s.text}, {"start", s.start_s}, {"end", s.end_s}});
      j["segments"] = segs;
    }
    if (format_ == "verbose_json") {
      j = ojson{{"task", "transcribe"}, {"duration", audio_s_}, {"text", t.text}};
      // OpenAI's rule: segments unless only words were asked for; words when asked for.
      if (segments_ || !words_) {
        ojson segs = ojson::array();
        int id = 0;
        for (const auto& s : t.segments) segs.push_back({{"id", id++}, {"start", s.start_s}, {"end", s.end_s}, {"text", s.text}});
        j["segments"] = segs;
      }
      if (words_) {
        ojson words = ojson::array();
        for (const auto& w : t.words) words.push_back({{"word", w.text}, {"start", w.start_s}, {"end", w.end_s}});
        j["words"] = words;
      }
    }
    j["usage"] = usage;
    send(make(http::status::ok, dump(j)));
  }

  // Mistral's timestamped chunks (segments of its TranscriptionResponse): the segments when
  // asked for, the words when only they were, none otherwise.
  std::vector<Segment> timestamp_chunks(const Transcript& t) const {
    if (segments_) return t.segments;
    std::vector<Segment> out;
    if (words_)
      for (const auto& w : t.words) out.push_back({w.text, w.start_s, w.end_s});
    return out;
  }

  // Server-sent events, each one HTTP chunk; an empty entry stands for the last chunk. Mistral's
  // SDK requires an event name; OpenAI's reads data lines only.
  void sse_send(std::string json, std::string_view event = {}) {
    std::string chunk;
    if (!event.empty()) chunk.append("event: ").append(event).append("\n");
    sse_q_.push_back(chunk.append("data: ").append(json).append("\n\n"));
    sse_pump();
  }
  void sse_pump() {
    if (sse_writing_ || !sse_header_sent_ || sse_q_.empty()) return;
    sse_writing_ = true;
    stream_.expires_after(std::chrono::seconds(st_->opt.request_timeout_s));
    auto done = [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->sse_writing_ = false;
      if (ec) return self->abort_job();  // client gone: drop the job and its session
      const bool last = self->sse_q_.front().empty();
      self->sse_q_.pop_front();
      if (last) return self->close();
      self->sse_pump();
    };
    if (sse_q_.front().empty()) net::async_write(stream_, http::make_chunk_last(), std::move(done));
    else net::async_write(stream_, http::make_chunk(net::buffer(sse_q_.front())), std::move(done));
  }

  beast::tcp_stream stream_;
  std::shared_ptr<Server::State> st_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  unsigned version_ = 11;
  bool first_ = true;
  bool keep_alive_ = true;
  bool unread_body_ = false;  // a reply goes out before the request body was read
  std::string model_name_;     // the upload's model (or the first served name), for the reply
  std::string format_ = "json";
  bool stream_mode_ = false;
  bool mistral_ = false;              // Mistral's fields seen: its stream events and error shapes
  bool words_ = false, segments_ = false;  // timestamp_granularities
  double audio_s_ = 0;
  std::shared_ptr<Stream> job_;
  std::shared_ptr<HttpSession> keep_self_;  // set while a job runs
  std::shared_ptr<http::response<http::empty_body>> sse_res_;
  std::shared_ptr<http::response_serializer<http::empty_body>> sse_sr_;
  std::deque<std::string> sse_q_;
  bool sse_writing_ = false;
  bool sse_header_sent_ = false;

 public:
  ~HttpSession() { end_job(); }
};

}  // namespace

void start_http_session(tcp::socket socket, std::shared_ptr<Server::State> st) {
  std::make_shared<HttpSession>(std::move(socket), std::move(st))->run();
}

}  // namespace vrt::server
