// Engine construction for the CLI: model folder resolution and error reporting.
#include "cli_common.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace liveproof::cli {

void AddCommonFlags(CLI::App& app, CommonFlags& flags) {
    app.add_option("--models", flags.models,
                   "Model folder (default: $LIVEPROOF_MODEL_DIR, else " LIVEPROOF_DEFAULT_MODEL_DIR
                   ")");
    app.add_option("--workers", flags.workers, "Concurrent analyses (pipelines)")
        ->check(CLI::Range(1, 64));
    app.add_option("--threads", flags.threads, "OpenCV threads per inference")
        ->check(CLI::Range(1, 64));
    app.add_option("--detect-max-side", flags.detect_max_side,
                   "Detector input long side in pixels (0 = full resolution)")
        ->check(CLI::Range(0, 8192));
    app.add_option("--detector", flags.detector, "Face detector")
        ->check(CLI::IsMember({"auto", "yunet", "haar"}));
    app.add_option("--inference-backend", flags.inference_backend,
                   "Library that runs the networks: xnnpack (default) or opencv")
        ->check(CLI::IsMember({"opencv", "xnnpack"}));
    app.add_flag("--verbose", flags.verbose, "Debug logging on stderr");
}

std::unique_ptr<Engine> MakeEngine(const CommonFlags& flags) {
    spdlog::set_level(flags.verbose ? spdlog::level::debug : spdlog::level::warn);
    EngineOptions o;
    o.model_dir = flags.models;
    if (o.model_dir.empty()) {
        const char* env = std::getenv("LIVEPROOF_MODEL_DIR");
        o.model_dir = env && *env ? env : LIVEPROOF_DEFAULT_MODEL_DIR;
    }
    o.workers = flags.workers;
    o.opencv_threads = flags.threads;
    o.detect_max_side = flags.detect_max_side;
    o.detector = flags.detector == "yunet"  ? DetectorKind::YuNet
                 : flags.detector == "haar" ? DetectorKind::Haar
                                            : DetectorKind::Auto;
    o.inference_backend =
        ParseInferenceBackend(flags.inference_backend).value_or(o.inference_backend);
    auto engine = Engine::Create(o);
    if (!engine) {
        std::cerr << "liveproof: cannot start the engine: " << engine.error().detail << "\n";
        return nullptr;
    }
    return std::move(*engine);
}

Expected<std::vector<std::uint8_t>> ReadInputFile(const std::string& path, std::size_t max_bytes) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return MakeError(ErrorCode::InvalidArgument, "not a readable file: " + path);
    }
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return MakeError(ErrorCode::InvalidArgument, "cannot stat " + path);
    if (size > max_bytes) {
        return MakeError(ErrorCode::InputTooLarge, path + " is " + std::to_string(size) +
                                                       " bytes; the cap is " +
                                                       std::to_string(max_bytes));
    }
    std::ifstream in(path, std::ios::binary);
    std::vector<std::uint8_t> data(size);
    if (!in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(size))) {
        return MakeError(ErrorCode::InvalidArgument, "cannot read " + path);
    }
    return data;
}

}  // namespace liveproof::cli
