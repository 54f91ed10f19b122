// The `liveproof` binary: subcommands over the engine.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "commands.hpp"

int main(int argc, char** argv) {
    // Logs go to stderr so that stdout carries only results (JSON lines, reports).
    spdlog::set_default_logger(spdlog::stderr_color_mt("liveproof"));
    CLI::App app{"liveproof: self-hosted face liveness"};
    app.require_subcommand(1);
    liveproof::cli::RegisterAnalyze(app);
    liveproof::cli::RegisterBlink(app);
    liveproof::cli::RegisterServe(app);
    liveproof::cli::RegisterEval(app);
    liveproof::cli::RegisterBench(app);
    CLI11_PARSE(app, argc, argv);
    return 0;
}
