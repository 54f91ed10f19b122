// The client's address behind a trusted proxy: the last X-Forwarded-For entry (the one the
// proxy appended) and only from a configured proxy; anything else a client wrote is not believed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/http_exchange.hpp"

namespace liveproof::server {
namespace {

HttpRequest From(const std::string& peer, const std::string& xff) {
    HttpRequest r;
    r.remote = peer;
    if (!xff.empty()) r.headers["x-forwarded-for"] = xff;
    return r;
}

TEST(ClientAddress, OnlyATrustedProxysLastEntryCounts) {
    ServerConfig c;
    c.trusted_proxies = {"10.0.0.5"};
    EXPECT_EQ(ClientAddress(From("10.0.0.5", "203.0.113.7"), c), "203.0.113.7");
    // What the client put before the proxy's own entry is its word, not its address.
    EXPECT_EQ(ClientAddress(From("10.0.0.5", "1.2.3.4, 203.0.113.7"), c), "203.0.113.7");
    EXPECT_EQ(ClientAddress(From("10.0.0.5", " 2001:db8::1 "), c), "2001:db8::1");
    // Not from the proxy: the header is ignored.
    EXPECT_EQ(ClientAddress(From("198.51.100.2", "203.0.113.7"), c), "198.51.100.2");
    // From the proxy without a usable entry: the proxy's own address.
    const std::vector<std::string> unusable = {
        "", "unknown", "203.0.113.7, ", "<script>", std::string(46, '1'), "1.2.3.4\r\nX-Evil: 1"};
    for (const std::string& bad : unusable) {
        EXPECT_EQ(ClientAddress(From("10.0.0.5", bad), c), "10.0.0.5") << bad;
    }
    EXPECT_TRUE(IsTrustedProxy("10.0.0.5", c));
    EXPECT_FALSE(IsTrustedProxy("10.0.0.50", c));
}

TEST(ClientAddress, NoProxiesConfiguredMeansThePeer) {
    const ServerConfig c;
    EXPECT_EQ(ClientAddress(From("127.0.0.1", "203.0.113.7"), c), "127.0.0.1");
}

}  // namespace
}  // namespace liveproof::server
