// `liveproof serve`: the HTTP service with every front door (systems B and C, native, service).
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "common/json_text.hpp"
#include "licence/licence.hpp"
#include "malloc_tuning.hpp"
#include "server/api/routes.hpp"
#include "server/http_server.hpp"
#include "server/metrics_registry.hpp"
#include "server/router.hpp"
#include "server/server_config.hpp"
#include "server/server_metrics.hpp"
#include "server/session_service.hpp"
#include "server/worker_pool.hpp"

namespace liveproof::cli {

namespace {

constexpr std::size_t kMaxConfigFileBytes = 1 << 20;
// After the HTTP side has stopped, how long running jobs (WebSocket frames, a request answered
// 503 at the deadline) get to finish before the process ends anyway.
constexpr auto kWorkerStopTime = std::chrono::milliseconds(500);

struct ServeFlags {
    std::string config_file;
    std::string host;
    int port = -1;
    int workers = -1;
    int io_threads = -1;
    std::string models;
    std::vector<std::string> api_keys;
    std::vector<std::string> settings;
    bool print_config = false;
};

int Serve(const ServeFlags& flags) {
    server::ServerContext ctx;
    server::ServerConfig& cfg = ctx.config;
    cfg.engine.model_dir = LIVEPROOF_DEFAULT_MODEL_DIR;
    cfg.web_root = LIVEPROOF_DEFAULT_WEB_ROOT;
    auto fail = [](const std::string& what) {
        std::cerr << "liveproof serve: " << what << "\n";
        return 3;
    };
    if (!flags.config_file.empty()) {
        auto bytes = ReadInputFile(flags.config_file, kMaxConfigFileBytes);
        if (!bytes) return fail("config file: " + bytes.error().detail);
        const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
        if (auto r = cfg.ApplyJsonText(text, "config file " + flags.config_file); !r)
            return fail(r.error().detail);
    }
    if (auto r = cfg.ApplyEnvironment(); !r) return fail(r.error().detail);
    if (!flags.host.empty()) cfg.host = flags.host;
    if (flags.port >= 0) cfg.port = flags.port;
    if (flags.workers >= 0) cfg.engine.workers = flags.workers;
    if (flags.io_threads > 0) cfg.io_threads = flags.io_threads;
    if (!flags.models.empty()) cfg.engine.model_dir = flags.models;
    if (!flags.api_keys.empty()) cfg.api_keys = flags.api_keys;
    for (const auto& kv : flags.settings) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos) return fail("--set expects KEY=VALUE, got " + kv);
        if (auto r = cfg.Set(kv.substr(0, eq), kv.substr(eq + 1)); !r)
            return fail(r.error().detail);
    }
    if (auto r = cfg.Finalize(); !r) return fail(r.error().detail);
    if (flags.print_config) {
        std::cout << ToJsonText(cfg.ToJson(), 2) << "\n";
        return 0;
    }
    spdlog::set_level(spdlog::level::from_str(cfg.log_level));
    KeepFreedBuffersForReuse();

    auto engine = Engine::Create(cfg.engine);
    if (!engine) return fail("cannot start the engine: " + engine.error().detail);

    server::MetricsRegistry metrics;
    server::DescribeServerMetrics(metrics);
    // Admission (below) lets workers + queue_capacity requests in; the queue has room for all of
    // them, even while every worker is busy with WebSocket frames.
    const auto admitted = static_cast<std::size_t>(cfg.engine.workers + cfg.queue_capacity);
    server::WorkerThreadOptions worker_threads;
    worker_threads.pin_to_cpus = cfg.pin_workers;
    worker_threads.observe = [&metrics](std::int64_t minor_faults) {
        metrics.Inc("liveproof_worker_jobs_total");
        metrics.Inc("liveproof_worker_page_faults_total", {}, static_cast<double>(minor_faults));
    };
    server::WorkerPool workers(cfg.engine.workers, admitted, {}, std::move(worker_threads));
    licence::LicenceState licence_state(cfg.licence_public_key, cfg.licence_file);
    ctx.engine = engine->get();
    ctx.workers = &workers;
    server::AdmissionGate admission(admitted);
    ctx.admission = &admission;
    ctx.metrics = &metrics;
    ctx.licence = &licence_state;
    auto sessions = server::SessionService::Open(ctx);
    if (!sessions) return fail("cannot open the session store: " + sessions.error().detail);
    ctx.sessions = sessions->get();
    // Declared after the session service: stopped (its queued calls done) before it closes.
    server::WorkerPool store_workers(cfg.store_threads, static_cast<std::size_t>(cfg.store_queue));
    ctx.store_workers = &store_workers;

    server::Router router(ctx);
    server::api::AddServiceRoutes(router, ctx);
    server::api::AddSystemARoutes(router, ctx);
    server::api::AddSystemBRoutes(router, ctx);
    server::api::AddSystemCRoutes(router, ctx);
    server::api::AddNativeRoutes(router, ctx);
    server::api::AddSessionRoutes(router, ctx);

    auto http = server::HttpServer::Create(ctx, router);
    if (!http) return fail(http.error().detail);
    if (cfg.api_keys.empty()) spdlog::warn("no API key configured: authentication is OFF");
    ctx.ready = true;
    spdlog::info("liveproof listening on {}:{} ({} workers, queue {}, {} I/O thread(s))", cfg.host,
                 (*http)->port(), cfg.engine.workers, cfg.queue_capacity, cfg.io_threads);
    (*http)->Run();
    // Run() returns when every request is answered or the grace period is over (the rest were
    // answered 503). A job still computing then cannot be interrupted: the process ends without
    // waiting for it, so the grace period is a hard limit.
    // The store's calls first: each is short, and the ends of runs are among them.
    store_workers.Shutdown();
    if (!workers.Shutdown(std::chrono::steady_clock::now() + kWorkerStopTime)) {
        spdlog::warn("liveproof stopped with an inference job still running (abandoned)");
        spdlog::shutdown();
        std::_Exit(0);
    }
    spdlog::info("liveproof stopped");
    return 0;
}

}  // namespace

void RegisterServe(CLI::App& root) {
    auto flags = std::make_shared<ServeFlags>();
    CLI::App* cmd =
        root.add_subcommand("serve", "Run the HTTP service (systems B and C, native API)");
    cmd->add_option("--config", flags->config_file, "JSON config file (keys as in --print-config)");
    cmd->add_option("--host", flags->host, "Listen address (default 0.0.0.0)");
    cmd->add_option("--port", flags->port, "Listen port (default 8001; 0 = any free port)")
        ->check(CLI::Range(0, 65535));
    cmd->add_option("--workers", flags->workers, "Inference workers (default: one per core)")
        ->check(CLI::Range(0, 64));
    cmd->add_option("--io-threads", flags->io_threads, "Network threads")->check(CLI::Range(1, 16));
    cmd->add_option("--models", flags->models, "Model folder");
    cmd->add_option("--api-key", flags->api_keys, "API key (repeatable); overrides API_KEY");
    cmd->add_option("--set", flags->settings, "Any setting as KEY=VALUE (repeatable)");
    cmd->add_flag("--print-config", flags->print_config, "Print the effective settings and exit");
    cmd->callback([flags] {
        const int status = Serve(*flags);
        if (status != 0) throw CLI::RuntimeError(status);
    });
}

}  // namespace liveproof::cli
