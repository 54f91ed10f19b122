// Face Mesh inference: RGB [0,1] 192x192 input, landmarks mapped back through the inverse affine.
#include "vision/face_mesh.hpp"

#include <algorithm>
#include <cmath>

#include "vision/geometry.hpp"
#include "vision/onnx_net.hpp"

namespace liveproof::vision {

namespace {
constexpr int kInput = 192;
constexpr float kRoiScale = 1.5f;
constexpr int kPoints = 468;
constexpr int kRightEyeOuter = 33;  // image-left in an unmirrored frame
constexpr int kLeftEyeOuter = 263;
}  // namespace

MeshRoi RoiFromDetection(const Detection& face) {
    MeshRoi roi;
    roi.centre = {face.box.x + face.box.width / 2.0f, face.box.y + face.box.height / 2.0f};
    roi.side = kRoiScale * std::max(face.box.width, face.box.height);
    const cv::Point2f d = face.kps[1] - face.kps[0];  // image-left eye -> image-right eye
    roi.angle = std::atan2(d.y, d.x);
    return roi;
}

MeshRoi RoiFromMesh(const std::vector<cv::Point2f>& mesh) {
    const auto [min_x, max_x] = std::minmax_element(
        mesh.begin(), mesh.end(), [](const auto& a, const auto& b) { return a.x < b.x; });
    const auto [min_y, max_y] = std::minmax_element(
        mesh.begin(), mesh.end(), [](const auto& a, const auto& b) { return a.y < b.y; });
    MeshRoi roi;
    roi.centre = {(min_x->x + max_x->x) / 2.0f, (min_y->y + max_y->y) / 2.0f};
    roi.side = kRoiScale * std::max(max_x->x - min_x->x, max_y->y - min_y->y);
    const cv::Point2f d = mesh[kLeftEyeOuter] - mesh[kRightEyeOuter];
    roi.angle = std::atan2(d.y, d.x);
    return roi;
}

Expected<FaceMesh> FaceMesh::Create(const std::vector<std::uint8_t>& onnx) {
    auto net = LoadOnnxNet(onnx, "Face Mesh");
    if (!net) return Unexpected{net.error()};
    return FaceMesh(std::move(*net));
}

MeshResult FaceMesh::Run(const cv::Mat& bgr, const MeshRoi& roi) {
    const AffineCrop crop =
        CropAffine(bgr, roi.centre, roi.side, roi.side, roi.angle, kInput, kInput);
    const cv::Mat blob = cv::dnn::blobFromImage(crop.patch, 1.0 / 255.0, cv::Size(kInput, kInput),
                                                cv::Scalar(), /*swapRB=*/true);
    net_.setInput(blob);
    std::vector<cv::Mat> outs;
    net_.forward(outs, std::vector<cv::String>{"conv2d_21", "conv2d_31"});
    MeshResult r;
    const auto* xyz = outs[0].ptr<float>();
    // z comes at the crop's x scale; the crop is a rotation and a uniform scale of the image.
    const auto z_scale = static_cast<float>(roi.side / kInput);
    r.points.reserve(kPoints);
    r.depth.reserve(kPoints);
    for (int i = 0; i < kPoints; ++i) {
        r.points.push_back(crop.ToImage(xyz[3 * i], xyz[3 * i + 1]));
        r.depth.push_back(xyz[3 * i + 2] * z_scale);
    }
    r.presence = 1.0f / (1.0f + std::exp(-outs[1].ptr<float>()[0]));
    return r;
}

}  // namespace liveproof::vision
