// Per-stage and end-to-end timings of the engine on a real 640x480 webcam JPEG, single thread.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <opencv2/core.hpp>

#include "engine/models.hpp"
#include "engine/pipeline.hpp"
#include "engine/result_json.hpp"
#include "liveproof/engine.hpp"
#include "liveproof/options.hpp"
#include "media/base64.hpp"
#include "media/decode.hpp"
#include "server/multipart.hpp"
#include "vision/attributes.hpp"
#include "vision/head_pose.hpp"

namespace liveproof::bench {
namespace {

// A real 640x480 webcam frame (live person) from the shared evaluation data.
constexpr const char* kFrame = "/data/antispoof/video_frames/apfol_real2_f000.jpg";

std::string Env(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

// Everything the stage benchmarks share, built once.
struct Fixture {
    std::vector<std::uint8_t> jpeg;
    cv::Mat bgr;
    EngineOptions options;
    engine::Models models;
    std::unique_ptr<engine::Pipeline> pipeline;
    std::unique_ptr<Engine> engine;
    vision::Detection face;

    static Fixture& Get() {
        static Fixture f;
        return f;
    }

  private:
    Fixture() {
        // Single-threaded by default (the per-worker setting of the server);
        // LIVEPROOF_BENCH_THREADS measures intra-op parallelism instead.
        const int threads = std::atoi(Env("LIVEPROOF_BENCH_THREADS", "1").c_str());
        cv::setNumThreads(threads);
        const std::string shared = Env("LIVEPROOF_SHARED_DIR", LIVEPROOF_SHARED_DIR);
        std::ifstream in(shared + kFrame, std::ios::binary);
        jpeg.assign(std::istreambuf_iterator<char>(in), {});
        options.model_dir = Env("LIVEPROOF_MODEL_DIR", LIVEPROOF_BENCH_MODEL_DIR);
        options.workers = 1;
        options.opencv_threads = threads;
        // LIVEPROOF_BENCH_BACKEND=opencv|xnnpack times either inference path in the same binary
        // (default: the engine's), so the two can be run interleaved.
        const std::string backend =
            Env("LIVEPROOF_BENCH_BACKEND", InferenceBackendName(options.inference_backend));
        const auto parsed = ParseInferenceBackend(backend);
        if (!parsed) {
            std::fprintf(stderr, "bench: LIVEPROOF_BENCH_BACKEND must be opencv or xnnpack\n");
            std::exit(2);
        }
        options.inference_backend = *parsed;
        std::fprintf(stderr, "bench: inference_backend=%s\n", InferenceBackendName(*parsed));
        auto m = engine::Models::Load(options);
        if (!m || jpeg.empty()) {
            std::fprintf(stderr, "bench: models or %s%s missing\n", shared.c_str(), kFrame);
            std::exit(2);
        }
        models = std::move(*m);
        pipeline = std::move(*engine::Pipeline::Create(models, options));
        engine = std::move(*Engine::Create(options));
        bgr = media::DecodeImage(jpeg, options.limits)->bgr;
        face = pipeline->Detect(bgr).at(0);
    }
};

void BM_Decode(benchmark::State& state) {
    auto& f = Fixture::Get();
    for (auto _ : state) benchmark::DoNotOptimize(media::DecodeImage(f.jpeg, f.options.limits));
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);

// Argument: the detector's input long side (320: the engine default; 192: WebSocket frames).
void BM_Detect(benchmark::State& state) {
    auto& f = Fixture::Get();
    const int side = static_cast<int>(state.range(0));
    for (auto _ : state) benchmark::DoNotOptimize(f.pipeline->Detect(f.bgr, side));
}
BENCHMARK(BM_Detect)->Arg(320)->Arg(192)->Arg(160)->Unit(benchmark::kMillisecond);

// One stage at a time through AnalyzeFace, on the mesh ConfirmFace gave once (BM_Mesh times
// the mesh itself).
void RunStage(benchmark::State& state, AnalyzeOptions what) {
    auto& f = Fixture::Get();
    std::map<std::string, double> timings;
    const auto mesh = f.pipeline->ConfirmFace(f.bgr, f.face, timings);
    if (!mesh) return state.SkipWithError("the fixture's face is not confirmed by the mesh");
    for (auto _ : state)
        benchmark::DoNotOptimize(f.pipeline->AnalyzeFace(f.bgr, f.face, what, timings, &*mesh));
}

void BM_AntiSpoof(benchmark::State& state) { RunStage(state, AnalyzeOptions::PassiveOnly()); }
BENCHMARK(BM_AntiSpoof)->Unit(benchmark::kMillisecond);

void BM_Mesh(benchmark::State& state) {
    auto& f = Fixture::Get();
    std::map<std::string, double> timings;
    for (auto _ : state) benchmark::DoNotOptimize(f.pipeline->ConfirmFace(f.bgr, f.face, timings));
}
BENCHMARK(BM_Mesh)->Unit(benchmark::kMillisecond);

void BM_Pose(benchmark::State& state) {
    auto& f = Fixture::Get();
    std::map<std::string, double> timings;
    const auto mesh = f.pipeline->ConfirmFace(f.bgr, f.face, timings);
    if (!mesh) return state.SkipWithError("the fixture's face is not confirmed by the mesh");
    // The fit alone; the pose stage also re-runs the mesh on its tracking crop (see BM_Mesh).
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            vision::EstimateHeadPose(f.models.canonical, mesh->points, mesh->depth, f.bgr.size()));
    }
}
BENCHMARK(BM_Pose)->Unit(benchmark::kMillisecond);

// The per-frame step of a blink check: mesh + iris on both eyes.
void BM_BlinkStep_MeshAndIris(benchmark::State& state) {
    AnalyzeOptions what = AnalyzeOptions::PassiveOnly();
    what.antispoof = false;
    what.eyes = true;
    RunStage(state, what);
}
BENCHMARK(BM_BlinkStep_MeshAndIris)->Unit(benchmark::kMillisecond);

void BM_Attributes_Quality(benchmark::State& state) {
    AnalyzeOptions what = AnalyzeOptions::PassiveOnly();
    what.antispoof = false;
    what.quality = true;
    RunStage(state, what);
}
BENCHMARK(BM_Attributes_Quality)->Unit(benchmark::kMillisecond);

// End to end from JPEG bytes: decode + detect + passive (system B's /liveness path).
void BM_EndToEnd_Passive(benchmark::State& state) {
    auto& f = Fixture::Get();
    for (auto _ : state)
        benchmark::DoNotOptimize(f.engine->Analyze(f.jpeg, AnalyzeOptions::PassiveOnly()));
}
BENCHMARK(BM_EndToEnd_Passive)->Unit(benchmark::kMillisecond);

// End to end: decode + detect + mesh + pose + mouth + quality/occlusion + passive (no iris).
void BM_EndToEnd_Full(benchmark::State& state) {
    auto& f = Fixture::Get();
    AnalyzeOptions what;
    what.eyes = false;
    for (auto _ : state) benchmark::DoNotOptimize(f.engine->Analyze(f.jpeg, what));
}
BENCHMARK(BM_EndToEnd_Full)->Unit(benchmark::kMillisecond);

// Everything including the iris model (system C's full face object).
void BM_EndToEnd_FullWithEyes(benchmark::State& state) {
    auto& f = Fixture::Get();
    for (auto _ : state) benchmark::DoNotOptimize(f.engine->Analyze(f.jpeg));
}
BENCHMARK(BM_EndToEnd_FullWithEyes)->Unit(benchmark::kMillisecond);

void BM_JsonEncode(benchmark::State& state) {
    auto& f = Fixture::Get();
    const ImageAnalysis a = *f.engine->Analyze(f.jpeg);
    for (auto _ : state) benchmark::DoNotOptimize(ImageAnalysisToJson(a).dump());
}
BENCHMARK(BM_JsonEncode)->Unit(benchmark::kMicrosecond);

// The multipart upload of the same JPEG (system C's /liveness-detection body), parsed whole.
void BM_MultipartParse(benchmark::State& state) {
    auto& f = Fixture::Get();
    const std::string boundary = "----liveproofBoundary7MA4YWxkTrZu0gW";
    std::string body =
        "--" + boundary +
        "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"frame.jpg\"\r\n"
        "Content-Type: image/jpeg\r\n\r\n";
    body.append(f.jpeg.begin(), f.jpeg.end());
    body += "\r\n--" + boundary + "--\r\n";
    const std::string content_type = "multipart/form-data; boundary=" + boundary;
    for (auto _ : state) {
        auto b = server::MultipartBoundary(content_type);
        benchmark::DoNotOptimize(server::ParseMultipart(body, *b));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(body.size()));
}
BENCHMARK(BM_MultipartParse)->Unit(benchmark::kMicrosecond);

// Base64 decoding of the same JPEG (system B's /liveness body).
void BM_Base64Decode(benchmark::State& state) {
    auto& f = Fixture::Get();
    const std::string text = media::EncodeBase64(f.jpeg);
    for (auto _ : state) benchmark::DoNotOptimize(media::DecodeBase64(text, 1 << 24));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_Base64Decode)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace liveproof::bench

BENCHMARK_MAIN();
