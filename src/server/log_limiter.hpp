// Rate limit for repeated log lines: an attacker must not be able to fill the disk with them.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace liveproof::server {

/// @brief WHAT THIS OBJECT REPRESENTS: a budget of log lines per kind of message (a key such as
/// "POST b_liveness 400"): at most `per_second` lines of one kind each second; the lines held back
/// are counted and the next line let through says how many ("(+123 similar)").
/// THREAD SAFETY: Admit may be called from any thread.
class LogLimiter {
  public:
    using Clock = std::chrono::steady_clock;

    /// @requires per_second >= 1.
    explicit LogLimiter(int per_second = 5) : per_second_(per_second) {}

    /// @brief Whether a line of this kind may be written now, and how many lines of the kind
    /// were held back since the last one written (to append to it).
    struct Verdict {
        bool write = false;         ///< write this line
        std::uint64_t skipped = 0;  ///< lines of this kind held back before it
    };
    Verdict Admit(const std::string& key, Clock::time_point now = Clock::now());

    /// @brief " (+N similar)" when lines were held back, else "".
    static std::string Suffix(const Verdict& v);

  private:
    struct Window {
        Clock::time_point start;
        int written = 0;
        std::uint64_t skipped = 0;
    };
    // Distinct keys are few (route x status); the map is bounded by kMaxKeys anyway.
    static constexpr std::size_t kMaxKeys = 4096;
    int per_second_;
    std::mutex mutex_;
    std::unordered_map<std::string, Window> windows_;
};

}  // namespace liveproof::server
