// System C's newer rewrite (docs/compat.md §3.8): /api/* with the envelope
// {success, code, message, request_id, data}. Codes: 0 success, -1 a refusal of the input
// ("image required", "Invalid license"), -10 no such endpoint, -19 any other error with the
// HTTP status. The same engine and licence as the older endpoints (system_c.cpp).
#include <algorithm>
#include <array>
#include <cctype>

#include "licence/licence.hpp"
#include "liveproof/version.hpp"
#include "server/api/api_common.hpp"
#include "server/api/routes.hpp"

namespace liveproof::server::api {

namespace {

using nlohmann::json;

constexpr int kRefused = -1;
constexpr int kNoEndpoint = -10;
constexpr int kOtherError = -19;

HttpResponse Envelope(int status, int code, const std::string& message, json data) {
    return HttpResponse::Json(status, {{"success", code == 0},
                                       {"code", code},
                                       {"message", message},
                                       {"request_id", nullptr},
                                       {"data", std::move(data)}});
}

HttpResponse Ok(json data) { return Envelope(200, 0, "OK", std::move(data)); }

// C answers a refusal of the input with HTTP 200 and success false.
HttpResponse Refused(const std::string& message) {
    return Envelope(200, kRefused, message, nullptr);
}

HttpResponse OtherError(int status, const std::string& message) {
    return Envelope(status, kOtherError, message, nullptr);
}

HttpResponse OtherError(const Error& e) { return OtherError(HttpStatusFor(e.code), e.detail); }

// The face C's single score is about: the largest (C's engine scores one face per image).
const FaceResult* MainFace(const ImageAnalysis& a) {
    const auto area = [](const FaceResult& f) { return (f.x2 - f.x1) * (f.y2 - f.y1); };
    const auto it =
        std::max_element(a.faces.begin(), a.faces.end(),
                         [&](const auto& l, const auto& r) { return area(l) < area(r); });
    return it == a.faces.end() ? nullptr : &*it;
}

// POST /api/liveness: {"image": base64 (a data: prefix accepted)} -> {score, result, pass}.
HttpResponse Liveness(ServerContext& ctx, const HttpRequest& req) {
    auto j = ParseJsonObject(req.body);
    if (!j || !j->contains("image") || (*j)["image"].is_null() ||
        ((*j)["image"].is_string() && (*j)["image"].get_ref<const std::string&>().empty())) {
        return Refused("image required");
    }
    auto image = DecodeImageField((*j)["image"], ctx.config.engine.limits.max_image_bytes);
    if (!image) return OtherError(image.error());
    auto a = ctx.engine->Analyze(*image, AnalyzeOptions::PassiveOnly());
    if (!a) {
        CountEngineError(ctx, a.error(), "image");
        return OtherError(a.error());
    }
    ObserveStages(ctx, a->timings_ms);
    const FaceResult* face = MainFace(*a);
    if (face == nullptr) return Refused("no face detected");
    const float score = face->antispoof->p_real;
    const bool real = score >= ctx.config.engine.liveness_threshold;  // C: score >= 0.5 is Real
    return Ok({{"score", score}, {"result", real ? "Real" : "Spoof"}, {"pass", real}});
}

// POST /api/activate: the licence as the raw body, or JSON {"license": "..."}.
HttpResponse Activate(ServerContext& ctx, const HttpRequest& req) {
    std::string text = req.body;
    if (auto j = ParseJsonObject(req.body); j) {
        text = j->contains("license") && (*j)["license"].is_string()
                   ? (*j)["license"].get<std::string>()
                   : std::string();
    }
    const auto not_space = [](unsigned char ch) { return std::isspace(ch) == 0; };
    text.erase(text.begin(), std::find_if(text.begin(), text.end(), not_space));
    text.erase(std::find_if(text.rbegin(), text.rend(), not_space).base(), text.end());
    const std::string machine = licence::MachineCode();
    if (text.empty()) {
        return Envelope(200, kRefused, "Empty license",
                        {{"activated", false}, {"machinecode", machine}});
    }
    const licence::LicenceStatus s = ctx.licence->Activate(text);
    if (s != licence::LicenceStatus::Ok) {
        return Envelope(
            200, kRefused,
            s == licence::LicenceStatus::Expired ? "License expired" : "Invalid license",
            {{"activated", false}, {"machinecode", machine}});
    }
    return Ok({{"activated", true}, {"machinecode", machine}});
}

constexpr std::array<std::string_view, 6> kApiPaths{"/api/health",   "/api/machinecode",
                                                    "/api/backend",  "/api/activate",
                                                    "/api/liveness", "/api/check_liveness"};

// Anything else under /api/: -10 for a path C does not have, -19 405 for a known one asked with
// the wrong method (Flask's 405).
HttpResponse NoSuchEndpoint(const HttpRequest& req) {
    if (std::find(kApiPaths.begin(), kApiPaths.end(), req.path) != kApiPaths.end())
        return OtherError(405, "method not allowed");
    return Envelope(404, kNoEndpoint, "not found", nullptr);
}

}  // namespace

void AddSystemCEnvelopeRoutes(Router& router, ServerContext& ctx) {
    router.Add({"GET", "/api/health", "c_api_health", Door::SystemC, BodyClass::Small,
                [](HttpRequest&&, Reply reply) {
                    reply(Ok({{"status", "ok"}}));
                }});
    router.Add({"GET", "/api/machinecode", "c_api_machinecode", Door::SystemC, BodyClass::Small,
                [](HttpRequest&&, Reply reply) {
                    reply(Ok({{"machinecode", licence::MachineCode()}}));
                }});
    router.Add({"GET", "/api/backend", "c_api_backend", Door::SystemC, BodyClass::Small,
                [](HttpRequest&&, Reply reply) {
                    // C's product name, so its clients' checks pass; the version is ours.
                    reply(Ok({{"product", "FaceLiveness"},
                              {"sdk_version", LIVEPROOF_VERSION_STRING},
                              {"backend", "cpu"}}));
                }});
    router.Add({"POST", "/api/activate", "c_api_activate", Door::Licence, BodyClass::Small,
                [&ctx](HttpRequest&& req, Reply reply) { reply(Activate(ctx, req)); }});
    for (const char* path : {"/api/liveness", "/api/check_liveness"}) {
        router.Add({"POST", path, "c_api_liveness", Door::SystemC, BodyClass::Json,
                    [&ctx](HttpRequest&& req, Reply reply) {
                        if (!ctx.licence->Activated()) {
                            reply(OtherError(403,
                                             "not activated: POST /api/activate a licence "
                                             "for the code from GET /api/machinecode"));
                            return;
                        }
                        // Parsed and decoded on the worker, once admitted (see system_b.cpp).
                        RunOnWorker(ctx, std::move(reply),
                                    [&ctx, req = std::move(req)] { return Liveness(ctx, req); });
                    }});
    }
    // Added last: the exact routes above match first.
    for (const char* method : {"GET", "POST"}) {
        router.Add({method, "/api/", "c_api_unmatched", Door::SystemC, BodyClass::Small,
                    [](HttpRequest&& req, Reply reply) { reply(NoSuchEndpoint(req)); },
                    /*prefix=*/true});
    }
}

}  // namespace liveproof::server::api
