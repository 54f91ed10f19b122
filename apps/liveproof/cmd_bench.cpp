// `liveproof bench http|ws|sessions`: bounded load generators against a running server, loopback
// only unless told otherwise. Every request and message is prepared once before the clock starts.
#include "bench_common.hpp"
#include "commands.hpp"

namespace liveproof::cli {

void RegisterBench(CLI::App& root) {
    CLI::App* bench = root.add_subcommand(
        "bench", "Bounded load generators against a running server (loopback only by default)");
    bench->require_subcommand(1);
    bench::RegisterHttp(*bench);
    bench::RegisterWs(*bench);
    bench::RegisterSessions(*bench);
}

}  // namespace liveproof::cli
