// Boost.Beast lives here and only here: listener, HTTP sessions, limits, timeouts, shutdown.
#include "server/http_server.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <csignal>
#include <limits>
#include <optional>
#include <thread>

namespace liveproof::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

int FromHex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string PercentDecode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && FromHex(s[i + 1]) >= 0 && FromHex(s[i + 2]) >= 0) {
            out += static_cast<char>(FromHex(s[i + 1]) * 16 + FromHex(s[i + 2]));
            i += 2;
        } else if (plus_is_space && s[i] == '+') {
            out += ' ';
        } else {
            out += s[i];
        }
    }
    return out;
}

void SplitTarget(std::string_view target, HttpRequest& r) {
    const auto q = target.find('?');
    r.path = PercentDecode(target.substr(0, q), false);
    if (q == std::string_view::npos) return;
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        const auto eq = pair.find('=');
        r.query[PercentDecode(pair.substr(0, eq), true)] =
            eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1), true);
        if (amp == std::string_view::npos) break;
        rest = rest.substr(amp + 1);
    }
}

}  // namespace

struct HttpServer::Impl {
    ServerContext& ctx;
    const Router& router;
    net::io_context ioc;
    tcp::acceptor acceptor;
    net::signal_set signals;
    std::atomic<int> open_connections{0};
    std::atomic<int> in_flight{0};
    std::atomic<bool> draining{false};
    int bound_port = 0;

    Impl(ServerContext& c, const Router& r)
        : ctx(c),
          router(r),
          ioc(c.config.io_threads),
          acceptor(net::make_strand(ioc)),
          signals(ioc, SIGINT, SIGTERM) {}

    void Accept();
    void BeginShutdown();
};

namespace {

// One connection: read a request (header first, then the body under the route's cap), dispatch,
// write the reply, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket&& socket, HttpServer::Impl& server)
        : stream_(std::move(socket)), server_(server) {
        ++server_.open_connections;
    }
    ~Session() { --server_.open_connections; }

    void Start(bool over_capacity) {
        if (over_capacity) {
            server_.ctx.metrics->Inc("liveproof_rejections_total", {{"reason", "connections"}});
            HttpResponse r = HttpResponse::Error(503, "overloaded", "too many open connections");
            r.headers.emplace_back("Retry-After", "1");
            Write(std::move(r), false, false);
            return;
        }
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
    }

  private:
    void ReadHeader() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(server_.ctx.config.header_limit_bytes));
        // Beast checks Content-Length against body_limit as soon as the header is parsed, so the
        // header phase must not use a cap; OnHeader sets the route's cap before the body is read.
        parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
        stream_.expires_after(std::chrono::seconds(server_.ctx.config.idle_timeout_seconds));
        http::async_read_header(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
    }

    void OnHeader(beast::error_code ec) {
        if (ec) return ReadFailed(ec);
        const auto& req = parser_->get();
        HttpRequest probe;
        SplitTarget(std::string_view(req.target().data(), req.target().size()), probe);
        const std::size_t limit =
            server_.router.BodyLimit(std::string(req.method_string()), probe.path);
        if (parser_->content_length() && *parser_->content_length() > limit) {
            // Refuse before reading a byte of the body.
            server_.ctx.metrics->Inc("liveproof_rejections_total", {{"reason", "body_too_large"}});
            return Write(HttpResponse::Error(
                             413, "input_too_large",
                             "the body is " + std::to_string(*parser_->content_length()) +
                                 " bytes; this endpoint accepts at most " + std::to_string(limit)),
                         false, false);
        }
        parser_->body_limit(static_cast<std::uint64_t>(limit));
        stream_.expires_after(std::chrono::seconds(server_.ctx.config.request_timeout_seconds));
        http::async_read(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code e, std::size_t) { self->OnBody(e); });
    }

    void ReadFailed(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == net::error::eof ||
            ec == beast::error::timeout || ec == net::error::operation_aborted ||
            ec == net::error::connection_reset) {
            return Close();
        }
        if (ec == http::error::body_limit) {
            server_.ctx.metrics->Inc("liveproof_rejections_total", {{"reason", "body_too_large"}});
            return Write(
                HttpResponse::Error(413, "input_too_large", "the body exceeds this endpoint's cap"),
                false, false);
        }
        if (ec == http::error::header_limit) {
            return Write(
                HttpResponse::Error(431, "headers_too_large", "the request headers exceed the cap"),
                false, false);
        }
        spdlog::warn("bad request from {}: {}", Remote(), ec.message());
        Write(HttpResponse::Error(400, "bad_request", "malformed HTTP request: " + ec.message()),
              false, false);
    }

    void OnBody(beast::error_code ec) {
        if (ec) return ReadFailed(ec);
        stream_.expires_never();  // the handler's own time; the worker queue bounds it
        auto msg = parser_->release();
        HttpRequest req;
        req.method = std::string(msg.method_string());
        SplitTarget(std::string_view(msg.target().data(), msg.target().size()), req);
        for (const auto& field : msg) {
            std::string name(field.name_string());
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            req.headers[name] = std::string(field.value());
        }
        req.body = std::move(msg.body());
        req.remote = Remote();
        const bool keep_alive = msg.keep_alive();
        const bool head = msg.method() == http::verb::head;
        ++server_.in_flight;
        auto self = shared_from_this();
        // Handlers may answer from a worker thread: hop back onto this connection's strand.
        server_.router.Dispatch(std::move(req), [self, keep_alive, head](HttpResponse r) {
            net::post(self->stream_.get_executor(),
                      [self, keep_alive, head, r = std::move(r)]() mutable {
                          self->Write(std::move(r), keep_alive, true, head);
                      });
        });
    }

    void Write(HttpResponse r, bool keep_alive, bool counted, bool head = false) {
        auto res = std::make_shared<http::response<http::string_body>>();
        res->version(11);
        res->result(static_cast<http::status>(r.status));
        res->set(http::field::server, "liveproof");
        res->set("X-Content-Type-Options", "nosniff");
        if (!r.content_type.empty()) res->set(http::field::content_type, r.content_type);
        for (const auto& [k, v] : r.headers) res->set(k, v);
        const bool keep = keep_alive && !server_.draining;
        res->keep_alive(keep);
        res->body() = head ? std::string() : std::move(r.body);
        res->prepare_payload();
        stream_.expires_after(std::chrono::seconds(server_.ctx.config.request_timeout_seconds));
        http::async_write(
            stream_, *res,
            [self = shared_from_this(), res, keep, counted](beast::error_code ec, std::size_t) {
                if (counted) --self->server_.in_flight;
                if (ec || !keep) return self->Close();
                self->ReadHeader();
            });
    }

    void Close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.socket().close(ec);
    }

    std::string Remote() {
        beast::error_code ec;
        const auto ep = stream_.socket().remote_endpoint(ec);
        return ec ? "?" : ep.address().to_string();
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    HttpServer::Impl& server_;
};

}  // namespace

void HttpServer::Impl::Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec != net::error::operation_aborted) {
                spdlog::warn("accept failed: {}", ec.message());
                Accept();
            }
            return;
        }
        const bool over = open_connections.load() >= ctx.config.max_connections;
        std::make_shared<Session>(std::move(socket), *this)->Start(over);
        if (!draining) Accept();
    });
}

void HttpServer::Impl::BeginShutdown() {
    if (draining.exchange(true)) return;
    spdlog::info("shutting down: no new connections; waiting for {} in-flight request(s)",
                 in_flight.load());
    beast::error_code ec;
    acceptor.close(ec);
    ctx.ready = false;
    // Poll until in-flight requests are answered or the grace period is over.
    auto timer = std::make_shared<net::steady_timer>(ioc);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(ctx.config.shutdown_grace_seconds);
    auto tick = std::make_shared<std::function<void()>>();
    *tick = [this, timer, deadline, tick] {
        if (in_flight.load() == 0 || std::chrono::steady_clock::now() >= deadline) {
            if (in_flight.load() > 0)
                spdlog::warn("grace period over with {} request(s) unanswered", in_flight.load());
            ioc.stop();
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
    std::vector<std::thread> threads;
    for (int i = 1; i < s.ctx.config.io_threads; ++i) threads.emplace_back([&s] { s.ioc.run(); });
    s.ioc.run();
    for (auto& t : threads) t.join();
}

void HttpServer::Stop() {
    net::post(impl_->ioc, [this] { impl_->BeginShutdown(); });
}

int HttpServer::port() const { return impl_->bound_port; }

}  // namespace liveproof::server
