// Options shared by the CLI subcommands and how they resolve (flag > environment > default).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "liveproof/engine.hpp"

namespace liveproof::cli {

/// @brief Engine options every subcommand accepts.
struct CommonFlags {
    std::string models;         ///< --models, else LIVEPROOF_MODEL_DIR, else the built-in default
    int workers = 1;            ///< --workers
    int threads = 1;            ///< --threads (OpenCV intra-op)
    int detect_max_side = 320;  ///< --detect-max-side
    std::string detector = "auto";              ///< --detector auto|yunet|haar
    std::string inference_backend = "xnnpack";  ///< --inference-backend opencv|xnnpack
    bool verbose = false;                       ///< --verbose
};

/// @brief Registers the common flags on a subcommand.
void AddCommonFlags(CLI::App& app, CommonFlags& flags);

/// @brief Builds the engine from the flags; prints a clear message and returns null on failure.
std::unique_ptr<Engine> MakeEngine(const CommonFlags& flags);

/// @brief Reads a whole file, refusing files over max_bytes (the cap is checked before reading).
Expected<std::vector<std::uint8_t>> ReadInputFile(const std::string& path, std::size_t max_bytes);

}  // namespace liveproof::cli
