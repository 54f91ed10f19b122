// An out-of-tree C++ program built with find_package(liveproof) against the installed SDK:
// prints "FILE FACES P_REAL" per image, as the C consumer does; then runs the public challenge
// API (ChallengeRun) on the first image and fails unless it answers as a session should.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <liveproof/challenge_run.hpp>
#include <liveproof/engine.hpp>
#include <liveproof/version.hpp>
#include <string>
#include <vector>

namespace ch = liveproof::challenge;

// The first image as one frame of a challenge: "start", then a judged frame with a pose.
int RunChallenge(const liveproof::Engine& engine, const char* path) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                          std::istreambuf_iterator<char>());
    double now = 0;
    auto run = liveproof::active::ChallengeRun::Create(
        &engine, ch::ChallengeConfig{}, liveproof::StreamOptions{}, [&now] { return now; },
        [] { return 4u; });
    if (!run) {
        std::fprintf(stderr, "ChallengeRun::Create: %s\n", run.error().detail.c_str());
        return 1;
    }
    const auto start = run->Start();
    if (!start || start->type != ch::EventType::Start) return 1;
    now = 0.1;
    const auto event = run->Feed(liveproof::active::Frame::Encoded(bytes), now);
    if (!event || !event->yaw) {
        std::fprintf(stderr, "challenge: no judged frame for %s\n", path);
        return 1;
    }
    std::fprintf(stderr, "challenge: %s, %s, yaw %.1f\n",
                 std::string(ch::EventTypeName(event->type)).c_str(),
                 std::string(ch::InstructionName(event->instruction)).c_str(), *event->yaw);
    return 0;
}

int main(int argc, char** argv) {
    if (argc < 3) return 2;
    liveproof::EngineOptions options;
    options.model_dir = argv[1];
    options.workers = 1;
    auto engine = liveproof::Engine::Create(options);
    if (!engine) {
        std::fprintf(stderr, "Engine::Create: %s\n", engine.error().detail.c_str());
        return 1;
    }
    std::fprintf(stderr, "liveproof %s\n", LIVEPROOF_VERSION_STRING);
    for (int i = 2; i < argc; ++i) {
        std::ifstream in(argv[i], std::ios::binary);
        const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                              std::istreambuf_iterator<char>());
        auto r = (*engine)->Analyze(bytes);
        if (!r) {
            std::fprintf(stderr, "%s: %s\n", argv[i], r.error().detail.c_str());
            return 1;
        }
        const float p =
            r->faces.empty() || !r->faces[0].antispoof ? -1.0f : r->faces[0].antispoof->p_real;
        std::printf("%s %zu %.6f\n", argv[i], r->faces.size(), p);
    }
    return RunChallenge(**engine, argv[2]);
}
