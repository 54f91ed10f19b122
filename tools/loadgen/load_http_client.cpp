// `bench http`: keep-alive connections that each send the next prepared request as soon as the
// previous answer is in (as wrk does), all on one I/O thread.
#include <array>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <thread>

#include "loadgen/load_client.hpp"
#include "loadgen/load_net.hpp"

namespace liveproof::loadgen {

namespace {

namespace beast = detail::beast;
namespace net = detail::net;
namespace http = beast::http;
using detail::Clock;
using detail::Seconds;
using detail::SecondsBetween;
using detail::tcp;

constexpr std::uint64_t kMaxAnswerBytes = 8u << 20;  // an answer is small JSON
constexpr double kConnectRetryDelayS = 0.1;          // do not spin on a refused connect
constexpr double kSettleS = 0.5;  // before the second /metrics read: cut requests finish
constexpr std::array<std::string_view, 2> kServerCounters = {"liveproof_http_requests_total",
                                                             "liveproof_rejections_total"};

// Everything the connections share; touched only from the one I/O thread.
struct HttpRun {
    explicit HttpRun(const HttpLoadOptions& o)
        : options(o), endpoints(detail::Endpoints(o.target)) {}

    void Error(std::string_view phase, const beast::error_code& ec) {
        ++result.errors[std::string(phase) + "/" + detail::ErrorKind(ec)];
    }

    const HttpLoadOptions& options;
    net::io_context ioc;
    std::vector<tcp::endpoint> endpoints;
    std::vector<std::string> requests;  // whole requests, head and body, built once
    bool stopped = false;
    HttpLoadResult result;
    LatencyHistogram all;
    LatencyHistogram ok;
};

std::string BuildRequest(const HttpLoadOptions& o, const HttpPayload& p) {
    std::string r;
    r.reserve(p.body.size() + 512);
    r += "POST " + o.target.url.target + " HTTP/1.1\r\n";
    r += "Host: " + o.target.url.host_header + "\r\n";
    r += "User-Agent: liveproof-bench\r\n";
    r += "Content-Type: " + p.content_type + "\r\n";
    r += "Content-Length: " + std::to_string(p.body.size()) + "\r\n";
    if (!o.api_key.empty()) r += "X-API-KEY: " + o.api_key + "\r\n";
    r += "\r\n";
    r += p.body;
    return r;
}

// One keep-alive connection: connect, then write a request, read its answer, repeat; any
// failure is counted and the connection is opened again.
class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
  public:
    HttpConnection(HttpRun& run, std::size_t first_request)
        : run_(run), stream_(run.ioc), retry_(run.ioc), next_(first_request) {}

    void Connect() {
        stream_.expires_after(Seconds(run_.options.connect_timeout_s));
        stream_.async_connect(run_.endpoints, [self = shared_from_this()](beast::error_code ec,
                                                                          const tcp::endpoint&) {
            self->OnConnect(ec);
        });
    }

    // The run is over: a request still waiting for its answer is cut, not counted as an error.
    void Stop() {
        if (busy_) ++run_.result.in_flight_at_end;
        busy_ = false;
        retry_.cancel();
        Close();
    }

  private:
    void OnConnect(beast::error_code ec) {
        if (run_.stopped) return;
        if (ec) {
            run_.Error("connect", ec);
            Close();
            retry_.expires_after(Seconds(kConnectRetryDelayS));
            retry_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
                if (!wait_ec && !self->run_.stopped) self->Connect();
            });
            return;
        }
        beast::error_code ignored;
        stream_.socket().set_option(tcp::no_delay(true), ignored);
        Send();
    }

    void Send() {
        const std::string& request = run_.requests[next_++ % run_.requests.size()];
        parser_.emplace();
        parser_->body_limit(kMaxAnswerBytes);
        busy_ = true;
        sent_at_ = Clock::now();
        stream_.expires_after(Seconds(run_.options.request_timeout_s));
        net::async_write(
            stream_, net::buffer(request),
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnWrite(ec); });
    }

    void OnWrite(beast::error_code ec) {
        if (run_.stopped) return;
        if (ec) return Fail("write", ec);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code read_ec, std::size_t) {
                             self->OnRead(read_ec);
                         });
    }

    void OnRead(beast::error_code ec) {
        if (run_.stopped) return;
        if (ec) return Fail("read", ec);
        busy_ = false;
        const double latency = SecondsBetween(sent_at_, Clock::now());
        const auto& answer = parser_->get();
        const int status = static_cast<int>(answer.result_int());
        ++run_.result.requests;
        ++run_.result.status[status];
        run_.all.Record(latency);
        if (status == 200) run_.ok.Record(latency);
        if (answer.keep_alive()) return Send();
        Reopen();
    }

    void Fail(std::string_view phase, beast::error_code ec) {
        busy_ = false;
        run_.Error(phase, ec);
        Reopen();
    }

    void Reopen() {
        Close();
        ++run_.result.reconnects;
        Connect();
    }

    void Close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
        buffer_.clear();
    }

    HttpRun& run_;
    beast::tcp_stream stream_;
    net::steady_timer retry_;
    beast::flat_buffer buffer_;
    std::optional<http::response_parser<http::string_body>> parser_;
    std::size_t next_;
    bool busy_ = false;
    Clock::time_point sent_at_;
};

}  // namespace

HttpLoadResult RunHttpLoad(const HttpLoadOptions& options) {
    HttpRun run(options);
    for (const auto& p : options.payloads) run.requests.push_back(BuildRequest(options, p));
    const auto before = detail::ScrapeMetrics(options.target, options.api_key, kServerCounters);

    std::vector<std::shared_ptr<HttpConnection>> connections;
    for (int i = 0; i < options.connections; ++i) {
        connections.push_back(std::make_shared<HttpConnection>(run, static_cast<std::size_t>(i)));
    }
    const auto start = Clock::now();
    for (auto& c : connections) c->Connect();
    net::steady_timer stop(run.ioc);
    stop.expires_at(start + Seconds(options.duration_s));
    stop.async_wait([&](beast::error_code) {
        run.stopped = true;
        for (auto& c : connections) c->Stop();
    });
    run.ioc.run();
    run.result.elapsed_s = SecondsBetween(start, Clock::now());
    run.result.latency = run.all.Summary();
    run.result.latency_ok = run.ok.Summary();

    run.result.server = detail::ServerDeltasSince(before, options.target, options.api_key,
                                                  kServerCounters, kSettleS);
    return std::move(run.result);
}

}  // namespace liveproof::loadgen
