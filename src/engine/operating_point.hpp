// An operating point: the thresholds calibrated on an operator's own labelled images
// (`liveproof calibrate`), loaded by `serve` and `analyze` (`operating_point=FILE`).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "liveproof/expected.hpp"

namespace liveproof::engine {

/// @brief The file's format tag: a file of another format is refused, not guessed at.
inline constexpr std::string_view kOperatingPointFormat = "liveproof-operating-point/1";
/// @brief Operating point files are small; anything larger is not one.
inline constexpr std::size_t kMaxOperatingPointBytes = 64 * 1024;

/// @brief WHAT THIS OBJECT REPRESENTS: one calibrated operating point, as read from its file.
struct OperatingPoint {
    std::string name;            ///< the data it was calibrated on (the file's "name")
    std::string sha256;          ///< of the file's bytes: names it in GET / and in verdicts
    float liveness_threshold;    ///< P(real) >= this is live (B, native, sessions, /ws, blink)
    float c_liveness_threshold;  ///< system C's "Real" (P(real) > this, strict as C)
    nlohmann::json document;     ///< the whole file (target, counts, expected error rates)
};

/// @brief Parses and checks an operating point (format tag, name, both thresholds in [0, 1]).
/// @param sha256 the digest of the bytes the text came from.
Expected<OperatingPoint> ParseOperatingPoint(std::string_view text, std::string sha256);

/// @brief Reads (at most kMaxOperatingPointBytes) and parses an operating point file.
Expected<OperatingPoint> ReadOperatingPoint(const std::string& path);

/// @brief What GET / and the verdicts say about the operating point in force.
nlohmann::json OperatingPointSummary(const OperatingPoint& point);

}  // namespace liveproof::engine
