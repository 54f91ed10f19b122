// Keep-alive HTTP load (`bench http`, and each phase of `bench sessions`): connections that each
// send the next prepared request as soon as the previous answer is in (as wrk does), all on one
// I/O thread.
#include <array>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <thread>

#include "loadgen/load_client.hpp"
#include "loadgen/load_net.hpp"
#include "loadgen/load_phase.hpp"

namespace liveproof::loadgen {

namespace {

namespace beast = detail::beast;
namespace net = detail::net;
namespace http = beast::http;
using detail::Clock;
using detail::HttpPhase;
using detail::Seconds;
using detail::SecondsBetween;
using detail::tcp;

constexpr std::uint64_t kMaxAnswerBytes = 8u << 20;  // an answer is small JSON
constexpr double kConnectRetryDelayS = 0.1;          // do not spin on a refused connect
constexpr double kSettleS = 0.5;  // before the second /metrics read: cut requests finish
constexpr std::array<std::string_view, 4> kServerCounters = {
    "liveproof_http_requests_total", "liveproof_rejections_total", "liveproof_worker_jobs_total",
    "liveproof_worker_page_faults_total"};

// Everything the connections share; touched only from the one I/O thread.
struct PhaseRun {
    explicit PhaseRun(const HttpPhase& p)
        : phase(p), stop(ioc), endpoints(detail::Endpoints(*p.target)) {}

    void Error(std::string_view where, const beast::error_code& ec) {
        ++result.errors[std::string(where) + "/" + detail::ErrorKind(ec)];
    }

    // One cursor for every connection, so that an each-once phase sends each request once.
    const std::string* Next() {
        if (phase.each_once && cursor >= phase.requests.size()) return nullptr;
        return &phase.requests[cursor++ % phase.requests.size()];
    }

    // A connection has nothing left to send; the phase ends with the last one.
    void Idle() {
        if (--active == 0) stop.cancel();
    }

    const HttpPhase& phase;
    net::io_context ioc;
    net::steady_timer stop;
    std::vector<tcp::endpoint> endpoints;
    std::size_t cursor = 0;
    int active = 0;
    bool stopped = false;
    HttpLoadResult result;
    LatencyHistogram all;
    LatencyHistogram ok;
};

// One keep-alive connection: connect, then write a request, read its answer, repeat; any
// failure is counted and the connection is opened again.
class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
  public:
    explicit HttpConnection(PhaseRun& run) : run_(run), stream_(run.ioc), retry_(run.ioc) {}

    void Connect() {
        stream_.expires_after(Seconds(run_.phase.connect_timeout_s));
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
        const std::string* request = run_.Next();
        if (request == nullptr) {
            Close();
            return run_.Idle();
        }
        parser_.emplace();
        parser_->body_limit(kMaxAnswerBytes);
        busy_ = true;
        sent_at_ = Clock::now();
        stream_.expires_after(Seconds(run_.phase.request_timeout_s));
        net::async_write(
            stream_, net::buffer(*request),
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
        if (status == run_.phase.ok_status) run_.ok.Record(latency);
        if (run_.phase.on_answer) run_.phase.on_answer(status, answer.body());
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

    PhaseRun& run_;
    beast::tcp_stream stream_;
    net::steady_timer retry_;
    beast::flat_buffer buffer_;
    std::optional<http::response_parser<http::string_body>> parser_;
    bool busy_ = false;
    Clock::time_point sent_at_;
};

}  // namespace

namespace detail {

std::string RequestText(const LoadUrl& url, std::string_view method, std::string_view target,
                        const std::string& api_key, std::string_view content_type,
                        std::string_view body) {
    std::string r;
    r.reserve(body.size() + 512);
    r.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    r += "Host: " + url.host_header + "\r\n";
    r += "User-Agent: liveproof-bench\r\n";
    if (!content_type.empty()) {
        r.append("Content-Type: ").append(content_type).append("\r\n");
        r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    if (!api_key.empty()) r += "X-API-KEY: " + api_key + "\r\n";
    r += "\r\n";
    r.append(body);
    return r;
}

HttpLoadResult RunHttpPhase(const HttpPhase& phase) {
    PhaseRun run(phase);
    if (phase.requests.empty()) return {};
    std::vector<std::shared_ptr<HttpConnection>> connections;
    for (int i = 0; i < phase.connections; ++i) {
        connections.push_back(std::make_shared<HttpConnection>(run));
    }
    run.active = phase.connections;
    const auto start = Clock::now();
    for (auto& c : connections) c->Connect();
    run.stop.expires_at(start + Seconds(phase.duration_s));
    // Fires at the end of the clock, or at once (cancelled) when an each-once phase is done.
    run.stop.async_wait([&](beast::error_code) {
        run.stopped = true;
        for (auto& c : connections) c->Stop();
    });
    run.ioc.run();
    run.result.elapsed_s = SecondsBetween(start, Clock::now());
    run.result.latency = run.all.Summary();
    run.result.latency_ok = run.ok.Summary();
    return std::move(run.result);
}

}  // namespace detail

HttpLoadResult RunHttpLoad(const HttpLoadOptions& options) {
    HttpPhase phase;
    phase.target = &options.target;
    for (const auto& p : options.payloads) {
        phase.requests.push_back(detail::RequestText(options.target.url, "POST",
                                                     options.target.url.target, options.api_key,
                                                     p.content_type, p.body));
    }
    phase.connections = options.connections;
    phase.duration_s = options.duration_s;
    phase.connect_timeout_s = options.connect_timeout_s;
    phase.request_timeout_s = options.request_timeout_s;
    const auto before = detail::ScrapeMetrics(options.target, options.api_key, kServerCounters);
    HttpLoadResult result = detail::RunHttpPhase(phase);
    result.server = detail::ServerDeltasSince(before, options.target, options.api_key,
                                              kServerCounters, kSettleS);
    return result;
}

}  // namespace liveproof::loadgen
