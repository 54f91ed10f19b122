// Admission control onto the inference workers, and stage-timing metrics.
#include "server/server_context.hpp"

namespace liveproof::server {

void RunOnWorker(ServerContext& ctx, Reply reply, std::function<HttpResponse()> job) {
    // The reply is shared so that it survives a refused submission (the job is then dropped).
    auto shared_reply = std::make_shared<Reply>(std::move(reply));
    const bool queued = ctx.workers->TrySubmit([&ctx, shared_reply, job = std::move(job)] {
        HttpResponse response;
        try {
            response = job();
        } catch (...) {
            // Last resort: the request is answered and counted, the worker goes on.
            ctx.metrics->Inc("liveproof_internal_errors_total", {{"where", "worker"}});
            response = HttpResponse::Error(500, "internal", "an unexpected error occurred");
        }
        (*shared_reply)(std::move(response));
    });
    ctx.metrics->Set("liveproof_inference_queue_depth", {},
                     static_cast<double>(ctx.workers->depth()));
    if (!queued) {
        ctx.metrics->Inc("liveproof_rejections_total", {{"reason", "queue_full"}});
        HttpResponse r =
            HttpResponse::Error(503, "overloaded", "all inference workers are busy; retry shortly");
        r.headers.emplace_back("Retry-After", "1");
        (*shared_reply)(std::move(r));
    }
}

void CountEngineError(ServerContext& ctx, const Error& error, const char* kind) {
    if (error.code == ErrorCode::TimeBudgetExceeded) {
        ctx.metrics->Inc("liveproof_time_budget_exceeded_total", {{"kind", kind}});
    }
}

void ObserveStages(ServerContext& ctx, const std::map<std::string, double>& timings_ms) {
    for (const auto& [stage, ms] : timings_ms) {
        ctx.metrics->Observe("liveproof_stage_duration_seconds", {{"stage", stage}}, ms / 1000.0);
    }
}

}  // namespace liveproof::server
