// `liveproof bench http`: N keep-alive connections POSTing real images; every body prepared once.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <span>
#include <sstream>

#include "bench_common.hpp"
#include "cli_common.hpp"
#include "loadgen/load_client.hpp"
#include "media/base64.hpp"
#include "media/image_header.hpp"

namespace liveproof::cli::bench {

namespace {

struct HttpFlags {
    std::string url = "http://127.0.0.1:8001/liveness";
    std::vector<std::string> images;
    int connections = 2;
    double duration = 10;
    double timeout = 10;
    std::string body = "base64json";
    std::string field = "image";
    std::string api_key;
    bool json = false;
    bool allow_remote = false;
};

std::string ContentTypeOf(std::span<const std::uint8_t> bytes) {
    const auto header = media::ReadImageHeader(bytes);
    if (!header) return "application/octet-stream";
    return "image/" + std::string(media::FormatName(header->format));
}

// -- bench http ----------------------------------------------------------------------------

std::string MultipartBoundary(const std::vector<std::vector<std::uint8_t>>& files) {
    std::mt19937_64 rng(std::random_device{}());
    for (;;) {
        std::ostringstream s;
        s << "liveproof-bench-" << std::hex << rng();
        const std::string b = s.str();
        const bool clash = std::any_of(files.begin(), files.end(), [&](const auto& f) {
            return std::search(f.begin(), f.end(), b.begin(), b.end()) != f.end();
        });
        if (!clash) return b;
    }
}

load::HttpPayload MakeHttpPayload(const HttpFlags& f, const std::string& path,
                                  const std::vector<std::uint8_t>& bytes,
                                  const std::string& boundary) {
    load::HttpPayload p;
    if (f.body == "base64json") {
        p.content_type = "application/json";
        p.body = "{\"" + f.field + "\":\"" + media::EncodeBase64(bytes) + "\"}";
    } else if (f.body == "raw") {
        p.content_type = ContentTypeOf(bytes);
        p.body.assign(bytes.begin(), bytes.end());
    } else {
        std::string name = std::filesystem::path(path).filename().string();
        std::replace_if(
            name.begin(), name.end(),
            [](char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; },
            '_');
        p.content_type = "multipart/form-data; boundary=" + boundary;
        p.body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.field +
                 "\"; filename=\"" + name + "\"\r\nContent-Type: " + ContentTypeOf(bytes) +
                 "\r\n\r\n";
        p.body.append(bytes.begin(), bytes.end());
        p.body += "\r\n--" + boundary + "--\r\n";
    }
    return p;
}

int RunBenchHttp(const HttpFlags& f) {
    const std::string cmd = "http";
    CheckRange(cmd, "--connections", f.connections, 1, kMaxClients);
    CheckRange(cmd, "--duration", f.duration, kMinDurationS, kMaxDurationS);
    CheckRange(cmd, "--timeout", f.timeout, kMinTimeoutS, kMaxTimeoutS);
    if (std::find(kBodyKinds.begin(), kBodyKinds.end(), f.body) == kBodyKinds.end()) {
        Refuse(cmd, "--body must be base64json, multipart or raw (got " + f.body + ")");
    }
    const bool field_ok = !f.field.empty() && f.field.size() <= 64 &&
                          std::all_of(f.field.begin(), f.field.end(), [](unsigned char c) {
                              return std::isalnum(c) || c == '_' || c == '-' || c == '.';
                          });
    if (!field_ok) Refuse(cmd, "--field must be 1..64 of A-Z a-z 0-9 _ - .");
    CheckApiKey(cmd, f.api_key);
    if (f.images.empty()) Refuse(cmd, "give at least one --image FILE (a real photo)");
    if (f.images.size() > kMaxImages) {
        Refuse(cmd, "at most " + std::to_string(kMaxImages) + " --image files");
    }
    load::HttpLoadOptions o;
    o.target = ResolvedTarget(cmd, f.url, "http", f.allow_remote);
    std::vector<std::vector<std::uint8_t>> files;
    std::size_t read = 0;
    for (const auto& path : f.images) {
        files.push_back(ReadCapped(cmd, path, MediaLimits{}.max_image_bytes));
        read += files.back().size();
        if (read > kMaxPreparedBytes) {
            Refuse(cmd, "the --image files pass " + std::to_string(kMaxPreparedBytes) + " bytes");
        }
    }
    Probe(cmd, o.target);

    const std::string boundary = f.body == "multipart" ? MultipartBoundary(files) : "";
    std::size_t prepared = 0;
    json images = json::array();
    for (std::size_t i = 0; i < files.size(); ++i) {
        o.payloads.push_back(MakeHttpPayload(f, f.images[i], files[i], boundary));
        prepared += o.payloads.back().body.size();
        images.push_back({{"file", f.images[i]},
                          {"bytes", files[i].size()},
                          {"body_bytes", o.payloads.back().body.size()}});
    }
    if (prepared > kMaxPreparedBytes) {
        Refuse(cmd, "the prepared bodies take " + std::to_string(prepared) + " bytes; the cap is " +
                        std::to_string(kMaxPreparedBytes));
    }
    o.connections = f.connections;
    o.duration_s = f.duration;
    o.api_key = f.api_key;
    o.connect_timeout_s = kConnectTimeoutS;
    o.request_timeout_s = f.timeout;

    std::cerr << "bench http: " << f.connections << " connection(s) for " << f.duration
              << " s, POST " << f.url << " (" << f.body << ", " << files.size() << " image(s))\n";
    const load::HttpLoadResult r = load::RunHttpLoad(o);

    if (f.json) {
        json j = HttpRunJson(r, f.duration, "latency_200_ms");
        j.update({{"mode", "http"},
                  {"url", f.url},
                  {"addresses", o.target.addresses},
                  {"connections", f.connections},
                  {"duration_s", f.duration},
                  {"elapsed_s", std::round(r.elapsed_s * 1000.0) / 1000.0},
                  {"body", f.body},
                  {"field", f.field},
                  {"images", images},
                  {"server_metrics", ServerJson(r.server)}});
        std::cout << j.dump(2) << "\n";
    } else {
        std::cout << "liveproof bench http: POST " << f.url << ", " << f.connections
                  << " connection(s), " << f.duration << " s, " << f.body << " bodies of "
                  << files.size() << " image(s), mean "
                  << KiB(static_cast<double>(prepared) / static_cast<double>(files.size())) << "\n";
        Table t({"measure", "value"});
        for (auto& [measure, value] : HttpRunMeasures(r, f.duration)) t.Add({measure, value});
        t.Print(std::cout);
        std::cout << "\n";
        Table lat({"answers", "count", "p50 ms", "p95 ms", "p99 ms", "max ms"});
        lat.Add(LatencyRow("all", r.latency));
        lat.Add(LatencyRow("200 only", r.latency_ok));
        lat.Print(std::cout);
        PrintServer(r.server);
    }
    if (r.requests == 0) Fail(cmd, "no answer at all from " + f.url);
    return 0;
}

// -- bench ws ------------------------------------------------------------------------------

}  // namespace

void RegisterHttp(CLI::App& bench) {
    auto hf = std::make_shared<HttpFlags>();
    CLI::App* http = bench.add_subcommand(
        "http", "N keep-alive connections POSTing real images; throughput, latency, statuses");
    AddCommonLoadFlags(*http, hf->url, hf->api_key, hf->json, hf->allow_remote);
    http->add_option("--image", hf->images, "Image file(s) to send, in turn (at least one)");
    http->add_option("--connections", hf->connections, "Concurrent connections (1..256)")
        ->capture_default_str();
    http->add_option("--duration", hf->duration, "Seconds (1..600)")->capture_default_str();
    http->add_option("--timeout", hf->timeout, "Seconds per request (1..120)")
        ->capture_default_str();
    http->add_option("--body", hf->body, "base64json ({FIELD: base64}), multipart or raw")
        ->capture_default_str();
    http->add_option("--field", hf->field, "JSON key or multipart field name")
        ->capture_default_str();
    http->callback([hf] {
        const int rc = RunBenchHttp(*hf);
        if (rc != 0) throw CLI::RuntimeError(rc);
    });
}

}  // namespace liveproof::cli::bench
