// Stable names for error codes (the JSON "error" field).
#include "liveproof/error.hpp"

namespace liveproof {

std::string_view ErrorCodeName(ErrorCode code) {
    switch (code) {
        case ErrorCode::Ok:
            return "ok";
        case ErrorCode::InvalidArgument:
            return "invalid_argument";
        case ErrorCode::EmptyInput:
            return "empty_input";
        case ErrorCode::InputTooLarge:
            return "input_too_large";
        case ErrorCode::InvalidEncoding:
            return "invalid_encoding";
        case ErrorCode::InvalidJson:
            return "invalid_json";
        case ErrorCode::TimeBudgetExceeded:
            return "time_budget_exceeded";
        case ErrorCode::UnsupportedFormat:
            return "unsupported_format";
        case ErrorCode::ImageTooLarge:
            return "image_too_large";
        case ErrorCode::CorruptImage:
            return "corrupt_image";
        case ErrorCode::VideoUnsupported:
            return "video_unsupported";
        case ErrorCode::VideoTooLarge:
            return "video_too_large";
        case ErrorCode::VideoTooLong:
            return "video_too_long";
        case ErrorCode::VideoUndecodable:
            return "video_undecodable";
        case ErrorCode::ModelMissing:
            return "model_missing";
        case ErrorCode::ModelCorrupt:
            return "model_corrupt";
        case ErrorCode::ManifestInvalid:
            return "manifest_invalid";
        case ErrorCode::Internal:
            return "internal";
    }
    return "internal";
}

}  // namespace liveproof
