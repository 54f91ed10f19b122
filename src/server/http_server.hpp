// The HTTP transport (Boost.Beast, kept out of this header): accept, read with caps, write.
#pragma once

#include <memory>

#include "liveproof/expected.hpp"
#include "server/router.hpp"
#include "server/server_context.hpp"

namespace liveproof::server {

/// @brief WHAT THIS OBJECT REPRESENTS: the listening socket, I/O threads and connections.
/// Requests are read with the route's body cap and the configured header cap and timeouts, then
/// handed to the Router; replies come back on the connection's strand. SIGINT/SIGTERM stop
/// accepting, let in-flight requests finish (up to shutdown_grace_seconds), then return.
///
/// THREAD SAFETY: Run blocks the calling thread; Stop may be called from any thread.
class HttpServer {
  public:
    /// @brief Binds host:port (port 0 picks a free port).
    static Expected<std::unique_ptr<HttpServer>> Create(ServerContext& ctx, const Router& router);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// @brief Serves until Stop() or a signal, then shuts down gracefully.
    void Run();
    /// @brief Begins the graceful shutdown.
    void Stop();
    /// @brief The bound port.
    [[nodiscard]] int port() const;

    /// @brief Implementation detail (Asio state), opaque outside http_server.cpp.
    struct Impl;

  private:
    explicit HttpServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace liveproof::server
