// `liveproof analyze`: one JSON object (or a summary line) per image.
#include <iostream>
#include <optional>

#include "cli_common.hpp"
#include "commands.hpp"
#include "engine/operating_point.hpp"
#include "engine/result_json.hpp"

namespace liveproof::cli {

namespace {

struct AnalyzeFlags {
    CommonFlags common;
    std::vector<std::string> images;
    bool json = false;
    bool mesh = false;
    bool passive_only = false;
    std::string operating_point;  // a calibrate file: its threshold judges each face
};

// The verdict is P(real) against the engine's threshold, as the server judges it (not the
// ensemble's arg-max class, which can disagree near the threshold).
void PrintSummary(const std::string& path, const ImageAnalysis& a, float threshold) {
    std::cout << path << ": " << a.width << "x" << a.height << ", " << a.faces.size()
              << " face(s)\n";
    for (std::size_t i = 0; i < a.faces.size(); ++i) {
        const FaceResult& f = a.faces[i];
        std::cout << "  face " << i << ": box [" << f.x1 << "," << f.y1 << "," << f.x2 << ","
                  << f.y2 << "]";
        if (f.antispoof) {
            std::cout << "  P(real)=" << f.antispoof->p_real
                      << (f.antispoof->p_real >= threshold ? " REAL" : " SPOOF");
        }
        if (f.pose)
            std::cout << "  yaw=" << f.pose->yaw << " pitch=" << f.pose->pitch
                      << " roll=" << f.pose->roll;
        if (f.eye_image_left) {
            std::cout << "  eyes closed=" << f.eye_image_left->closed << "/"
                      << f.eye_image_right->closed;
        }
        if (f.mouth_opened) std::cout << "  mouth=" << *f.mouth_opened;
        std::cout << "\n";
    }
}

}  // namespace

void RegisterAnalyze(CLI::App& root) {
    auto flags = std::make_shared<AnalyzeFlags>();
    CLI::App* cmd =
        root.add_subcommand("analyze", "Analyse faces in images (JPEG, PNG, BMP, WebP)");
    AddCommonFlags(*cmd, flags->common);
    cmd->add_option("images", flags->images, "Image files")->required();
    cmd->add_flag("--json", flags->json, "One JSON object per image, one per line");
    cmd->add_flag("--mesh", flags->mesh, "Include all 468 mesh points");
    cmd->add_flag("--passive-only", flags->passive_only, "Detection and anti-spoofing only");
    cmd->add_option("--operating-point", flags->operating_point,
                    "Judge P(real) at the threshold of this calibrate file; the JSON names it "
                    "and gives each face \"live\"");
    cmd->callback([flags] {
        std::optional<engine::OperatingPoint> point;
        if (!flags->operating_point.empty()) {
            auto read = engine::ReadOperatingPoint(flags->operating_point);
            if (!read) {
                std::cerr << "liveproof analyze: " << read.error().detail << "\n";
                throw CLI::RuntimeError(3);
            }
            point = std::move(*read);
        }
        auto engine = MakeEngine(flags->common);
        if (!engine) throw CLI::RuntimeError(3);
        const float threshold =
            point ? point->liveness_threshold : engine->options().liveness_threshold;
        AnalyzeOptions what =
            flags->passive_only ? AnalyzeOptions::PassiveOnly() : AnalyzeOptions{};
        what.keep_mesh = flags->mesh;
        int failures = 0;
        for (const std::string& path : flags->images) {
            auto bytes = ReadInputFile(path, engine->options().limits.max_image_bytes);
            auto result = bytes ? engine->Analyze(*bytes, what)
                                : Expected<ImageAnalysis>(Unexpected{bytes.error()});
            if (!result) {
                ++failures;
                if (flags->json) {
                    auto j = ErrorToJson(result.error());
                    j["image"] = path;
                    std::cout << j.dump() << "\n";
                } else {
                    std::cerr << path << ": error: " << result.error().detail << "\n";
                }
                continue;
            }
            if (flags->json) {
                auto j = ImageAnalysisToJson(*result);
                j["image"] = path;
                if (point) {
                    j["operating_point"] = engine::OperatingPointSummary(*point);
                    for (std::size_t i = 0; i < result->faces.size(); ++i) {
                        const auto& f = result->faces[i];
                        j["faces"][i]["live"] =
                            f.antispoof ? nlohmann::json(f.antispoof->p_real >= threshold)
                                        : nlohmann::json(nullptr);
                    }
                }
                std::cout << j.dump() << "\n";
            } else {
                PrintSummary(path, *result, threshold);
            }
        }
        if (failures > 0) throw CLI::RuntimeError(1);
    });
}

}  // namespace liveproof::cli
