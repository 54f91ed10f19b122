// MediaPipe Face Mesh v1 (468 points) on a rotated 1.5x square crop of a detection or of a
// previous mesh.
#pragma once

#include <cstdint>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <vector>

#include "liveproof/expected.hpp"
#include "liveproof/options.hpp"
#include "vision/face_detector.hpp"
#include "vision/xnn_net.hpp"

namespace liveproof::vision {

/// @brief 468 mesh points in image pixels, their depths and the model's face-presence score.
struct MeshResult {
    std::vector<cv::Point2f> points;  ///< 468 points, MediaPipe order
    /// 468 depths in image pixels at the x scale, larger = further from the camera, relative to
    /// the face (not a distance)
    std::vector<float> depth;
    float presence = 0;  ///< sigmoid of the face flag
};

/// @brief A square, rotated crop of the image: centre and side in pixels, angle in radians.
struct MeshRoi {
    cv::Point2f centre;
    float side = 0;
    float angle = 0;  ///< image-left eye -> image-right eye, as atan2(dy, dx)
};

/// @brief MANIFEST.md §4: side 1.5*max(w,h) of the detection box, eye line horizontal.
MeshRoi RoiFromDetection(const Detection& face);

/// @brief MediaPipe's tracking ROI (face_landmark_landmarks_to_roi): the axis-aligned box of the
/// points, side 1.5*max(w,h), rotated by the line from point 33 to point 263.
/// Requires mesh.size() == 468.
MeshRoi RoiFromMesh(const std::vector<cv::Point2f>& mesh);

/// @brief WHAT THIS OBJECT REPRESENTS: one Face Mesh network instance, run by cv::dnn or by
/// XNNPACK (exactly one of the two is loaded).
///
/// THREAD SAFETY: not thread-safe (cv::dnn::Net::forward, the XNNPACK runtime's buffers and the
/// reused input buffers); one per worker.
class FaceMesh {
  public:
    /// @brief Builds the network from ONNX bytes (loaded once, shared between workers), run by
    /// @p backend.
    static Expected<FaceMesh> Create(const std::vector<std::uint8_t>& onnx,
                                     InferenceBackend backend);
    /// @brief Runs on the crop of RoiFromDetection(face).
    MeshResult Run(const cv::Mat& bgr, const Detection& face) {
        return Run(bgr, RoiFromDetection(face));
    }
    /// @brief Runs on any crop (the 192x192 input is taken from it).
    MeshResult Run(const cv::Mat& bgr, const MeshRoi& roi);

  private:
    FaceMesh(cv::dnn::Net net, std::unique_ptr<XnnNet> xnn)
        : net_(std::move(net)), xnn_(std::move(xnn)) {}
    cv::dnn::Net net_;             // the OpenCV backend's network (empty on XNNPACK)
    std::unique_ptr<XnnNet> xnn_;  // the XNNPACK backend's network (null on OpenCV)
};

}  // namespace liveproof::vision
