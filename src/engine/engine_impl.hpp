// What the Engine's entry points share: its state, and the guard that keeps exceptions inside.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
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

/// @brief The clock of the time budgets: CPU time of the calling thread. A budget bounds what
/// one input costs, so neither the wait for a free pipeline nor the load of other work on the
/// machine may count against it (with wall time, a legal clip ran out of budget under ctest -j2).
/// Inference runs on the calling thread (EngineOptions::opencv_threads = 1, the default).
struct ThreadCpuClock {
    using duration = std::chrono::nanoseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<ThreadCpuClock>;
    static constexpr bool is_steady = true;
    static time_point now() noexcept {
        timespec ts{};
        ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
    }
};

/// @brief A budget of @p seconds as a ThreadCpuClock duration (unlimited when seconds <= 0).
inline ThreadCpuClock::duration BudgetOf(double seconds) {
    if (seconds <= 0) return ThreadCpuClock::duration::max();
    return std::chrono::duration_cast<ThreadCpuClock::duration>(
        std::chrono::duration<double>(seconds));
}

/// @brief A time budget of @p seconds from now as a deadline (none when seconds <= 0).
inline ThreadCpuClock::time_point DeadlineAfter(double seconds) {
    if (seconds <= 0) return ThreadCpuClock::time_point::max();
    return ThreadCpuClock::now() + BudgetOf(seconds);
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
