// Operating point files: strict parsing (json_text's bounded parser), one place for the rules.
#include "engine/operating_point.hpp"

#include <filesystem>
#include <fstream>
#include <vector>

#include "common/json_text.hpp"
#include "engine/models.hpp"

namespace liveproof::engine {

namespace {

constexpr std::size_t kMaxNameChars = 200;

Unexpected Refused(const std::string& why) {
    return MakeError(ErrorCode::InvalidArgument, "operating point: " + why);
}

Expected<float> Threshold(const nlohmann::json& doors, const char* key) {
    if (!doors.contains(key) || !doors[key].is_number()) {
        return Refused(std::string("thresholds.") + key + " must be a number");
    }
    const double v = doors[key].get<double>();
    if (!(v >= 0.0 && v <= 1.0)) {
        return Refused(std::string("thresholds.") + key + " must be in [0, 1]");
    }
    return static_cast<float>(v);
}

}  // namespace

Expected<OperatingPoint> ParseOperatingPoint(std::string_view text, std::string sha256) {
    auto j = ParseJsonObject(text);
    if (!j) return Refused(j.error().detail);
    if (!j->contains("format") || !(*j)["format"].is_string() ||
        (*j)["format"].get<std::string>() != kOperatingPointFormat) {
        return Refused("\"format\" must be \"" + std::string(kOperatingPointFormat) +
                       "\" (a file written by liveproof calibrate)");
    }
    if (!j->contains("name") || !(*j)["name"].is_string() ||
        (*j)["name"].get_ref<const std::string&>().empty() ||
        (*j)["name"].get_ref<const std::string&>().size() > kMaxNameChars) {
        return Refused("\"name\" must be a non-empty string of at most 200 characters");
    }
    if (!j->contains("thresholds") || !(*j)["thresholds"].is_object()) {
        return Refused("\"thresholds\" must be an object");
    }
    auto live = Threshold((*j)["thresholds"], "liveness_threshold");
    if (!live) return Unexpected{live.error()};
    auto c = Threshold((*j)["thresholds"], "c_liveness_threshold");
    if (!c) return Unexpected{c.error()};
    OperatingPoint p;
    p.name = PrintableUtf8((*j)["name"].get<std::string>());
    p.sha256 = std::move(sha256);
    p.liveness_threshold = *live;
    p.c_liveness_threshold = *c;
    p.document = std::move(*j);
    return p;
}

Expected<OperatingPoint> ReadOperatingPoint(const std::string& path) {
    // A regular file only: a FIFO or a device (/dev/stdin) would block or never end.
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return Refused(PrintableUtf8(path) + " is not a readable regular file");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return Refused("cannot read " + PrintableUtf8(path));
    std::vector<std::uint8_t> bytes(kMaxOperatingPointBytes + 1);
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    bytes.resize(static_cast<std::size_t>(in.gcount()));
    if (bytes.size() > kMaxOperatingPointBytes) {
        return Refused(PrintableUtf8(path) + " is larger than 64 KiB: not an operating point file");
    }
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return ParseOperatingPoint(text, Sha256Hex(bytes));
}

nlohmann::json OperatingPointSummary(const OperatingPoint& p) {
    // The thresholds as written (the floats would print as 0.8299999833).
    nlohmann::json s = {
        {"name", p.name}, {"sha256", p.sha256}, {"thresholds", p.document.at("thresholds")}};
    for (const char* key : {"target", "expected", "created"}) {
        if (p.document.contains(key)) s[key] = p.document[key];
    }
    return s;
}

}  // namespace liveproof::engine
