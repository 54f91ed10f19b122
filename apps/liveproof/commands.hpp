// Registration of the CLI subcommands.
#pragma once

#include <CLI/CLI.hpp>

namespace liveproof::cli {

/// @brief Adds `analyze`.
void RegisterAnalyze(CLI::App& root);
/// @brief Adds `blink`.
void RegisterBlink(CLI::App& root);
/// @brief Adds `serve`.
void RegisterServe(CLI::App& root);
/// @brief Adds `eval`.
void RegisterEval(CLI::App& root);
/// @brief `liveproof calibrate`: an operating point from labelled images.
void RegisterCalibrate(CLI::App& root);
/// @brief Adds `bench` (`bench http`, `bench ws`, `bench sessions`).
void RegisterBench(CLI::App& root);
/// @brief Adds `keygen`.
void RegisterKeygen(CLI::App& root);

}  // namespace liveproof::cli
