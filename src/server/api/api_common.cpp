// Shared request parsing for the front doors.
#include "server/api/api_common.hpp"

#include <algorithm>
#include <cctype>

#include "engine/result_json.hpp"
#include "media/base64.hpp"
#include "server/multipart.hpp"

namespace liveproof::server::api {

int HttpStatusFor(ErrorCode code) {
    switch (code) {
        case ErrorCode::InputTooLarge:
        case ErrorCode::ImageTooLarge:
        case ErrorCode::VideoTooLarge:
        case ErrorCode::VideoTooLong:
            return 413;
        case ErrorCode::UnsupportedFormat:
        case ErrorCode::VideoUnsupported:
            return 415;
        case ErrorCode::TimeBudgetExceeded:
            return 422;
        case ErrorCode::EmptyInput:
        case ErrorCode::InvalidEncoding:
        case ErrorCode::InvalidJson:
        case ErrorCode::CorruptImage:
        case ErrorCode::VideoUndecodable:
        case ErrorCode::InvalidArgument:
            return 400;
        default:
            return 500;
    }
}

HttpResponse ErrorResponse(const Error& error) {
    return HttpResponse::Json(HttpStatusFor(error.code), ErrorToJson(error));
}

Expected<std::vector<std::uint8_t>> DecodeImageField(const nlohmann::json& value, std::size_t cap) {
    if (!value.is_string())
        return MakeError(ErrorCode::InvalidEncoding, "the image must be a base64 string");
    return media::DecodeBase64(value.get_ref<const std::string&>(), cap);
}

Expected<std::vector<std::uint8_t>> MultipartField(const HttpRequest& request,
                                                   const std::vector<std::string>& names) {
    auto boundary = MultipartBoundary(request.Header("content-type"));
    if (!boundary) return Unexpected{boundary.error()};
    auto parts = ParseMultipart(request.body, *boundary);
    if (!parts) return Unexpected{parts.error()};
    for (const auto& name : names) {
        if (const MultipartPart* p = FindPart(*parts, name)) {
            return std::vector<std::uint8_t>(p->data.begin(), p->data.end());
        }
    }
    return MakeError(ErrorCode::InvalidArgument,
                     "multipart field '" + names.front() + "' is required");
}

std::string MediaType(const HttpRequest& req) {
    // Media types are case-insensitive (RFC 9110 §8.3.1): Application/JSON is JSON.
    std::string type(req.Header("content-type"));
    std::transform(type.begin(), type.end(), type.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    return type;
}

// The image from a raw body, a multipart upload or a base64 JSON body.
Expected<std::vector<std::uint8_t>> ImageFromRequest(const HttpRequest& req,
                                                     const ServerConfig& c) {
    const std::string type = MediaType(req);
    if (type.rfind("multipart/", 0) == 0) return MultipartField(req, {"file", "image"});
    if (type.rfind("application/json", 0) == 0) {
        auto j = ParseJsonObject(req.body);
        if (!j) return Unexpected{j.error()};
        for (const char* key : {"image", "image_base64", "base64"}) {
            if (j->contains(key))
                return DecodeImageField((*j)[key], c.engine.limits.max_image_bytes);
        }
        return MakeError(ErrorCode::InvalidArgument, "JSON field 'image' (base64) is required");
    }
    if (type.empty() || type.rfind("image/", 0) == 0 ||
        type.rfind("application/octet-stream", 0) == 0) {
        return std::vector<std::uint8_t>(req.body.begin(), req.body.end());
    }
    return MakeError(
        ErrorCode::UnsupportedFormat,
        "Content-Type must be image/*, application/octet-stream, multipart/form-data or "
        "application/json");
}

}  // namespace liveproof::server::api
