// Admission control onto the inference workers (whole jobs and jobs in slices), and
// stage-timing metrics.
#include "server/server_context.hpp"

#include <spdlog/spdlog.h>

namespace liveproof::server {

namespace {

// The answer to a job the full queue refused.
HttpResponse QueueFull() {
    HttpResponse r =
        HttpResponse::Error(503, "overloaded", "all inference workers are busy; retry shortly");
    r.headers.emplace_back("Retry-After", "1");
    return r;
}

// The queue's depth and refusals in /metrics, after each submission.
void AfterSubmit(ServerContext& ctx, bool queued) {
    ctx.metrics->Set("liveproof_inference_queue_depth", {},
                     static_cast<double>(ctx.workers->depth()));
    if (!queued) ctx.metrics->Inc("liveproof_rejections_total", {{"reason", "queue_full"}});
}

// Last resort: a job that throws is answered 500 and counted, and the worker goes on.
template <typename Fn>
auto AnsweredEvenIfItThrows(ServerContext& ctx, Fn&& job) -> decltype(job()) {
    const auto answer500 = [&ctx](const char* what) {
        ctx.metrics->Inc("liveproof_internal_errors_total", {{"where", "worker"}});
        const auto v = ctx.log_limiter.Admit("internal worker");
        if (v.write) {
            spdlog::error("unexpected exception in worker: {}{}", PrintableUtf8(what),
                          LogLimiter::Suffix(v));
        }
        return HttpResponse::Error(500, "internal", "an unexpected error occurred");
    };
    try {
        return job();
    } catch (const std::exception& e) {
        return answer500(e.what());
    } catch (...) {
        return answer500("not a std::exception");
    }
}

// A job running in slices. Between slices it waits in the session lane under its own address as
// the key (one slice waiting at a time, served round-robin with the WebSocket sessions).
class SlicedJob : public std::enable_shared_from_this<SlicedJob> {
  public:
    SlicedJob(ServerContext& ctx, Reply reply, SliceStep step)
        : ctx_(ctx), reply_(std::move(reply)), step_(std::move(step)) {}
    SlicedJob(const SlicedJob&) = delete;
    SlicedJob& operator=(const SlicedJob&) = delete;
    // Dropped before its answer (the lane is emptied at shutdown): the client still gets one.
    ~SlicedJob() {
        if (answered_) return;
        try {
            reply_(HttpResponse::Error(503, "shutting_down",
                                       "the server stopped before this request was answered"));
        } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
        }
    }

    void RunSlice() {
        const auto until = std::chrono::steady_clock::now() +
                           std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(ctx_.config.video_slice_seconds));
        std::optional<HttpResponse> answer =
            AnsweredEvenIfItThrows(ctx_, [&] { return step_(until); });
        const bool was_in_lane = in_lane_;
        if (answer) {
            if (was_in_lane) ctx_.workers->Forget(this);
            return Answer(std::move(*answer));
        }
        // Set before the offer: from then on the next slice may start on another worker.
        in_lane_ = true;
        ctx_.workers->OfferLatest(this, [self = shared_from_this()] { self->RunSlice(); });
        if (was_in_lane) ctx_.workers->Release(this);  // this slice is done; the next may run
    }

    void Answer(HttpResponse r) {
        answered_ = true;
        reply_(std::move(r));
    }

  private:
    ServerContext& ctx_;
    Reply reply_;
    SliceStep step_;
    bool in_lane_ = false;   // a slice has been offered to the session lane
    bool answered_ = false;  // reply_ has been called
};

}  // namespace

bool RunOnWorker(ServerContext& ctx, Reply reply, std::function<HttpResponse()> job) {
    // The reply is shared so that it survives a refused submission (the job is then dropped).
    auto shared_reply = std::make_shared<Reply>(std::move(reply));
    const bool queued = ctx.workers->TrySubmit([&ctx, shared_reply, job = std::move(job)] {
        (*shared_reply)(AnsweredEvenIfItThrows(ctx, job));
    });
    AfterSubmit(ctx, queued);
    if (!queued) (*shared_reply)(QueueFull());
    return queued;
}

bool RunInSlices(ServerContext& ctx, Reply reply, SliceStep step) {
    auto job = std::make_shared<SlicedJob>(ctx, std::move(reply), std::move(step));
    const bool queued = ctx.workers->TrySubmit([job] { job->RunSlice(); });
    AfterSubmit(ctx, queued);
    if (!queued) job->Answer(QueueFull());
    return queued;
}

bool PostToStore(ServerContext& ctx, std::function<void()> job) {
    if (ctx.store_workers == nullptr) {
        job();
        return true;
    }
    const bool queued = ctx.store_workers->TrySubmit(std::move(job));
    if (!queued) ctx.metrics->Inc("liveproof_rejections_total", {{"reason", "store_queue_full"}});
    return queued;
}

bool RunOnStoreThread(ServerContext& ctx, Reply reply, std::function<void(Reply)> job) {
    // Whoever answers first answers: the job (now or from the thread it handed the reply to),
    // or this guard when the job threw.
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Reply once = [answered, reply](HttpResponse r) {
        if (!answered->exchange(true)) reply(std::move(r));
    };
    const bool queued = PostToStore(ctx, [&ctx, once, job = std::move(job)] {
        std::optional<HttpResponse> failure = AnsweredEvenIfItThrows(ctx, [&] {
            job(once);
            return std::optional<HttpResponse>();
        });
        if (failure) once(std::move(*failure));
    });
    if (!queued) {
        HttpResponse r =
            HttpResponse::Error(503, "store_busy", "the session store has too much waiting; retry");
        r.headers.emplace_back("Retry-After", "1");
        once(std::move(r));
    }
    return queued;
}

bool RunOnStore(ServerContext& ctx, Reply reply, std::function<HttpResponse()> job) {
    return RunOnStoreThread(ctx, std::move(reply),
                            [job = std::move(job)](const Reply& answer) { answer(job()); });
}

double ChallengeClockSeconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
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
