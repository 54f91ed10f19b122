// Adds the wall time of a scope to a named stage total.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace liveproof::engine {

/// @brief RAII stage timer: on destruction adds elapsed milliseconds to timings[name].
/// THREAD SAFETY: single-threaded use; the map belongs to the caller.
class StageTimer {
  public:
    StageTimer(std::map<std::string, double>& timings, const char* name)
        : timings_(timings), name_(name), start_(std::chrono::steady_clock::now()) {}
    ~StageTimer() {
        const auto end = std::chrono::steady_clock::now();
        timings_[name_] += std::chrono::duration<double, std::milli>(end - start_).count();
    }
    StageTimer(const StageTimer&) = delete;
    StageTimer& operator=(const StageTimer&) = delete;

  private:
    std::map<std::string, double>& timings_;
    const char* name_;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace liveproof::engine
