// An out-of-tree C++ program built with find_package(liveproof) against the installed SDK:
// prints "FILE FACES P_REAL" per image, as the C consumer does.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <liveproof/engine.hpp>
#include <liveproof/version.hpp>
#include <vector>

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
    return 0;
}
