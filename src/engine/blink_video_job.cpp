// A blink-video analysis in slices: decode a frame, find the face, score the eyes; at the end,
// find the blinks and judge the clip.
#include <algorithm>
#include <optional>
#include <vector>

#include "engine/blink_detector.hpp"
#include "engine/engine_impl.hpp"
#include "engine/stage_timer.hpp"
#include "media/video.hpp"

namespace liveproof {

struct BlinkVideoJob::State {
    const Engine::Impl* engine = nullptr;
    BlinkOptions options;
    std::unique_ptr<media::VideoReader> reader;
    engine::ThreadCpuClock::duration budget = engine::ThreadCpuClock::duration::max();
    engine::ThreadCpuClock::duration spent{0};      // analysis CPU time summed over the Steps
    std::optional<Expected<BlinkAnalysis>> result;  // set once, when the job ends

    BlinkAnalysis out;
    std::vector<std::optional<float>> closed;  // mean closed score per frame (none: no face)
    std::vector<float> p_real;
    std::optional<cv::Point2f> last_centre;
    int face_frames = 0;
    cv::Mat frame;

    void AnalyzeFrame(engine::Pipeline& pipeline, int index);
    BlinkAnalysis Judge();
};

BlinkVideoJob::BlinkVideoJob(std::unique_ptr<State> state) : state_(std::move(state)) {}
BlinkVideoJob::~BlinkVideoJob() = default;

int BlinkVideoJob::frames_done() const { return static_cast<int>(state_->out.frames.size()); }

Expected<BlinkAnalysis> BlinkVideoJob::Result() const {
    if (!state_->result) return MakeError(ErrorCode::Internal, "the analysis has not finished");
    return *state_->result;
}

bool BlinkVideoJob::Step(std::chrono::steady_clock::time_point until) {
    State& s = *state_;
    if (s.result) return true;
    std::optional<engine::ThreadCpuClock::time_point> started;  // once a pipeline is ours
    auto outcome = engine::Guarded([&]() -> Expected<bool> {
        auto lease = s.engine->pool->Acquire();
        started = engine::ThreadCpuClock::now();
        do {
            if (s.spent + (engine::ThreadCpuClock::now() - *started) > s.budget) {
                return MakeError(ErrorCode::TimeBudgetExceeded,
                                 "the video took longer to analyse than the time budget (" +
                                     std::to_string(s.reader->info().frames_read) +
                                     " frames done); send a shorter or smaller clip");
            }
            auto more = s.reader->Next(s.frame);
            if (!more) return Unexpected{more.error()};
            if (!*more) return true;
            s.AnalyzeFrame(*lease, s.reader->info().frames_read - 1);
        } while (std::chrono::steady_clock::now() < until);
        return false;
    });
    if (started) s.spent += engine::ThreadCpuClock::now() - *started;
    if (!outcome) {
        s.result = Unexpected{outcome.error()};
    } else if (*outcome) {
        s.result = s.Judge();
    }
    if (s.result) s.reader.reset();  // the decoder's buffers go as soon as the answer is known
    return s.result.has_value();
}

void BlinkVideoJob::State::AnalyzeFrame(engine::Pipeline& pipeline, int index) {
    FrameEyes fe;
    fe.frame = index;
    std::vector<vision::Detection> faces;
    {
        engine::StageTimer t(out.timings_ms, "detect");
        faces = pipeline.Detect(frame);
    }
    // Only faces the mesh confirms count (a false detection is neither the face nor a second
    // one); the largest confirmed face is the one followed.
    std::optional<vision::MeshResult> mesh;
    const vision::Detection* followed = nullptr;
    int confirmed = 0;
    for (const auto& d : faces) {
        auto m = pipeline.ConfirmFace(frame, d, out.timings_ms);
        if (!m) continue;
        if (++confirmed == 1) {
            mesh = std::move(m);
            followed = &d;
        }
    }
    if (confirmed > 1) ++out.frames_multi_face;
    if (followed == nullptr) {
        closed.emplace_back(std::nullopt);
        out.frames.push_back(fe);
        return;
    }
    const vision::Detection& d = *followed;
    AnalyzeOptions what = AnalyzeOptions::PassiveOnly();
    what.eyes = true;
    what.antispoof = face_frames % options.antispoof_every == 0;
    FaceResult f = pipeline.AnalyzeFace(frame, d, what, out.timings_ms, &*mesh);
    ++face_frames;
    const cv::Point2f centre(d.box.x + d.box.width / 2, d.box.y + d.box.height / 2);
    if (last_centre && cv::norm(centre - *last_centre) > options.max_track_jump * f.eye_dist) {
        ++out.track_breaks;
    }
    last_centre = centre;
    if (f.antispoof) p_real.push_back(f.antispoof->p_real);
    fe.face = true;
    fe.ear_left = f.eye_image_left->ear;
    fe.ear_right = f.eye_image_right->ear;
    const float mean_closed = (f.eye_image_left->closed + f.eye_image_right->closed) / 2;
    fe.openness = 1.0f - mean_closed;
    closed.emplace_back(mean_closed);
    out.frames.push_back(fe);
}

BlinkAnalysis BlinkVideoJob::State::Judge() {
    const float threshold = engine->options.liveness_threshold;
    out.frames_decoded = reader->info().frames_read;
    out.fps = reader->info().fps;
    out.frames_with_face = face_frames;
    out.blinks = engine::FindBlinks(closed, options);

    PassiveSummary& ps = out.passive;
    ps.frames_scored = static_cast<int>(p_real.size());
    if (!p_real.empty()) {
        float sum = 0;
        int real = 0;
        ps.min_p_real = 1.0f;
        for (float p : p_real) {
            sum += p;
            ps.min_p_real = std::min(ps.min_p_real, p);
            if (p >= threshold) ++real;
        }
        ps.mean_p_real = sum / static_cast<float>(p_real.size());
        ps.real_fraction = static_cast<float>(real) / static_cast<float>(p_real.size());
        ps.spoof = ps.mean_p_real < threshold;
    }
    // Judged in order of severity, so the reason names the most serious failure.
    if (face_frames < options.min_face_frames) {
        out.reason = "too_few_face_frames";
    } else if (out.frames_multi_face * 10 > out.frames_decoded) {
        out.reason = "multiple_faces";
    } else if (out.track_breaks > options.max_track_breaks) {
        out.reason = "face_changed";
    } else if (ps.spoof) {
        out.reason = "spoof_detected";
    } else if (out.blinks.empty()) {
        out.reason = "no_blink";
    }
    out.passed = out.reason.empty();
    return std::move(out);
}

Expected<std::unique_ptr<BlinkVideoJob>> Engine::StartBlinkVideo(
    std::span<const std::uint8_t> bytes, const BlinkOptions& options) const {
    if (!(options.open_threshold < options.close_threshold) || options.antispoof_every < 1) {
        return MakeError(ErrorCode::InvalidArgument,
                         "blink options: open_threshold must be below close_threshold and "
                         "antispoof_every >= 1");
    }
    return engine::Guarded([&]() -> Expected<std::unique_ptr<BlinkVideoJob>> {
        auto reader = media::VideoReader::Open(bytes, impl_->options.limits);
        if (!reader) return Unexpected{reader.error()};
        auto state = std::make_unique<BlinkVideoJob::State>();
        state->engine = impl_.get();
        state->options = options;
        state->reader = std::move(*reader);
        if (impl_->options.video_time_budget_seconds > 0) {
            state->budget = engine::BudgetOf(impl_->options.video_time_budget_seconds);
        }
        return std::unique_ptr<BlinkVideoJob>(new BlinkVideoJob(std::move(state)));
    });
}

}  // namespace liveproof
