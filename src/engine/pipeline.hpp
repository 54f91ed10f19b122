// One worker's set of networks and the per-image analysis that runs them in order.
#pragma once

#include <memory>
#include <opencv2/core.hpp>

#include "engine/models.hpp"
#include "liveproof/expected.hpp"
#include "liveproof/options.hpp"
#include "liveproof/types.hpp"
#include "vision/anti_spoof.hpp"
#include "vision/face_detector.hpp"
#include "vision/face_mesh.hpp"
#include "vision/iris.hpp"

namespace liveproof::engine {

/// @brief WHAT THIS OBJECT REPRESENTS: the networks one worker owns (cv::dnn::Net::forward must
/// never run from two threads), built from the shared Models.
///
/// THREAD SAFETY: not thread-safe; the Engine hands each Pipeline to one caller at a time.
class Pipeline {
  public:
    /// @brief Builds every network from the model bytes.
    static Expected<std::unique_ptr<Pipeline>> Create(const Models& models,
                                                      const EngineOptions& options);

    /// @brief Detects and analyses the faces of an upright BGR image; stages not asked for are
    /// skipped. Adds per-stage wall times to out.timings_ms.
    void Analyze(const cv::Mat& bgr, const AnalyzeOptions& what, ImageAnalysis& out);

    /// @brief Detection only (largest first, capped at max_faces).
    std::vector<vision::Detection> Detect(const cv::Mat& bgr, int max_side = 0);

    /// @brief The face check every path that needs the mesh makes right after detection, before
    /// any other stage pays for the detection: the Face Mesh on its crop, and its face flag at
    /// least mesh_min_presence. The mesh when it is a face, nullopt for a detector false positive
    /// (a dog, a pattern, a hand) or a tracked face that has left its place. (The passive-only
    /// path has no mesh and does not make it: that would add the mesh to every passive check.)
    std::optional<vision::MeshResult> ConfirmFace(const cv::Mat& bgr, const vision::Detection& face,
                                                  std::map<std::string, double>& timings);

    /// @brief Analyses one detection; `mesh`: ConfirmFace's result when `what` needs the mesh
    /// (NeedsMesh), else null. Used by the video path after its own detection step.
    FaceResult AnalyzeFace(const cv::Mat& bgr, const vision::Detection& face,
                           const AnalyzeOptions& what, std::map<std::string, double>& timings,
                           const vision::MeshResult* mesh);

    /// @brief Whether an analysis asks for anything the mesh gives (landmarks, pose, eyes,
    /// mouth, quality).
    static bool NeedsMesh(const AnalyzeOptions& what);

  private:
    // The tracked face: the mesh on the hint's crop, or nothing when the mesh's face flag says
    // the face has left it.
    std::optional<FaceResult> AnalyzeTracked(const cv::Mat& bgr, const TrackHint& hint,
                                             const AnalyzeOptions& what,
                                             std::map<std::string, double>& timings);

    Pipeline(const Models& models, const EngineOptions& options,
             std::unique_ptr<vision::FaceDetector> detector, vision::FaceMesh mesh,
             vision::Iris iris, vision::AntiSpoof antispoof)
        : models_(models),
          options_(options),
          detector_(std::move(detector)),
          mesh_(std::move(mesh)),
          iris_(std::move(iris)),
          antispoof_(std::move(antispoof)) {}

    const Models& models_;
    const EngineOptions& options_;
    std::unique_ptr<vision::FaceDetector> detector_;
    vision::FaceMesh mesh_;
    vision::Iris iris_;
    vision::AntiSpoof antispoof_;
};

}  // namespace liveproof::engine
