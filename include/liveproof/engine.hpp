// The public C++ entry point: create once, analyse images and videos from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "liveproof/expected.hpp"
#include "liveproof/options.hpp"
#include "liveproof/types.hpp"

namespace liveproof {

/// @brief WHAT THIS OBJECT REPRESENTS: the loaded, verified models plus a pool of per-worker
/// pipelines. Analyze and AnalyzeBlinkVideo take a pipeline from the pool for the duration of
/// the call, so at most EngineOptions::workers calls run at once and further callers wait.
///
/// THREAD SAFETY: every const member function may be called from any number of threads at
/// once. Create and destruction must not race with calls.
class Engine {
  public:
    /// @brief Loads and verifies the models and builds the pipelines.
    /// @return the engine, or ModelMissing / ModelCorrupt / ManifestInvalid naming the file.
    static Expected<std::unique_ptr<Engine>> Create(const EngineOptions& options);

    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    /// No exception escapes: library failures come back as ErrorCode::Internal.
    /// @brief Decodes an encoded image (JPEG, PNG, BMP, WebP) and analyses every face.
    /// @requires bytes hold one encoded image; caps from EngineOptions::limits apply before decode.
    /// @ensures faces are sorted largest first and at most max_faces long.
    Expected<ImageAnalysis> Analyze(std::span<const std::uint8_t> bytes,
                                    const AnalyzeOptions& what = {}) const;

    /// @brief Analyses an already decoded 8-bit BGR image (upright).
    Expected<ImageAnalysis> AnalyzeBgr(const unsigned char* bgr, int width, int height,
                                       std::size_t stride, const AnalyzeOptions& what = {}) const;

    /// @brief Decodes a short video from memory and looks for blinks by one consistent face.
    Expected<BlinkAnalysis> AnalyzeBlinkVideo(std::span<const std::uint8_t> bytes,
                                              const BlinkOptions& options = {}) const;

    /// @brief The options the engine was created with (after defaults were resolved).
    [[nodiscard]] const EngineOptions& options() const;

  private:
    Expected<ImageAnalysis> AnalyzeUnguarded(std::span<const std::uint8_t> bytes,
                                             const AnalyzeOptions& what) const;
    Expected<ImageAnalysis> AnalyzeBgrUnguarded(const unsigned char* bgr, int width, int height,
                                                std::size_t stride,
                                                const AnalyzeOptions& what) const;
    Expected<BlinkAnalysis> AnalyzeBlinkVideoUnguarded(std::span<const std::uint8_t> bytes,
                                                       const BlinkOptions& options) const;

    struct Impl;
    explicit Engine(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace liveproof
