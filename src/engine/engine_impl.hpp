// What the Engine's entry points share: its state, and the guard that keeps exceptions inside.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <new>
#include <opencv2/core.hpp>

#include "engine/models.hpp"
#include "engine/pipeline_pool.hpp"
#include "liveproof/engine.hpp"

namespace liveproof {

struct Engine::Impl {
    EngineOptions options;
    engine::Models models;
    std::unique_ptr<engine::PipelinePool> pool;
};

namespace engine {

/// @brief A time budget of @p seconds from now as a deadline (none when seconds <= 0).
inline std::chrono::steady_clock::time_point DeadlineAfter(double seconds) {
    if (seconds <= 0) return std::chrono::steady_clock::time_point::max();
    return std::chrono::steady_clock::now() +
           std::chrono::duration_cast<std::chrono::steady_clock::duration>(
               std::chrono::duration<double>(seconds));
}

/// @brief Runs body, turning any exception into an ErrorCode::Internal error: no exception may
/// cross the public API, and OpenCV reports some input problems by throwing.
template <typename F>
auto Guarded(F&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const cv::Exception& e) {
        spdlog::error("OpenCV error during analysis: {}", e.what());
        return MakeError(ErrorCode::Internal, "the input could not be processed (library error)");
    } catch (const std::bad_alloc&) {
        return MakeError(ErrorCode::Internal, "out of memory while processing the input");
    } catch (const std::exception& e) {
        spdlog::error("unexpected error during analysis: {}", e.what());
        return MakeError(ErrorCode::Internal, "unexpected error while processing the input");
    } catch (...) {
        spdlog::error("unexpected non-standard exception during analysis");
        return MakeError(ErrorCode::Internal, "unexpected error while processing the input");
    }
}

}  // namespace engine
}  // namespace liveproof
