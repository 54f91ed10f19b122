// libFuzzer target: system A's WebSocket message path (src/server/ws_challenge) from text frames
// to the reply JSON, on a server whose worker pool never runs a frame.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_text.hpp"
#include "fuzz_support.hpp"
#include "server/ws_challenge.hpp"

namespace {

using liveproof::fuzz::Fail;

struct Sent {
    std::string text;
    bool close_after = false;
};

// The configurations a connection may run with (Create needs a valid one).
liveproof::server::ServerContext& Context(std::uint8_t pick) {
    static liveproof::fuzz::ServerHarness& base =
        liveproof::fuzz::Harness(liveproof::fuzz::ServerHarness::Mode::Open);
    static liveproof::fuzz::ServerHarness& small =
        liveproof::fuzz::Harness(liveproof::fuzz::ServerHarness::Mode::Locked);
    static const bool configured = [] {
        // The smallest message and frame caps, BLINK allowed, one success.
        auto& c = small.ctx.config;
        for (const auto& [k, v] :
             std::vector<std::pair<std::string, std::string>>{{"ws_max_message_bytes", "1024"},
                                                              {"ws_max_frame_pixels", "1024"},
                                                              {"challenges", "BLINK,LEFT"},
                                                              {"required_successes", "1"}}) {
            if (!c.Set(k, v)) Fail("ws config", k);
        }
        return true;
    }();
    (void)configured;
    return (pick & 1) ? small.ctx : base.ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    auto& ctx = Context(data[0]);
    const bool mirrored = (data[0] & 2) != 0;
    std::vector<Sent> sent;
    std::vector<std::function<void()>> posted;
    auto conn = liveproof::server::ChallengeConnection::Create(
        ctx, mirrored,
        [&sent](std::string text, bool close) {
            sent.push_back({text, close});
        },
        [&posted](std::function<void()> fn) { posted.push_back(std::move(fn)); });
    if (!conn) Fail("ws", "Create failed on a valid configuration: " + conn.error().detail);
    (*conn)->Start();

    // Messages are separated by NUL; the first byte of each says what it is: 'B' binary, 'K' a
    // timer tick, 'C' the socket closing, 'T' (or anything else) a text message (after the 'T').
    std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::uint64_t messages = 0;
    bool closed = false;
    while (!rest.empty()) {
        const auto nul = rest.find('\0');
        const std::string_view msg = rest.substr(0, nul);
        rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
        const std::size_t before = sent.size();
        const char kind = msg.empty() ? 'T' : msg[0];
        if (kind == 'B') {
            (*conn)->OnBinary();
            ++messages;
        } else if (kind == 'K') {
            (*conn)->OnTick();
        } else if (kind == 'C') {
            (*conn)->OnClosed();
            closed = true;
        } else {
            (*conn)->OnText(std::string(kind == 'T' && !msg.empty() ? msg.substr(1) : msg));
            ++messages;
        }
        if (closed && sent.size() != before) Fail("ws", "a reply after the socket closed");
        if (sent.size() > before + 1) Fail("ws", "more than one reply to one message");
    }

    // Every reply is one of A's messages; nothing follows the one that closes.
    static const std::set<std::string> kTypes = {"start",   "no_face",  "waiting", "challenge",
                                                 "success", "complete", "failed",  "error"};
    for (std::size_t i = 0; i < sent.size(); ++i) {
        const std::string& text = sent[i].text;
        liveproof::fuzz::RequireJsonText(text, "ws reply");
        auto j = liveproof::ParseJson(text);
        if (!j->is_object() || !j->contains("type") || !(*j)["type"].is_string() ||
            !kTypes.contains((*j)["type"].get<std::string>()))
            Fail("ws", "reply without a known type: " + text);
        if (j->contains("frame_seq") &&
            (!(*j)["frame_seq"].is_number_unsigned() || (*j)["frame_seq"] > messages))
            Fail("ws", "frame_seq does not name a message: " + text);
        const bool final = (*j)["type"] == "complete" || (*j)["type"] == "failed";
        if (final != sent[i].close_after) Fail("ws", "close_after differs from the type: " + text);
        if (sent[i].close_after && i + 1 != sent.size()) Fail("ws", "a reply after the last");
        if ((*j)["type"] == "complete") Fail("ws", "complete without any analysed frame");
    }
    if (sent.empty() || sent[0].text.find("\"start\"") == std::string::npos)
        Fail("ws", "no start message first");
    // Frames queued on the pool (never run) are dropped here, which frees the connection.
    (*conn)->OnClosed();
    if (!posted.empty()) Fail("ws", "a result was posted although no frame ran");
    return 0;
}
