// LogLimiter: one-second windows per key.
#include "server/log_limiter.hpp"

namespace liveproof::server {

LogLimiter::Verdict LogLimiter::Admit(const std::string& key, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (windows_.size() >= kMaxKeys && !windows_.contains(key)) windows_.clear();
    Window& w = windows_[key];
    if (now - w.start >= std::chrono::seconds(1)) {
        w.start = now;
        w.written = 0;
    }
    if (w.written >= per_second_) {
        ++w.skipped;
        return {};
    }
    ++w.written;
    Verdict v{true, w.skipped};
    w.skipped = 0;
    return v;
}

std::string LogLimiter::Suffix(const Verdict& v) {
    return v.skipped == 0 ? std::string() : " (+" + std::to_string(v.skipped) + " similar)";
}

}  // namespace liveproof::server
