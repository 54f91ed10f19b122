// Shared request parsing for the front doors.
#include "server/api/api_common.hpp"

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
        case ErrorCode::EmptyInput:
        case ErrorCode::InvalidEncoding:
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

namespace {

constexpr int kMaxJsonDepth = 16;  // the APIs' bodies are two levels deep

struct TooDeep {};

nlohmann::json ParseCapped(const std::string& text) {
    return nlohmann::json::parse(text, [](int depth, nlohmann::json::parse_event_t, auto&) {
        if (depth > kMaxJsonDepth) throw TooDeep{};
        return true;
    });
}

}  // namespace

std::optional<nlohmann::json> ParseJsonBounded(const std::string& text) {
    try {
        return ParseCapped(text);
    } catch (const nlohmann::json::parse_error&) {
        return std::nullopt;
    } catch (const TooDeep&) {
        return std::nullopt;
    }
}

Expected<nlohmann::json> ParseJsonObject(const std::string& body) {
    try {
        auto j = ParseCapped(body);
        if (!j.is_object())
            return MakeError(ErrorCode::InvalidEncoding, "the body must be a JSON object");
        return j;
    } catch (const nlohmann::json::parse_error& e) {
        return MakeError(ErrorCode::InvalidEncoding,
                         "the body is not valid JSON (byte " + std::to_string(e.byte) + ")");
    } catch (const TooDeep&) {
        return MakeError(ErrorCode::InvalidEncoding, "the body is nested deeper than " +
                                                         std::to_string(kMaxJsonDepth) + " levels");
    }
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

}  // namespace liveproof::server::api
