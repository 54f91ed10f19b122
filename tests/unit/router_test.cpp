// Router: client mistakes in the request line are 4xx before any route sees them, a handler
// that throws (a bug) is answered 500 and counted instead of escaping, and a route that takes a
// client token in place of a key lets a token through only marked for the handler to check.
#include "server/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "common/json_text.hpp"
#include "server/metrics_registry.hpp"

namespace liveproof::server {
namespace {

struct RouterFixture : ::testing::Test {
    ServerContext ctx;
    MetricsRegistry metrics;
    Router router{ctx};

    RouterFixture() {
        ctx.metrics = &metrics;
        metrics.Describe("liveproof_internal_errors_total", MetricType::Counter, "test");
    }

    HttpResponse Call(const std::string& method, const std::string& path) {
        HttpRequest r;
        r.method = method;
        r.path = path;
        return Call(std::move(r));
    }

    HttpResponse Call(HttpRequest r) {
        const std::string path = r.path;
        HttpResponse out;
        int calls = 0;
        router.Dispatch(std::move(r), [&](HttpResponse response) {
            out = std::move(response);
            ++calls;
        });
        EXPECT_EQ(calls, 1) << path;
        return out;
    }
};

TEST_F(RouterFixture, PathsThatAreNotUtf8OrHoldControlCharactersAre400NeverEchoed) {
    router.Add({"GET", "/ok", "ok", Door::Open, BodyClass::Small,
                [](HttpRequest&&, Reply reply) { reply(HttpResponse::Json(200, {})); }});
    const std::vector<std::string> paths = {
        "/\xff",        "/\xc3\x28", "/test/\xc0\xae\xc0\xae", "/a\nb", std::string("/a\0b", 4),
        "/\xed\xa0\x80"};
    for (const std::string& path : paths) {
        const HttpResponse r = Call("GET", path);
        EXPECT_EQ(r.status, 400) << PrintableUtf8(path);
        auto j = ParseJson(r.body);
        ASSERT_TRUE(j) << r.body;
        EXPECT_EQ((*j)["error"], "invalid_path");
        EXPECT_TRUE(IsValidUtf8(r.body));
        EXPECT_EQ(r.body.find(path.substr(1)), std::string::npos);
    }
    EXPECT_EQ(Call("GET", "/ok").status, 200);
    EXPECT_EQ(Call("GET", "/caf\xc3\xa9").status, 404);  // valid UTF-8: an ordinary 404
}

TEST_F(RouterFixture, HandlerThatThrowsIsAnswered500AndCounted) {
    router.Add({"GET", "/boom", "boom", Door::Open, BodyClass::Small,
                [](HttpRequest&&, Reply) -> void { throw std::runtime_error("bug"); }});
    router.Add({"GET", "/odd", "odd", Door::Open, BodyClass::Small,
                [](HttpRequest&&, Reply) -> void { throw 42; }});
    EXPECT_EQ(Call("GET", "/boom").status, 500);
    EXPECT_EQ(Call("GET", "/odd").status, 500);
    const std::string text = metrics.Render();
    EXPECT_NE(text.find("liveproof_internal_errors_total{where=\"http_handler\"} 2"),
              std::string::npos)
        << text;
}

TEST_F(RouterFixture, ClientTokenStandsInForTheKeyOnlyWhereTheRouteSaysAndIsMarked) {
    metrics.Describe("liveproof_auth_failures_total", MetricType::Counter, "test");
    metrics.Describe("liveproof_http_requests_total", MetricType::Counter, "test");
    metrics.Describe("liveproof_http_request_duration_seconds", MetricType::Histogram, "test");
    ctx.config.api_keys = {"alpha:alpha-secret"};
    std::vector<std::pair<std::string, bool>> seen;  // key id, client_token_only
    const auto record = [&seen](HttpRequest&& req, Reply reply) {
        seen.emplace_back(req.key_id, req.client_token_only);
        reply(HttpResponse::Json(200, {}));
    };
    router.Add({"POST", "/frame", "frame", Door::SystemA, BodyClass::Image, record, false, true});
    router.Add({"POST", "/keyed", "keyed", Door::Native, BodyClass::Small, record});
    const auto request = [](const std::string& path, const std::string& query_token,
                            const std::string& bearer) {
        HttpRequest r;
        r.method = "POST";
        r.path = path;
        if (!query_token.empty()) r.query["token"] = query_token;
        if (!bearer.empty()) r.headers["authorization"] = "Bearer " + bearer;
        return r;
    };
    EXPECT_EQ(Call(request("/frame", "", "")).status, 401);              // nothing presented
    EXPECT_EQ(Call(request("/frame", "some-token", "")).status, 200);    // ?token=
    EXPECT_EQ(Call(request("/frame", "", "some-token")).status, 200);    // Bearer, not a key
    EXPECT_EQ(Call(request("/frame", "", "alpha-secret")).status, 200);  // Bearer, a key
    EXPECT_EQ(Call(request("/keyed", "some-token", "")).status, 401);    // no such route rule
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0], std::make_pair(std::string(), true));
    EXPECT_EQ(seen[1], std::make_pair(std::string(), true));
    EXPECT_EQ(seen[2], std::make_pair(std::string("alpha"), false));
    // Before the body is read: a token gets the body read (the handler checks it), nothing or
    // a token on a route without the rule does not.
    EXPECT_TRUE(router.AuthorisedEarly("POST", request("/frame", "some-token", "")));
    EXPECT_FALSE(router.AuthorisedEarly("POST", request("/frame", "", "")));
    EXPECT_FALSE(router.AuthorisedEarly("POST", request("/keyed", "some-token", "")));
    EXPECT_TRUE(router.AuthorisedEarly("POST", request("/keyed", "", "alpha-secret")));
}

}  // namespace
}  // namespace liveproof::server
