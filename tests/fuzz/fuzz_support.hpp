// What the fuzz targets share: failing loudly, JSON checks and an in-process server.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "licence/licence.hpp"
#include "server/metrics_registry.hpp"
#include "server/router.hpp"
#include "server/server_context.hpp"
#include "server/session_service.hpp"
#include "server/worker_pool.hpp"

namespace liveproof::fuzz {

/// @brief Prints what broke and aborts, so that libFuzzer saves the input as a crash.
[[noreturn]] void Fail(std::string_view what, std::string_view detail = {});

/// @brief Silences spdlog (a fuzzer would spend its time writing warnings) and OpenCV's threads.
void QuietProcess();

/// @brief True when the open finding @p id is listed in LIVEPROOF_FUZZ_SKIP (comma separated):
/// scripts/fuzz.sh sets it from tests/fuzz/known_open.txt so a bug reported but not yet fixed
/// does not stop every run at its first input.
bool SkipOpenFinding(std::string_view id);

/// @brief True when LIVEPROOF_FUZZ_TRACE is set: targets then print what they did (for replaying
/// one input by hand, e.g. `LIVEPROOF_FUZZ_TRACE=1 fuzz_http_request crash-...`).
bool Tracing();

/// @brief Fails unless @p text is valid UTF-8 that parses as JSON (depth up to 64).
void RequireJsonText(std::string_view text, std::string_view where);

/// @brief Fails unless every string and object key inside @p j is valid UTF-8 (what
/// nlohmann::json::dump() needs to not throw).
void RequireUtf8Strings(const nlohmann::json& j, std::string_view where);

/// @brief The server without a transport and without inference: the real settings, metrics,
/// licence state and routes, and a worker pool with no threads and no queue, so every inference
/// job is refused with 503 at once (ctx.engine stays null: only worker jobs use it).
/// Static files come from a temporary web root holding a file outside it behind a symlink; the
/// session routes use a real SQLite store and key file in a temporary data directory.
struct ServerHarness {
    /// @brief Auth off, licence not enforced, CORS "*" (client text reaches every parser), or
    /// two API keys, licence enforced (with a fresh key pair) and one allowed Origin.
    enum class Mode { Open, Locked };

    explicit ServerHarness(Mode mode);
    ServerHarness(const ServerHarness&) = delete;
    ServerHarness& operator=(const ServerHarness&) = delete;

    /// @brief Dispatches through the router; fails unless the reply came exactly once and
    /// passes CheckResponse.
    server::HttpResponse Dispatch(server::HttpRequest request);

    server::ServerContext ctx;
    server::MetricsRegistry metrics;
    server::WorkerPool workers{0, 0};
    std::unique_ptr<licence::LicenceState> licence;
    std::unique_ptr<server::SessionService> sessions;
    std::unique_ptr<server::Router> router;
};

/// @brief The response checks every HTTP-facing target makes: status 100..599, never 500 (a
/// client request must not reach "an unexpected error"), JSON bodies valid, no byte of the file
/// kept outside the web root.
void CheckResponse(const server::HttpResponse& r, std::string_view where);

/// @brief The harness for a mode, built once per process.
ServerHarness& Harness(ServerHarness::Mode mode);

/// @brief The API keys of Mode::Locked (each at least 8 characters, as Finalize() requires).
inline constexpr std::string_view kFuzzKey1 = "fuzz-key-0001";
inline constexpr std::string_view kFuzzKey2 = "Zm9vYmFyYmF6";

}  // namespace liveproof::fuzz
