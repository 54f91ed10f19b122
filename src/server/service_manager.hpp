// systemd's service notifications (sd_notify): readiness, stopping, and the watchdog.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace liveproof::server {

/// @brief Tells the service manager the server is ready (its socket listens, the models are
/// loaded), with a status line. A no-op when not run by systemd (no $NOTIFY_SOCKET).
void NotifyReady(const std::string& status);
/// @brief Tells the service manager the server is shutting down (it finishes what it holds).
void NotifyStopping();
/// @brief One watchdog ping ("WATCHDOG=1"): the I/O loop is alive.
void NotifyWatchdog();
/// @brief How often to ping: half the unit's WatchdogSec ($WATCHDOG_USEC), or nullopt when the
/// watchdog is off for this process.
std::optional<std::chrono::microseconds> WatchdogPingInterval();

}  // namespace liveproof::server
