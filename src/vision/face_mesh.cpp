// Face Mesh inference: RGB [0,1] 192x192 input, landmarks mapped back through the inverse affine.
#include "vision/face_mesh.hpp"

#include <cmath>

#include "vision/geometry.hpp"
#include "vision/onnx_net.hpp"

namespace liveproof::vision {

namespace {
constexpr int kInput = 192;
constexpr float kRoiScale = 1.5f;
constexpr int kPoints = 468;
}  // namespace

Expected<FaceMesh> FaceMesh::Create(const std::vector<std::uint8_t>& onnx) {
    auto net = LoadOnnxNet(onnx, "Face Mesh");
    if (!net) return Unexpected{net.error()};
    return FaceMesh(std::move(*net));
}

MeshResult FaceMesh::Run(const cv::Mat& bgr, const Detection& face) {
    const cv::Point2f centre(face.box.x + face.box.width / 2.0f,
                             face.box.y + face.box.height / 2.0f);
    const float side = kRoiScale * std::max(face.box.width, face.box.height);
    const cv::Point2f d = face.kps[1] - face.kps[0];  // image-left eye -> image-right eye
    const float angle = std::atan2(d.y, d.x);
    const AffineCrop crop = CropAffine(bgr, centre, side, side, angle, kInput, kInput);
    const cv::Mat blob = cv::dnn::blobFromImage(crop.patch, 1.0 / 255.0, cv::Size(kInput, kInput),
                                                cv::Scalar(), /*swapRB=*/true);
    net_.setInput(blob);
    std::vector<cv::Mat> outs;
    net_.forward(outs, std::vector<cv::String>{"conv2d_21", "conv2d_31"});
    MeshResult r;
    const auto* xyz = outs[0].ptr<float>();
    r.points.reserve(kPoints);
    for (int i = 0; i < kPoints; ++i) r.points.push_back(crop.ToImage(xyz[3 * i], xyz[3 * i + 1]));
    r.presence = 1.0f / (1.0f + std::exp(-outs[1].ptr<float>()[0]));
    return r;
}

}  // namespace liveproof::vision
