// `bench ws`: N system-A sessions that send prepared frames on a clock (or one per reply) while
// the replies are read as they come, all on one I/O thread. A session the server ends
// (complete/failed) is replaced so that N stay open.
#include <array>
#include <boost/beast/websocket.hpp>
#include <cmath>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "loadgen/load_client.hpp"
#include "loadgen/load_net.hpp"

namespace liveproof::loadgen {

namespace {

namespace beast = detail::beast;
namespace net = detail::net;
namespace websocket = beast::websocket;
using detail::Clock;
using detail::Seconds;
using detail::SecondsBetween;
using detail::tcp;

constexpr double kStartDelayS = 0.2;   // the first connects, spread over one frame period after it
constexpr double kDrainS = 1.0;        // after the run, a last reply may take this long
constexpr double kRetryDelayS = 0.2;   // after a refused or broken session: do not spin
constexpr double kHardStopSlackS = 2;  // then every socket still open is closed
constexpr double kSettleS = 0.5;       // before the second /metrics read
constexpr std::uint64_t kMaxReplyBytes = 1u << 20;  // A's replies are a few hundred bytes
constexpr std::array<std::string_view, 4> kServerCounters = {
    "liveproof_ws_frames_total", "liveproof_ws_sessions_total", "liveproof_worker_jobs_total",
    "liveproof_worker_page_faults_total"};

// Everything the clients share; touched only from the one I/O thread.
struct WsRun {
    explicit WsRun(const WsLoadOptions& o)
        : options(o), endpoints(detail::Endpoints(o.target)), hard_stop(ioc) {}

    void Error(const std::string& kind) { ++result.errors[kind]; }

    const WsLoadOptions& options;
    net::io_context ioc;
    std::vector<tcp::endpoint> endpoints;
    net::steady_timer hard_stop;
    bool stopped = false;
    int clients_done = 0;
    WsLoadResult result;
    LatencyHistogram latency;
    LatencyHistogram answered;
};

struct Reply {
    std::string type;
    std::string reason;                      // of "failed"
    std::optional<std::uint64_t> frame_seq;  // which frame of the session it answers
};

Reply ParseReply(const std::string& text) {
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return {"unparsable", "", std::nullopt};
    Reply r;
    const auto type = j.find("type");
    r.type = type != j.end() && type->is_string() ? type->get<std::string>() : "untyped";
    const auto reason = j.find("reason");
    if (reason != j.end() && reason->is_string()) r.reason = reason->get<std::string>();
    const auto seq = j.find("frame_seq");
    if (seq != j.end() && seq->is_number_unsigned()) r.frame_seq = seq->get<std::uint64_t>();
    return r;
}

class WsSession;

// One simulated user: a session at a time from its start until the end of its run.
class WsClient {
  public:
    WsClient(WsRun& run, Clock::time_point start_at)
        : run_(run), start_at_(start_at), timer_(run.ioc), end_timer_(run.ioc) {}

    void Start();
    // The whole run is over: close whatever is open now.
    void Abort();
    // Called by the session once it has ended; `retry_later` after a failure.
    void OnSessionEnded(bool retry_later);

    WsRun& run() { return run_; }
    Clock::time_point t0() const { return t0_; }
    std::size_t NextIndex() { return sent_++; }

  private:
    void OpenSession();
    void OnEnd();
    void MarkDone();

    WsRun& run_;
    Clock::time_point start_at_;
    Clock::time_point t0_;
    Clock::time_point end_;
    net::steady_timer timer_;      // start and retry delays
    net::steady_timer end_timer_;  // the end of this client's run
    std::shared_ptr<WsSession> session_;
    std::size_t sent_ = 0;
    bool over_ = false;
    bool done_ = false;
};

// One WebSocket connection: connect, handshake, "start", then frames and replies until the
// server ends the session, a failure breaks it, or the run ends.
class WsSession : public std::enable_shared_from_this<WsSession> {
  public:
    explicit WsSession(WsClient& client)
        : client_(client), run_(client.run()), ws_(run_.ioc), tick_(run_.ioc) {}

    void Open() {
        state_ = State::Connecting;
        auto& tcp_layer = beast::get_lowest_layer(ws_);
        tcp_layer.expires_after(Seconds(run_.options.connect_timeout_s));
        tcp_layer.async_connect(run_.endpoints, [self = shared_from_this()](beast::error_code ec,
                                                                            const tcp::endpoint&) {
            self->OnConnect(ec);
        });
    }

    // This client's run is over: no more frames; replies still owed get kDrainS.
    void EndRun() {
        switch (state_) {
            case State::Connecting:
            case State::Handshaking:
            case State::AwaitStart:
                state_ = State::Closing;
                CloseSocket();
                break;
            case State::Streaming:
                tick_.cancel();
                if (owed_ == 0 || server_ended_) return CloseSession();
                state_ = State::Draining;
                tick_.expires_after(Seconds(kDrainS));
                tick_.async_wait([self = shared_from_this()](beast::error_code ec) {
                    if (!ec && !self->run_.stopped && self->state_ == State::Draining) {
                        self->CloseSession();
                    }
                });
                break;
            default:
                break;
        }
    }

    // The whole run is over: close the socket without waiting for anything.
    void Abort() {
        state_ = State::Ended;
        tick_.cancel();
        CloseSocket();
    }

  private:
    enum class State { Connecting, Handshaking, AwaitStart, Streaming, Draining, Closing, Ended };

    void OnConnect(beast::error_code ec) {
        if (run_.stopped || state_ != State::Connecting) return Finish(false);
        if (ec) {
            run_.Error("connect/" + detail::ErrorKind(ec));
            return Finish(true);
        }
        auto& tcp_layer = beast::get_lowest_layer(ws_);
        tcp_layer.expires_never();
        beast::error_code ignored;
        tcp_layer.socket().set_option(tcp::no_delay(true), ignored);
        websocket::stream_base::timeout timeouts;
        timeouts.handshake_timeout = Seconds(run_.options.connect_timeout_s);
        timeouts.idle_timeout = Seconds(run_.options.reply_timeout_s);
        timeouts.keep_alive_pings = false;
        ws_.set_option(timeouts);
        ws_.set_option(websocket::stream_base::decorator(
            [key = run_.options.api_key](websocket::request_type& request) {
                request.set(beast::http::field::user_agent, "liveproof-bench");
                if (!key.empty()) request.set("X-API-KEY", key);
            }));
        ws_.read_message_max(kMaxReplyBytes);
        state_ = State::Handshaking;
        ws_.async_handshake(
            response_, run_.options.target.url.host_header, run_.options.target.url.target,
            [self = shared_from_this()](beast::error_code hec) { self->OnHandshake(hec); });
    }

    void OnHandshake(beast::error_code ec) {
        if (run_.stopped || state_ != State::Handshaking) return Finish(false);
        if (ec) {
            const unsigned status = response_.result_int();
            run_.Error(status != 0 && status != 101 ? "handshake/" + std::to_string(status)
                                                    : "handshake/" + detail::ErrorKind(ec));
            CloseSocket();
            return Finish(true);
        }
        state_ = State::AwaitStart;
        Read();
    }

    void Read() {
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->OnRead(ec);
        });
    }

    void OnRead(beast::error_code ec) {
        if (run_.stopped) return;
        if (ec) return OnReadError(ec);
        if (state_ == State::Closing) {
            // Our close is under way: what still comes was already counted as unanswered.
            buffer_.consume(buffer_.size());
            return Read();
        }
        const auto now = Clock::now();
        const std::string text = beast::buffers_to_string(buffer_.data());
        buffer_.consume(buffer_.size());
        if (state_ == State::AwaitStart) {
            const Reply first = ParseReply(text);
            if (first.type != "start") run_.Error("first/" + first.type);
            ++run_.result.sessions_opened;
            state_ = State::Streaming;
            next_tick_ = now;
            SendFrame();
        } else {
            OnReply(text, now);
        }
        Read();
    }

    void OnReply(const std::string& text, Clock::time_point now) {
        WsLoadResult& r = run_.result;
        const Reply reply = ParseReply(text);
        ++r.replies;
        ++r.replies_by_type[reply.type];
        if (owed_ > 0) {
            --owed_;
            ++r.frames_answered;
        }
        for (const auto t : pending_) run_.latency.Record(SecondsBetween(t, now));
        pending_.clear();
        if (reply.frame_seq) {
            // The frame this reply answers; the ones before it still waiting were replaced.
            while (!sent_.empty() && sent_.front().first < *reply.frame_seq) sent_.pop_front();
            if (!sent_.empty() && sent_.front().first == *reply.frame_seq) {
                run_.answered.Record(SecondsBetween(sent_.front().second, now));
                sent_.pop_front();
            }
        }
        if (reply.type == "complete" || reply.type == "failed") {
            // The server closes the socket after these; the read then ends the session.
            server_ended_ = true;
            tick_.cancel();
            if (reply.type == "complete") {
                ++r.sessions_complete;
            } else {
                ++r.sessions_failed[reply.reason.empty() ? "unknown" : reply.reason];
            }
            return;
        }
        if (state_ == State::Draining && owed_ == 0) return CloseSession();
        if (run_.options.stop_and_wait && state_ == State::Streaming) {
            if (writing_) {
                send_after_write_ = true;
            } else {
                SendFrame();
            }
        }
    }

    void OnReadError(beast::error_code ec) {
        if (state_ == State::Closing || state_ == State::Ended) return Finish(false);
        bool broken = !server_ended_;
        if (ec == websocket::error::closed) {
            const auto code = ws_.reason().code;
            if (code != websocket::close_code::normal) {
                run_.Error("closed/" + std::to_string(static_cast<unsigned>(code)));
            } else if (!server_ended_) {
                run_.Error("closed/normal_without_verdict");
            }
        } else if (!write_failed_) {
            const std::string phase = state_ == State::AwaitStart ? "start/" : "read/";
            run_.Error(phase + detail::ErrorKind(ec));
        }
        if (broken) ++run_.result.sessions_broken;
        run_.result.frames_unanswered_ended += owed_;
        owed_ = 0;
        pending_.clear();
        sent_.clear();
        tick_.cancel();
        CloseSocket();
        Finish(broken);
    }

    void SendFrame() {
        if (state_ != State::Streaming || server_ended_ || writing_) return;
        const auto now = Clock::now();
        const auto& messages = run_.options.messages;
        std::size_t index = 0;
        if (run_.options.clip_fps > 0) {
            const double at = SecondsBetween(client_.t0(), now) * run_.options.clip_fps;
            index = static_cast<std::size_t>(std::max(0.0, std::floor(at))) % messages.size();
        } else {
            index = client_.NextIndex() % messages.size();
        }
        pending_.push_back(now);
        sent_.emplace_back(++frames_in_session_, now);
        ++owed_;
        ++run_.result.frames_sent;
        writing_ = true;
        ws_.text(true);
        ws_.async_write(
            net::buffer(messages[index]),
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnWrite(ec); });
    }

    void OnWrite(beast::error_code ec) {
        writing_ = false;
        if (run_.stopped || state_ == State::Closing || state_ == State::Ended) return;
        if (ec) {
            // The pending read fails too and ends the session.
            run_.Error("send/" + detail::ErrorKind(ec));
            write_failed_ = true;
            CloseSocket();
            return;
        }
        if (run_.options.stop_and_wait) {
            if (send_after_write_) {
                send_after_write_ = false;
                SendFrame();
            }
            return;
        }
        if (state_ != State::Streaming || server_ended_) return;
        // On a clock: the next frame at the next tick; a late tick sends at once (as a
        // blocking client that sleeps only when early).
        next_tick_ += Seconds(1.0 / run_.options.fps);
        tick_.expires_at(next_tick_);
        tick_.async_wait([self = shared_from_this()](beast::error_code tec) {
            if (!tec && !self->run_.stopped) self->SendFrame();
        });
    }

    // Our end of the run: whatever is still owed a reply is unanswered.
    void CloseSession() {
        if (!server_ended_) ++run_.result.sessions_open_at_end;
        run_.result.frames_unanswered_at_end += owed_;
        owed_ = 0;
        pending_.clear();
        sent_.clear();
        state_ = State::Closing;
        tick_.cancel();
        ws_.async_close(websocket::close_code::normal,
                        [self = shared_from_this()](beast::error_code) { self->CloseSocket(); });
    }

    void CloseSocket() {
        beast::error_code ignored;
        auto& tcp_layer = beast::get_lowest_layer(ws_);
        tcp_layer.socket().shutdown(tcp::socket::shutdown_both, ignored);
        tcp_layer.close();
    }

    void Finish(bool retry_later) {
        if (finished_) return;
        finished_ = true;
        state_ = State::Ended;
        if (!run_.stopped) client_.OnSessionEnded(retry_later);
    }

    WsClient& client_;
    WsRun& run_;
    websocket::stream<beast::tcp_stream> ws_;
    net::steady_timer tick_;  // the next frame, or the drain deadline
    websocket::response_type response_;
    beast::flat_buffer buffer_;
    State state_ = State::Connecting;
    std::vector<Clock::time_point> pending_;  // sent, no reply since
    // (number in this session, send time) of frames not answered yet, for frame_seq replies
    std::deque<std::pair<std::uint64_t, Clock::time_point>> sent_;
    std::uint64_t frames_in_session_ = 0;
    std::uint64_t owed_ = 0;  // frames sent - replies
    Clock::time_point next_tick_;
    bool writing_ = false;
    bool send_after_write_ = false;
    bool server_ended_ = false;  // complete or failed received
    bool write_failed_ = false;
    bool finished_ = false;
};

void WsClient::Start() {
    timer_.expires_at(start_at_);
    timer_.async_wait([this](beast::error_code ec) {
        if (ec || run_.stopped) return;
        t0_ = Clock::now();
        end_ = t0_ + Seconds(run_.options.duration_s);
        end_timer_.expires_at(end_);
        end_timer_.async_wait([this](beast::error_code eec) {
            if (!eec && !run_.stopped) OnEnd();
        });
        OpenSession();
    });
}

void WsClient::OpenSession() {
    session_ = std::make_shared<WsSession>(*this);
    session_->Open();
}

void WsClient::OnEnd() {
    over_ = true;
    if (session_) return session_->EndRun();
    timer_.cancel();  // a retry that was waiting
    MarkDone();
}

void WsClient::OnSessionEnded(bool retry_later) {
    session_.reset();
    if (over_ || Clock::now() >= end_) return MarkDone();
    if (!retry_later) return OpenSession();
    timer_.expires_after(Seconds(kRetryDelayS));
    timer_.async_wait([this](beast::error_code ec) {
        if (ec || run_.stopped) return;
        if (over_) return MarkDone();
        OpenSession();
    });
}

void WsClient::Abort() {
    timer_.cancel();
    end_timer_.cancel();
    if (session_) session_->Abort();
    session_.reset();
}

void WsClient::MarkDone() {
    if (done_) return;
    done_ = true;
    over_ = true;
    end_timer_.cancel();
    if (++run_.clients_done == run_.options.clients) run_.hard_stop.cancel();
}

}  // namespace

WsLoadResult RunWsLoad(const WsLoadOptions& options) {
    WsRun run(options);
    const auto before = detail::ScrapeMetrics(options.target, options.api_key, kServerCounters);
    const double period = 1.0 / options.fps;
    const auto start = Clock::now();
    std::vector<std::unique_ptr<WsClient>> clients;
    for (int i = 0; i < options.clients; ++i) {
        // Spread the first frames over one period so that the clients are not in phase.
        const double offset = kStartDelayS + period * i / options.clients;
        clients.push_back(std::make_unique<WsClient>(run, start + Seconds(offset)));
    }
    for (auto& c : clients) c->Start();
    run.hard_stop.expires_at(
        start + Seconds(kStartDelayS + period + options.duration_s + kDrainS + kHardStopSlackS));
    run.hard_stop.async_wait([&](beast::error_code ec) {
        if (ec) return;  // every client ended in time
        run.stopped = true;
        for (auto& c : clients) c->Abort();
    });
    run.ioc.run();
    run.result.elapsed_s = SecondsBetween(start, Clock::now());
    run.result.latency = run.latency.Summary();
    run.result.latency_answered = run.answered.Summary();

    run.result.server = detail::ServerDeltasSince(before, options.target, options.api_key,
                                                  kServerCounters, kSettleS);
    return std::move(run.result);
}

}  // namespace liveproof::loadgen
