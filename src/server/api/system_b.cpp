// System B's REST front door (docs/compat.md §2, §4 "B"): the real pipeline behind B's shapes.
#include "engine/result_json.hpp"
#include "server/api/api_common.hpp"
#include "server/api/routes.hpp"
#include "server/public_url.hpp"

namespace liveproof::server::api {

namespace {

// FastAPI's 422 shape, which B's clients parse: "detail" is a list of {type, loc, msg, input}.
// Every 422 of B's door has it, liveproof's own ones (no face) too, with their code in "error".
nlohmann::json Invalid(const std::string& type, nlohmann::json loc, const std::string& msg,
                       nlohmann::json input = nullptr) {
    return {{"type", type}, {"loc", std::move(loc)}, {"msg", msg}, {"input", std::move(input)}};
}

HttpResponse MissingField(const std::string& field) {
    return HttpResponse::Json(
        422, {{"detail",
               nlohmann::json::array({Invalid("missing", {"body", field}, "Field required")})}});
}

// A value only goes back when it is small: a number, a boolean, null or a string of at most 64
// characters (a body may be megabytes of one string, array or object).
nlohmann::json EchoedInput(const nlohmann::json& value) {
    constexpr std::size_t kMaxEchoedChars = 64;
    const bool small =
        value.is_number() || value.is_boolean() || value.is_null() ||
        (value.is_string() && value.get_ref<const std::string&>().size() <= kMaxEchoedChars);
    return small ? value : nlohmann::json(nullptr);
}

HttpResponse NotAString(const std::string& field, const nlohmann::json& value) {
    return HttpResponse::Json(
        422, {{"detail", nlohmann::json::array(
                             {Invalid("string_type", {"body", field},
                                      "Input should be a valid string", EchoedInput(value))})}});
}

HttpResponse NotAnObject(const nlohmann::json& value) {
    return HttpResponse::Json(
        422, {{"detail", nlohmann::json::array({Invalid(
                             "model_attributes_type", {"body"},
                             "Input should be a valid dictionary or object to extract fields from",
                             EchoedInput(value))})}});
}

// liveproof's own refusals of an image (no face, several), in the same list shape.
HttpResponse ImageRefused(const std::string& code, const std::string& msg) {
    return HttpResponse::Json(
        422, {{"error", code},
              {"detail", nlohmann::json::array({Invalid(code, {"body", "image_base64"}, msg)})}});
}

// FastAPI's 422 for a body that is not JSON (B's framework answers it before B's code runs).
HttpResponse InvalidJson(const std::string& why) {
    return HttpResponse::Json(
        422, {{"detail", nlohmann::json::array({{{"type", "json_invalid"},
                                                 {"loc", {"body", 0}},
                                                 {"msg", "JSON decode error"},
                                                 {"input", nlohmann::json::object()},
                                                 {"ctx", {{"error", why}}}}})}});
}

// B's ValueError handler shape.
HttpResponse BadRequest(const std::string& detail) {
    return HttpResponse::Json(400, {{"error", "Bad Request"}, {"detail", detail}});
}

HttpResponse Liveness(ServerContext& ctx, const HttpRequest& req,
                      const std::vector<std::uint8_t>& image) {
    auto result = ctx.engine->Analyze(image, AnalyzeOptions::PassiveOnly());
    if (!result) {
        CountEngineError(ctx, result.error(), "image");
        const int status = HttpStatusFor(result.error().code);
        if (status == 400 || status == 415) return BadRequest(result.error().detail);
        return ErrorResponse(result.error());
    }
    ObserveStages(ctx, result->timings_ms);
    if (result->faces.empty()) {
        return ImageRefused("no_face", "No face detected in the image.");
    }
    if (result->faces.size() > 1) {
        return ImageRefused("multiple_faces",
                            std::to_string(result->faces.size()) +
                                " faces detected; the image must show exactly one face.");
    }
    const float p_real = result->faces[0].antispoof->p_real;
    const bool needs_active = p_real < ctx.config.confidence_threshold;
    // B's clients follow upload_url as it is: absolute, as B's was.
    const std::string upload_url = PublicBaseUrl(req, ctx.config) + "/active/blink";
    nlohmann::json body = {
        {"liveness_label", p_real >= ctx.config.engine.liveness_threshold ? "real" : "fake"},
        {"confidence_score", p_real},
        {"requires_active_check", needs_active},
        {"fallback", needs_active
                         ? nlohmann::json{{"challenge_type", "blink"}, {"upload_url", upload_url}}
                         : nlohmann::json(nullptr)},
    };
    return HttpResponse::Json(200, body);
}

HttpResponse BlinkAnswer(ServerContext& ctx, const Expected<BlinkAnalysis>& result) {
    if (!result) {
        CountEngineError(ctx, result.error(), "video");
        return ErrorResponse(result.error());
    }
    ObserveStages(ctx, result->timings_ms);
    nlohmann::json full = BlinkAnalysisToJson(*result);
    full.erase("frames");  // per-frame detail stays in the CLI; the answer stays small
    full.erase("timings_ms");
    nlohmann::json body = {{"active_passed", result->passed}};
    body["reason"] = full["reason"];
    body["blinks"] = full["blinks"];
    body["blink_count"] = full["blink_count"];
    body["frames_analysed"] = result->frames_decoded;
    body["frames_with_face"] = result->frames_with_face;
    body["passive"] = full["passive"];
    return HttpResponse::Json(200, body);
}

// The blink check run in slices (a clip never holds a worker for long); the video is opened in
// the first slice, on the worker.
SliceStep BlinkInSlices(ServerContext& ctx, std::vector<std::uint8_t> video) {
    auto job = std::make_shared<std::unique_ptr<BlinkVideoJob>>();
    return [&ctx, job, video = std::move(video)](
               std::chrono::steady_clock::time_point until) mutable -> std::optional<HttpResponse> {
        if (!*job) {
            auto started = ctx.engine->StartBlinkVideo(video);
            if (!started) return BlinkAnswer(ctx, Unexpected{started.error()});
            *job = std::move(*started);
            video = {};  // the job holds its own copy
        }
        if (!(*job)->Step(until)) return std::nullopt;
        return BlinkAnswer(ctx, (*job)->Result());
    };
}

// POST /liveness: B's JSON body with the base64 image, judged.
HttpResponse LivenessRequest(ServerContext& ctx, const HttpRequest& req) {
    auto j = ParseJson(req.body);
    if (!j) return InvalidJson(j.error().detail);
    if (!j->is_object()) return NotAnObject(*j);
    // B's schema says image_base64; its README and tests send image: accept both.
    const bool b64_usable = j->contains("image_base64") && !(*j)["image_base64"].is_null();
    const auto field = b64_usable ? "image_base64" : "image";
    if (!j->contains(field)) return MissingField("image_base64");
    if (!(*j)[field].is_string()) return NotAString(field, (*j)[field]);
    auto image = DecodeImageField((*j)[field], ctx.config.engine.limits.max_image_bytes);
    if (!image) {
        return image.error().code == ErrorCode::InputTooLarge ? ErrorResponse(image.error())
                                                              : BadRequest(image.error().detail);
    }
    return Liveness(ctx, req, *image);
}

}  // namespace

void AddSystemBRoutes(Router& router, ServerContext& ctx) {
    router.Add({"POST", "/liveness", "b_liveness", Door::SystemB, BodyClass::Json,
                [&ctx](HttpRequest&& req, Reply reply) {
                    // Parsed and decoded on the worker, once admitted: a full queue refuses a
                    // request before any of its work is done.
                    RunOnWorker(ctx, std::move(reply),
                                [&ctx, req = std::move(req)] { return LivenessRequest(ctx, req); });
                }});
    router.Add({"POST", "/active/blink", "b_active_blink", Door::SystemB, BodyClass::Video,
                [&ctx](HttpRequest&& req, Reply reply) {
                    auto video = MultipartField(req, {"video"});
                    if (!video) {
                        // FastAPI: a body that is not a form has no field (422 missing); a
                        // multipart body it cannot parse (no boundary, cut short) is 400.
                        const bool not_a_form = MediaType(req).rfind("multipart/", 0) != 0;
                        const ErrorCode code = video.error().code;
                        if (not_a_form || code == ErrorCode::InvalidArgument) {
                            reply(MissingField("video"));
                        } else if (code == ErrorCode::InputTooLarge) {
                            reply(ErrorResponse(video.error()));
                        } else {
                            reply(HttpResponse::Json(
                                400, {{"detail", "There was an error parsing the body"}}));
                        }
                        return;
                    }
                    RunInSlices(ctx, std::move(reply), BlinkInSlices(ctx, std::move(*video)));
                }});
}

}  // namespace liveproof::server::api
