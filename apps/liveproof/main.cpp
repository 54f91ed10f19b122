// The `liveproof` binary: subcommands over the engine.
#include <CLI/CLI.hpp>

#include "commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"liveproof: self-hosted face liveness"};
    app.require_subcommand(1);
    liveproof::cli::RegisterAnalyze(app);
    liveproof::cli::RegisterBlink(app);
    liveproof::cli::RegisterServe(app);
    liveproof::cli::RegisterEval(app);
    CLI11_PARSE(app, argc, argv);
    return 0;
}
