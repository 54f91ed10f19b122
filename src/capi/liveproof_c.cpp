// The C API over the C++ engine: handles, plain structs, status codes; no exception crosses it.
#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <string>

#include "challenge/a_protocol.hpp"
#include "common/json_text.hpp"
#include "engine/result_json.hpp"
#include "liveproof/challenge_config.hpp"
#include "liveproof/challenge_run.hpp"
#include "liveproof/engine.hpp"
#include "liveproof/face_stream.hpp"
#include "liveproof/liveproof.h"
#include "liveproof/version.hpp"

using liveproof::AnalyzeOptions;
using liveproof::ErrorCode;
using liveproof::FaceResult;

struct lp_engine {
    std::unique_ptr<liveproof::Engine> engine;
};

struct lp_stream {
    lp_stream(const liveproof::Engine& e, liveproof::StreamOptions o) : stream(e, o) {}
    liveproof::FaceStream stream;
};

struct lp_challenge {
    std::optional<liveproof::active::ChallengeRun> run;
    double now = 0;          // the session's clock: the t_seconds of the last call
    std::string last_reply;  // A's last message, for lp_challenge_last_reply
};

namespace {

thread_local std::string last_error;

lp_status Fail(lp_status status, std::string detail) {
    last_error = std::move(detail);
    return status;
}

lp_status FromError(const liveproof::Error& e) {
    return Fail(static_cast<lp_status>(static_cast<int>(e.code)), e.detail);
}

// The body of every API function: a thrown exception (a bug, or out of memory) is a status.
template <typename F>
lp_status Guarded(F&& body) noexcept {
    try {
        last_error.clear();
        return body();
    } catch (const std::bad_alloc&) {
        return Fail(LP_E_INTERNAL, "out of memory");
    } catch (const std::exception& e) {
        return Fail(LP_E_INTERNAL, std::string("unexpected error: ") + e.what());
    } catch (...) {
        return Fail(LP_E_INTERNAL, "unexpected error");
    }
}

#define LP_REQUIRE(cond, what)                                                 \
    do {                                                                       \
        if (!(cond)) return Fail(LP_E_NULL_POINTER, what " must not be NULL"); \
    } while (0)

// A caller struct must be at least as large as the version of it this library knows.
template <typename T>
bool SizeOk(const T* p) {
    return p->struct_size >= sizeof(T);
}

lp_status WriteText(const std::string& text, char* out, std::size_t out_size, std::size_t* needed) {
    if (needed) *needed = text.size() + 1;
    if (out == nullptr || out_size < text.size() + 1) {
        if (out != nullptr && out_size > 0) out[0] = '\0';
        return Fail(LP_E_BUFFER_TOO_SMALL, "the buffer holds " + std::to_string(out_size) +
                                               " bytes; " + std::to_string(text.size() + 1) +
                                               " are needed");
    }
    std::memcpy(out, text.data(), text.size());
    out[text.size()] = '\0';
    return LP_OK;
}

AnalyzeOptions OptionsFrom(const lp_analysis* what) {
    AnalyzeOptions o;
    if (what == nullptr) return o;
    o.antispoof = what->antispoof != 0;
    o.pose = what->pose != 0;
    o.eyes = what->eyes != 0;
    o.quality = what->quality != 0;
    o.mouth = false;
    // lp_face carries no landmarks: the mesh runs only for what derives from it, so an
    // antispoof-only call is the passive path (B's), not passive plus a 4 ms mesh.
    o.mesh = false;
    return o;
}

void FillFace(const FaceResult& f, float threshold, lp_face& out) {
    out = lp_face{};
    out.x1 = f.x1;
    out.y1 = f.y1;
    out.x2 = f.x2;
    out.y2 = f.y2;
    out.score = f.score;
    out.eye_dist = f.eye_dist;
    out.is_small = f.is_small;
    out.is_boundary = f.is_boundary;
    out.luminance = f.luminance;
    if (f.pose) {
        out.has_pose = 1;
        out.yaw = f.pose->yaw;
        out.pitch = f.pose->pitch;
        out.roll = f.pose->roll;
    }
    if (f.antispoof) {
        out.has_p_real = 1;
        out.p_real = f.antispoof->p_real;
        out.is_real = f.antispoof->p_real >= threshold;
    }
    if (f.eye_image_left && f.eye_image_right) {
        out.has_eyes = 1;
        out.eyes_closed = (f.eye_image_left->closed + f.eye_image_right->closed) / 2;
    }
    if (f.quality) {
        out.has_quality = 1;
        out.quality = *f.quality;
        out.sharpness = f.sharpness.value_or(0);
        out.occlusion = f.occlusion.value_or(0);
    }
}

void FillImage(const liveproof::ImageAnalysis& a, float threshold, lp_image_result& out) {
    const uint32_t size = out.struct_size;
    std::memset(&out, 0, sizeof(out));
    out.struct_size = size;
    out.width = a.width;
    out.height = a.height;
    out.face_count = static_cast<int32_t>(a.faces.size());
    const std::size_t n = std::min<std::size_t>(a.faces.size(), LP_MAX_FACES);
    for (std::size_t i = 0; i < n; ++i) FillFace(a.faces[i], threshold, out.faces[i]);
}

// Raw pixels as the engine takes them (8-bit BGR); converted into `converted` when needed.
lp_status ToBgr(const uint8_t* pixels, int32_t width, int32_t height, std::size_t stride,
                lp_pixel_format format, cv::Mat& converted, const unsigned char** bgr,
                std::size_t* bgr_stride) {
    if (width <= 0 || height <= 0)
        return Fail(LP_E_INVALID_ARGUMENT, "width and height must be > 0");
    const int channels = (format == LP_PIXEL_BGR || format == LP_PIXEL_RGB) ? 3 : 4;
    if (format < LP_PIXEL_BGR || format > LP_PIXEL_RGBA)
        return Fail(LP_E_INVALID_ARGUMENT, "unknown pixel format");
    if (stride < static_cast<std::size_t>(width) * static_cast<std::size_t>(channels))
        return Fail(LP_E_INVALID_ARGUMENT, "stride is shorter than a row of pixels");
    if (std::int64_t{width} * height > 40'000'000)
        return Fail(LP_E_IMAGE_TOO_LARGE, "more than 40 million pixels");
    if (format == LP_PIXEL_BGR) {
        *bgr = pixels;
        *bgr_stride = stride;
        return LP_OK;
    }
    const cv::Mat in(height, width, channels == 3 ? CV_8UC3 : CV_8UC4, const_cast<uint8_t*>(pixels),
                     stride);
    const int code = format == LP_PIXEL_RGB    ? cv::COLOR_RGB2BGR
                     : format == LP_PIXEL_BGRA ? cv::COLOR_BGRA2BGR
                                               : cv::COLOR_RGBA2BGR;
    cv::cvtColor(in, converted, code);
    *bgr = converted.data;
    *bgr_stride = converted.step;
    return LP_OK;
}

void FillObservation(const liveproof::StreamObservation& o, float threshold, lp_observation& out) {
    const uint32_t size = out.struct_size;
    std::memset(&out, 0, sizeof(out));
    out.struct_size = size;
    out.face_count = o.face_count;
    out.tracked = o.tracked;
    out.face_jump = o.face_jump;
    if (o.face) {
        out.has_face = 1;
        FillFace(*o.face, threshold, out.face);
    }
}

liveproof::StreamOptions StreamDefaults(const liveproof::Engine& e, bool eyes) {
    liveproof::StreamOptions o;
    o.eyes = eyes;
    o.liveness_threshold = e.options().liveness_threshold;
    return o;
}

}  // namespace

extern "C" {

const char* lp_error_message(lp_status status) {
    switch (status) {
        case LP_OK:
            return "ok";
        case LP_E_INVALID_ARGUMENT:
            return "invalid argument";
        case LP_E_EMPTY_INPUT:
            return "empty input";
        case LP_E_INPUT_TOO_LARGE:
            return "input too large";
        case LP_E_INVALID_ENCODING:
            return "invalid encoding";
        case LP_E_INVALID_JSON:
            return "invalid JSON";
        case LP_E_TIME_BUDGET_EXCEEDED:
            return "time budget exceeded";
        case LP_E_UNSUPPORTED_FORMAT:
            return "unsupported image format";
        case LP_E_IMAGE_TOO_LARGE:
            return "image too large";
        case LP_E_CORRUPT_IMAGE:
            return "corrupt image";
        case LP_E_VIDEO_UNSUPPORTED:
            return "unsupported video format";
        case LP_E_VIDEO_TOO_LARGE:
            return "video too large";
        case LP_E_VIDEO_TOO_LONG:
            return "video too long";
        case LP_E_VIDEO_UNDECODABLE:
            return "video undecodable";
        case LP_E_MODEL_MISSING:
            return "model missing";
        case LP_E_MODEL_CORRUPT:
            return "model corrupt";
        case LP_E_MANIFEST_INVALID:
            return "model manifest invalid";
        case LP_E_NULL_POINTER:
            return "null pointer";
        case LP_E_BAD_STRUCT_SIZE:
            return "struct_size too small (built against another version?)";
        case LP_E_BUFFER_TOO_SMALL:
            return "buffer too small";
        case LP_E_INTERNAL:
            return "internal error";
        case LP_STATUS_FORCE_INT:
            break;
    }
    return "unknown status";
}

const char* lp_last_error(void) { return last_error.c_str(); }

const char* lp_version(void) { return LIVEPROOF_VERSION_STRING; }

void lp_engine_options_init(lp_engine_options* o) {
    if (o == nullptr) return;
    *o = lp_engine_options{};
    o->struct_size = sizeof(lp_engine_options);
    o->detect_max_side = 320;
    o->liveness_threshold = 0.5f;
    o->max_faces = 10;
}

lp_status lp_engine_create(const lp_engine_options* options, lp_engine** engine) {
    return Guarded([&] {
        LP_REQUIRE(engine, "engine");
        *engine = nullptr;
        LP_REQUIRE(options, "options");
        if (!SizeOk(options)) return Fail(LP_E_BAD_STRUCT_SIZE, "lp_engine_options.struct_size");
        liveproof::EngineOptions eo;
        if (options->model_dir != nullptr) {
            eo.model_dir = options->model_dir;
        } else if (const char* env = std::getenv("LIVEPROOF_MODEL_DIR")) {
            eo.model_dir = env;
        }
        if (eo.model_dir.empty())
            return Fail(LP_E_INVALID_ARGUMENT, "no model_dir and LIVEPROOF_MODEL_DIR is unset");
        eo.workers = options->workers;
        eo.detect_max_side = options->detect_max_side;
        eo.max_faces = options->max_faces;
        if (!(options->liveness_threshold >= 0 && options->liveness_threshold <= 1))
            return Fail(LP_E_INVALID_ARGUMENT, "liveness_threshold must be in 0..1");
        eo.liveness_threshold = options->liveness_threshold;
        auto e = liveproof::Engine::Create(eo);
        if (!e) return FromError(e.error());
        *engine = new lp_engine{std::move(*e)};
        return LP_OK;
    });
}

void lp_engine_destroy(lp_engine* engine) { delete engine; }

void lp_analysis_init(lp_analysis* what) {
    if (what == nullptr) return;
    *what = lp_analysis{sizeof(lp_analysis), 1, 1, 1, 1};
}

lp_status lp_analyze_image(lp_engine* engine, const uint8_t* bytes, size_t size,
                           const lp_analysis* what, lp_image_result* result) {
    return Guarded([&] {
        LP_REQUIRE(engine, "engine");
        LP_REQUIRE(result, "result");
        LP_REQUIRE(bytes || size == 0, "bytes");
        if (!SizeOk(result)) return Fail(LP_E_BAD_STRUCT_SIZE, "lp_image_result.struct_size");
        if (what && !SizeOk(what)) return Fail(LP_E_BAD_STRUCT_SIZE, "lp_analysis.struct_size");
        auto a = engine->engine->Analyze({bytes, size}, OptionsFrom(what));
        if (!a) return FromError(a.error());
        FillImage(*a, engine->engine->options().liveness_threshold, *result);
        return LP_OK;
    });
}

lp_status lp_analyze_pixels(lp_engine* engine, const uint8_t* pixels, int32_t width, int32_t height,
                            size_t stride, lp_pixel_format format, const lp_analysis* what,
                            lp_image_result* result) {
    return Guarded([&] {
        LP_REQUIRE(engine, "engine");
        LP_REQUIRE(pixels, "pixels");
        LP_REQUIRE(result, "result");
        if (!SizeOk(result)) return Fail(LP_E_BAD_STRUCT_SIZE, "lp_image_result.struct_size");
        if (what && !SizeOk(what)) return Fail(LP_E_BAD_STRUCT_SIZE, "lp_analysis.struct_size");
        cv::Mat converted;
        const unsigned char* bgr = nullptr;
        std::size_t bgr_stride = 0;
        if (auto s = ToBgr(pixels, width, height, stride, format, converted, &bgr, &bgr_stride);
            s != LP_OK)
            return s;
        auto a = engine->engine->AnalyzeBgr(bgr, width, height, bgr_stride, OptionsFrom(what));
        if (!a) return FromError(a.error());
        FillImage(*a, engine->engine->options().liveness_threshold, *result);
        return LP_OK;
    });
}

lp_status lp_analyze_image_json(lp_engine* engine, const uint8_t* bytes, size_t size, char* json,
                                size_t json_size, size_t* needed) {
    return Guarded([&] {
        LP_REQUIRE(engine, "engine");
        LP_REQUIRE(bytes || size == 0, "bytes");
        auto a = engine->engine->Analyze({bytes, size});
        if (!a) return FromError(a.error());
        return WriteText(liveproof::ToJsonText(liveproof::ImageAnalysisToJson(*a)), json, json_size,
                         needed);
    });
}

lp_status lp_blink_video(lp_engine* engine, const uint8_t* bytes, size_t size,
                         lp_blink_result* result) {
    return Guarded([&] {
        LP_REQUIRE(engine, "engine");
        LP_REQUIRE(result, "result");
        LP_REQUIRE(bytes || size == 0, "bytes");
        if (!SizeOk(result)) return Fail(LP_E_BAD_STRUCT_SIZE, "lp_blink_result.struct_size");
        auto b = engine->engine->AnalyzeBlinkVideo({bytes, size});
        if (!b) return FromError(b.error());
        const uint32_t struct_size = result->struct_size;
        std::memset(result, 0, sizeof(*result));
        result->struct_size = struct_size;
        result->passed = b->passed;
        result->blink_count = static_cast<int32_t>(b->blinks.size());
        result->frames_decoded = b->frames_decoded;
        result->frames_with_face = b->frames_with_face;
        result->mean_p_real = b->passive.mean_p_real;
        std::strncpy(result->reason, b->reason.c_str(), sizeof(result->reason) - 1);
        return LP_OK;
    });
}

lp_status lp_stream_create(lp_engine* engine, int32_t eyes, lp_stream** stream) {
    return Guarded([&] {
        LP_REQUIRE(stream, "stream");
        *stream = nullptr;
        LP_REQUIRE(engine, "engine");
        *stream = new lp_stream(*engine->engine, StreamDefaults(*engine->engine, eyes != 0));
        return LP_OK;
    });
}

void lp_stream_destroy(lp_stream* stream) { delete stream; }

lp_status lp_stream_feed_image(lp_stream* stream, const uint8_t* bytes, size_t size,
                               double t_seconds, lp_observation* observation) {
    return Guarded([&] {
        LP_REQUIRE(stream, "stream");
        LP_REQUIRE(observation, "observation");
        LP_REQUIRE(bytes || size == 0, "bytes");
        if (!SizeOk(observation)) return Fail(LP_E_BAD_STRUCT_SIZE, "lp_observation.struct_size");
        const auto o = stream->stream.Feed({bytes, size}, t_seconds);
        if (o.error) return FromError(*o.error);
        FillObservation(o, stream->stream.options().liveness_threshold, *observation);
        return LP_OK;
    });
}

lp_status lp_stream_feed_pixels(lp_stream* stream, const uint8_t* pixels, int32_t width,
                                int32_t height, size_t stride, lp_pixel_format format,
                                double t_seconds, lp_observation* observation) {
    return Guarded([&] {
        LP_REQUIRE(stream, "stream");
        LP_REQUIRE(pixels, "pixels");
        LP_REQUIRE(observation, "observation");
        if (!SizeOk(observation)) return Fail(LP_E_BAD_STRUCT_SIZE, "lp_observation.struct_size");
        cv::Mat converted;
        const unsigned char* bgr = nullptr;
        std::size_t bgr_stride = 0;
        if (auto s = ToBgr(pixels, width, height, stride, format, converted, &bgr, &bgr_stride);
            s != LP_OK)
            return s;
        const auto o = stream->stream.FeedBgr(bgr, width, height, bgr_stride, t_seconds);
        if (o.error) return FromError(*o.error);
        FillObservation(o, stream->stream.options().liveness_threshold, *observation);
        return LP_OK;
    });
}

void lp_challenge_options_init(lp_challenge_options* o) {
    if (o == nullptr) return;
    const liveproof::challenge::ChallengeConfig d;
    *o = lp_challenge_options{};
    o->struct_size = sizeof(lp_challenge_options);
    o->challenges = "LEFT,RIGHT,UP,DOWN";
    o->required_successes = d.required_successes;
    o->challenge_timeout_s = d.challenge_timeout_s;
    o->session_timeout_s = d.session_timeout_s;
    o->max_wrong_attempts = d.max_wrong_attempts;
}

lp_status lp_challenge_create(lp_engine* engine, const lp_challenge_options* options,
                              lp_challenge** challenge) {
    return Guarded([&] {
        namespace ch = liveproof::challenge;
        LP_REQUIRE(challenge, "challenge");
        *challenge = nullptr;
        LP_REQUIRE(engine, "engine");
        LP_REQUIRE(options, "options");
        if (!SizeOk(options)) return Fail(LP_E_BAD_STRUCT_SIZE, "lp_challenge_options.struct_size");
        ch::ChallengeConfig c;
        auto allowed = ch::ParseChallengeList(options->challenges ? options->challenges : "");
        if (!allowed) return FromError(allowed.error());
        c.SetAllowed(std::move(*allowed));
        c.required_successes = options->required_successes;
        c.challenge_timeout_s = options->challenge_timeout_s;
        c.session_timeout_s = options->session_timeout_s;
        c.max_wrong_attempts = options->max_wrong_attempts;
        c.mirrored = options->mirrored != 0;
        auto out = std::make_unique<lp_challenge>();
        lp_challenge* raw = out.get();
        auto run = liveproof::active::ChallengeRun::Create(
            engine->engine.get(), c, StreamDefaults(*engine->engine, false),
            [raw] { return raw->now; }, [] { return randombytes_random(); });
        if (!run) return FromError(run.error());
        out->run.emplace(std::move(*run));
        *challenge = out.release();
        return LP_OK;
    });
}

void lp_challenge_destroy(lp_challenge* challenge) { delete challenge; }

namespace {

lp_status Reply(lp_challenge* c, const std::optional<liveproof::challenge::Event>& event,
                char* json, size_t json_size, size_t* needed) {
    c->last_reply = event ? liveproof::challenge::ToAText(*event) : std::string();
    return WriteText(c->last_reply, json, json_size, needed);
}

}  // namespace

lp_status lp_challenge_start(lp_challenge* challenge, double t_seconds, char* json,
                             size_t json_size, size_t* needed) {
    return Guarded([&] {
        LP_REQUIRE(challenge, "challenge");
        if (challenge->run->session().Started())
            return Fail(LP_E_INVALID_ARGUMENT, "already started");
        challenge->now = t_seconds;
        return Reply(challenge, challenge->run->Start(), json, json_size, needed);
    });
}

lp_status lp_challenge_feed_image(lp_challenge* challenge, const uint8_t* bytes, size_t size,
                                  double t_seconds, char* json, size_t json_size, size_t* needed) {
    return Guarded([&] {
        LP_REQUIRE(challenge, "challenge");
        LP_REQUIRE(bytes || size == 0, "bytes");
        liveproof::active::ChallengeRun& run = *challenge->run;
        if (!run.session().Started())
            return Fail(LP_E_INVALID_ARGUMENT, "call lp_challenge_start first");
        challenge->now = std::max(challenge->now, t_seconds);
        const auto event =
            run.Feed(liveproof::active::Frame::Encoded({bytes, size}), challenge->now);
        return Reply(challenge, event, json, json_size, needed);
    });
}

lp_status lp_challenge_tick(lp_challenge* challenge, double t_seconds, char* json, size_t json_size,
                            size_t* needed) {
    return Guarded([&] {
        LP_REQUIRE(challenge, "challenge");
        auto& run = *challenge->run;
        if (!run.session().Started())
            return Fail(LP_E_INVALID_ARGUMENT, "call lp_challenge_start first");
        challenge->now = std::max(challenge->now, t_seconds);
        return Reply(challenge, run.OnTick(), json, json_size, needed);
    });
}

lp_status lp_challenge_last_reply(const lp_challenge* challenge, char* json, size_t json_size,
                                  size_t* needed) {
    return Guarded([&] {
        LP_REQUIRE(challenge, "challenge");
        return WriteText(challenge->last_reply, json, json_size, needed);
    });
}

lp_challenge_state lp_challenge_get_state(const lp_challenge* challenge) {
    if (challenge == nullptr) return LP_CHALLENGE_FAILED;
    const auto st = challenge->run->session().CurrentState();
    if (st == liveproof::challenge::State::Complete) return LP_CHALLENGE_COMPLETE;
    if (st == liveproof::challenge::State::Failed) return LP_CHALLENGE_FAILED;
    return LP_CHALLENGE_RUNNING;
}

}  // extern "C"
