// `liveproof bench ws`: N system-A sessions streaming the frames of a real video; messages prepared
// once.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "bench_common.hpp"
#include "cli_common.hpp"
#include "loadgen/load_client.hpp"
#include "media/base64.hpp"
#include "media/decode.hpp"
#include "media/video.hpp"

namespace liveproof::cli::bench {

namespace {

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

}  // namespace

void RegisterWs(CLI::App& bench) {
    auto wf = std::make_shared<WsFlags>();
    CLI::App* ws = bench.add_subcommand(
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

}  // namespace liveproof::cli::bench
