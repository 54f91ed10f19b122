// Shared test helpers: where the models and ../shared data are, one engine per test binary.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "liveproof/engine.hpp"

namespace liveproof::test {

/// @brief ../shared next to the project (or LIVEPROOF_SHARED_DIR at configure time).
std::filesystem::path SharedDir();

/// @brief The installed model folder (LIVEPROOF_MODEL_DIR overrides).
std::filesystem::path ModelDir();

/// @brief True when the models are installed and ../shared/data exists.
bool HaveModelsAndData();

/// @brief A process-wide engine on the models (full-resolution detection so that outputs can be
/// compared with the reference); null when the models are absent.
const Engine* SharedEngine();

/// @brief A process-wide engine with the default (downscaled) detector.
const Engine* DefaultEngine();

/// @brief Whole file as bytes (empty when unreadable).
std::vector<std::uint8_t> ReadBytes(const std::filesystem::path& path);

}  // namespace liveproof::test

/// Skips the current test with a clear message when models or data are missing.
#define LIVEPROOF_REQUIRE_MODELS()                                                            \
    do {                                                                                      \
        if (!::liveproof::test::HaveModelsAndData()) {                                        \
            GTEST_SKIP() << "models or ../shared/data absent: run scripts/install_models.sh"; \
        }                                                                                     \
    } while (0)
