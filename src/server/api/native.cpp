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

// POST /v1/analyze: the image of the request, analysed as its flags ask.
HttpResponse AnalyzeRequest(ServerContext& ctx, const HttpRequest& req) {
    auto image = ImageFromRequest(req, ctx.config);
    if (!image) return ErrorResponse(image.error());
    AnalyzeOptions what =
        Flag(req, "passive_only") ? AnalyzeOptions::PassiveOnly() : AnalyzeOptions{};
    what.keep_mesh = Flag(req, "mesh");
    auto a = ctx.engine->Analyze(*image, what);
    if (!a) {
        CountEngineError(ctx, a.error(), "image");
        return ErrorResponse(a.error());
    }
    ObserveStages(ctx, a->timings_ms);
    return HttpResponse::Json(200, ImageAnalysisToJson(*a));
}

}  // namespace

void AddNativeRoutes(Router& router, ServerContext& ctx) {
    router.Add({"POST", "/v1/analyze", "v1_analyze", Door::Native, BodyClass::Json,
                [&ctx](HttpRequest&& req, Reply reply) {
                    // Parsed and decoded on the worker, once admitted (see system_b.cpp).
                    RunOnWorker(ctx, std::move(reply),
                                [&ctx, req = std::move(req)] { return AnalyzeRequest(ctx, req); });
                }});
}

}  // namespace liveproof::server::api
