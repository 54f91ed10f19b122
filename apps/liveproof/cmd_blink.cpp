// `liveproof blink`: blink check of a short video.
#include <iostream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "engine/result_json.hpp"

namespace liveproof::cli {

namespace {
struct BlinkFlags {
    CommonFlags common;
    std::string video;
    bool json = false;
};
}  // namespace

void RegisterBlink(CLI::App& root) {
    auto flags = std::make_shared<BlinkFlags>();
    CLI::App* cmd = root.add_subcommand("blink", "Check a short video for blinks by one live face");
    AddCommonFlags(*cmd, flags->common);
    cmd->add_option("video", flags->video, "Video file (MP4/MOV, WebM/MKV, AVI)")->required();
    cmd->add_flag("--json", flags->json, "Print the full result as JSON");
    cmd->callback([flags] {
        auto engine = MakeEngine(flags->common);
        if (!engine) throw CLI::RuntimeError(3);
        auto bytes = ReadInputFile(flags->video, engine->options().limits.max_video_bytes);
        auto result = bytes ? engine->AnalyzeBlinkVideo(*bytes)
                            : Expected<BlinkAnalysis>(Unexpected{bytes.error()});
        if (!result) {
            if (flags->json) {
                std::cout << ErrorToJson(result.error()).dump() << "\n";
            } else {
                std::cerr << flags->video << ": error: " << result.error().detail << "\n";
            }
            throw CLI::RuntimeError(1);
        }
        if (flags->json) {
            std::cout << BlinkAnalysisToJson(*result).dump() << "\n";
        } else {
            const BlinkAnalysis& a = *result;
            std::cout << flags->video << ": " << (a.passed ? "PASS" : "FAIL")
                      << (a.reason.empty() ? "" : " (" + a.reason + ")") << ", " << a.blinks.size()
                      << " blink(s) in " << a.frames_decoded << " frames";
            for (const auto& b : a.blinks)
                std::cout << " [" << b.start_frame << "-" << b.end_frame << "]";
            std::cout << ", passive mean P(real) " << a.passive.mean_p_real << " over "
                      << a.passive.frames_scored << " frames\n";
        }
        if (!result->passed) throw CLI::RuntimeError(2);
    });
}

}  // namespace liveproof::cli
