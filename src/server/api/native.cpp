// Native POST /v1/analyze: the engine's full analysis object (the same as `liveproof analyze
// --json`).
#include <algorithm>
#include <cctype>

#include "engine/result_json.hpp"
#include "server/api/api_common.hpp"
#include "server/api/routes.hpp"

namespace liveproof::server::api {

namespace {

bool Flag(const HttpRequest& req, const std::string& name) {
    const auto v = req.Query(name);
    return v && (*v == "1" || *v == "true" || *v == "yes");
}

// The image from a raw body, a multipart upload or a base64 JSON body.
Expected<std::vector<std::uint8_t>> ImageFromRequest(const HttpRequest& req,
                                                     const ServerConfig& c) {
    // Media types are case-insensitive (RFC 9110 §8.3.1): Application/JSON is JSON.
    std::string type(req.Header("content-type"));
    std::transform(type.begin(), type.end(), type.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (type.rfind("multipart/", 0) == 0) return MultipartField(req, {"file", "image"});
    if (type.rfind("application/json", 0) == 0) {
        auto j = ParseJsonObject(req.body);
        if (!j) return Unexpected{j.error()};
        for (const char* key : {"image", "image_base64", "base64"}) {
            if (j->contains(key))
                return DecodeImageField((*j)[key], c.engine.limits.max_image_bytes);
        }
        return MakeError(ErrorCode::InvalidArgument, "JSON field 'image' (base64) is required");
    }
    if (type.empty() || type.rfind("image/", 0) == 0 ||
        type.rfind("application/octet-stream", 0) == 0) {
        return std::vector<std::uint8_t>(req.body.begin(), req.body.end());
    }
    return MakeError(
        ErrorCode::UnsupportedFormat,
        "Content-Type must be image/*, application/octet-stream, multipart/form-data or "
        "application/json");
}

}  // namespace

void AddNativeRoutes(Router& router, ServerContext& ctx) {
    router.Add({"POST", "/v1/analyze", "v1_analyze", true, BodyClass::Json,
                [&ctx](HttpRequest&& req, Reply reply) {
                    auto image = ImageFromRequest(req, ctx.config);
                    if (!image) {
                        reply(ErrorResponse(image.error()));
                        return;
                    }
                    AnalyzeOptions what = Flag(req, "passive_only") ? AnalyzeOptions::PassiveOnly()
                                                                    : AnalyzeOptions{};
                    what.keep_mesh = Flag(req, "mesh");
                    RunOnWorker(ctx, std::move(reply), [&ctx, what, bytes = std::move(*image)] {
                        auto a = ctx.engine->Analyze(bytes, what);
                        if (!a) {
                            CountEngineError(ctx, a.error(), "image");
                            return ErrorResponse(a.error());
                        }
                        ObserveStages(ctx, a->timings_ms);
                        return HttpResponse::Json(200, ImageAnalysisToJson(*a));
                    });
                }});
}

}  // namespace liveproof::server::api
