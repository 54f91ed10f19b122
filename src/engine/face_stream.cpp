// The stream core: per frame, track or detect, sample passive evidence, check continuity.
#include "liveproof/face_stream.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "liveproof/engine.hpp"

namespace liveproof {

struct FaceStream::Plan {
    AnalyzeOptions what;
};

FaceStream::FaceStream(const Engine& engine, StreamOptions options)
    : engine_(engine), options_(options) {
    options_.passive_every = std::max(1, options_.passive_every);
    options_.redetect_every = std::max(1, options_.redetect_every);
}

FaceStream::Plan FaceStream::PlanFrame(double t, const Decisive& decisive) {
    ++frames_;
    Plan plan;
    AnalyzeOptions& what = plan.what;
    what = AnalyzeOptions::PassiveOnly();
    what.pose = true;
    what.eyes = options_.eyes;
    what.max_faces = options_.max_faces;
    what.detect_max_side = options_.detect_max_side;
    what.fingerprint = true;  // the doors' near-duplicate frame signal
    if (hint_ && since_detect_ < options_.redetect_every - 1 &&
        t - last_face_time_ < options_.track_max_gap_s) {
        what.track = *hint_;
        ++since_detect_;
    } else {
        since_detect_ = 0;
    }
    // Evidence on sampled frames and on every frame that could decide the outcome.
    what.antispoof = true;
    if ((frames_ - 1) % options_.passive_every != 0) {
        what.antispoof_if = decisive ? decisive : Decisive([](const FaceResult&) { return false; });
    }
    return plan;
}

StreamObservation FaceStream::Feed(std::span<const std::uint8_t> encoded, double t,
                                   const Decisive& decisive) {
    const Plan plan = PlanFrame(t, decisive);
    const auto start = std::chrono::steady_clock::now();
    auto analysis = engine_.Analyze(encoded, plan.what);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return Absorb(plan, std::move(analysis), t, ms);
}

StreamObservation FaceStream::FeedBgr(const unsigned char* bgr, int width, int height,
                                      std::size_t stride, double t, const Decisive& decisive) {
    const Plan plan = PlanFrame(t, decisive);
    const auto start = std::chrono::steady_clock::now();
    auto analysis = engine_.AnalyzeBgr(bgr, width, height, stride, plan.what);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return Absorb(plan, std::move(analysis), t, ms);
}

namespace {

// The centroid of the 68 landmarks and the two eye centres (iBUG 36-41: image-left eye, the
// subject's right; 42-47: image-right eye).
struct LandmarkCentres {
    Point2 centroid, right_eye, left_eye;
};

LandmarkCentres CentresOf(const std::vector<Point2>& lm) {
    LandmarkCentres c;
    for (const Point2& p : lm) {
        c.centroid.x += p.x / 68.f;
        c.centroid.y += p.y / 68.f;
    }
    for (int i = 0; i < 6; ++i) {
        c.right_eye.x += lm[36 + i].x / 6.f;
        c.right_eye.y += lm[36 + i].y / 6.f;
        c.left_eye.x += lm[42 + i].x / 6.f;
        c.left_eye.y += lm[42 + i].y / 6.f;
    }
    return c;
}

}  // namespace

StreamObservation FaceStream::Absorb(const Plan& plan, Expected<ImageAnalysis> analysis, double t,
                                     double ms) {
    StreamObservation o;
    o.ms = ms;
    if (!analysis) {
        o.error = analysis.error();
        hint_.reset();
        return o;
    }
    o.timings_ms = analysis->timings_ms;
    o.fingerprint = std::move(analysis->fingerprint);
    o.face_count = static_cast<int>(analysis->faces.size());
    o.tracked = analysis->detector == "track";
    if (plan.what.track && !o.tracked) since_detect_ = 0;  // the face left its crop: detected
    if (analysis->faces.empty()) {
        hint_.reset();
        return o;
    }
    const FaceResult& f = analysis->faces.front();
    o.pose = f.pose;
    if (f.eye_image_left && f.eye_image_right) {
        o.eyes_closed = (f.eye_image_left->closed + f.eye_image_right->closed) / 2;
    }
    if (f.antispoof) {
        o.p_real = f.antispoof->p_real;
        p_real_sum_ += *o.p_real;
        ++evidence_.frames_scored;
        evidence_.mean_p_real = p_real_sum_ / static_cast<float>(evidence_.frames_scored);
        evidence_.min_p_real = std::min(evidence_.min_p_real, *o.p_real);
    }
    const Point2 centre{(f.x1 + f.x2) / 2, (f.y1 + f.y2) / 2};
    if (o.face_count == 1) {
        // Judged between detected frames only: a tracked box follows the previous landmarks (it
        // cannot show a swap), and on a fast turn it can drift; the next detection then puts the
        // box back, which read as a jump (3 of 71 sessions of the head-turn clip at 7 fps failed
        // as face_changed). A face that leaves the tracked crop is detected at once (the engine
        // falls back), so a swap still meets this check.
        if (!o.tracked) {
            if (last_centre_) {
                const float d = std::hypot(centre.x - last_centre_->x, centre.y - last_centre_->y);
                // A turning head shrinks its eye distance: judge against the larger one.
                const float eye = std::max({f.eye_dist, last_eye_dist_, 1.0f});
                const auto gap =
                    static_cast<float>((t - last_detect_time_) / options_.jump_window_s);
                o.face_jump = d > options_.jump_eye_distances * eye *
                                      std::clamp(gap, 1.0f, options_.jump_max_scale);
            }
            last_centre_ = centre;
            last_eye_dist_ = f.eye_dist;
            last_detect_time_ = t;
        }
        last_face_time_ = t;
    }
    // The next frame's hint: one face with landmarks, else detect again.
    if (o.face_count != 1 || f.landmark_68.size() != 68) {
        hint_.reset();
    } else {
        const LandmarkCentres c = CentresOf(f.landmark_68);
        if (!o.tracked) {
            // Anchor: where the detector puts its box relative to the landmarks, and its size.
            box_dx_ = centre.x - c.centroid.x;
            box_dy_ = centre.y - c.centroid.y;
            box_w_ = f.x2 - f.x1;
            box_h_ = f.y2 - f.y1;
        }
        TrackHint h;
        h.x = c.centroid.x + box_dx_ - box_w_ / 2;
        h.y = c.centroid.y + box_dy_ - box_h_ / 2;
        h.w = box_w_;
        h.h = box_h_;
        h.right_eye = c.right_eye;
        h.left_eye = c.left_eye;
        hint_ = h;
    }
    o.face = f;
    return o;
}

bool FaceStream::JudgeSpoof(const StreamObservation& completing) const {
    const float threshold = options_.liveness_threshold;
    return evidence_.frames_scored == 0 || evidence_.mean_p_real < threshold ||
           !completing.p_real || *completing.p_real < threshold;
}

}  // namespace liveproof
