// What both load generators share: URL parsing, loopback-only resolution, the reachability
// probe, error names and the /metrics read.
#include "loadgen/load_client.hpp"

#include <algorithm>
#include <boost/beast/http.hpp>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <thread>

#include "loadgen/load_net.hpp"
#include "loadgen/load_stats.hpp"

namespace liveproof::loadgen {

namespace http = boost::beast::http;
namespace beast = detail::beast;
namespace net = detail::net;
using detail::tcp;

namespace {

constexpr double kScrapeTimeoutS = 3.0;
constexpr std::uint64_t kMaxMetricsBytes = 16u << 20;

bool IsLoopback(const net::ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
        return net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6()).is_loopback();
    }
    return a.is_loopback();
}

std::string Lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string HostPort(const LoadUrl& url) {
    const bool v6 = url.host.find(':') != std::string::npos;
    return (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
}

}  // namespace

Expected<LoadUrl> ParseLoadUrl(std::string_view url, std::string_view scheme) {
    const auto bad = [&](const std::string& why) {
        return MakeError(ErrorCode::InvalidArgument, "bad URL '" + std::string(url) + "': " + why +
                                                         " (expected " + std::string(scheme) +
                                                         "://HOST[:PORT]/PATH)");
    };
    for (const char c : url) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) return bad("spaces or control characters");
    }
    const auto sep = url.find("://");
    if (sep == std::string_view::npos) return bad("no scheme");
    LoadUrl out;
    out.scheme = Lower(url.substr(0, sep));
    if (out.scheme != scheme) {
        return bad(out.scheme == "https" || out.scheme == "wss" ? "TLS is not supported"
                                                                : "scheme " + out.scheme);
    }
    std::string_view rest = url.substr(sep + 3);
    rest = rest.substr(0, rest.find('#'));
    const auto path_at = rest.find_first_of("/?");
    const std::string_view authority = rest.substr(0, path_at);
    out.target = path_at == std::string_view::npos ? "/" : std::string(rest.substr(path_at));
    if (out.target.front() == '?') out.target.insert(0, "/");
    if (authority.find('@') != std::string_view::npos) return bad("user info is not supported");
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return bad("unclosed '['");
        out.host = std::string(authority.substr(1, close - 1));
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return bad("junk after ']'");
            port_text = after.substr(1);
        }
    } else {
        const auto colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (out.host.empty()) return bad("no host");
    if (!port_text.empty()) {
        unsigned port = 0;
        const auto [end, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc{} || end != port_text.data() + port_text.size() || port < 1 ||
            port > 65535) {
            return bad("port must be 1..65535");
        }
        out.port = static_cast<std::uint16_t>(port);
    }
    out.host_header = std::string(authority);
    return out;
}

Expected<LoadTarget> ResolveLoadTarget(const LoadUrl& url, bool allow_remote) {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    const auto results = resolver.resolve(url.host, std::to_string(url.port), ec);
    if (ec || results.empty()) {
        return MakeError(ErrorCode::InvalidArgument,
                         "cannot resolve host " + url.host + ": " + ec.message());
    }
    LoadTarget target{url, {}};
    for (const auto& entry : results) {
        const net::ip::address a = entry.endpoint().address();
        if (!allow_remote && !IsLoopback(a)) {
            return MakeError(ErrorCode::InvalidArgument,
                             "refusing non-loopback host " + url.host + " (" + a.to_string() +
                                 "): the load generator runs against loopback addresses only "
                                 "unless --allow-remote is given");
        }
        const std::string text = a.to_string();
        if (std::find(target.addresses.begin(), target.addresses.end(), text) ==
            target.addresses.end()) {
            target.addresses.push_back(text);
        }
    }
    return target;
}

Expected<void> ProbeTarget(const LoadTarget& target, double timeout_s) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    beast::error_code result = net::error::would_block;
    stream.expires_after(detail::Seconds(timeout_s));
    stream.async_connect(detail::Endpoints(target),
                         [&](beast::error_code ec, const tcp::endpoint&) { result = ec; });
    ioc.run();
    if (!result) return {};
    char limit[32];
    std::snprintf(limit, sizeof limit, "%g", timeout_s);
    const std::string why = result == beast::error::timeout
                                ? "no connection within " + std::string(limit) + " s"
                                : result.message();
    return MakeError(ErrorCode::InvalidArgument, "cannot connect to " + HostPort(target.url) +
                                                     ": " + why +
                                                     " (is the server "
                                                     "running? start it with `liveproof serve`)");
}

namespace detail {

std::vector<tcp::endpoint> Endpoints(const LoadTarget& target) {
    std::vector<tcp::endpoint> out;
    for (const auto& a : target.addresses) {
        out.emplace_back(net::ip::make_address(a), target.url.port);
    }
    return out;
}

std::string ErrorKind(const beast::error_code& ec) {
    if (ec == beast::error::timeout) return "timeout";
    if (ec == net::error::connection_refused) return "refused";
    if (ec == net::error::connection_reset || ec == net::error::broken_pipe) return "reset";
    if (ec == net::error::eof || ec == http::error::end_of_stream) return "closed";
    if (ec == net::error::operation_aborted) return "aborted";
    if (ec == net::error::host_unreachable || ec == net::error::network_unreachable) {
        return "unreachable";
    }
    if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
        return "bad_http";
    }
    return ec.message();
}

Clock::duration Seconds(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

double SecondsBetween(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

std::optional<std::map<std::string, double>> ScrapeMetrics(
    const LoadTarget& target, const std::string& api_key, std::span<const std::string_view> names) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    beast::flat_buffer buffer;
    http::request<http::empty_body> request{http::verb::get, "/metrics", 11};
    request.set(http::field::host, target.url.host_header);
    request.set(http::field::user_agent, "liveproof-bench");
    if (!api_key.empty()) request.set("X-API-KEY", api_key);
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxMetricsBytes);
    bool ok = false;
    stream.expires_after(Seconds(kScrapeTimeoutS));
    stream.async_connect(Endpoints(target), [&](beast::error_code ec, const tcp::endpoint&) {
        if (ec) return;
        http::async_write(stream, request, [&](beast::error_code wec, std::size_t) {
            if (wec) return;
            http::async_read(stream, buffer, parser, [&](beast::error_code rec, std::size_t) {
                ok = !rec && parser.get().result_int() == 200;
            });
        });
    });
    ioc.run();
    if (!ok) return std::nullopt;
    return ParseMetricSamples(parser.get().body(), names);
}

std::optional<std::map<std::string, double>> ServerDeltasSince(
    const std::optional<std::map<std::string, double>>& before, const LoadTarget& target,
    const std::string& api_key, std::span<const std::string_view> names, double settle_s) {
    if (!before) return std::nullopt;
    std::this_thread::sleep_for(Seconds(settle_s));
    const auto after = ScrapeMetrics(target, api_key, names);
    if (!after) return std::nullopt;
    return MetricDeltas(*before, *after);
}

}  // namespace detail

}  // namespace liveproof::loadgen
