// JSON encodings of engine results: the body of `liveproof analyze --json` and POST /v1/analyze.
#pragma once

#include <nlohmann/json.hpp>

#include "liveproof/error.hpp"
#include "liveproof/types.hpp"

namespace liveproof {

/// @brief One face with system C's field names plus keypoints and the extra measures.
nlohmann::json FaceToJson(const FaceResult& face);

/// @brief {"width","height","exif_orientation","detector","faces":[...],"timings_ms":{...}}.
nlohmann::json ImageAnalysisToJson(const ImageAnalysis& analysis);

/// @brief {"blinks":[{start_frame,end_frame}],"frames":[...],"passive":{...},"passed",...}.
nlohmann::json BlinkAnalysisToJson(const BlinkAnalysis& analysis);

/// @brief {"error": "<code name>", "detail": "<text>"}.
nlohmann::json ErrorToJson(const Error& error);

}  // namespace liveproof
