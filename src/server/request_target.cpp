// Percent-decoding of request targets (RFC 3986 §2.1), shared by the transport and its fuzzer.
#include "server/request_target.hpp"

#include <string>

namespace liveproof::server {

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

}  // namespace

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

}  // namespace liveproof::server
