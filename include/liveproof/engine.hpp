// The public C++ entry point: create once, analyse images and videos from many threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>

#include "liveproof/expected.hpp"
#include "liveproof/export.hpp"
#include "liveproof/options.hpp"
#include "liveproof/types.hpp"

namespace liveproof {

class Engine;

/// @brief WHAT THIS OBJECT REPRESENTS: one blink-video analysis that runs in slices, so that a
/// caller can give the thread back between slices (the server never holds a worker for a whole
/// clip). Made by Engine::StartBlinkVideo; holds its own copy of the video.
///
/// THREAD SAFETY: one thread at a time (successive Steps may run on different threads). The
/// Engine must outlive the job.
class LIVEPROOF_EXPORT BlinkVideoJob {
  public:
    ~BlinkVideoJob();
    BlinkVideoJob(const BlinkVideoJob&) = delete;
    BlinkVideoJob& operator=(const BlinkVideoJob&) = delete;

    /// @brief Analyses frames until the video ends or @p until has passed (one frame at least).
    /// @return true when the analysis is over: Result() then holds it. Never throws.
    /// @ensures the analysis time summed over Steps stays within the engine's video time budget
    /// (EngineOptions::video_time_budget_seconds), else the result is TimeBudgetExceeded.
    bool Step(std::chrono::steady_clock::time_point until);
    /// @brief The analysis, or the error that ended it; an Internal error before the end.
    [[nodiscard]] Expected<BlinkAnalysis> Result() const;
    /// @brief Frames analysed so far.
    [[nodiscard]] int frames_done() const;

  private:
    friend class Engine;
    struct State;
    explicit BlinkVideoJob(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

/// @brief WHAT THIS OBJECT REPRESENTS: the loaded, verified models plus a pool of per-worker
/// pipelines. Analyze and AnalyzeBlinkVideo take a pipeline from the pool for the duration of
/// the call, so at most EngineOptions::workers calls run at once and further callers wait.
///
/// THREAD SAFETY: every const member function may be called from any number of threads at
/// once. Create and destruction must not race with calls.
class LIVEPROOF_EXPORT Engine {
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

    /// @brief Decodes a short video from memory and looks for blinks by one consistent face
    /// (StartBlinkVideo run to the end in one go).
    Expected<BlinkAnalysis> AnalyzeBlinkVideo(std::span<const std::uint8_t> bytes,
                                              const BlinkOptions& options = {}) const;

    /// @brief Opens a video for a blink analysis run in slices (BlinkVideoJob::Step).
    /// @return the job, or the error of the options, the byte cap, the container or its
    /// declared size, duration and frame count (nothing is decoded yet).
    Expected<std::unique_ptr<BlinkVideoJob>> StartBlinkVideo(
        std::span<const std::uint8_t> bytes, const BlinkOptions& options = {}) const;

    /// @brief The options the engine was created with (after defaults were resolved).
    [[nodiscard]] const EngineOptions& options() const;

  private:
    Expected<ImageAnalysis> AnalyzeUnguarded(std::span<const std::uint8_t> bytes,
                                             const AnalyzeOptions& what) const;
    Expected<ImageAnalysis> AnalyzeBgrUnguarded(const unsigned char* bgr, int width, int height,
                                                std::size_t stride,
                                                const AnalyzeOptions& what) const;
    friend class BlinkVideoJob;  // runs on the pool of pipelines
    struct Impl;
    explicit Engine(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace liveproof
