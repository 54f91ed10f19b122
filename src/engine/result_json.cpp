// Field names follow system C's face objects (docs/compat.md §3.3) so the same object serves both.
#include "engine/result_json.hpp"

#include <cmath>

namespace liveproof {

namespace {

using nlohmann::json;

json Pt(const Point2& p) { return {{"x", p.x}, {"y", p.y}}; }

template <typename T>
json OrNull(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}

json Eye(const std::optional<EyeResult>& e) {
    if (!e) return nullptr;
    json contour = json::array();
    for (const auto& p : e->contour) contour.push_back(Pt(p));
    return {{"ear", e->ear},
            {"closed", e->closed},
            {"iris_center", Pt(e->iris_center)},
            {"contour", contour}};
}

json Timings(const std::map<std::string, double>& t) {
    json out = json::object();
    for (const auto& [k, v] : t) out[k] = std::round(v * 1000.0) / 1000.0;
    return out;
}

}  // namespace

PixelBox RoundedBox(const FaceResult& f) {
    return {static_cast<int>(std::lround(f.x1)), static_cast<int>(std::lround(f.y1)),
            static_cast<int>(std::lround(f.x2)), static_cast<int>(std::lround(f.y2))};
}

json FaceToJson(const FaceResult& f) {
    json j;
    const PixelBox box = RoundedBox(f);
    j["x1"] = box.x1;
    j["y1"] = box.y1;
    j["x2"] = box.x2;
    j["y2"] = box.y2;
    j["detection_score"] = f.score;
    j["liveness"] = f.antispoof ? json(f.antispoof->p_real) : json(nullptr);
    j["yaw"] = f.pose ? json(f.pose->yaw) : json(nullptr);
    j["roll"] = f.pose ? json(f.pose->roll) : json(nullptr);
    j["pitch"] = f.pose ? json(f.pose->pitch) : json(nullptr);
    j["face_quality"] = OrNull(f.quality);
    j["face_luminance"] = f.luminance;
    j["eye_dist"] = f.eye_dist;
    // "left" follows the iBUG/dlib naming: the image-left eye (the subject's right).
    j["left_eye_closed"] = f.eye_image_left ? json(f.eye_image_left->closed) : json(nullptr);
    j["right_eye_closed"] = f.eye_image_right ? json(f.eye_image_right->closed) : json(nullptr);
    j["face_occlusion"] = OrNull(f.occlusion);
    j["mouth_opened"] = OrNull(f.mouth_opened);
    json lm = json::array();
    for (const auto& p : f.landmark_68) lm.push_back(Pt(p));
    j["landmark_68"] = lm;
    j["keypoints"] = {{"right_eye", Pt(f.keypoints.right_eye)},
                      {"left_eye", Pt(f.keypoints.left_eye)},
                      {"nose", Pt(f.keypoints.nose)},
                      {"right_mouth", Pt(f.keypoints.right_mouth)},
                      {"left_mouth", Pt(f.keypoints.left_mouth)}};
    j["box"] = {{"x", f.x1}, {"y", f.y1}, {"w", f.x2 - f.x1}, {"h", f.y2 - f.y1}};
    j["is_boundary"] = f.is_boundary;
    j["is_small"] = f.is_small;
    j["sharpness"] = OrNull(f.sharpness);
    j["mouth_ratio"] = OrNull(f.mouth_ratio);
    j["mesh_presence"] = OrNull(f.mesh_presence);
    j["eyes"] = {{"image_left", Eye(f.eye_image_left)}, {"image_right", Eye(f.eye_image_right)}};
    if (f.antispoof) {
        j["antispoof"] = {{"p_real", f.antispoof->p_real},
                          {"label", f.antispoof->label},
                          {"minifasnet_v2", f.antispoof->v2_probs},
                          {"minifasnet_v1se", f.antispoof->v1se_probs}};
    } else {
        j["antispoof"] = nullptr;
    }
    if (!f.mesh.empty()) {
        json mesh = json::array();
        for (const auto& p : f.mesh) mesh.push_back(Pt(p));
        j["mesh_468"] = mesh;
    }
    return j;
}

json ImageAnalysisToJson(const ImageAnalysis& a) {
    json faces = json::array();
    for (const auto& f : a.faces) faces.push_back(FaceToJson(f));
    return {{"width", a.width},
            {"height", a.height},
            {"exif_orientation", a.exif_orientation},
            {"detector", a.detector},
            {"face_count", a.faces.size()},
            {"faces", faces},
            {"timings_ms", Timings(a.timings_ms)}};
}

json BlinkAnalysisToJson(const BlinkAnalysis& a) {
    json blinks = json::array();
    for (const auto& b : a.blinks)
        blinks.push_back({{"start_frame", b.start_frame}, {"end_frame", b.end_frame}});
    json frames = json::array();
    for (const auto& f : a.frames) {
        frames.push_back({{"frame", f.frame},
                          {"face", f.face},
                          {"openness", f.openness},
                          {"ear_left", f.ear_left},
                          {"ear_right", f.ear_right}});
    }
    return {{"passed", a.passed},
            {"reason", a.reason.empty() ? json(nullptr) : json(a.reason)},
            {"blinks", blinks},
            {"blink_count", a.blinks.size()},
            {"frames_decoded", a.frames_decoded},
            {"frames_with_face", a.frames_with_face},
            {"frames_multi_face", a.frames_multi_face},
            {"track_breaks", a.track_breaks},
            {"fps", a.fps},
            {"passive",
             {{"frames_scored", a.passive.frames_scored},
              {"mean_p_real", a.passive.mean_p_real},
              {"min_p_real", a.passive.min_p_real},
              {"real_fraction", a.passive.real_fraction},
              {"spoof", a.passive.spoof}}},
            {"frames", frames},
            {"timings_ms", Timings(a.timings_ms)}};
}

json ErrorToJson(const Error& e) {
    return {{"error", std::string(ErrorCodeName(e.code))}, {"detail", e.detail}};
}

}  // namespace liveproof
