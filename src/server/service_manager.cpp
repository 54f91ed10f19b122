// sd_notify from Debian's libsystemd: the protocol (a datagram to $NOTIFY_SOCKET, credentials,
// abstract sockets) is the library's, not re-written here.
#include "server/service_manager.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstdint>

namespace liveproof::server {

namespace {
void Notify(const std::string& state) {
    // 0 = not run by systemd, > 0 = sent; a failure is logged and otherwise ignored (the
    // service works without its manager's bookkeeping).
    if (const int r = sd_notify(0, state.c_str()); r < 0)
        spdlog::warn("sd_notify failed: error {}", -r);
}
}  // namespace

void NotifyReady(const std::string& status) { Notify("READY=1\nSTATUS=" + status); }

void NotifyStopping() { Notify("STOPPING=1\nSTATUS=finishing in-flight requests"); }

void NotifyWatchdog() { Notify("WATCHDOG=1"); }

std::optional<std::chrono::microseconds> WatchdogPingInterval() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
    return std::chrono::microseconds(static_cast<std::int64_t>(usec / 2));
}

}  // namespace liveproof::server
