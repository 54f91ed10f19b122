// `liveproof bench http|ws`: bounded load generators against a running server, loopback only
// unless told otherwise. Every request and message is prepared once before the clock starts.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <span>
#include <sstream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "media/base64.hpp"
#include "media/decode.hpp"
#include "media/image_header.hpp"
#include "media/video.hpp"
#include "server/load_client.hpp"

namespace liveproof::cli {

namespace {

namespace load = server::load;
using nlohmann::json;

// Caps: a load generator that can be pointed at the wrong place must stay small and short.
constexpr int kMaxClients = 256;
constexpr double kMinDurationS = 1, kMaxDurationS = 600;
constexpr double kMinFps = 1, kMaxFps = 60;
constexpr int kMinSide = 16, kMaxSide = 4096;
constexpr double kMinTimeoutS = 1, kMaxTimeoutS = 120;
constexpr std::size_t kMaxImages = 64;
constexpr std::size_t kMaxPreparedBytes = 256u << 20;  // every prepared body or message
constexpr int kJpegQuality = 75;
constexpr double kConnectTimeoutS = 3;
constexpr double kClipFpsFallback = 30;  // when the container does not say
const std::vector<std::string> kBodyKinds = {"base64json", "multipart", "raw"};

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

struct WsFlags {
    std::string url = "ws://127.0.0.1:8001/ws";
    std::string video;
    std::vector<std::string> images;
    int clients = 2;
    double fps = 7;
    double duration = 10;
    int width = 640;
    int height = 480;
    bool stop_and_wait = false;
    std::string api_key;
    bool json = false;
    bool allow_remote = false;
};

/// A refused invocation: the message on stderr, exit status 2.
[[noreturn]] void Refuse(const std::string& command, const std::string& message) {
    std::cerr << "liveproof bench " << command << ": " << message << "\n";
    throw CLI::RuntimeError(2);
}

/// The run could not happen (server unreachable, nothing answered): exit status 1.
[[noreturn]] void Fail(const std::string& command, const std::string& message) {
    std::cerr << "liveproof bench " << command << ": " << message << "\n";
    throw CLI::RuntimeError(1);
}

std::string Fixed(double v, int precision = 1) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(precision) << v;
    return s.str();
}

std::string KiB(double bytes) { return Fixed(bytes / 1024.0) + " KiB"; }

template <typename T>
void CheckRange(const std::string& command, const std::string& flag, T value, T lo, T hi) {
    if (!(value >= lo && value <= hi)) {
        std::ostringstream s;
        s << flag << " must be in " << lo << ".." << hi << " (got " << value << ")";
        Refuse(command, s.str());
    }
}

void CheckApiKey(const std::string& command, const std::string& key) {
    for (const char c : key) {
        if (c <= 0x20 || c >= 0x7f) Refuse(command, "--api-key must be printable ASCII");
    }
}

/// Parses and resolves the URL, refusing a non-loopback host unless --allow-remote.
load::LoadTarget ResolvedTarget(const std::string& command, const std::string& url,
                                const std::string& scheme, bool allow_remote) {
    auto parsed = load::ParseLoadUrl(url, scheme);
    if (!parsed) Refuse(command, parsed.error().detail);
    auto target = load::ResolveLoadTarget(*parsed, allow_remote);
    if (!target) Refuse(command, target.error().detail);
    return *target;
}

void Probe(const std::string& command, const load::LoadTarget& target) {
    if (auto ok = load::ProbeTarget(target, kConnectTimeoutS); !ok) {
        Fail(command, ok.error().detail);
    }
}

std::vector<std::uint8_t> ReadCapped(const std::string& command, const std::string& path,
                                     std::size_t cap) {
    auto bytes = ReadInputFile(path, cap);
    if (!bytes) Refuse(command, bytes.error().detail);
    if (bytes->empty()) Refuse(command, path + " is empty");
    return std::move(*bytes);
}

/// A plain text table: column widths from the content, left-aligned (as in `eval`).
class Table {
  public:
    explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
    void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    void Print(std::ostream& out) const {
        std::vector<std::size_t> w;
        for (const auto& r : rows_) {
            w.resize(std::max(w.size(), r.size()));
            for (std::size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
        }
        for (std::size_t r = 0; r < rows_.size(); ++r) {
            out << "  ";
            for (std::size_t i = 0; i < rows_[r].size(); ++i) {
                const bool last = i + 1 == rows_[r].size();  // no trailing blanks
                out << std::left << std::setw(last ? 0 : static_cast<int>(w[i])) << rows_[r][i]
                    << (last ? "" : "  ");
            }
            out << "\n";
            if (r == 0) {
                out << "  ";
                for (std::size_t i = 0; i < w.size(); ++i) {
                    out << std::string(w[i], '-') << (i + 1 < w.size() ? "  " : "");
                }
                out << "\n";
            }
        }
    }

  private:
    std::vector<std::vector<std::string>> rows_;
};

json LatencyJson(const load::LatencySummary& s) {
    const auto ms = [&](double v) -> json {
        if (s.count == 0) return nullptr;
        return std::round(v * 1000.0) / 1000.0;
    };
    return {{"count", s.count},    {"p50", ms(s.p50_ms)}, {"p95", ms(s.p95_ms)},
            {"p99", ms(s.p99_ms)}, {"max", ms(s.max_ms)}, {"mean", ms(s.mean_ms)}};
}

std::vector<std::string> LatencyRow(const std::string& name, const load::LatencySummary& s) {
    if (s.count == 0) return {name, "0", "-", "-", "-", "-"};
    return {
        name,           std::to_string(s.count), Fixed(s.p50_ms), Fixed(s.p95_ms), Fixed(s.p99_ms),
        Fixed(s.max_ms)};
}

template <typename Map>
std::string Counts(const Map& m) {
    if (m.empty()) return "none";
    std::ostringstream s;
    bool first = true;
    for (const auto& [k, v] : m) {
        s << (first ? "" : ", ") << k << " " << v;
        first = false;
    }
    return s.str();
}

template <typename Map>
std::uint64_t Total(const Map& m) {
    std::uint64_t n = 0;
    for (const auto& [k, v] : m) n += v;
    return n;
}

json ServerJson(const std::optional<std::map<std::string, double>>& server) {
    if (!server) return nullptr;
    return *server;
}

void PrintServer(const std::optional<std::map<std::string, double>>& server) {
    if (!server) {
        std::cout << "\n  server /metrics: not readable (skipped)\n";
        return;
    }
    std::cout << "\n  server /metrics, change over the run:" << (server->empty() ? " none" : "")
              << "\n";
    for (const auto& [series, delta] : *server) {
        std::cout << "    " << series << " " << (delta > 0 ? "+" : "") << delta << "\n";
    }
}

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
    const double rps = static_cast<double>(r.requests) / f.duration;

    if (f.json) {
        json status = json::object();
        for (const auto& [code, n] : r.status) status[std::to_string(code)] = n;
        json j = {{"mode", "http"},
                  {"url", f.url},
                  {"addresses", o.target.addresses},
                  {"connections", f.connections},
                  {"duration_s", f.duration},
                  {"elapsed_s", std::round(r.elapsed_s * 1000.0) / 1000.0},
                  {"body", f.body},
                  {"field", f.field},
                  {"images", images},
                  {"requests", r.requests},
                  {"requests_per_s", std::round(rps * 100.0) / 100.0},
                  {"status", status},
                  {"errors", r.errors},
                  {"errors_total", Total(r.errors)},
                  {"in_flight_at_end", r.in_flight_at_end},
                  {"reconnects", r.reconnects},
                  {"latency_ms", LatencyJson(r.latency)},
                  {"latency_200_ms", LatencyJson(r.latency_ok)},
                  {"server_metrics", ServerJson(r.server)}};
        std::cout << j.dump(2) << "\n";
    } else {
        std::cout << "liveproof bench http: POST " << f.url << ", " << f.connections
                  << " connection(s), " << f.duration << " s, " << f.body << " bodies of "
                  << files.size() << " image(s), mean "
                  << KiB(static_cast<double>(prepared) / static_cast<double>(files.size())) << "\n";
        Table t({"measure", "value"});
        t.Add({"requests (answers)", std::to_string(r.requests)});
        t.Add({"requests/s", Fixed(rps)});
        std::map<std::string, std::uint64_t> status;
        for (const auto& [code, n] : r.status) status[std::to_string(code)] = n;
        t.Add({"by status", Counts(status)});
        t.Add({"errors", Counts(r.errors)});
        t.Add({"in flight at the end", std::to_string(r.in_flight_at_end)});
        t.Add({"reconnects", std::to_string(r.reconnects)});
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

std::string FrameMessage(const cv::Mat& bgr, int width, int height) {
    cv::Mat sized = bgr;
    if (bgr.cols != width || bgr.rows != height) {
        const bool shrink = width < bgr.cols && height < bgr.rows;
        cv::resize(bgr, sized, cv::Size(width, height), 0, 0,
                   shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
    }
    std::vector<std::uint8_t> jpeg;
    cv::imencode(".jpg", sized, jpeg, {cv::IMWRITE_JPEG_QUALITY, kJpegQuality});
    return "{\"frame\":\"" + media::EncodeBase64(jpeg) + "\"}";
}

struct PreparedFrames {
    std::vector<std::string> messages;
    double clip_fps = 0;  // 0 for still images (sent in turn)
    std::size_t bytes = 0;
};

PreparedFrames PrepareFrames(const WsFlags& f) {
    const std::string cmd = "ws";
    const MediaLimits limits;
    PreparedFrames out;
    bool over = false;
    const auto add = [&](const cv::Mat& bgr) {
        if (over) return;
        out.messages.push_back(FrameMessage(bgr, f.width, f.height));
        out.bytes += out.messages.back().size();
        over = out.bytes > kMaxPreparedBytes;
    };
    if (!f.video.empty()) {
        const auto bytes = ReadCapped(cmd, f.video, limits.max_video_bytes);
        const auto info =
            media::ForEachVideoFrame(bytes, limits, [&](int, const cv::Mat& bgr) { add(bgr); });
        if (!info) Refuse(cmd, f.video + ": " + info.error().detail);
        out.clip_fps = info->fps > 0 ? info->fps : kClipFpsFallback;
    } else {
        for (const auto& path : f.images) {
            const auto bytes = ReadCapped(cmd, path, limits.max_image_bytes);
            auto image = media::DecodeImage(bytes, limits);
            if (!image) Refuse(cmd, path + ": " + image.error().detail);
            add(image->bgr);
        }
    }
    if (over) {
        Refuse(cmd, "the prepared frames pass " + std::to_string(kMaxPreparedBytes) +
                        " bytes; use a shorter clip or a smaller --width/--height");
    }
    if (out.messages.empty()) Refuse(cmd, "no frame to send");
    return out;
}

int RunBenchWs(const WsFlags& f) {
    const std::string cmd = "ws";
    CheckRange(cmd, "--clients", f.clients, 1, kMaxClients);
    CheckRange(cmd, "--duration", f.duration, kMinDurationS, kMaxDurationS);
    CheckRange(cmd, "--fps", f.fps, kMinFps, kMaxFps);
    CheckRange(cmd, "--width", f.width, kMinSide, kMaxSide);
    CheckRange(cmd, "--height", f.height, kMinSide, kMaxSide);
    CheckApiKey(cmd, f.api_key);
    if (f.video.empty() == f.images.empty()) {
        Refuse(cmd, "give either --video FILE or --image FILE... (real frames)");
    }
    if (f.images.size() > kMaxImages) {
        Refuse(cmd, "at most " + std::to_string(kMaxImages) + " --image files");
    }
    load::WsLoadOptions o;
    o.target = ResolvedTarget(cmd, f.url, "ws", f.allow_remote);
    for (const auto& path : f.images) {
        if (!std::filesystem::is_regular_file(path)) Refuse(cmd, "not a readable file: " + path);
    }
    if (!f.video.empty() && !std::filesystem::is_regular_file(f.video)) {
        Refuse(cmd, "not a readable file: " + f.video);
    }
    Probe(cmd, o.target);

    const PreparedFrames frames = PrepareFrames(f);
    o.messages = frames.messages;
    o.clip_fps = frames.clip_fps;
    o.clients = f.clients;
    o.fps = f.fps;
    o.duration_s = f.duration;
    o.stop_and_wait = f.stop_and_wait;
    o.api_key = f.api_key;
    o.connect_timeout_s = kConnectTimeoutS;
    const double mean_message =
        static_cast<double>(frames.bytes) / static_cast<double>(frames.messages.size());
    const std::string source =
        f.video.empty() ? std::to_string(f.images.size()) + " image(s)" : f.video;

    std::cerr << "bench ws: " << f.clients << " client(s) for " << f.duration << " s, "
              << (f.stop_and_wait ? "stop-and-wait" : Fixed(f.fps, 1) + " fps each") << ", "
              << frames.messages.size() << " frames of " << source << " at " << f.width << "x"
              << f.height << " (mean message " << KiB(mean_message) << ")\n";
    const load::WsLoadResult r = load::RunWsLoad(o);
    const double replies_per_s = static_cast<double>(r.replies) / f.duration;
    const std::uint64_t unanswered = r.frames_unanswered_at_end + r.frames_unanswered_ended;
    std::map<std::string, std::uint64_t> server_frames;
    if (r.server) {
        for (const char* outcome : {"processed", "dropped"}) {
            const auto it = r.server->find("liveproof_ws_frames_total{outcome=\"" +
                                           std::string(outcome) + "\"}");
            server_frames[outcome] =
                it == r.server->end() ? 0 : static_cast<std::uint64_t>(it->second);
        }
    }

    if (f.json) {
        json sessions = {{"opened", r.sessions_opened},
                         {"complete", r.sessions_complete},
                         {"failed", r.sessions_failed},
                         {"broken", r.sessions_broken},
                         {"open_at_end", r.sessions_open_at_end}};
        json frames_json = {{"sent", r.frames_sent},
                            {"answered", r.frames_answered},
                            {"unanswered_at_end", r.frames_unanswered_at_end},
                            {"unanswered_when_session_ended", r.frames_unanswered_ended}};
        json src = {{"frames", frames.messages.size()},
                    {"clip_fps", frames.clip_fps},
                    {"width", f.width},
                    {"height", f.height},
                    {"jpeg_quality", kJpegQuality},
                    {"mean_message_bytes", std::round(mean_message)}};
        if (f.video.empty()) {
            src["images"] = f.images;
        } else {
            src["video"] = f.video;
        }
        json j = {{"mode", "ws"},
                  {"url", f.url},
                  {"addresses", o.target.addresses},
                  {"clients", f.clients},
                  {"fps", f.fps},
                  {"stop_and_wait", f.stop_and_wait},
                  {"duration_s", f.duration},
                  {"elapsed_s", std::round(r.elapsed_s * 1000.0) / 1000.0},
                  {"source", src},
                  {"frames_sent", r.frames_sent},
                  {"replies", r.replies},
                  {"replies_per_s", std::round(replies_per_s * 100.0) / 100.0},
                  {"replies_by_type", r.replies_by_type},
                  {"frames_unanswered", unanswered},
                  {"frames", frames_json},
                  {"sessions", sessions},
                  {"errors", r.errors},
                  {"errors_total", Total(r.errors)},
                  {"latency_ms", LatencyJson(r.latency)},
                  {"answered_latency_ms", LatencyJson(r.latency_answered)},
                  {"server_frames", r.server ? json(server_frames) : json(nullptr)},
                  {"server_metrics", ServerJson(r.server)}};
        std::cout << j.dump(2) << "\n";
    } else {
        std::cout << "liveproof bench ws: " << f.url << ", " << f.clients << " client(s), "
                  << (f.stop_and_wait ? "stop-and-wait" : Fixed(f.fps, 1) + " fps each") << ", "
                  << f.duration << " s, " << frames.messages.size() << " frames of " << source
                  << " at " << f.width << "x" << f.height << " (mean message " << KiB(mean_message)
                  << ")\n";
        Table t({"measure", "value"});
        t.Add({"frames sent", std::to_string(r.frames_sent)});
        t.Add({"replies", std::to_string(r.replies) + " (" + Fixed(replies_per_s) + "/s)"});
        t.Add({"replies by type", Counts(r.replies_by_type)});
        t.Add({"frames answered", std::to_string(r.frames_answered)});
        t.Add({"frames unanswered",
               std::to_string(unanswered) + " (" + std::to_string(r.frames_unanswered_at_end) +
                   " at the end, " + std::to_string(r.frames_unanswered_ended) +
                   " when a session ended)"});
        t.Add({"sessions opened", std::to_string(r.sessions_opened)});
        t.Add({"sessions complete", std::to_string(r.sessions_complete)});
        t.Add({"sessions failed", Counts(r.sessions_failed)});
        t.Add({"sessions broken", std::to_string(r.sessions_broken)});
        t.Add({"sessions open at the end", std::to_string(r.sessions_open_at_end)});
        t.Add({"errors", Counts(r.errors)});
        if (r.server) t.Add({"server frames", Counts(server_frames)});
        t.Print(std::cout);
        std::cout << "\n";
        Table lat({"latency to", "count", "p50 ms", "p95 ms", "p99 ms", "max ms"});
        lat.Add(LatencyRow("next reply", r.latency));
        lat.Add(LatencyRow("frame's own reply", r.latency_answered));
        lat.Print(std::cout);
        PrintServer(r.server);
    }
    if (r.sessions_opened == 0) Fail(cmd, "no session could be opened on " + f.url);
    return 0;
}

void AddCommonLoadFlags(CLI::App& cmd, std::string& url, std::string& api_key, bool& as_json,
                        bool& allow_remote) {
    cmd.add_option("--url", url, "Server URL")->capture_default_str();
    cmd.add_option("--api-key", api_key, "Sent as X-API-KEY (also for /metrics)");
    cmd.add_flag("--json", as_json, "One JSON object instead of the tables");
    cmd.add_flag("--allow-remote", allow_remote,
                 "Allow a host that is not a loopback address (default: refused)");
}

}  // namespace

void RegisterBench(CLI::App& root) {
    CLI::App* bench = root.add_subcommand(
        "bench", "Bounded load generators against a running server (loopback only by default)");
    bench->require_subcommand(1);

    auto hf = std::make_shared<HttpFlags>();
    CLI::App* http = bench->add_subcommand(
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

    auto wf = std::make_shared<WsFlags>();
    CLI::App* ws = bench->add_subcommand(
        "ws", "N system-A WebSocket sessions streaming real frames; reply latency, drops");
    AddCommonLoadFlags(*ws, wf->url, wf->api_key, wf->json, wf->allow_remote);
    ws->add_option("--video", wf->video, "Video whose frames are streamed (looping)");
    ws->add_option("--image", wf->images, "Image file(s) streamed in turn instead of a video");
    ws->add_option("--clients", wf->clients, "Concurrent sessions (1..256)")->capture_default_str();
    ws->add_option("--fps", wf->fps, "Frames per second per client (1..60)")->capture_default_str();
    ws->add_option("--duration", wf->duration, "Seconds (1..600)")->capture_default_str();
    ws->add_option("--width", wf->width, "Frame width sent (16..4096)")->capture_default_str();
    ws->add_option("--height", wf->height, "Frame height sent (16..4096)")->capture_default_str();
    ws->add_flag("--stop-and-wait", wf->stop_and_wait,
                 "Send the next frame when a reply comes instead of on the clock");
    ws->callback([wf] {
        const int rc = RunBenchWs(*wf);
        if (rc != 0) throw CLI::RuntimeError(rc);
    });
}

}  // namespace liveproof::cli
