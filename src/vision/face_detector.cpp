// YuNet via cv::FaceDetectorYN on a downscaled copy, and the Haar cascade fallback.
#include "vision/face_detector.hpp"

#include <algorithm>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "vision/geometry.hpp"
#include "vision/yunet_xnnpack.hpp"

namespace liveproof::vision {
namespace {

// A box whose pixels hardly vary holds no face: YuNet finds a "face" (score 0.89) in a plain
// black image, and the passive path (no mesh, so no presence check) scored it. Grey standard
// deviation in 0..255; a real face, even dark or blurred, has far more than this.
constexpr double kMinFaceContrast = 3.0;

// Judged on the detector's own (downscaled) input: boxes are in full-image pixels, sx and sy
// are full-image pixels per input pixel.
void DropFlatBoxes(const cv::Mat& small, float sx, float sy, std::vector<Detection>& faces) {
    const cv::Rect2f image(0, 0, static_cast<float>(small.cols), static_cast<float>(small.rows));
    std::erase_if(faces, [&](const Detection& d) {
        const cv::Rect2f scaled(d.box.x / sx, d.box.y / sy, d.box.width / sx, d.box.height / sy);
        const cv::Rect box(scaled & image);
        if (box.width <= 0 || box.height <= 0) return true;
        cv::Mat grey;
        cv::cvtColor(small(box), grey, cv::COLOR_BGR2GRAY);
        cv::Scalar mean, stddev;
        cv::meanStdDev(grey, mean, stddev);
        return stddev[0] < kMinFaceContrast;
    });
}

void SortLargestFirst(std::vector<Detection>& faces) {
    std::stable_sort(faces.begin(), faces.end(), [](const Detection& a, const Detection& b) {
        return a.box.area() > b.box.area();
    });
}

class YuNetDetector final : public FaceDetector {
  public:
    // OpenCV's detector always; XNNPACK's, when set, runs instead wherever it can.
    YuNetDetector(cv::Ptr<cv::FaceDetectorYN> net, std::unique_ptr<YuNetXnnpack> xnnpack,
                  DetectorConfig config)
        : net_(std::move(net)), xnnpack_(std::move(xnnpack)), config_(std::move(config)) {}

    std::vector<Detection> Detect(const cv::Mat& bgr, int max_side) override {
        cv::Mat small;
        ResizeLongSide(bgr, max_side > 0 ? max_side : config_.max_side, small);
        const float sx = static_cast<float>(bgr.cols) / static_cast<float>(small.cols);
        const float sy = static_cast<float>(bgr.rows) / static_cast<float>(small.rows);
        // YuNet's pooling fails (cv::Exception) on a side under 63 px: pad bottom/right, which
        // leaves box coordinates unchanged (tiny images, thin strips after downscaling).
        constexpr int kMinInputSide = 64;
        if (small.cols < kMinInputSide || small.rows < kMinInputSide) {
            cv::Mat padded;
            cv::copyMakeBorder(small, padded, 0, std::max(0, kMinInputSide - small.rows), 0,
                               std::max(0, kMinInputSide - small.cols), cv::BORDER_CONSTANT,
                               cv::Scalar::all(0));
            small = padded;
        }
        cv::Mat rows;
        std::optional<cv::Mat> fast = xnnpack_ ? xnnpack_->Detect(small) : std::nullopt;
        if (fast) {
            rows = std::move(*fast);
        } else {
            net_->setInputSize(small.size());
            net_->detect(small, rows);
        }
        std::vector<Detection> faces;
        for (int i = 0; i < rows.rows; ++i) {
            const float* r = rows.ptr<float>(i);
            Detection d;
            d.box = cv::Rect2f(r[0] * sx, r[1] * sy, r[2] * sx, r[3] * sy);
            for (int k = 0; k < 5; ++k)
                d.kps[k] = cv::Point2f(r[4 + 2 * k] * sx, r[5 + 2 * k] * sy);
            d.score = r[14];
            d.has_keypoints = true;
            if (std::min(d.box.width, d.box.height) < static_cast<float>(config_.min_face_side)) {
                continue;
            }
            faces.push_back(d);
        }
        DropFlatBoxes(small, sx, sy, faces);
        SortLargestFirst(faces);
        return faces;
    }
    [[nodiscard]] const char* name() const override { return "yunet"; }

  private:
    cv::Ptr<cv::FaceDetectorYN> net_;
    std::unique_ptr<YuNetXnnpack> xnnpack_;
    DetectorConfig config_;
};

class HaarDetector final : public FaceDetector {
  public:
    HaarDetector(cv::CascadeClassifier cascade, DetectorConfig config)
        : cascade_(std::move(cascade)), config_(std::move(config)) {}

    std::vector<Detection> Detect(const cv::Mat& bgr, int max_side) override {
        cv::Mat small;
        // The cascade needs more pixels than YuNet for the same recall; 0 stays full size.
        const int side = max_side > 0 ? max_side : config_.max_side;
        ResizeLongSide(bgr, side > 0 ? std::max(side, 640) : 0, small);
        const float sx = static_cast<float>(bgr.cols) / static_cast<float>(small.cols);
        const float sy = static_cast<float>(bgr.rows) / static_cast<float>(small.rows);
        cv::Mat gray;
        cv::cvtColor(small, gray, cv::COLOR_BGR2GRAY);
        cv::equalizeHist(gray, gray);
        std::vector<cv::Rect> rects;
        cascade_.detectMultiScale(gray, rects, 1.1, 5, 0, cv::Size(30, 30));
        std::vector<Detection> faces;
        for (const cv::Rect& r : rects) {
            Detection d;
            d.box = cv::Rect2f(static_cast<float>(r.x) * sx, static_cast<float>(r.y) * sy,
                               static_cast<float>(r.width) * sx, static_cast<float>(r.height) * sy);
            if (std::min(d.box.width, d.box.height) < static_cast<float>(config_.min_face_side)) {
                continue;
            }
            // Keypoints at the average frontal-face positions inside a Haar box; the mesh
            // stage re-derives the real ones, so these only seed its crop.
            const auto at = [&](float fx, float fy) {
                return cv::Point2f(d.box.x + fx * d.box.width, d.box.y + fy * d.box.height);
            };
            d.kps = {at(0.32f, 0.40f), at(0.68f, 0.40f), at(0.50f, 0.58f), at(0.36f, 0.76f),
                     at(0.64f, 0.76f)};
            d.score = 1.0f;
            d.has_keypoints = false;
            faces.push_back(d);
        }
        DropFlatBoxes(small, sx, sy, faces);
        SortLargestFirst(faces);
        return faces;
    }
    [[nodiscard]] const char* name() const override { return "haar"; }

  private:
    cv::CascadeClassifier cascade_;
    DetectorConfig config_;
};

}  // namespace

Expected<std::unique_ptr<FaceDetector>> FaceDetector::Create(const DetectorConfig& config) {
    if (!config.yunet_path.empty()) {
        std::unique_ptr<YuNetXnnpack> xnnpack;
        if (config.backend == InferenceBackend::Xnnpack) {
            auto x = YuNetXnnpack::Create(config.yunet_onnx, config.score_threshold,
                                          config.nms_threshold);
            if (!x) return Unexpected{x.error()};
            xnnpack = std::move(*x);
        }
        try {
            auto net =
                cv::FaceDetectorYN::create(config.yunet_path, "", cv::Size(320, 320),
                                           config.score_threshold, config.nms_threshold, 5000);
            if (net.empty()) throw cv::Exception();
            return std::unique_ptr<FaceDetector>(
                new YuNetDetector(net, std::move(xnnpack), config));
        } catch (const cv::Exception&) {
            return MakeError(ErrorCode::ModelCorrupt,
                             "YuNet model could not be loaded: " + config.yunet_path);
        }
    }
    cv::CascadeClassifier cascade;
    if (!cascade.load(config.haar_path)) {
        return MakeError(ErrorCode::ModelMissing,
                         "Haar cascade not found or invalid: " + config.haar_path +
                             " (Debian package opencv-data)");
    }
    return std::unique_ptr<FaceDetector>(new HaarDetector(std::move(cascade), config));
}

}  // namespace liveproof::vision
