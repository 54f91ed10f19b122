// System C's Flask SDK front door (docs/compat.md §3, §4 "C"): same fields, strings and null rules.
#include <algorithm>
#include <cmath>

#include "engine/result_json.hpp"
#include "licence/licence.hpp"
#include "media/decode.hpp"
#include "server/api/api_common.hpp"
#include "server/api/routes.hpp"

namespace liveproof::server::api {

namespace {

using nlohmann::json;

// C's clients crop the pixels as stored (C never applies EXIF orientation): the box and the
// landmarks go back to the stored grid. The analysis itself ran upright, where the models work.
FaceResult InStoredGrid(FaceResult f, const ImageAnalysis& a) {
    if (a.exif_orientation <= 1 || a.exif_orientation > 8) return f;
    const bool turned = a.exif_orientation >= 5;  // width and height swapped
    const int w = turned ? a.height : a.width, h = turned ? a.width : a.height;
    const auto to_stored = [&](Point2 p) {
        return media::UprightToStored(p, a.exif_orientation, w, h);
    };
    const Point2 c1 = to_stored({f.x1, f.y1}), c2 = to_stored({f.x2, f.y2});
    f.x1 = std::min(c1.x, c2.x);
    f.x2 = std::max(c1.x, c2.x);
    f.y1 = std::min(c1.y, c2.y);
    f.y2 = std::max(c1.y, c2.y);
    for (Point2& p : f.landmark_68) p = to_stored(p);
    return f;
}

// Only C's own fields, in C's order: extra engine fields stay on the native endpoint.
json CFace(const FaceResult& upright, const ImageAnalysis& a) {
    const json full = FaceToJson(InStoredGrid(upright, a));
    json out;
    for (const char* key : {"x1", "y1", "x2", "y2", "liveness", "yaw", "roll", "pitch",
                            "face_quality", "face_luminance", "eye_dist", "left_eye_closed",
                            "right_eye_closed", "face_occlusion", "mouth_opened", "landmark_68"}) {
        out[key] = full.at(key);
    }
    return out;
}

json FaceState(const ImageAnalysis& a, const CompatCThresholds& t) {
    json s = {{"is_not_front", nullptr},  {"is_occluded", nullptr},      {"eye_closed", nullptr},
              {"mouth_opened", nullptr},  {"is_boundary_face", nullptr}, {"is_small", nullptr},
              {"quality", nullptr},       {"luminance", nullptr},        {"result", nullptr},
              {"liveness_score", nullptr}};
    if (a.faces.empty()) {
        s["result"] = "No face";
        return s;
    }
    if (a.faces.size() > 1) {
        s["result"] = "Multiple face";
        return s;
    }
    const FaceResult& f = a.faces[0];
    const float live = f.antispoof->p_real;
    const HeadPose p = f.pose.value_or(HeadPose{90, 90, 90});
    s["liveness_score"] = live;
    s["result"] = live > t.liveness ? "Real" : "Spoof";  // strict, as C
    s["is_not_front"] =
        !(std::abs(p.yaw) < t.angle && std::abs(p.roll) < t.angle && std::abs(p.pitch) < t.angle);
    s["is_occluded"] = f.occlusion.value_or(0.f) > t.occlusion;
    s["eye_closed"] =
        f.eye_image_left->closed > t.eye_closed || f.eye_image_right->closed > t.eye_closed;
    s["mouth_opened"] = f.mouth_opened.value_or(0.f) > t.mouth_open;
    // The engine's flags, with c_border_rate and c_small_eye_dist as their settings. (Fixed
    // rule: C compared x1 against both 0.95*W and 0.95*H; the engine checks every edge.)
    s["is_boundary_face"] = f.is_boundary;
    s["is_small"] = f.is_small;
    const float q = f.quality.value_or(0.f);
    s["quality"] = q < t.quality_low ? "Low" : (q < t.quality_high ? "Medium" : "High");
    s["luminance"] = f.luminance < t.luminance_dark
                         ? "Dark"
                         : (f.luminance < t.luminance_light ? "Normal" : "Light");
    return s;
}

// Flask's jsonify answers with this exact media type; some C clients compare it.
HttpResponse CJson(const json& j) {
    HttpResponse r = HttpResponse::Json(200, j);
    r.content_type = "application/json; charset=utf-8";
    return r;
}

HttpResponse FailedToOpen() {
    json s = FaceState(ImageAnalysis{}, CompatCThresholds{});
    s["result"] = "Failed to open file";
    return CJson({{"face_state", s}, {"faces", json::array()}});
}

HttpResponse Detect(ServerContext& ctx, const std::vector<std::uint8_t>& image) {
    auto a = ctx.engine->Analyze(image);
    if (!a) {
        CountEngineError(ctx, a.error(), "image");
        // C answers 200 "Failed to open file" for anything it cannot open; size caps (413) and
        // the time budget (422) keep the native answer.
        const int status = HttpStatusFor(a.error().code);
        return status == 413 || status == 422 ? ErrorResponse(a.error()) : FailedToOpen();
    }
    ObserveStages(ctx, a->timings_ms);
    json faces = json::array();
    for (const auto& f : a->faces) faces.push_back(CFace(f, *a));
    return CJson({{"face_state", FaceState(*a, ctx.config.compat_c)}, {"faces", faces}});
}

HttpResponse NotActivated() {
    return HttpResponse::Error(
        403, "not_activated",
        "this server needs a licence: POST /activate-machine with a licence for "
        "the code from GET /get-machine-code");
}

// One of C's detection doors: the image from a JSON base64 body or a multipart "file".
HttpResponse DetectRequest(ServerContext& ctx, const HttpRequest& req, bool base64) {
    Expected<std::vector<std::uint8_t>> image = std::vector<std::uint8_t>{};
    if (base64) {
        auto j = ParseJsonObject(req.body);
        if (!j) return HttpResponse::Error(400, "bad_request", "the body must be a JSON object");
        // C reads the field inside its try: a JSON body without it is "Failed to open file".
        if (!j->contains("base64")) return FailedToOpen();
        image = DecodeImageField((*j)["base64"], ctx.config.engine.limits.max_image_bytes);
        if (!image) {
            return image.error().code == ErrorCode::InputTooLarge ? ErrorResponse(image.error())
                                                                  : FailedToOpen();
        }
    } else {
        image = MultipartField(req, {"file"});
        if (!image) return HttpResponse::Error(400, "bad_request", image.error().detail);
    }
    return Detect(ctx, *image);
}

void AddDetection(Router& router, ServerContext& ctx, const std::string& path, bool base64) {
    router.Add({"POST", path, "c" + path, Door::SystemC,
                base64 ? BodyClass::Json : BodyClass::Image,
                [&ctx, base64](HttpRequest&& req, Reply reply) {
                    if (!ctx.licence->Activated()) {
                        reply(NotActivated());
                        return;
                    }
                    // Parsed and decoded on the worker, once admitted (see system_b.cpp).
                    RunOnWorker(ctx, std::move(reply), [&ctx, base64, req = std::move(req)] {
                        return DetectRequest(ctx, req, base64);
                    });
                }});
}

}  // namespace

void AddSystemCRoutes(Router& router, ServerContext& ctx) {
    AddDetection(router, ctx, "/liveness-detection", false);
    AddDetection(router, ctx, "/liveness-detection-base64", true);
    AddDetection(router, ctx, "/check_liveness", false);
    AddDetection(router, ctx, "/check_liveness_base64", true);
    router.Add({"GET", "/get-machine-code", "c_machine_code", Door::SystemC, BodyClass::Small,
                [](HttpRequest&&, Reply reply) {
                    reply(CJson({{"machineCode", licence::MachineCode()}}));
                }});
    router.Add({"POST", "/activate-machine", "c_activate", Door::Licence, BodyClass::Small,
                [&ctx](HttpRequest&& req, Reply reply) {
                    auto j = ParseJsonObject(req.body);
                    if (!j || !j->contains("license") || !(*j)["license"].is_string()) {
                        reply(HttpResponse::Error(400, "bad_request",
                                                  "JSON field 'license' (a string) is required"));
                        return;
                    }
                    const licence::LicenceStatus s =
                        ctx.licence->Activate((*j)["license"].get<std::string>());
                    const int init =
                        ctx.ready ? 0 : -5;  // SDK_INIT_ERROR when the engine is not up
                    // C answers a two-element array, camelCase keys.
                    reply(CJson(json::array(
                        {{{"activationStatus", static_cast<int>(s)}}, {{"initStatus", init}}})));
                }});
    AddSystemCEnvelopeRoutes(router, ctx);
}

}  // namespace liveproof::server::api
