// Router: client mistakes in the request line are 4xx before any route sees them, and a handler
// that throws (a bug) is answered 500 and counted instead of escaping.
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
    router.Add({"GET", "/ok", "ok", false, BodyClass::Small,
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
    router.Add({"GET", "/boom", "boom", false, BodyClass::Small,
                [](HttpRequest&&, Reply) -> void { throw std::runtime_error("bug"); }});
    router.Add({"GET", "/odd", "odd", false, BodyClass::Small,
                [](HttpRequest&&, Reply) -> void { throw 42; }});
    EXPECT_EQ(Call("GET", "/boom").status, 500);
    EXPECT_EQ(Call("GET", "/odd").status, 500);
    const std::string text = metrics.Render();
    EXPECT_NE(text.find("liveproof_internal_errors_total{where=\"http_handler\"} 2"),
              std::string::npos)
        << text;
}

}  // namespace
}  // namespace liveproof::server
