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

// A run starts (BeginRun: its single use) only once its job holds a worker: a full queue answers
// 503 and leaves the session unused, so that the client may retry it. The token is checked there
// too, before anything else.
using Begun = std::variant<SessionRun, HttpResponse>;

HttpResponse PassiveRun(ServerContext& ctx, const HttpRequest& req, const std::string& id) {
    Begun begun = ctx.sessions->BeginRun(id, ClientToken(req), "passive", req.remote);
    if (auto* refusal = std::get_if<HttpResponse>(&begun)) return std::move(*refusal);
    const SessionRun run = std::get<SessionRun>(std::move(begun));
    auto image = ImageFromRequest(req, ctx.config);
    if (!image) {
        RunOutcome o;
        o.decision = "failed";
        o.reason = "invalid_image";
        o.details["error"] = image.error().detail;
        auto v = ctx.sessions->FinishRun(run, o);
        return DoorAnswer(run, o, v);
    }
    auto a = ctx.engine->Analyze(*image, AnalyzeOptions::PassiveOnly());
    if (a) {
        ObserveStages(ctx, a->timings_ms);
    } else {
        CountEngineError(ctx, a.error(), "image");
    }
    RunOutcome o = PassiveOutcome(ctx, a, *image, run.settings.value("reference_image", true));
    auto v = ctx.sessions->FinishRun(run, o);
    return DoorAnswer(run, o, v);
}

void BlinkDoor(ServerContext& ctx, HttpRequest&& req, Reply reply, const std::string& id) {
    struct State {
        HttpRequest req;
        std::optional<SessionRun> run;
        std::unique_ptr<BlinkVideoJob> job;
    };
    auto state = std::make_shared<State>();
    state->req = std::move(req);
    SliceStep step =
        [&ctx, state,
         id](std::chrono::steady_clock::time_point until) -> std::optional<HttpResponse> {
        const auto finish = [&](RunOutcome o) {
            auto v = ctx.sessions->FinishRun(*state->run, o);
            return DoorAnswer(*state->run, o, v);
        };
        if (!state->run) {
            Begun begun =
                ctx.sessions->BeginRun(id, ClientToken(state->req), "blink", state->req.remote);
            if (auto* refusal = std::get_if<HttpResponse>(&begun)) return std::move(*refusal);
            state->run = std::get<SessionRun>(std::move(begun));
            std::vector<std::uint8_t> video;
            const std::string type(state->req.Header("content-type"));
            if (type.rfind("multipart/", 0) == 0) {
                auto field = MultipartField(state->req, {"file", "video"});
                if (!field) {
                    RunOutcome o;
                    o.decision = "failed";
                    o.reason = "invalid_video";
                    o.details["error"] = field.error().detail;
                    return finish(std::move(o));
                }
                video = std::move(*field);
            } else {
                video.assign(state->req.body.begin(), state->req.body.end());
            }
            state->req = HttpRequest{};  // the body is no longer needed
            auto started = ctx.engine->StartBlinkVideo(video);
            if (!started) return finish(BlinkOutcome(Unexpected{started.error()}));
            state->job = std::move(*started);
        }
        if (!state->job->Step(until)) return std::nullopt;
        const auto result = state->job->Result();
        if (result) ObserveStages(ctx, result->timings_ms);
        return finish(BlinkOutcome(result));
    };
    RunInSlices(ctx, std::move(reply), std::move(step));
}

}  // namespace

void AddSessionRoutes(Router& router, ServerContext& ctx) {
    // Every call that reaches the store runs on a store thread (RunOnStore) or a worker, never
    // on the network thread that read the request.
    router.Add({"POST", "/v1/sessions", "v1_sessions_create", Door::Sessions, BodyClass::Small,
                [&ctx](HttpRequest&& req, Reply reply) {
                    RunOnStore(ctx, std::move(reply),
                               [&ctx, req = std::move(req)] { return ctx.sessions->Create(req); });
                }});
    router.Add({"GET", "/v1/sessions", "v1_sessions_list", Door::Sessions, BodyClass::Small,
                [&ctx](HttpRequest&& req, Reply reply) {
                    RunOnStore(ctx, std::move(reply),
                               [&ctx, req = std::move(req)] { return ctx.sessions->List(req); });
                }});
    router.Add({"GET", "/v1/sessions/", "v1_session_read", Door::Sessions, BodyClass::Small,
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
    router.Add({"DELETE", "/v1/sessions/", "v1_session_delete", Door::Sessions, BodyClass::Small,
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
    router.Add({"POST", "/v1/sessions/", "v1_session_run", Door::Open, BodyClass::Video,
                [&ctx](HttpRequest&& req, Reply reply) {
                    const auto [id, door] = SplitSessionPath(req.path);
                    std::string mode;
                    if (door == "image") {
                        mode = "passive";
                    } else if (door == "video") {
                        mode = "blink";
                    } else {
                        return reply(
                            HttpResponse::Error(404, "not_found", "no endpoint at " + req.path));
                    }
                    if (ctx.engine == nullptr || !ctx.ready) {
                        return reply(
                            HttpResponse::Error(503, "starting", "the models are loading; retry"));
                    }
                    if (mode == "passive") {
                        RunOnWorker(ctx, std::move(reply), [&ctx, req = std::move(req), id = id] {
                            return PassiveRun(ctx, req, id);
                        });
                    } else {
                        BlinkDoor(ctx, std::move(req), std::move(reply), id);
                    }
                },
                /*prefix=*/true});
    router.Add({"GET", "/.well-known/jwks.json", "jwks", Door::Open, BodyClass::Small,
                [&ctx](HttpRequest&&, Reply reply) { reply(ctx.sessions->Jwks()); }});
}

}  // namespace liveproof::server::api
