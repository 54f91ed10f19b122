// The session routes: the backend's (/v1/sessions, an API key), the client's one-shot doors
// (/v1/sessions/{id}/image and /video, the client token) and the public keys (JWKS).
#include <charconv>

#include "server/api/api_common.hpp"
#include "server/api/routes.hpp"
#include "server/multipart.hpp"
#include "server/session_service.hpp"

namespace liveproof::server::api {

namespace {

// "/v1/sessions/{id}/{rest}" -> {id, rest} ("" when absent).
std::pair<std::string, std::string> SplitSessionPath(const std::string& path) {
    constexpr std::string_view kPrefix = "/v1/sessions/";
    const std::string tail = path.substr(kPrefix.size());
    const auto slash = tail.find('/');
    if (slash == std::string::npos) return {tail, ""};
    return {tail.substr(0, slash), tail.substr(slash + 1)};
}

// The decision of one image, as the passive door records it.
RunOutcome PassiveOutcome(const ServerContext& ctx, const Expected<ImageAnalysis>& a,
                          const std::vector<std::uint8_t>& bytes, bool keep_reference) {
    RunOutcome o;
    o.details["frames_received"] = 1;
    o.details["frames_analysed"] = a ? 1 : 0;
    if (!a) {
        o.decision = "failed";
        o.reason = "invalid_image";
        o.details["error"] = a.error().detail;
        return o;
    }
    o.details["faces"] = a->faces.size();
    if (a->faces.empty()) {
        o.decision = "failed";
        o.reason = "no_face";
        return o;
    }
    if (a->faces.size() > 1) {
        o.decision = "failed";
        o.reason = "multiple_faces";
        return o;
    }
    const FaceResult& f = a->faces[0];
    if (!f.antispoof) {
        o.decision = "failed";
        o.reason = "not_scored";
        return o;
    }
    o.confidence = f.antispoof->p_real;
    const bool live = f.antispoof->p_real >= ctx.config.engine.liveness_threshold;
    o.decision = live ? "live" : "spoof";
    o.reason = live ? "" : "spoof_detected";
    const bool jpeg = bytes.size() > 3 && bytes[0] == 0xFF && bytes[1] == 0xD8;
    if (keep_reference && jpeg) {
        o.images.push_back({"reference", bytes, {f.x1, f.y1, f.x2, f.y2}});
    }
    return o;
}

RunOutcome BlinkOutcome(const Expected<BlinkAnalysis>& a) {
    RunOutcome o;
    if (!a) {
        o.decision = "failed";
        o.reason = "invalid_video";
        o.details["error"] = a.error().detail;
        return o;
    }
    o.details["frames_received"] = a->frames_decoded;
    o.details["frames_analysed"] = a->frames_decoded;
    o.details["blinks"] = a->blinks.size();
    o.details["frames_with_face"] = a->frames_with_face;
    if (a->passive.frames_scored > 0) o.confidence = a->passive.mean_p_real;
    if (a->passed) {
        o.decision = "live";
    } else if (a->passive.spoof) {
        o.decision = "spoof";
        o.reason = "spoof_detected";
    } else {
        o.decision = "failed";
        o.reason = a->reason.empty() ? "no_blink" : a->reason;
    }
    return o;
}

// The answer of a one-shot door: the recorded decision and its verdict.
HttpResponse DoorAnswer(const SessionRun& run, const RunOutcome& o,
                        const Expected<std::string>& v) {
    if (!v && v.error().code == ErrorCode::Internal) {
        // The store did not answer: no verdict exists. The run stays in progress until the
        // sweeper ends it "interrupted".
        HttpResponse r = HttpResponse::Error(
            503, "store_unavailable",
            "the session store did not answer, so this run was not recorded and has no verdict");
        r.headers.emplace_back("Retry-After", "2");
        return r;
    }
    if (!v) {
        return HttpResponse::Error(
            409, "not_recorded",
            "the run ended but the session was no longer in progress: " + v.error().detail);
    }
    nlohmann::ordered_json j;
    j["session_id"] = run.record.id;
    j["status"] = o.decision == "live" ? "SUCCEEDED" : "FAILED";
    j["decision"] = o.decision;
    j["reason"] =
        o.reason.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(o.reason);
    j["confidence"] =
        o.confidence ? nlohmann::ordered_json(*o.confidence) : nlohmann::ordered_json(nullptr);
    j["verdict"] = *v;
    HttpResponse r;
    r.body = ToJsonText(j);
    return r;
}

// A run the worker queue refused still ends: the session is single-use and already started.
void EndRefused(ServerContext& ctx, const SessionRun& run) {
    RunOutcome o;
    o.decision = "failed";
    o.reason = "server_busy";
    (void)ctx.sessions->FinishRun(run, std::move(o));
}

void PassiveDoor(ServerContext& ctx, HttpRequest&& req, Reply reply, SessionRun run) {
    auto image = ImageFromRequest(req, ctx.config);
    if (!image) {
        RunOutcome o;
        o.decision = "failed";
        o.reason = "invalid_image";
        o.details["error"] = image.error().detail;
        auto v = ctx.sessions->FinishRun(run, o);
        HttpResponse r = DoorAnswer(run, o, v);
        return reply(std::move(r));
    }
    const bool keep = run.settings.value("reference_image", true);
    const bool queued =
        RunOnWorker(ctx, std::move(reply), [&ctx, run, keep, bytes = std::move(*image)] {
            auto a = ctx.engine->Analyze(bytes, AnalyzeOptions::PassiveOnly());
            if (a) {
                ObserveStages(ctx, a->timings_ms);
            } else {
                CountEngineError(ctx, a.error(), "image");
            }
            RunOutcome o = PassiveOutcome(ctx, a, bytes, keep);
            auto v = ctx.sessions->FinishRun(run, o);
            return DoorAnswer(run, o, v);
        });
    if (!queued) EndRefused(ctx, run);
}

void BlinkDoor(ServerContext& ctx, HttpRequest&& req, Reply reply, SessionRun run) {
    std::vector<std::uint8_t> video;
    std::string type(req.Header("content-type"));
    if (type.rfind("multipart/", 0) == 0) {
        auto field = MultipartField(req, {"file", "video"});
        if (!field) {
            RunOutcome o;
            o.decision = "failed";
            o.reason = "invalid_video";
            o.details["error"] = field.error().detail;
            auto v = ctx.sessions->FinishRun(run, o);
            return reply(DoorAnswer(run, o, v));
        }
        video = std::move(*field);
    } else {
        video.assign(req.body.begin(), req.body.end());
    }
    auto job = std::make_shared<std::unique_ptr<BlinkVideoJob>>();
    SliceStep step =
        [&ctx, run, job, video = std::move(video)](
            std::chrono::steady_clock::time_point until) mutable -> std::optional<HttpResponse> {
        const auto finish = [&](const Expected<BlinkAnalysis>& a) {
            if (a) ObserveStages(ctx, a->timings_ms);
            RunOutcome o = BlinkOutcome(a);
            auto v = ctx.sessions->FinishRun(run, o);
            return DoorAnswer(run, o, v);
        };
        if (!*job) {
            auto started = ctx.engine->StartBlinkVideo(video);
            if (!started) return finish(Unexpected{started.error()});
            *job = std::move(*started);
            video = {};
        }
        if (!(*job)->Step(until)) return std::nullopt;
        return finish((*job)->Result());
    };
    if (!RunInSlices(ctx, std::move(reply), std::move(step))) EndRefused(ctx, run);
}

}  // namespace

void AddSessionRoutes(Router& router, ServerContext& ctx) {
    // Every call that reaches the store runs on a store thread (RunOnStore), never on the
    // network thread that read the request.
    router.Add({"POST", "/v1/sessions", "v1_sessions_create", true, BodyClass::Small,
                [&ctx](HttpRequest&& req, Reply reply) {
                    RunOnStore(ctx, std::move(reply),
                               [&ctx, req = std::move(req)] { return ctx.sessions->Create(req); });
                }});
    router.Add({"GET", "/v1/sessions", "v1_sessions_list", true, BodyClass::Small,
                [&ctx](HttpRequest&& req, Reply reply) {
                    RunOnStore(ctx, std::move(reply),
                               [&ctx, req = std::move(req)] { return ctx.sessions->List(req); });
                }});
    router.Add({"GET", "/v1/sessions/", "v1_session_read", true, BodyClass::Small,
                [&ctx](HttpRequest&& req, Reply reply) {
                    const auto [id, rest] = SplitSessionPath(req.path);
                    if (rest.empty()) {
                        RunOnStore(ctx, std::move(reply), [&ctx, req = std::move(req), id = id] {
                            return ctx.sessions->Read(req, id);
                        });
                        return;
                    }
                    constexpr std::string_view kImages = "images/";
                    int n = -1;
                    if (rest.rfind(kImages, 0) == 0) {
                        const char* b = rest.data() + kImages.size();
                        const char* e = rest.data() + rest.size();
                        const auto [ptr, ec] = std::from_chars(b, e, n);
                        if (ec != std::errc() || ptr != e || b == e) n = -1;
                    }
                    if (n < 0 || n > 99) {
                        return reply(
                            HttpResponse::Error(404, "not_found", "no endpoint at " + req.path));
                    }
                    RunOnStore(ctx, std::move(reply), [&ctx, req = std::move(req), id = id, n] {
                        return ctx.sessions->ReadImage(req, id, n);
                    });
                },
                /*prefix=*/true});
    router.Add({"DELETE", "/v1/sessions/", "v1_session_delete", true, BodyClass::Small,
                [&ctx](HttpRequest&& req, Reply reply) {
                    const auto [id, rest] = SplitSessionPath(req.path);
                    if (!rest.empty()) {
                        return reply(
                            HttpResponse::Error(404, "not_found", "no endpoint at " + req.path));
                    }
                    RunOnStore(ctx, std::move(reply), [&ctx, req = std::move(req), id = id] {
                        return ctx.sessions->Remove(req, id);
                    });
                },
                /*prefix=*/true});
    // The client's doors: no API key (the client never holds one), the session's token instead.
    router.Add(
        {"POST", "/v1/sessions/", "v1_session_run", false, BodyClass::Video,
         [&ctx](HttpRequest&& req, Reply reply) {
             const auto [id, door] = SplitSessionPath(req.path);
             std::string mode;
             if (door == "image") {
                 mode = "passive";
             } else if (door == "video") {
                 mode = "blink";
             } else {
                 return reply(HttpResponse::Error(404, "not_found", "no endpoint at " + req.path));
             }
             if (ctx.engine == nullptr || !ctx.ready) {
                 return reply(
                     HttpResponse::Error(503, "starting", "the models are loading; retry"));
             }
             RunOnStoreThread(
                 ctx, std::move(reply),
                 [&ctx, req = std::move(req), id = id, mode](const Reply& answer) mutable {
                     auto begun = ctx.sessions->BeginRun(id, ClientToken(req), mode, req.remote);
                     if (auto* refusal = std::get_if<HttpResponse>(&begun)) {
                         return answer(std::move(*refusal));
                     }
                     auto run = std::get<SessionRun>(std::move(begun));
                     if (mode == "passive") {
                         PassiveDoor(ctx, std::move(req), answer, std::move(run));
                     } else {
                         BlinkDoor(ctx, std::move(req), answer, std::move(run));
                     }
                 });
         },
         /*prefix=*/true});
    router.Add({"GET", "/.well-known/jwks.json", "jwks", false, BodyClass::Small,
                [&ctx](HttpRequest&&, Reply reply) { reply(ctx.sessions->Jwks()); }});
}

}  // namespace liveproof::server::api
