// Test helpers: locating data and building the engines once.
#include "support/test_support.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>

namespace liveproof::test {

namespace fs = std::filesystem;

fs::path SharedDir() {
    const char* env = std::getenv("LIVEPROOF_SHARED_DIR");
    return env && *env ? fs::path(env) : fs::path(LIVEPROOF_SHARED_DIR);
}

fs::path ModelDir() {
    const char* env = std::getenv("LIVEPROOF_MODEL_DIR");
    return env && *env ? fs::path(env) : fs::path(LIVEPROOF_TEST_MODEL_DIR);
}

bool HaveModelsAndData() {
    return fs::exists(ModelDir() / "MANIFEST") &&
           fs::exists(ModelDir() / "mediapipe_face_landmark.onnx") &&
           fs::exists(SharedDir() / "data" / "labels.csv");
}

namespace {
std::unique_ptr<Engine> Build(int detect_max_side) {
    if (!HaveModelsAndData()) return nullptr;
    EngineOptions o;
    o.model_dir = ModelDir().string();
    o.workers = 2;
    o.detect_max_side = detect_max_side;
    auto e = Engine::Create(o);
    if (!e) {
        ADD_FAILURE() << "engine failed: " << e.error().detail;
        return nullptr;
    }
    return std::move(*e);
}
}  // namespace

const Engine* SharedEngine() {
    static std::unique_ptr<Engine> engine = Build(0);
    return engine.get();
}

const Engine* DefaultEngine() {
    static std::unique_ptr<Engine> engine = Build(EngineOptions{}.detect_max_side);
    return engine.get();
}

std::vector<std::uint8_t> ReadBytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace liveproof::test
