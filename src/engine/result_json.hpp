// JSON encodings of engine results: the body of `liveproof analyze --json` and POST /v1/analyze.
#pragma once

#include <nlohmann/json.hpp>

#include "liveproof/error.hpp"
#include "liveproof/types.hpp"

namespace liveproof {

/// @brief A face box in whole pixels, as system C reports it (JSON and FaceBox alike).
struct PixelBox {
    int x1 = 0, y1 = 0, x2 = 0, y2 = 0;  ///< corners, each rounded to the nearest pixel
};

/// @brief The face's box in whole pixels: every corner rounded to the nearest (half away from 0).
PixelBox RoundedBox(const FaceResult& face);

/// @brief One face with system C's field names plus keypoints and the extra measures.
nlohmann::json FaceToJson(const FaceResult& face);

/// @brief {"width","height","exif_orientation","detector","faces":[...],"timings_ms":{...}}.
nlohmann::json ImageAnalysisToJson(const ImageAnalysis& analysis);

/// @brief {"blinks":[{start_frame,end_frame}],"frames":[...],"passive":{...},"passed",...}.
nlohmann::json BlinkAnalysisToJson(const BlinkAnalysis& analysis);

/// @brief {"error": "<code name>", "detail": "<text>"}.
nlohmann::json ErrorToJson(const Error& error);

}  // namespace liveproof
