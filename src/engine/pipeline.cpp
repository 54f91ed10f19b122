// Stage order per face: mesh -> pose / mouth / iris -> attributes -> anti-spoof.
#include "engine/pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "engine/stage_timer.hpp"
#include "vision/attributes.hpp"
#include "vision/head_pose.hpp"

namespace liveproof::engine {

namespace {

Point2 ToPoint(cv::Point2f p) { return {p.x, p.y}; }

EyeResult ToEye(const vision::IrisEye& eye, const AttributeOptions& a) {
    EyeResult r;
    r.ear = eye.ear;
    // Closed score rises as EAR falls from ear_open to ear_closed.
    r.closed = vision::Ramp(eye.ear, a.ear_open, a.ear_closed);
    for (std::size_t i = 0; i < eye.lids.size(); ++i) r.contour[i] = ToPoint(eye.lids[i]);
    r.iris_center = ToPoint(eye.iris_center);
    return r;
}

// A detection at the hint's place; only the box and the eyes seed the mesh crop, the other
// keypoints are average frontal positions.
vision::Detection DetectionFromHint(const TrackHint& h) {
    vision::Detection d;
    d.box = cv::Rect2f(h.x, h.y, h.w, h.h);
    d.kps[0] = cv::Point2f(h.right_eye.x, h.right_eye.y);
    d.kps[1] = cv::Point2f(h.left_eye.x, h.left_eye.y);
    d.kps[2] = cv::Point2f(h.x + h.w / 2, h.y + h.h * 0.6f);
    d.kps[3] = cv::Point2f(h.x + h.w * 0.35f, h.y + h.h * 0.78f);
    d.kps[4] = cv::Point2f(h.x + h.w * 0.65f, h.y + h.h * 0.78f);
    d.score = 1.0f;
    d.has_keypoints = true;
    return d;
}

// The copy the second detection pass looks at: luminance equalised locally (CLAHE on YCrCb's Y),
// so a face in shadow or against a bright window gets the contrast the detector needs. Only
// the detector sees it; every model after it runs on the image as it is.
cv::Mat LuminanceEqualised(const cv::Mat& bgr) {
    cv::Mat ycc;
    cv::cvtColor(bgr, ycc, cv::COLOR_BGR2YCrCb);
    std::vector<cv::Mat> planes;
    cv::split(ycc, planes);
    cv::createCLAHE(/*clipLimit=*/3.0, cv::Size(8, 8))->apply(planes[0], planes[0]);
    cv::merge(planes, ycc);
    cv::Mat out;
    cv::cvtColor(ycc, out, cv::COLOR_YCrCb2BGR);
    return out;
}

}  // namespace

Expected<std::unique_ptr<Pipeline>> Pipeline::Create(const Models& models,
                                                     const EngineOptions& options) {
    vision::DetectorConfig dc;
    dc.yunet_path = models.yunet_path;
    dc.yunet_onnx = models.yunet;
    dc.haar_path = options.haar_cascade;
    dc.max_side = options.detect_max_side;
    dc.score_threshold = options.detect_score_threshold;
    dc.nms_threshold = options.detect_nms_threshold;
    dc.min_face_side = options.min_face_side;
    dc.backend = options.inference_backend;
    auto detector = vision::FaceDetector::Create(dc);
    if (!detector) return Unexpected{detector.error()};
    auto mesh = vision::FaceMesh::Create(models.face_mesh, options.inference_backend);
    if (!mesh) return Unexpected{mesh.error()};
    auto iris = vision::Iris::Create(models.iris, options.inference_backend);
    if (!iris) return Unexpected{iris.error()};
    auto fas = vision::AntiSpoof::Create(models.fas_v2, models.fas_v1se, options.inference_backend);
    if (!fas) return Unexpected{fas.error()};
    return std::unique_ptr<Pipeline>(new Pipeline(models, options, std::move(*detector),
                                                  std::move(*mesh), std::move(*iris),
                                                  std::move(*fas)));
}

std::vector<vision::Detection> Pipeline::Detect(const cv::Mat& bgr, int max_side) {
    return detector_->Detect(bgr, max_side);
}

std::optional<vision::MeshResult> Pipeline::ConfirmFace(const cv::Mat& bgr,
                                                        const vision::Detection& d,
                                                        std::map<std::string, double>& timings) {
    StageTimer t(timings, "mesh");
    vision::MeshResult mesh = mesh_.Run(bgr, d);
    if (mesh.presence < options_.mesh_min_presence) return std::nullopt;
    return mesh;
}

bool Pipeline::NeedsMesh(const AnalyzeOptions& what) {
    return what.mesh || what.keep_mesh || what.pose || what.eyes || what.mouth || what.quality;
}

FaceResult Pipeline::AnalyzeFace(const cv::Mat& bgr, const vision::Detection& d,
                                 const AnalyzeOptions& what, std::map<std::string, double>& timings,
                                 const vision::MeshResult* mesh_done) {
    const AttributeOptions& a = options_.attributes;
    FaceResult f;
    f.x1 = d.box.x;
    f.y1 = d.box.y;
    f.x2 = d.box.x + d.box.width;
    f.y2 = d.box.y + d.box.height;
    f.score = d.score;
    f.keypoints = {ToPoint(d.kps[0]), ToPoint(d.kps[1]), ToPoint(d.kps[2]), ToPoint(d.kps[3]),
                   ToPoint(d.kps[4])};
    f.eye_dist = static_cast<float>(cv::norm(d.kps[1] - d.kps[0]));
    {
        StageTimer t(timings, "attributes");
        f.luminance = vision::FaceLuminance(bgr, d.box);
        f.is_boundary = vision::IsBoundaryFace(d.box, bgr.cols, bgr.rows, a.border_rate);
    }

    // The mesh ran already (ConfirmFace); what derives from it is filled when asked for. A
    // caller that did not confirm the face gets the mesh run here, unfiltered.
    vision::MeshResult own;
    if (!mesh_done && NeedsMesh(what)) {
        StageTimer t(timings, "mesh");
        own = mesh_.Run(bgr, d);
    }
    const vision::MeshResult& mesh = mesh_done ? *mesh_done : own;  // no copy of 468 points
    if (mesh_done || NeedsMesh(what)) f.mesh_presence = mesh.presence;
    if (NeedsMesh(what)) {
        // Without detector keypoints (Haar) the mesh eye centres are the better eye distance.
        if (!d.has_keypoints) {
            const cv::Point2f re = (mesh.points[33] + mesh.points[133]) * 0.5f;
            const cv::Point2f le = (mesh.points[362] + mesh.points[263]) * 0.5f;
            f.eye_dist = static_cast<float>(cv::norm(le - re));
        }
        f.landmark_68.reserve(68);
        for (int idx : models_.mesh_to_ibug68) f.landmark_68.push_back(ToPoint(mesh.points[idx]));
        if (what.keep_mesh) {
            f.mesh.reserve(mesh.points.size());
            for (const auto& p : mesh.points) f.mesh.push_back(ToPoint(p));
        }
        f.mesh_ear_left = vision::MeshEyeAspectRatio(mesh.points, true);
        f.mesh_ear_right = vision::MeshEyeAspectRatio(mesh.points, false);
    }
    f.is_small = f.eye_dist < a.small_face_eye_dist;
    if (what.pose) {
        StageTimer t(timings, "pose");
        // The looser its crop, the more frontal the mesh reads a turned face. The crop from the
        // YuNet box is about 10% larger than MediaPipe's crop from the landmarks, and its yaw
        // came out about 0.7 of the truth past 30 degrees (docs/accuracy.md). Re-run on the crop
        // MediaPipe tracks with, for the pose only: the other outputs keep the mesh they were
        // tuned on. Costs one more mesh run (about 3 ms).
        try {
            const vision::MeshResult tracked = mesh_.Run(bgr, vision::RoiFromMesh(mesh.points));
            f.pose = vision::EstimateHeadPose(models_.canonical, tracked.points, tracked.depth,
                                              bgr.size());
        } catch (const cv::Exception&) {
            // A degenerate first mesh (a false detection on a flat image) can make the crop throw.
            f.pose.reset();
        }
    }
    if (what.mouth) {
        f.mouth_ratio = vision::MouthAspectRatio(mesh.points);
        f.mouth_opened = vision::Ramp(*f.mouth_ratio, a.mar_closed, a.mar_open);
    }
    if (what.eyes) {
        StageTimer t(timings, "eyes");
        f.eye_image_left = ToEye(iris_.Run(bgr, mesh.points[33], mesh.points[133], false), a);
        f.eye_image_right = ToEye(iris_.Run(bgr, mesh.points[362], mesh.points[263], true), a);
    }
    if (what.quality) {
        StageTimer t(timings, "quality");
        f.sharpness = vision::FaceSharpness(bgr, d.box, a.sharp_laplacian_var);
        f.quality =
            vision::FaceQuality(*f.sharpness, f.luminance, f.eye_dist, a.size_full_eye_dist);
        f.occlusion =
            vision::FaceOcclusion(bgr, mesh.points, f.eye_dist, f.pose ? f.pose->yaw : 0.0f);
    }
    if (what.antispoof && (!what.antispoof_if || what.antispoof_if(f))) {
        StageTimer t(timings, "antispoof");
        f.antispoof = antispoof_.Run(bgr, d.box);
    }
    return f;
}

std::optional<FaceResult> Pipeline::AnalyzeTracked(const cv::Mat& bgr, const TrackHint& hint,
                                                   const AnalyzeOptions& what,
                                                   std::map<std::string, double>& timings) {
    const vision::Detection d = DetectionFromHint(hint);
    const auto mesh = ConfirmFace(bgr, d, timings);
    if (!mesh) return std::nullopt;
    AnalyzeOptions effective = what;
    effective.mesh = true;
    return AnalyzeFace(bgr, d, effective, timings, &*mesh);
}

void Pipeline::Analyze(const cv::Mat& bgr, const AnalyzeOptions& what, ImageAnalysis& out) {
    out.width = bgr.cols;
    out.height = bgr.rows;
    out.detector = detector_->name();
    if (what.track) {
        // Tracking: the previous frame's face stands in for a detection, confirmed by the mesh's
        // face flag; when the face has gone from there, detect as usual.
        if (auto f = AnalyzeTracked(bgr, *what.track, what, out.timings_ms)) {
            out.detector = "track";
            out.faces.push_back(std::move(*f));
            return;
        }
    }
    std::vector<vision::Detection> faces;
    {
        StageTimer t(out.timings_ms, "detect");
        faces = Detect(bgr, what.detect_max_side);
    }
    if (faces.empty()) {
        // A second pass, only when the first found nothing (its cost, one more detection, is
        // paid by images that would be refused anyway): dark and back-lit faces.
        StageTimer t(out.timings_ms, "detect_equalised");
        faces = Detect(LuminanceEqualised(bgr), what.detect_max_side);
    }
    const int cap =
        what.max_faces >= 0 ? std::min(what.max_faces, options_.max_faces) : options_.max_faces;
    if (static_cast<int>(faces.size()) > cap) faces.resize(static_cast<std::size_t>(cap));
    for (const auto& d : faces) {
        // Confirmed first: a detector false positive costs the mesh, not iris, quality and
        // anti-spoofing too, and never counts as a face.
        std::optional<vision::MeshResult> mesh;
        if (NeedsMesh(what)) {
            mesh = ConfirmFace(bgr, d, out.timings_ms);
            if (!mesh) continue;
        }
        out.faces.push_back(AnalyzeFace(bgr, d, what, out.timings_ms, mesh ? &*mesh : nullptr));
    }
}

}  // namespace liveproof::engine
