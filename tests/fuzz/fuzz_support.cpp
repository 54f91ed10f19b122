// The fuzz targets' shared harness: the real router and handlers on a server that never infers.
#include "fuzz_support.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <vector>

#include "common/json_text.hpp"
#include "media/base64.hpp"
#include "server/api/routes.hpp"
#include "server/server_metrics.hpp"

namespace liveproof::fuzz {

namespace {

namespace fs = std::filesystem;

// A served file never holds this; the file outside the web root does.
constexpr std::string_view kOutsideMarker = "LIVEPROOF-FUZZ-OUTSIDE-WEB-ROOT";

void WriteFile(const fs::path& p, std::string_view text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

// A new directory removed at exit; in memory (/dev/shm) where there is one, because the
// session store syncs every write.
fs::path ScratchDir() {
    std::error_code ec;
    std::string pattern = (fs::is_directory("/dev/shm", ec) ? "/dev/shm" : "/tmp") +
                          std::string("/liveproof-fuzz-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) Fail("mkdtemp failed");
    static std::vector<fs::path> to_remove;
    if (to_remove.empty()) {
        std::atexit([] {
            std::error_code e;
            for (const auto& p : to_remove) fs::remove_all(p, e);
        });
    }
    to_remove.emplace_back(pattern);
    return pattern;
}

// A web root like build/web, plus a symlink that points outside it.
const std::string& WebRoot() {
    static const std::string root = [] {
        const fs::path base = ScratchDir();
        WriteFile(base / "outside.txt", kOutsideMarker);
        const fs::path web = base / "web";
        WriteFile(web / "openapi.json", R"({"openapi": "3.0.3", "info": {"title": "t"}})");
        WriteFile(web / "docs/index.html", "<!doctype html><title>docs</title>");
        WriteFile(web / "docs/swagger-ui.css", "body{}");
        WriteFile(web / "docs/favicon-32x32.png", "\x89PNG\r\n\x1a\n");
        WriteFile(web / "test/index.html", "<!doctype html><title>test</title>");
        WriteFile(web / "test/liveness-client.js", "export {};");
        std::error_code ec;
        fs::create_symlink("../../outside.txt", web / "docs/escape.txt", ec);
        return web.string();
    }();
    return root;
}

std::string PublicKeyB64() {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    return media::EncodeBase64(std::span<const std::uint8_t>(pk, sizeof pk));
}

void CheckUtf8Recursive(const nlohmann::json& j, std::string_view where) {
    if (j.is_string()) {
        if (!IsValidUtf8(j.get_ref<const std::string&>())) Fail(where, "a string is not UTF-8");
    } else if (j.is_object()) {
        for (const auto& [k, v] : j.items()) {
            if (!IsValidUtf8(k)) Fail(where, "a key is not UTF-8");
            CheckUtf8Recursive(v, where);
        }
    } else if (j.is_array()) {
        for (const auto& v : j) CheckUtf8Recursive(v, where);
    }
}

}  // namespace

void Fail(std::string_view what, std::string_view detail) {
    std::fprintf(stderr, "FUZZ INVARIANT BROKEN: %.*s: %s\n", static_cast<int>(what.size()),
                 what.data(), PrintableUtf8(detail.substr(0, 2000)).c_str());
    std::abort();
}

void QuietProcess() {
    spdlog::set_level(spdlog::level::off);
    cv::setNumThreads(0);
    if (sodium_init() < 0) Fail("sodium_init failed");
}

bool SkipOpenFinding(std::string_view id) {
    const char* env = std::getenv("LIVEPROOF_FUZZ_SKIP");
    if (env == nullptr) return false;
    std::string_view list(env);
    while (!list.empty()) {
        const auto comma = list.find(',');
        if (list.substr(0, comma) == id) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

bool Tracing() {
    static const bool on = std::getenv("LIVEPROOF_FUZZ_TRACE") != nullptr;
    return on;
}

void RequireJsonText(std::string_view text, std::string_view where) {
    if (!IsValidUtf8(text)) Fail(where, "JSON text is not UTF-8");
    auto parsed = ParseJson(text, 64);
    if (!parsed) Fail(where, "not JSON: " + parsed.error().detail + " in " + std::string(text));
}

void RequireUtf8Strings(const nlohmann::json& j, std::string_view where) {
    CheckUtf8Recursive(j, where);
}

void CheckResponse(const server::HttpResponse& r, std::string_view where) {
    if (r.status < 100 || r.status > 599) Fail(where, "status out of range");
    // 503 is the refused inference job (or /readyz before start-up); 500 means a handler threw
    // or mapped a client mistake to an internal error: a bug.
    if (r.status == 500) Fail(where, "status 500: " + r.body);
    if (r.content_type.rfind("application/json", 0) == 0) RequireJsonText(r.body, where);
    // A served file (a 2xx that is not JSON) never holds the outside file's text; error bodies
    // and a session's stored images (JPEG) give back the client's own bytes, which the fuzzer
    // learns to make of the marker.
    if (r.status / 100 == 2 && r.content_type.rfind("application/json", 0) != 0 &&
        r.content_type != "image/jpeg" && r.body.find(kOutsideMarker) != std::string::npos)
        Fail(where, "served a file outside the web root");
}

ServerHarness::ServerHarness(Mode mode) {
    QuietProcess();
    server::ServerConfig& c = ctx.config;
    c.web_root = WebRoot();
    c.data_dir = (ScratchDir() / "data").string();
    if (mode == Mode::Locked) {
        // Smallest caps the settings allow, so that 413 and 431 paths are reachable.
        for (const auto& [key, value] :
             std::vector<std::pair<std::string, std::string>>{{"max_small_body_bytes", "256"},
                                                              {"max_json_bytes", "1024"},
                                                              {"max_image_bytes", "1024"},
                                                              {"max_video_bytes", "1024"},
                                                              {"header_limit_bytes", "1024"}}) {
            if (auto r = c.Set(key, value); !r) Fail("harness setting", r.error().detail);
        }
        c.api_keys = {std::string(kFuzzKey1), std::string(kFuzzKey2)};
        c.cors_origins = {"https://app.example"};
        c.licence_public_key = PublicKeyB64();
    } else {
        c.cors_origins = {"*"};
    }
    if (auto r = c.Finalize(); !r) Fail("harness config", r.error().detail);
    server::DescribeServerMetrics(metrics);
    licence = std::make_unique<licence::LicenceState>(c.licence_public_key, "");
    ctx.workers = &workers;
    ctx.metrics = &metrics;
    ctx.licence = licence.get();
    auto opened = server::SessionService::Open(ctx);
    if (!opened) Fail("harness session store", opened.error().detail);
    sessions = std::move(*opened);
    ctx.sessions = sessions.get();
    router = std::make_unique<server::Router>(ctx);
    server::api::AddServiceRoutes(*router, ctx);
    server::api::AddSystemARoutes(*router, ctx);
    server::api::AddSystemBRoutes(*router, ctx);
    server::api::AddSystemCRoutes(*router, ctx);
    server::api::AddNativeRoutes(*router, ctx);
    server::api::AddSessionRoutes(*router, ctx);
}

server::HttpResponse ServerHarness::Dispatch(server::HttpRequest request) {
    if (Tracing()) {
        std::fprintf(stderr, "dispatch %s %s (%zu body bytes)\n", request.method.c_str(),
                     PrintableUtf8(request.path).c_str(), request.body.size());
    }
    int calls = 0;
    server::HttpResponse out;
    router->Dispatch(std::move(request), [&](server::HttpResponse r) {
        ++calls;
        out = std::move(r);
    });
    // With no worker threads every path answers before Dispatch returns.
    if (calls != 1) Fail("router", "reply called " + std::to_string(calls) + " times");
    if (Tracing()) {
        std::fprintf(stderr, "  -> %d %s\n", out.status,
                     PrintableUtf8(out.body.substr(0, 160)).c_str());
    }
    CheckResponse(out, "router");
    return out;
}

ServerHarness& Harness(ServerHarness::Mode mode) {
    static ServerHarness open(ServerHarness::Mode::Open);
    static ServerHarness locked(ServerHarness::Mode::Locked);
    return mode == ServerHarness::Mode::Open ? open : locked;
}

}  // namespace liveproof::fuzz
