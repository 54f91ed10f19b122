// The Boost.Beast transport: listener, HTTP and WebSocket sessions, connection caps, timeouts,
// shutdown (the per-exchange rules are in http_exchange.cpp).
#include "server/http_server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <csignal>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <variant>

#include "common/json_text.hpp"
#include "server/http_exchange.hpp"
#include "server/service_manager.hpp"
#include "server/session_service.hpp"
#include "server/ws_challenge.hpp"

namespace liveproof::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {
class Session;
}  // namespace

// What a new connection may do: everything, only health checks (the reserved slots past
// max_connections), or nothing (answered 503 and closed).
enum class Admission { Full, HealthOnly, Refused };

// Health checks keep working when every ordinary slot is taken (as nginx and bmcweb keep one
// for their own status pages): up to this many connections beyond max_connections may ask
// /healthz or /readyz and nothing else.
constexpr int kHealthSlots = 4;
// A health-only connection must send its request line and headers within this time.
constexpr auto kHealthHeaderTimeout = std::chrono::seconds(2);
// After the shutdown grace period, requests still in flight are answered 503; this is how long
// those answers get to leave before the I/O threads stop.
constexpr auto kCutFlushTime = std::chrono::milliseconds(300);

struct HttpServer::Impl {
    ServerContext& ctx;
    const Router& router;
    net::io_context ioc;
    tcp::acceptor acceptor;
    net::signal_set signals;
    // Pings systemd's watchdog from the I/O loop: a loop that stops turning gets restarted.
    net::steady_timer watchdog;
    std::atomic<int> open_connections{0};
    std::atomic<int> in_flight{0};
    std::atomic<int> ws_sessions{0};
    // Handshakes past the capacity check whose run the store is still recording: they count
    // against ws_max_sessions as if open, so a burst of handshakes cannot pass the cap at once.
    std::atomic<int> ws_handshakes{0};
    std::atomic<bool> draining{false};
    int bound_port = 0;
    // Open connections (HTTP and WebSocket) per client address, for max_connections_per_client.
    std::mutex clients_mutex;
    std::unordered_map<std::string, int> per_client;
    // HTTP requests being handled, so that the end of the grace period can answer them.
    std::mutex in_flight_mutex;
    std::unordered_map<const Session*, std::weak_ptr<Session>> in_flight_sessions;

    Impl(ServerContext& c, const Router& r)
        : ctx(c),
          router(r),
          ioc(c.config.io_threads),
          acceptor(net::make_strand(ioc)),
          signals(ioc, SIGINT, SIGTERM),
          watchdog(ioc) {}

    void Accept();
    void PingWatchdog(std::chrono::microseconds interval);
    void BeginShutdown();
    void CutInFlight();
    // Counts an exception that reached an Asio handler (a bug: errors are values here).
    void CountInternalError(const char* where, const char* what) {
        ctx.metrics->Inc("liveproof_internal_errors_total", {{"where", where}});
        const auto v = ctx.log_limiter.Admit(std::string("internal ") + where);
        if (v.write) {
            spdlog::error("unexpected exception in {}: {}{}", where, PrintableUtf8(what),
                          LogLimiter::Suffix(v));
        }
    }
};

// One open connection's claim on the connection caps, held by its HTTP session and then by its
// WebSocket session; released when the last owner ends.
class ConnectionSlot {
  public:
    ConnectionSlot(HttpServer::Impl& server, std::string client)
        : server_(server), client_(std::move(client)) {
        ++server_.open_connections;
        std::lock_guard lock(server_.clients_mutex);
        per_client_ = ++server_.per_client[client_];
    }
    ~ConnectionSlot() {
        --server_.open_connections;
        std::lock_guard lock(server_.clients_mutex);
        auto it = server_.per_client.find(client_);
        if (it != server_.per_client.end() && --it->second <= 0) server_.per_client.erase(it);
    }
    ConnectionSlot(const ConnectionSlot&) = delete;
    ConnectionSlot& operator=(const ConnectionSlot&) = delete;

    // What this connection may do, judged once when it is accepted.
    [[nodiscard]] Admission Admit() const {
        const ServerConfig& c = server_.ctx.config;
        const int open = server_.open_connections.load();  // this one included
        if (over_client_cap()) return Admission::Refused;
        if (open <= c.max_connections) return Admission::Full;
        if (open <= c.max_connections + kHealthSlots) return Admission::HealthOnly;
        return Admission::Refused;
    }
    [[nodiscard]] bool over_client_cap() const {
        const ServerConfig& c = server_.ctx.config;
        return per_client_ > c.max_connections_per_client && !IsTrustedProxy(client_, c);
    }
    [[nodiscard]] const std::string& client() const { return client_; }

  private:
    HttpServer::Impl& server_;
    std::string client_;
    int per_client_ = 0;
};

// Runs fn, a handler's body; an exception from it is counted and handled by on_error instead of
// escaping into Asio, where it would end the I/O thread (and, uncaught, the process).
template <typename Fn, typename OnError>
void Guarded(HttpServer::Impl& server, const char* where, Fn&& fn, OnError&& on_error) {
    try {
        fn();
    } catch (const std::exception& e) {
        server.CountInternalError(where, e.what());
        on_error();
    } catch (...) {
        server.CountInternalError(where, "a non-standard exception");
        on_error();
    }
}

namespace {

// A handshake accepted only to be closed at once with a reason (WsRefusal::close_reason): nothing
// is read or sent but the close frame, and the connection's claim on the caps is held until the
// socket is gone.
void AcceptToClose(HttpServer::Impl& server, tcp::socket socket, WireRequest request,
                   std::string reason, std::shared_ptr<void> slot) {
    auto ws = std::make_shared<websocket::stream<beast::tcp_stream>>(std::move(socket));
    ws->set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws->async_accept(request, [&server, ws, reason = std::move(reason),
                               slot = std::move(slot)](beast::error_code ec) {
        Guarded(
            server, "ws_refusal",
            [&] {
                if (ec) return;
                ws->async_close(
                    websocket::close_reason(websocket::close_code::policy_error, reason),
                    [ws, slot](beast::error_code) {});
            },
            [] {});
    });
}

// One system-A WebSocket: reads messages, feeds the ChallengeConnection, writes its replies
// through a single-writer queue, and ticks the timeouts every 250 ms.
class WsSession : public std::enable_shared_from_this<WsSession> {
  public:
    WsSession(tcp::socket&& socket, HttpServer::Impl& server, std::shared_ptr<ConnectionSlot> slot)
        : ws_(std::move(socket)),
          tick_(ws_.get_executor()),
          server_(server),
          slot_(std::move(slot)) {
        ++server_.ws_sessions;
    }
    ~WsSession() { --server_.ws_sessions; }

    void Run(http::request<http::string_body> request, bool mirrored,
             std::optional<SessionRun> session) {
        session_ = std::move(session);
        ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        ws_.read_message_max(static_cast<std::uint64_t>(server_.ctx.config.ws_max_message_bytes));
        ws_.async_accept(request, [self = shared_from_this(), mirrored](beast::error_code ec) {
            self->Guard([&] { self->OnAccept(ec, mirrored); });
        });
    }

  private:
    // Every handler body runs guarded: an exception (a bug) closes this session with 1011
    // (internal error), is counted, and leaves every other session and the process running.
    template <typename Fn>
    void Guard(Fn&& fn) {
        Guarded(server_, "ws_handler", std::forward<Fn>(fn), [this] { CloseInternalError(); });
    }

    void CloseInternalError() {
        if (stopped_) return;
        closing_ = true;
        tick_.cancel();
        ws_.async_close(websocket::close_code::internal_error,
                        [self = shared_from_this()](beast::error_code) { self->Stop(); });
    }

    void OnAccept(beast::error_code ec, bool mirrored) {
        if (ec) {
            // The session's one run began and will never be performed: record its end.
            if (session_ && server_.ctx.sessions) {
                (void)server_.ctx.sessions->FinishRun(*session_, ChallengeConnection::Abandoned());
            }
            return;
        }
        std::weak_ptr<WsSession> weak = weak_from_this();
        auto send = [weak](std::string text, bool close_after) {
            if (auto self = weak.lock()) {
                net::post(self->ws_.get_executor(),
                          [self, text = std::move(text), close_after]() mutable {
                              self->Guard([&] { self->Enqueue(std::move(text), close_after); });
                          });
            }
        };
        auto post = [weak](std::function<void()> fn) {
            if (auto self = weak.lock()) {
                net::post(self->ws_.get_executor(), [self, fn = std::move(fn)] {
                    self->Guard([&] {
                        if (!self->stopped_) fn();
                    });
                });
            }
        };
        auto conn =
            ChallengeConnection::Create(server_.ctx, mirrored, send, post, std::move(session_));
        if (!conn) {
            // Finalize() validates the settings, so this is a bug: count it like one.
            server_.CountInternalError("ws_handler", conn.error().detail.c_str());
            return CloseInternalError();
        }
        conn_ = std::move(*conn);
        conn_->Start();
        Read();
        Tick();
    }

    void Read() {
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->Guard([&] { self->OnRead(ec); });
        });
    }

    void OnRead(beast::error_code ec) {
        if (ec) {
            if (ec == websocket::error::message_too_big) {
                server_.ctx.metrics->Inc("liveproof_rejections_total",
                                         {{"reason", "ws_message_too_big"}});
            }
            return Stop();
        }
        if (ws_.got_text()) {
            conn_->OnText(beast::buffers_to_string(buffer_.data()));
        } else {
            conn_->OnBinary();
        }
        buffer_.consume(buffer_.size());
        if (!closing_) Read();
    }

    void Tick() {
        tick_.expires_after(std::chrono::milliseconds(250));
        tick_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (ec || self->closing_ || self->stopped_) return;
            self->Guard([&] {
                self->conn_->OnTick();
                self->Tick();
            });
        });
    }

    void Enqueue(std::string text, bool close_after) {
        if (closing_ || stopped_) return;
        outbox_.emplace_back(std::move(text), close_after);
        if (close_after) closing_ = true;
        if (!writing_) Write();
    }

    void Write() {
        writing_ = true;
        ws_.text(true);
        ws_.async_write(net::buffer(outbox_.front().first),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            self->Guard([&] { self->OnWrite(ec); });
                        });
    }

    void OnWrite(beast::error_code ec) {
        const bool close_after = outbox_.front().second;
        outbox_.pop_front();
        writing_ = false;
        if (ec) return Stop();
        if (close_after) {
            // A closes the socket after "complete" and "failed".
            ws_.async_close(websocket::close_code::normal,
                            [self = shared_from_this()](beast::error_code) { self->Stop(); });
            return;
        }
        if (!outbox_.empty()) Write();
    }

    void Stop() {
        if (stopped_) return;
        stopped_ = true;
        tick_.cancel();
        if (conn_) conn_->OnClosed();
    }

    websocket::stream<beast::tcp_stream> ws_;
    net::steady_timer tick_;
    beast::flat_buffer buffer_;
    std::deque<std::pair<std::string, bool>> outbox_;
    bool writing_ = false;
    bool closing_ = false;
    bool stopped_ = false;
    std::shared_ptr<ChallengeConnection> conn_;
    std::optional<SessionRun> session_;  // until the connection takes it
    HttpServer::Impl& server_;
    std::shared_ptr<ConnectionSlot> slot_;  // counts this socket against the connection caps
};

// One connection: read a request (header first, then the body under the route's cap), dispatch,
// write the reply, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket&& socket, HttpServer::Impl& server, std::shared_ptr<ConnectionSlot> slot)
        : stream_(std::move(socket)), server_(server), slot_(std::move(slot)) {}

    void Start() {
        const Admission admission = slot_->Admit();
        if (admission == Admission::Refused) {
            const bool per_client = slot_->over_client_cap();
            server_.ctx.metrics->Inc(
                "liveproof_rejections_total",
                {{"reason", per_client ? "connections_per_client" : "connections"}});
            HttpResponse r = HttpResponse::Error(
                503, "overloaded",
                per_client ? "too many open connections from this address (the cap is " +
                                 std::to_string(server_.ctx.config.max_connections_per_client) +
                                 ", setting max_connections_per_client)"
                           : std::string("too many open connections"));
            r.headers.emplace_back("Retry-After", "1");
            Write(std::move(r), false, false);
            return;
        }
        health_only_ = admission == Admission::HealthOnly;
        net::dispatch(stream_.get_executor(),
                      [self = shared_from_this()] { self->Guard([&] { self->ReadHeader(); }); });
    }

    // The grace period is over: answer the request in flight now (the worker's answer, when it
    // comes, is dropped) and close.
    void CutForShutdown() {
        if (!awaiting_reply_) return;
        awaiting_reply_ = false;
        HttpResponse r = HttpResponse::Error(503, "shutting_down",
                                             "the server stopped before this request was answered");
        Write(std::move(r), false, true, false);
    }

    [[nodiscard]] auto executor() { return stream_.get_executor(); }

  private:
    template <typename Fn>
    void Guard(Fn&& fn) {
        Guarded(server_, "http_handler", std::forward<Fn>(fn), [this] { AnswerInternalError(); });
    }

    // Last resort after an exception in this connection's handlers: a 500 if no answer is on
    // its way yet, else the connection is closed.
    void AnswerInternalError() {
        if (writing_) return Close();
        if (awaiting_reply_) {
            awaiting_reply_ = false;
            return Write(HttpResponse::Error(500, "internal", "an unexpected error occurred"),
                         false, true, false);
        }
        Write(HttpResponse::Error(500, "internal", "an unexpected error occurred"), false, false);
    }

    void ReadHeader() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(server_.ctx.config.header_limit_bytes));
        // Beast checks Content-Length against body_limit as soon as the header is parsed, so the
        // header phase must not use a cap; OnHeader sets the route's cap before the body is read.
        parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
        // A request must arrive whole within request_timeout (a client stalling inside its
        // headers is cut off). A new connection must complete its first header within
        // header_timeout (slowloris: sockets that send half a request line hold slots); an idle
        // keep-alive connection gets the shorter of idle and request timeouts.
        const ServerConfig& c = server_.ctx.config;
        int seconds = std::min(c.idle_timeout_seconds, c.request_timeout_seconds);
        if (requests_ == 0) seconds = std::min(seconds, c.header_timeout_seconds);
        if (health_only_) {
            stream_.expires_after(kHealthHeaderTimeout);
        } else {
            stream_.expires_after(std::chrono::seconds(seconds));
        }
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                    self->Guard([&] { self->OnHeader(ec); });
                                });
    }

    void OnHeader(beast::error_code ec) {
        if (ec) return ReadFailed(ec);
        ++requests_;
        HeaderDecision d = DecideOnHeader(*parser_, server_.router, server_.ctx, health_only_);
        if (d.refusal) return Write(std::move(*d.refusal), false, false);
        parser_->body_limit(static_cast<std::uint64_t>(d.body_limit));
        if (d.needs_worker && server_.ctx.admission != nullptr) {
            if (auto slot = server_.ctx.admission->TryAcquire()) {
                admission_slot_ = std::move(slot);
            } else {
                return AwaitAdmission(d.expect_continue);
            }
        }
        ContinueToBody(d.expect_continue);
    }

    // Every slot is taken: wait in line with the body unread (the client's upload stops at TCP
    // flow control), until a slot is handed over or admission_wait_ms has passed.
    void AwaitAdmission(bool expect_continue) {
        awaiting_admission_ = true;
        stream_.expires_never();  // the admission timer bounds this wait instead
        std::weak_ptr<Session> weak = shared_from_this();
        admission_timer_.expires_after(
            std::chrono::milliseconds(server_.ctx.config.admission_wait_ms));
        // The timer's handler is what keeps this session alive while it waits (no read or write
        // is pending); the gate's line holds it only weakly.
        admission_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (ec) return;  // cancelled: admitted
            self->Guard([&] { self->OnAdmissionTimeout(); });
        });
        admission_ticket_ = server_.ctx.admission->Enqueue(
            [weak, executor = stream_.get_executor(), expect_continue](AdmissionGate::Slot slot) {
                net::post(executor, [weak, expect_continue, slot = std::move(slot)]() mutable {
                    // A connection gone meanwhile drops the slot here, which frees it.
                    if (auto self = weak.lock()) {
                        self->Guard([&] { self->OnAdmitted(std::move(slot), expect_continue); });
                    }
                });
            });
    }

    void OnAdmitted(AdmissionGate::Slot slot, bool expect_continue) {
        if (!awaiting_admission_) return;  // it timed out first: the slot goes back
        awaiting_admission_ = false;
        admission_timer_.cancel();
        admission_ticket_.reset();
        admission_slot_ = std::move(slot);
        ContinueToBody(expect_continue);
    }

    void OnAdmissionTimeout() {
        if (!awaiting_admission_) return;
        awaiting_admission_ = false;
        // False when the slot is on its way already: OnAdmitted will drop it.
        server_.ctx.admission->Cancel(admission_ticket_);
        admission_ticket_.reset();
        server_.ctx.metrics->Inc("liveproof_rejections_total", {{"reason", "admission_wait"}});
        HttpResponse r = HttpResponse::Error(
            503, "overloaded",
            "every inference worker and queue place stayed busy for " +
                std::to_string(server_.ctx.config.admission_wait_ms) +
                " ms (settings workers, queue_capacity, admission_wait_ms); retry later");
        r.headers.emplace_back("Retry-After", "1");
        // The body was never read: the connection cannot carry another request.
        Write(std::move(r), false, false);
    }

    void ContinueToBody(bool expect_continue) {
        stream_.expires_after(std::chrono::seconds(server_.ctx.config.request_timeout_seconds));
        if (expect_continue) {
            auto cont =
                std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
            return http::async_write(
                stream_, *cont,
                [self = shared_from_this(), cont](beast::error_code e, std::size_t) {
                    self->Guard([&] {
                        if (e) return self->Close();
                        self->ReadBody();
                    });
                });
        }
        ReadBody();
    }

    void ReadBody() {
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code e, std::size_t) {
                             self->Guard([&] { self->OnBody(e); });
                         });
    }

    void ReadFailed(beast::error_code ec) {
        auto answer = ReadErrorAnswer(ec, server_.ctx);
        if (!answer) return Close();
        if (answer->status == 400) {
            const auto v = server_.ctx.log_limiter.Admit("bad request");
            if (v.write) {
                spdlog::warn("bad request from {}: {}{}", slot_->client(), ec.message(),
                             LogLimiter::Suffix(v));
            }
        }
        Write(std::move(*answer), false, false);
    }

    void OnBody(beast::error_code ec) {
        if (ec) return ReadFailed(ec);
        stream_.expires_never();  // the handler's own time; the worker queue bounds it
        auto msg = parser_->release();
        HttpRequest req = ToHttpRequest(msg, slot_->client());
        req.remote = ClientAddress(req, server_.ctx.config);
        if (websocket::is_upgrade(msg)) return Upgrade(std::move(msg), req);
        const bool keep_alive = msg.keep_alive();
        const bool head = msg.method() == http::verb::head;
        ++server_.in_flight;
        awaiting_reply_ = true;
        auto self = shared_from_this();
        {
            std::lock_guard lock(server_.in_flight_mutex);
            server_.in_flight_sessions[this] = self;
        }
        // Handlers may answer from a worker thread: hop back onto this connection's strand.
        server_.router.Dispatch(std::move(req), [self, keep_alive, head](HttpResponse r) {
            net::post(self->stream_.get_executor(),
                      [self, keep_alive, head, r = std::move(r)]() mutable {
                          self->Guard([&] {
                              if (!self->awaiting_reply_) return;  // cut at shutdown
                              self->awaiting_reply_ = false;
                              self->Write(std::move(r), keep_alive, true, head);
                          });
                      });
        });
    }

    // WS /ws: system A's challenge. Checked like an HTTP route: path, key, Origin, capacity.
    void Upgrade(WireRequest msg, const HttpRequest& req) {
        // Counted from the check until the WebSocket is open (then ws_sessions counts it) or
        // refused: released when the last of the handlers below that hold it is gone.
        const int claimed = ++server_.ws_handshakes;
        auto claim =
            std::shared_ptr<void>(nullptr, [count = &server_.ws_handshakes](void*) { --*count; });
        if (auto refusal =
                UpgradeRefusal(req, server_.ctx, server_.ws_sessions.load() + claimed - 1)) {
            if (!refusal->close_reason.empty()) {
                return AcceptToClose(server_, stream_.release_socket(), std::move(msg),
                                     std::move(refusal->close_reason), slot_);
            }
            return Write(std::move(refusal->answer), false, false);
        }
        const auto m = req.Query("mirrored");
        const bool mirrored = m && (*m == "1" || *m == "true");
        // The run is recorded before the handshake is answered, on a store thread; the rest
        // comes back onto this connection's strand.
        auto self = shared_from_this();
        auto wire = std::make_shared<WireRequest>(std::move(msg));
        const bool queued = PostToStore(server_.ctx, [self, wire, req, mirrored, claim] {
            auto session = std::make_shared<WsRunOrRefusal>(
                HttpResponse::Error(500, "internal", "an unexpected error occurred"));
            Guarded(
                self->server_, "ws_begin", [&] { *session = self->BeginWsRun(req); }, [] {});
            net::post(self->stream_.get_executor(), [self, wire, session, mirrored, claim] {
                self->Guard([&] { self->Accept(std::move(*wire), mirrored, std::move(*session)); });
            });
        });
        if (!queued) {
            HttpResponse r = HttpResponse::Error(503, "store_busy",
                                                 "the session store has too much waiting; retry");
            r.headers.emplace_back("Retry-After", "1");
            Write(std::move(r), false, false);
        }
    }

    using WsRunOrRefusal = std::variant<std::optional<SessionRun>, HttpResponse>;

    void Accept(WireRequest msg, bool mirrored, WsRunOrRefusal session) {
        if (auto* refusal = std::get_if<HttpResponse>(&session)) {
            return Write(std::move(*refusal), false, false);
        }
        // The socket keeps its claim on the connection caps for as long as the WebSocket lives.
        std::make_shared<WsSession>(stream_.release_socket(), server_, slot_)
            ->Run(std::move(msg), mirrored,
                  std::get<std::optional<SessionRun>>(std::move(session)));
    }

    // A session's door starts that session's single run (the token decides); the anonymous
    // door records its run as a session of its own. Either is refused with an HTTP answer.
    WsRunOrRefusal BeginWsRun(const HttpRequest& req) {
        SessionService* sessions = server_.ctx.sessions;
        if (sessions == nullptr) return std::optional<SessionRun>();
        if (IsSessionWsPath(req.path)) {
            const std::string id = req.path.substr(13, 32);
            auto begun = sessions->BeginRun(id, ClientToken(req), "active", req.remote);
            if (auto* refusal = std::get_if<HttpResponse>(&begun)) {
                server_.ctx.metrics->Inc("liveproof_ws_sessions_total",
                                         {{"event", "refused"}, {"reason", "session"}});
                return std::move(*refusal);
            }
            return std::optional<SessionRun>(std::get<SessionRun>(std::move(begun)));
        }
        std::string key = PresentedKey(req);
        if (key.empty()) key = req.Query("api_key").value_or("");
        const std::string key_id = MatchApiKey(key, server_.ctx.config.api_keys).value_or("");
        auto run = sessions->BeginAnonymous(key_id, req.remote, "ws");
        if (!run) {
            HttpResponse r = HttpResponse::Error(503, "store_unavailable",
                                                 "the session store did not answer; retry");
            r.headers.emplace_back("Retry-After", "2");
            return r;
        }
        return std::optional<SessionRun>(std::move(*run));
    }

    void Write(HttpResponse r, bool keep_alive, bool counted, bool head = false) {
        admission_slot_.reset();  // this request's work is over: the next in line may start
        if (!counted) {
            // Answers the router never saw (413, 431, 400, early 401, 503 at capacity).
            server_.ctx.metrics->Inc(
                "liveproof_http_requests_total",
                {{"route", "transport"}, {"status", std::to_string(r.status)}});
        }
        const bool keep = keep_alive && !server_.draining && !health_only_;
        auto res = std::make_shared<WireResponse>(ToWire(std::move(r), keep, head));
        stream_.expires_after(std::chrono::seconds(server_.ctx.config.request_timeout_seconds));
        writing_ = true;
        http::async_write(
            stream_, *res,
            [self = shared_from_this(), res, keep, counted](beast::error_code ec, std::size_t) {
                self->Guard([&] { self->OnWritten(ec, keep, counted); });
            });
    }

    void OnWritten(beast::error_code ec, bool keep, bool counted) {
        writing_ = false;
        if (counted) {
            --server_.in_flight;
            std::lock_guard lock(server_.in_flight_mutex);
            server_.in_flight_sessions.erase(this);
        }
        if (ec || !keep) return Close();
        ReadHeader();
    }

    void Close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.socket().close(ec);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    AdmissionGate::Slot admission_slot_;  // held from admission until the answer is written
    std::shared_ptr<AdmissionGate::Ticket> admission_ticket_;
    net::steady_timer admission_timer_{stream_.get_executor()};
    bool awaiting_admission_ = false;
    HttpServer::Impl& server_;
    std::shared_ptr<ConnectionSlot> slot_;  // counts this socket against the connection caps
    bool health_only_ = false;              // admitted to a reserved health-check slot
    bool awaiting_reply_ = false;           // a dispatched request has not been answered yet
    bool writing_ = false;                  // a response is being written
    int requests_ = 0;                      // request headers read on this connection
};

}  // namespace

void HttpServer::Impl::CutInFlight() {
    std::vector<std::shared_ptr<Session>> sessions;
    {
        std::lock_guard lock(in_flight_mutex);
        for (auto& [_, weak] : in_flight_sessions) {
            if (auto s = weak.lock()) sessions.push_back(std::move(s));
        }
    }
    for (auto& s : sessions) {
        net::post(s->executor(), [s] { s->CutForShutdown(); });
    }
}

void HttpServer::Impl::Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        Guarded(
            *this, "accept",
            [&] {
                if (ec) {
                    if (ec != net::error::operation_aborted) {
                        const auto v = ctx.log_limiter.Admit("accept failed");
                        if (v.write) {
                            spdlog::warn("accept failed: {}{}", ec.message(),
                                         LogLimiter::Suffix(v));
                        }
                    }
                    return;
                }
                beast::error_code peer_ec;
                const auto peer = socket.remote_endpoint(peer_ec);
                auto slot = std::make_shared<ConnectionSlot>(
                    *this, peer_ec ? std::string("?") : peer.address().to_string());
                std::make_shared<Session>(std::move(socket), *this, std::move(slot))->Start();
            },
            [] {});
        // Whatever happened to this connection, keep accepting (an error such as EMFILE must
        // not stop the server from taking the next one).
        if (!draining && !(ec == net::error::operation_aborted)) Accept();
    });
}

void HttpServer::Impl::PingWatchdog(std::chrono::microseconds interval) {
    NotifyWatchdog();
    watchdog.expires_after(interval);
    watchdog.async_wait([this, interval](beast::error_code ec) {
        if (!ec) PingWatchdog(interval);
    });
}

void HttpServer::Impl::BeginShutdown() {
    if (draining.exchange(true)) return;
    NotifyStopping();
    spdlog::info("shutting down: no new connections; waiting for {} in-flight request(s)",
                 in_flight.load());
    beast::error_code ec;
    acceptor.close(ec);
    ctx.ready = false;
    // Poll until in-flight requests are answered or the grace period is over; then whatever is
    // left is answered 503 and the I/O stops (a hard limit: the process exits on time).
    auto timer = std::make_shared<net::steady_timer>(ioc);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(ctx.config.shutdown_grace_seconds);
    auto tick = std::make_shared<std::function<void()>>();
    *tick = [this, timer, deadline, tick] {
        if (in_flight.load() == 0) return ioc.stop();
        if (std::chrono::steady_clock::now() >= deadline) {
            spdlog::warn("grace period over: answering {} request(s) 503 and stopping",
                         in_flight.load());
            CutInFlight();
            timer->expires_after(kCutFlushTime);
            timer->async_wait([this](beast::error_code) { ioc.stop(); });
            return;
        }
        timer->expires_after(std::chrono::milliseconds(50));
        timer->async_wait([tick](beast::error_code) { (*tick)(); });
    };
    (*tick)();
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

Expected<std::unique_ptr<HttpServer>> HttpServer::Create(ServerContext& ctx, const Router& router) {
    auto impl = std::make_unique<Impl>(ctx, router);
    beast::error_code ec;
    const auto address = net::ip::make_address(ctx.config.host, ec);
    if (ec)
        return MakeError(ErrorCode::InvalidArgument,
                         "host is not an IP address: " + ctx.config.host);
    const tcp::endpoint endpoint(address, static_cast<unsigned short>(ctx.config.port));
    impl->acceptor.open(endpoint.protocol(), ec);
    if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) impl->acceptor.bind(endpoint, ec);
    if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        return MakeError(ErrorCode::InvalidArgument, "cannot listen on " + ctx.config.host + ":" +
                                                         std::to_string(ctx.config.port) + ": " +
                                                         ec.message());
    }
    impl->bound_port = impl->acceptor.local_endpoint().port();
    return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::Run() {
    Impl& s = *impl_;
    s.signals.async_wait([&s](beast::error_code ec, int) {
        if (!ec) s.BeginShutdown();
    });
    s.Accept();
    NotifyReady("serving on port " + std::to_string(s.bound_port));
    if (const auto interval = WatchdogPingInterval()) s.PingWatchdog(*interval);
    // The last resort: an exception that escaped a handler anyway ends that handler, not the
    // I/O thread; it is counted and the loop goes on.
    auto run = [&s] {
        while (true) {
            try {
                s.ioc.run();
                return;
            } catch (const std::exception& e) {
                s.CountInternalError("io_loop", e.what());
            } catch (...) {
                s.CountInternalError("io_loop", "a non-standard exception");
            }
        }
    };
    std::vector<std::thread> threads;
    for (int i = 1; i < s.ctx.config.io_threads; ++i) threads.emplace_back(run);
    run();
    for (auto& t : threads) t.join();
}

void HttpServer::Stop() {
    net::post(impl_->ioc, [this] { impl_->BeginShutdown(); });
}

int HttpServer::port() const { return impl_->bound_port; }

}  // namespace liveproof::server
