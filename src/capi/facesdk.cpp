// System C's SDK ABI (include/liveproof/facesdk.h) over liveproof's engine and licence check.
// C's ABI has no handles, so the library keeps one engine and one licence state per process.
#include "liveproof/facesdk.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "common/json_text.hpp"
#include "engine/result_json.hpp"
#include "licence/licence.hpp"
#include "liveproof/engine.hpp"

namespace {

using liveproof::Engine;
using liveproof::FaceResult;
using liveproof::licence::LicenceStatus;

// C's app treats the result as final: a threshold of the newer rewrite's /api/liveness.
constexpr float kRewritePassScore = 0.5f;

// The process-wide SDK state. The engine is a shared_ptr so that a call in flight keeps the
// engine it started with while another thread runs initSDK with a new folder.
struct Sdk {
    std::mutex mutex;
    std::shared_ptr<const Engine> engine;
    std::string model_dir;
    std::unique_ptr<liveproof::licence::LicenceState> licence;
    std::string machine_code;
};

Sdk& State() {
    static Sdk sdk;
    static std::once_flag once;
    std::call_once(once, [] {
        const char* key = std::getenv("LIVEPROOF_LICENCE_PUBLIC_KEY");
        sdk.licence = std::make_unique<liveproof::licence::LicenceState>(key ? key : "", "");
        sdk.machine_code = liveproof::licence::MachineCode();
    });
    return sdk;
}

// Every ABI function's body: an exception (a bug, or out of memory) becomes a code.
template <typename F>
int Guarded(F&& body) noexcept {
    try {
        return body();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "facesdk: unexpected error: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "facesdk: unexpected error\n");
    }
    return SDK_INTERNAL_ERROR;
}

bool HasManifest(const std::string& dir) {
    struct stat st {};
    return !dir.empty() && ::stat((dir + "/MANIFEST").c_str(), &st) == 0;
}

// C's apps pass their own model folder ("data"); liveproof's models live elsewhere.
std::string ResolveModelDir(const char* given) {
    if (given != nullptr && HasManifest(given)) return given;
    if (const char* env = std::getenv("LIVEPROOF_MODEL_DIR"); env != nullptr && *env != '\0') {
        return env;
    }
    return LIVEPROOF_INSTALLED_MODEL_DIR;
}

int Init(const char* model_path) {
    Sdk& sdk = State();
    const std::string dir = ResolveModelDir(model_path);
    std::lock_guard lock(sdk.mutex);
    if (!sdk.engine || sdk.model_dir != dir) {
        liveproof::EngineOptions options;
        options.model_dir = dir;
        auto engine = Engine::Create(options);
        if (!engine) {
            std::fprintf(stderr, "facesdk: initSDK(%s): %s\n", dir.c_str(),
                         engine.error().detail.c_str());
            return SDK_INIT_ERROR;
        }
        sdk.engine = std::move(*engine);
        sdk.model_dir = dir;
    }
    return sdk.licence->Activated() ? SDK_SUCCESS : SDK_NO_ACTIVATED;
}

// The engine for one call, or the negative code that refuses it.
int UsableEngine(std::shared_ptr<const Engine>& out) {
    Sdk& sdk = State();
    {
        std::lock_guard lock(sdk.mutex);
        out = sdk.engine;
    }
    if (!out) return SDK_INIT_ERROR;
    return sdk.licence->Activated() ? SDK_SUCCESS : SDK_NO_ACTIVATED;
}

int Activate(const std::string& licence) {
    switch (State().licence->Activate(licence)) {
        case LicenceStatus::Ok:
            return SDK_SUCCESS;
        case LicenceStatus::Expired:
            return SDK_LICENSE_EXPIRED;
        case LicenceStatus::Invalid:
            break;
    }
    return SDK_LICENSE_KEY_ERROR;
}

// The same numbers the REST door's faces carry (POST /liveness-detection): boxes rounded to
// the nearest pixel, a stage that did not run as 0.
void FillFaceBox(const FaceResult& f, FaceBox& box) {
    box = FaceBox{};
    const liveproof::PixelBox rounded = liveproof::RoundedBox(f);
    box.x1 = rounded.x1;
    box.y1 = rounded.y1;
    box.x2 = rounded.x2;
    box.y2 = rounded.y2;
    box.liveness = f.antispoof ? f.antispoof->p_real : 0.f;
    if (f.pose) {
        box.yaw = f.pose->yaw;
        box.roll = f.pose->roll;
        box.pitch = f.pose->pitch;
    }
    box.face_quality = f.quality.value_or(0.f);
    box.face_luminance = f.luminance;
    box.eye_dist = f.eye_dist;
    box.left_eye_closed = f.eye_image_left ? f.eye_image_left->closed : 0.f;
    box.right_eye_closed = f.eye_image_right ? f.eye_image_right->closed : 0.f;
    box.face_occlusion = f.occlusion.value_or(0.f);
    box.mouth_opened = f.mouth_opened.value_or(0.f);
    const std::size_t points = std::min<std::size_t>(f.landmark_68.size(), 68);
    for (std::size_t i = 0; i < points; ++i) {
        box.landmark_68[2 * i] = f.landmark_68[i].x;
        box.landmark_68[2 * i + 1] = f.landmark_68[i].y;
    }
}

int Detect(const unsigned char* rgb, int width, int height, FaceBox* boxes, int count) {
    if (rgb == nullptr || width <= 0 || height <= 0 || count < 0 || (boxes == nullptr && count > 0))
        return SDK_PARAM_ERROR;
    std::shared_ptr<const Engine> engine;
    if (const int refused = UsableEngine(engine); refused != SDK_SUCCESS) return refused;
    const auto& limits = engine->options().limits;
    if (width > limits.max_image_side || height > limits.max_image_side ||
        std::uint64_t(width) * std::uint64_t(height) > limits.max_image_pixels)
        return SDK_PARAM_ERROR;
    // C's buffer is packed RGB; the engine reads BGR.
    const cv::Mat in(height, width, CV_8UC3, const_cast<unsigned char*>(rgb));
    cv::Mat bgr;
    cv::cvtColor(in, bgr, cv::COLOR_RGB2BGR);
    auto a = engine->AnalyzeBgr(bgr.data, width, height, bgr.step);
    if (!a) {
        std::fprintf(stderr, "facesdk: faceDetection: %s\n", a.error().detail.c_str());
        return a.error().code == liveproof::ErrorCode::Internal ? SDK_INTERNAL_ERROR
                                                                : SDK_PARAM_ERROR;
    }
    const int n = std::min(count, static_cast<int>(a->faces.size()));
    for (int i = 0; i < n; ++i) FillFaceBox(a->faces[static_cast<std::size_t>(i)], boxes[i]);
    return n;
}

int LivenessAll(const char* bytes, int len, char* out) {
    if (bytes == nullptr || len <= 0 || out == nullptr) return SDK_PARAM_ERROR;
    std::shared_ptr<const Engine> engine;
    if (const int refused = UsableEngine(engine); refused != SDK_SUCCESS) return refused;
    const auto* data = reinterpret_cast<const std::uint8_t*>(bytes);
    liveproof::AnalyzeOptions what;
    what.eyes = false;  // the score is all the rewrite reports
    what.mouth = false;
    auto a = engine->Analyze({data, static_cast<std::size_t>(len)}, what);
    if (!a) {
        std::fprintf(stderr, "facesdk: FaceSDK_liveness_all: %s\n", a.error().detail.c_str());
        return a.error().code == liveproof::ErrorCode::Internal ? SDK_INTERNAL_ERROR
                                                                : SDK_IMAGE_ERROR;
    }
    const bool face = !a->faces.empty() && a->faces[0].antispoof.has_value();
    const float score = face ? a->faces[0].antispoof->p_real : 0.f;
    const std::string text = liveproof::ToJsonText(nlohmann::json{
        {"score", score},
        {"result", !face ? "No face" : (score >= kRewritePassScore ? "Real" : "Spoof")},
        {"pass", face && score >= kRewritePassScore},
        {"face_count", a->faces.size()}});
    if (text.size() + 1 > FACESDK_JSON_BUFFER) return SDK_BUFFER_TOO_SMALL;
    std::memcpy(out, text.c_str(), text.size() + 1);
    return SDK_SUCCESS;
}

}  // namespace

extern "C" {

const char* getMachineCode(void) {
    try {
        return State().machine_code.c_str();
    } catch (...) {
        return "";
    }
}

int setActivation(char* license) {
    return Guarded(
        [&]() -> int { return license == nullptr ? SDK_PARAM_ERROR : Activate(license); });
}

int initSDK(char* modelPath) {
    return Guarded([&]() -> int { return Init(modelPath); });
}

int faceDetection(unsigned char* rgbData, int width, int height, FaceBox* faceBoxes,
                  int faceBoxCount) {
    return Guarded(
        [&]() -> int { return Detect(rgbData, width, height, faceBoxes, faceBoxCount); });
}

int FaceSDK_initSDK(void) {
    return Guarded([]() -> int { return Init(nullptr); });
}

int FaceSDK_activate(const char* license_path) {
    return Guarded([&]() -> int {
        if (license_path == nullptr) return SDK_PARAM_ERROR;
        const auto text = liveproof::licence::ReadLicenceFile(license_path);
        return text ? Activate(*text) : SDK_LICENSE_KEY_ERROR;
    });
}

int FaceSDK_getMachineCode(char* buf) {
    return Guarded([&]() -> int {
        if (buf == nullptr) return SDK_PARAM_ERROR;
        const std::string& code = State().machine_code;
        if (code.size() + 1 > FACESDK_MACHINE_CODE_BUFFER) return SDK_BUFFER_TOO_SMALL;
        std::memcpy(buf, code.c_str(), code.size() + 1);
        return SDK_SUCCESS;
    });
}

int FaceSDK_liveness_all(const char* jpeg, int len, char* out_json) {
    return Guarded([&]() -> int { return LivenessAll(jpeg, len, out_json); });
}

}  // extern "C"
