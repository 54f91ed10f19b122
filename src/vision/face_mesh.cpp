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

Expected<FaceMesh> FaceMesh::Create(const std::vector<std::uint8_t>& onnx,
                                    InferenceBackend backend) {
    if (backend == InferenceBackend::Xnnpack) {
        auto xnn = XnnNet::FromOnnx(onnx, "Face Mesh");
        if (!xnn) return Unexpected{xnn.error()};
        // Graph order: conv2d_21 (468 x/y/z; [1,1,1,1404], whose NHWC and NCHW element orders
        // agree) then conv2d_31 (the face flag logit), the two tensors the OpenCV path asks for.
        const std::vector<std::size_t> input{1, kInput, kInput, 3};
        if ((*xnn)->input_dims() != input || (*xnn)->output_count() != 2 ||
            (*xnn)->output(0).size() != static_cast<std::size_t>(3 * kPoints) ||
            (*xnn)->output(1).size() != 1) {
            return MakeError(ErrorCode::ModelCorrupt,
                             "Face Mesh is not a 1x3x192x192 -> 1404 landmarks + 1 flag network");
        }
        return FaceMesh(cv::dnn::Net(), std::move(*xnn));
    }
    auto net = LoadOnnxNet(onnx, "Face Mesh");
    if (!net) return Unexpected{net.error()};
    return FaceMesh(std::move(*net), nullptr);
}

MeshResult FaceMesh::Run(const cv::Mat& bgr, const MeshRoi& roi) {
    const AffineCrop crop =
        CropAffine(bgr, roi.centre, roi.side, roi.side, roi.angle, kInput, kInput);
    const float* xyz = nullptr;
    float flag = 0;
    std::vector<cv::Mat> outs;
    if (xnn_) {
        xnn_->RunImage(crop.patch, 1.0 / 255.0, /*swap_rb=*/true);  // as the blob below
        xyz = xnn_->output(0).data();
        flag = xnn_->output(1)[0];
    } else {
        const cv::Mat blob = cv::dnn::blobFromImage(
            crop.patch, 1.0 / 255.0, cv::Size(kInput, kInput), cv::Scalar(), /*swapRB=*/true);
        net_.setInput(blob);
        net_.forward(outs, std::vector<cv::String>{"conv2d_21", "conv2d_31"});
        xyz = outs[0].ptr<float>();
        flag = outs[1].ptr<float>()[0];
    }
    MeshResult r;
    // z comes at the crop's x scale; the crop is a rotation and a uniform scale of the image.
    const auto z_scale = static_cast<float>(roi.side / kInput);
    r.points.reserve(kPoints);
    r.depth.reserve(kPoints);
    for (int i = 0; i < kPoints; ++i) {
        r.points.push_back(crop.ToImage(xyz[3 * i], xyz[3 * i + 1]));
        r.depth.push_back(xyz[3 * i + 2] * z_scale);
    }
    r.presence = 1.0f / (1.0f + std::exp(-flag));
    return r;
}

}  // namespace liveproof::vision
