// libFuzzer target: the JSON body of every POST route (system B /liveness, system C
// /liveness-detection-base64, /check_liveness_base64, /activate-machine, /api/liveness,
// /api/activate, native /v1/analyze)
// dispatched in process through the real router and handlers, up to (not including) inference.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using liveproof::fuzz::ServerHarness;
    if (size == 0) return 0;
    // First byte: route (low 3 bits; bit 7 turns route 3 into /api/activate), server mode,
    // readiness, Content-Type variant.
    static const char* const kRoutes[] = {"/liveness",
                                          "/liveness-detection-base64",
                                          "/check_liveness_base64",
                                          "/activate-machine",
                                          "/v1/analyze",
                                          "/v1/analyze",
                                          "/api/liveness",
                                          "/v1/analyze"};
    const std::uint8_t pick = data[0];
    const bool locked = (pick & 0x08) != 0;
    ServerHarness& h =
        liveproof::fuzz::Harness(locked ? ServerHarness::Mode::Locked : ServerHarness::Mode::Open);
    h.ctx.ready = (pick & 0x10) != 0;
    liveproof::server::HttpRequest req;
    req.method = "POST";
    req.path = kRoutes[pick & 7];
    if ((pick & 7) == 3 && (pick & 0x80) != 0) req.path = "/api/activate";
    if ((pick & 7) == 5) req.query["passive_only"] = "1";
    if ((pick & 7) == 7) req.query["mesh"] = "true";
    req.headers["content-type"] =
        (pick & 0x20) ? "application/json; charset=utf-8" : "application/json";
    if (locked) req.headers["x-api-key"] = std::string(liveproof::fuzz::kFuzzKey2);
    if (pick & 0x40) req.headers["origin"] = "https://app.example";
    req.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
    req.remote = "127.0.0.1";
    const auto r = h.Dispatch(std::move(req));
    // Authorised requests to known routes are never refused for auth or routing.
    if (r.status == 401 || r.status == 404 || r.status == 405)
        liveproof::fuzz::Fail("json body", "routing status " + std::to_string(r.status));
    return 0;
}
