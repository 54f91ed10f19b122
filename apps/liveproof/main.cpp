// The `liveproof` binary: subcommands over the engine.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "liveproof/version.hpp"

namespace {
constexpr int kExitCannotStart = 3;  // README "Exit status"
}  // namespace

int main(int argc, char** argv) {
    // Logs go to stderr so that stdout carries only results (JSON lines, reports).
    spdlog::set_default_logger(spdlog::stderr_color_mt("liveproof"));
    CLI::App app{"liveproof: self-hosted face liveness"};
    app.set_version_flag("--version", "liveproof " LIVEPROOF_VERSION_STRING);
    app.require_subcommand(1);
    liveproof::cli::RegisterAnalyze(app);
    liveproof::cli::RegisterBlink(app);
    liveproof::cli::RegisterServe(app);
    liveproof::cli::RegisterEval(app);
    liveproof::cli::RegisterCalibrate(app);
    liveproof::cli::RegisterBench(app);
    liveproof::cli::RegisterKeygen(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::RuntimeError& e) {
        return e.get_exit_code();  // a subcommand's own documented status
    } catch (const CLI::ParseError& e) {
        // Prints the help or what was wrong with the command line. CLI11's own codes (105 for
        // "--port -1", 106, ...) are not ours: a command line that is refused cannot start.
        const int code = app.exit(e);
        return code == 0 ? 0 : kExitCannotStart;
    }
    return 0;
}
