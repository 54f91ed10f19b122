// Helpers shared by the front doors: error-to-status mapping and image extraction from requests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json_text.hpp"
#include "liveproof/error.hpp"
#include "liveproof/expected.hpp"
#include "server/http_types.hpp"
#include "server/server_context.hpp"

namespace liveproof::server::api {

/// @brief The HTTP status for an engine or parsing error (413 sizes, 415 formats, 400 others).
int HttpStatusFor(ErrorCode code);

/// @brief The native error response {"error","detail"} with HttpStatusFor's status.
HttpResponse ErrorResponse(const Error& error);

/// @brief Base64 (a data: URL prefix accepted) from a JSON string, decoded within the cap.
Expected<std::vector<std::uint8_t>> DecodeImageField(const nlohmann::json& value, std::size_t cap);

/// @brief The request's Content-Type in lower case (media types are case-insensitive), with
/// its parameters.
std::string MediaType(const HttpRequest& req);

/// @brief The uploaded bytes of a multipart field (copied), or an error naming the field.
Expected<std::vector<std::uint8_t>> MultipartField(const HttpRequest& request,
                                                   const std::vector<std::string>& names);

/// @brief The image of a request: a raw body (image/*, application/octet-stream, no type), a
/// multipart upload (field "file" or "image") or a JSON body with base64 "image",
/// "image_base64" or "base64".
Expected<std::vector<std::uint8_t>> ImageFromRequest(const HttpRequest& req, const ServerConfig& c);

}  // namespace liveproof::server::api
