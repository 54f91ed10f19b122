// System A's HTTP polling door (compat.md §1.2: POST /start, POST /frame?session_id=), run by
// the same challenge run as the WebSocket: centring, timeouts, wrong moves, one face throughout,
// and "live" only after the passive evidence said live (A: live once 2 moves passed). It runs
// anonymous challenges (A's clients, an API key when keys are set) and a backend session's one
// run (`/start?session_id=` with the session's client token, then every /frame with it).
#include <sodium.h>

#include <algorithm>
#include <chrono>

#include "challenge/a_protocol.hpp"
#include "liveproof/challenge_run.hpp"
#include "media/image_header.hpp"
#include "server/api/api_common.hpp"
#include "server/api/routes.hpp"
#include "server/poll_sessions.hpp"

namespace liveproof::server::api {

namespace {

// FastAPI's error shape, which A's clients read.
HttpResponse Detail(int status, const std::string& detail) {
    return HttpResponse::Json(status, {{"detail", detail}});
}

HttpResponse Answer(const nlohmann::ordered_json& j) {
    HttpResponse r;
    r.body = ToJsonText(j);
    return r;
}

// The router's 401 (System B's body), for a token presented where only a key will do.
HttpResponse KeyRefused(ServerContext& ctx, const std::string& route) {
    ctx.metrics->Inc("liveproof_auth_failures_total", {{"route", route}});
    HttpResponse r = Detail(401, "Invalid or missing API key.");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
}

void CountEnd(ServerContext& ctx, PollSession& s, const challenge::Event& e) {
    if (s.ended || !s.run.session().Finished()) return;
    s.ended = true;
    if (e.type == challenge::EventType::Complete) {
        ctx.metrics->Inc("liveproof_poll_sessions_total", {{"event", "completed"}});
    } else {
        const std::string reason =
            e.reason ? std::string(challenge::FailReasonName(*e.reason)) : "unknown";
        ctx.metrics->Inc("liveproof_poll_sessions_total",
                         {{"event", "failed"}, {"reason", reason}});
    }
}

// A run that started but could not go on still ends: its session is single-use.
void EndUnrun(ServerContext& ctx, const std::optional<SessionRun>& record, const char* reason) {
    if (!record || ctx.sessions == nullptr) return;
    RunOutcome o;
    o.decision = "failed";
    o.reason = reason;
    (void)ctx.sessions->FinishRun(*record, std::move(o));
}

// The run's last answer, stored before it is said (as on the WebSocket): a backend session's
// answer adds its id and the signed verdict; an anonymous run keeps A's exact shape.
nlohmann::ordered_json RecordEnd(ServerContext& ctx, PollSession& s, const challenge::Event& e) {
    nlohmann::ordered_json answer = challenge::ToAPollJson(e);
    if (!s.record || ctx.sessions == nullptr) return answer;
    RunOutcome o = ChallengeOutcome(e, s.run, s.signals, s.frames_analysed);
    o.images = std::move(s.images);
    s.images.clear();
    auto verdict = ctx.sessions->FinishRun(*s.record, std::move(o));
    if (!verdict) {
        return {{"status", "FAILED"},
                {"reason", "not_recorded"},
                {"message", "The session could not be recorded: " + verdict.error().detail},
                {"success", e.success},
                {"live", false},
                {"type", "failed"},
                {"total", e.total}};
    }
    if (!s.record->anonymous) {
        answer["session_id"] = s.record->record.id;
        answer["verdict"] = *verdict;
    }
    return answer;
}

// Runs on a worker, holding the session: one frame through the challenge run.
HttpResponse JudgeFrame(ServerContext& ctx, PollSession& s, const std::vector<std::uint8_t>& bytes,
                        int width, int height) {
    if (s.run.session().Finished()) return Answer(s.answer);
    std::optional<challenge::Event> event;
    nlohmann::json box;
    if (const auto reason = s.signals.OnFrame(ChallengeClockSeconds(), bytes, width, height)) {
        event = s.run.Reject(*reason);
    } else {
        event = s.run.OnArrival();  // the idle and session clocks, judged at arrival
    }
    if (!event) {
        ++s.frames_analysed;
        const StreamObservation o = s.run.Analyze(
            active::Frame::Encoded(bytes), ChallengeClockSeconds(), s.run.CurrentActionCheck());
        if (o.error) {
            CountEngineError(ctx, *o.error, "poll_frame");
        } else {
            ObserveStages(ctx, o.timings_ms);
        }
        if (o.face) box = {o.face->x1, o.face->y1, o.face->x2, o.face->y2};
        // What the decoded picture says about its source comes before what its face says.
        const auto reason =
            s.signals.OnDecoded(active::ReplaySignals::Digest(bytes), o.fingerprint);
        event = reason ? s.run.Reject(*reason) : s.run.Judge(o);
    }
    if (!event) return Detail(500, "the session gave no answer");  // never: Judge always answers
    if (event->type == challenge::EventType::Error) {
        return event->message == challenge::kAErrorCouldNotDecode ? Detail(400, "Invalid image")
                                                                  : Detail(422, event->message);
    }
    if (s.record) KeepSessionImage(s.record->settings, *event, bytes, box, s.images);
    if (s.run.session().Finished() && !s.ended) {
        s.answer = RecordEnd(ctx, s, *event);
    } else {
        s.answer = challenge::ToAPollJson(*event);
    }
    CountEnd(ctx, s, *event);
    return Answer(s.answer);
}

// POST /start: an anonymous run, or (with ?session_id=) the one run of a backend session.
HttpResponse Start(ServerContext& ctx, PollSessions& table, double ttl, const HttpRequest& req) {
    const auto backend_id = req.Query("session_id");
    if (!backend_id && req.client_token_only) return KeyRefused(ctx, "a_start");
    if (!backend_id && ctx.config.require_sessions) {
        return Detail(403,
                      "This server runs challenges only in sessions: create one with POST "
                      "/v1/sessions and send its session_id and client token to /start");
    }
    // The token before anything else: a caller without it learns nothing, not even that the
    // server is starting.
    if (backend_id && ctx.sessions != nullptr) {
        auto checked = ctx.sessions->CheckToken(*backend_id, ClientToken(req), req.remote);
        if (auto* refusal = std::get_if<HttpResponse>(&checked)) return std::move(*refusal);
    }
    if (ctx.engine == nullptr || !ctx.ready)
        return Detail(503, "The server is starting; try again");
    std::optional<SessionRun> record;
    if (backend_id) {
        if (ctx.sessions == nullptr) return Detail(404, "Session not found");
        auto begun = ctx.sessions->BeginRun(*backend_id, ClientToken(req), "active", req.remote);
        if (auto* refusal = std::get_if<HttpResponse>(&begun)) return std::move(*refusal);
        record = std::get<SessionRun>(std::move(begun));
    } else if (ctx.sessions) {
        auto anonymous = ctx.sessions->BeginAnonymous(req.key_id, req.remote, "poll");
        if (!anonymous) {
            HttpResponse r = Detail(503, "The session store did not answer; retry");
            r.headers.emplace_back("Retry-After", "2");
            return r;
        }
        record = std::move(*anonymous);
    }
    challenge::ChallengeConfig config =
        record && ctx.sessions ? ctx.sessions->ChallengeFor(*record) : ctx.config.challenge;
    config.mirrored = false;
    auto run =
        active::ChallengeRun::Create(ctx.engine, std::move(config), ctx.config.stream,
                                     &ChallengeClockSeconds, [] { return randombytes_random(); });
    if (!run) {
        EndUnrun(ctx, record, "internal");
        return ErrorResponse(run.error());
    }
    const auto start = run->Start();
    const double now = ChallengeClockSeconds();
    active::FrameSignalRules rules = ctx.config.frame_signals;
    rules.enforce = backend_id.has_value();  // an anonymous run: recorded, A's behaviour kept
    auto session = std::make_shared<PollSession>(std::move(*run), now, rules);
    if (backend_id) session->token_hash = record->record.token_hash;
    session->record = record;
    const std::optional<std::string> id =
        backend_id ? (table.AddAs(*backend_id, session, now) ? backend_id : std::nullopt)
                   : table.Add(session, now);
    if (!id) {
        EndUnrun(ctx, record, "server_busy");
        ctx.metrics->Inc("liveproof_poll_sessions_total", {{"event", "refused"}});
        HttpResponse r = Detail(503, "Too many open sessions; try again later");
        r.headers.emplace_back("Retry-After", "5");
        return r;
    }
    ctx.metrics->Inc("liveproof_poll_sessions_total", {{"event", "started"}});
    nlohmann::ordered_json j;
    j["session_id"] = *id;
    j["challenge"] = challenge::InstructionName(start->instruction);
    j["state"] = challenge::StateName(start->state);
    j["instruction"] = challenge::InstructionName(start->instruction);
    j["success"] = start->success;
    j["total"] = start->total;
    j["expires_in"] = ttl;
    return Answer(j);
}

// Who may send a frame: a backend session's run needs its client token on every frame (never
// an API key alone); an anonymous run needs what /start needed (a key when keys are set).
std::optional<HttpResponse> FrameRefusal(ServerContext& ctx, const PollSession& s,
                                         const HttpRequest& req) {
    if (!s.token_hash.empty()) {
        if (ClientTokenMatches(s.token_hash, ClientToken(req))) return std::nullopt;
        ctx.metrics->Inc("liveproof_auth_failures_total", {{"route", "a_frame"}});
        return Detail(401,
                      "Invalid or missing client token for this session (?token= or "
                      "Authorization: Bearer)");
    }
    if (req.client_token_only) return KeyRefused(ctx, "a_frame");
    return std::nullopt;
}

}  // namespace

void AddSystemARoutes(Router& router, ServerContext& ctx) {
    // A session lives at least as long as its challenge may run.
    const double ttl =
        std::max(ctx.config.poll_session_ttl, ctx.config.challenge.session_timeout_s);
    auto sessions =
        std::make_shared<PollSessions>(static_cast<std::size_t>(ctx.config.poll_max_sessions), ttl);
    router.Add({"POST", "/start", "a_start", Door::SystemA, BodyClass::Small,
                [&ctx, sessions, ttl](HttpRequest&& req, Reply reply) {
                    // It records the run in the store: on a store thread.
                    RunOnStore(ctx, std::move(reply), [&ctx, sessions, ttl, req = std::move(req)] {
                        return Start(ctx, *sessions, ttl, req);
                    });
                },
                false, /*client_token_instead=*/true});
    router.Add({"POST", "/frame", "a_frame", Door::SystemA, BodyClass::Image,
                [&ctx, sessions](HttpRequest&& req, Reply reply) {
                    const auto id = req.Query("session_id");
                    // Without a session there is no token to check: only a key could pass.
                    if (!id && req.client_token_only) return reply(KeyRefused(ctx, "a_frame"));
                    if (!id) return reply(Detail(422, "query parameter session_id is required"));
                    auto session = sessions->Find(*id, ChallengeClockSeconds());
                    if (!session) return reply(Detail(404, "Session not found"));
                    if (auto refusal = FrameRefusal(ctx, *session, req))
                        return reply(std::move(*refusal));
                    auto image = MultipartField(req, {"file"});
                    if (!image) return reply(Detail(422, image.error().detail));
                    const auto header = media::ReadImageHeader(*image);
                    if (!header) return reply(Detail(400, "Invalid image"));
                    if (std::int64_t{header->width} * header->height >
                        ctx.config.ws_max_frame_pixels) {
                        return reply(Detail(
                            413, "Frame too large: " + std::to_string(header->width) + "x" +
                                     std::to_string(header->height) + " pixels, the cap is " +
                                     std::to_string(ctx.config.ws_max_frame_pixels)));
                    }
                    const int width = header->width;
                    const int height = header->height;
                    RunOnWorker(ctx, std::move(reply),
                                [&ctx, session, width, height, bytes = std::move(*image)] {
                                    std::unique_lock lock(session->mutex, std::try_to_lock);
                                    if (!lock.owns_lock()) {
                                        return Detail(409,
                                                      "a frame of this session is still being "
                                                      "analysed; send the next one after its "
                                                      "answer");
                                    }
                                    return JudgeFrame(ctx, *session, bytes, width, height);
                                });
                },
                false, /*client_token_instead=*/true});
}

}  // namespace liveproof::server::api
