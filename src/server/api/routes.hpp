// Registration of every front door's routes.
#pragma once

#include "server/router.hpp"
#include "server/server_context.hpp"

namespace liveproof::server::api {

/// @brief GET /, /healthz, /readyz, /metrics, /openapi.json, /docs.
void AddServiceRoutes(Router& router, ServerContext& ctx);
/// @brief System B: POST /liveness, POST /active/blink.
void AddSystemBRoutes(Router& router, ServerContext& ctx);
/// @brief System C: /liveness-detection(-base64), /check_liveness(_base64), machine code,
/// activation.
void AddSystemCRoutes(Router& router, ServerContext& ctx);
/// @brief System C's newer rewrite: /api/* with its envelope (added by AddSystemCRoutes).
void AddSystemCEnvelopeRoutes(Router& router, ServerContext& ctx);
/// @brief System A's HTTP polling door: POST /start, POST /frame?session_id= (multipart "file").
void AddSystemARoutes(Router& router, ServerContext& ctx);
/// @brief Liveness sessions: /v1/sessions (backend), /v1/sessions/{id}/image and /video
/// (client), /.well-known/jwks.json. The WebSocket door /v1/sessions/{id}/ws is the transport's.
void AddSessionRoutes(Router& router, ServerContext& ctx);
/// @brief Native: POST /v1/analyze.
void AddNativeRoutes(Router& router, ServerContext& ctx);

}  // namespace liveproof::server::api
