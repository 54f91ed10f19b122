// System A's HTTP polling door (compat.md §1.2: POST /start, POST /frame?session_id=), run by
// the same challenge run as the WebSocket: centring, timeouts, wrong moves, one face throughout,
// and "live" only after the passive evidence said live (A: live once 2 moves passed).
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

// Runs on a worker, holding the session: one frame through the challenge run.
HttpResponse JudgeFrame(ServerContext& ctx, PollSession& s, const std::vector<std::uint8_t>& bytes,
                        int width, int height) {
    if (s.run.session().Finished()) return Answer(s.answer);
    (void)s.signals.OnFrame(ChallengeClockSeconds(), bytes, width, height);
    ++s.frames_analysed;
    StreamObservation o;
    const auto event = s.run.Feed(active::Frame::Encoded(bytes), ChallengeClockSeconds(), &o);
    if (o.error) {
        CountEngineError(ctx, *o.error, "poll_frame");
    } else {
        ObserveStages(ctx, o.timings_ms);
    }
    if (!event) return Detail(500, "the session gave no answer");  // never: Feed always judges
    if (event->type == challenge::EventType::Error) {
        return event->message == challenge::kAErrorCouldNotDecode ? Detail(400, "Invalid image")
                                                                  : Detail(422, event->message);
    }
    s.answer = challenge::ToAPollJson(*event);
    if (s.run.session().Finished() && s.record && ctx.sessions && !s.ended) {
        // Stored before it is said, as on the WebSocket. A's answers keep their exact shape:
        // this door's runs are anonymous, listed by GET /v1/sessions.
        auto verdict = ctx.sessions->FinishRun(
            *s.record, ChallengeOutcome(*event, s.run, s.signals, s.frames_analysed));
        if (!verdict)
            return Detail(503, "the run could not be recorded: " + verdict.error().detail);
    }
    CountEnd(ctx, s, *event);
    return Answer(s.answer);
}

}  // namespace

void AddSystemARoutes(Router& router, ServerContext& ctx) {
    // A session lives at least as long as its challenge may run.
    const double ttl =
        std::max(ctx.config.poll_session_ttl, ctx.config.challenge.session_timeout_s);
    auto sessions =
        std::make_shared<PollSessions>(static_cast<std::size_t>(ctx.config.poll_max_sessions), ttl);
    router.Add({"POST", "/start", "a_start", true, BodyClass::Small,
                [&ctx, sessions, ttl](HttpRequest&& req, Reply reply) {
                    if (ctx.config.require_sessions) {
                        return reply(Detail(403,
                                            "This server runs challenges only in sessions: "
                                            "create one with POST /v1/sessions"));
                    }
                    if (ctx.engine == nullptr || !ctx.ready) {
                        return reply(Detail(503, "The server is starting; try again"));
                    }
                    challenge::ChallengeConfig config = ctx.config.challenge;
                    config.mirrored = false;
                    auto run = active::ChallengeRun::Create(
                        ctx.engine, std::move(config), ctx.config.stream, &ChallengeClockSeconds,
                        [] { return randombytes_random(); });
                    if (!run) return reply(ErrorResponse(run.error()));
                    const auto start = run->Start();
                    const double now = ChallengeClockSeconds();
                    active::FrameSignalRules rules = ctx.config.frame_signals;
                    rules.enforce = false;  // A's door: recorded, A's behaviour unchanged
                    auto session = std::make_shared<PollSession>(std::move(*run), now, rules);
                    if (ctx.sessions) {
                        auto record = ctx.sessions->BeginAnonymous(req.key_id, req.remote, "poll");
                        if (!record) {
                            HttpResponse r = Detail(503, "The session store did not answer; retry");
                            r.headers.emplace_back("Retry-After", "2");
                            return reply(std::move(r));
                        }
                        session->record = std::move(*record);
                    }
                    const auto id = sessions->Add(session, now);
                    if (!id) {
                        ctx.metrics->Inc("liveproof_poll_sessions_total", {{"event", "refused"}});
                        HttpResponse r = Detail(503, "Too many open sessions; try again later");
                        r.headers.emplace_back("Retry-After", "5");
                        return reply(std::move(r));
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
                    reply(Answer(j));
                }});
    router.Add({"POST", "/frame", "a_frame", true, BodyClass::Image,
                [&ctx, sessions](HttpRequest&& req, Reply reply) {
                    const auto id = req.Query("session_id");
                    if (!id) return reply(Detail(422, "query parameter session_id is required"));
                    auto session = sessions->Find(*id, ChallengeClockSeconds());
                    if (!session) return reply(Detail(404, "Session not found"));
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
                }});
}

}  // namespace liveproof::server::api
