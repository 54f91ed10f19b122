// libFuzzer target: the session API on a real SQLite store. The backend's routes (create body,
// list query and cursor, session paths), the client token at a run's start, a run's recorded end
// with client bytes as its image, the verdict's JWS checks, and base64url's canonical decoding.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/json_text.hpp"
#include "fuzz_support.hpp"
#include "verdict/base64url.hpp"
#include "verdict/key_ring.hpp"

namespace {

using liveproof::fuzz::Fail;
using liveproof::fuzz::ServerHarness;
using liveproof::server::HttpRequest;
using liveproof::server::HttpResponse;

HttpRequest Request(const std::string& method, const std::string& path, bool locked) {
    HttpRequest req;
    req.method = method;
    req.path = path;
    req.remote = "127.0.0.1";
    if (locked) req.headers["x-api-key"] = std::string(liveproof::fuzz::kFuzzKey1);
    return req;
}

nlohmann::json Body(const HttpResponse& r, std::string_view where) {
    auto j = liveproof::ParseJsonObject(r.body);
    if (!j) Fail(where, "not a JSON object: " + r.body);
    return *j;
}

// A session made with a fixed body: its id and token.
std::pair<std::string, std::string> NewSession(ServerHarness& h, bool locked,
                                               const std::string& mode) {
    HttpRequest req = Request("POST", "/v1/sessions", locked);
    req.headers["content-type"] = "application/json";
    req.body = R"({"mode": ")" + mode + R"(", "audit_images": 1})";
    const HttpResponse r = h.Dispatch(std::move(req));
    if (r.status != 201) Fail("create", std::to_string(r.status) + " " + r.body);
    const auto j = Body(r, "create");
    return {j.at("session_id").get<std::string>(), j.at("client_token").get<std::string>()};
}

// Any body: refused with a reason, or a session that reads back, starts once and is erased.
void CreateWithBody(ServerHarness& h, bool locked, std::string_view body) {
    HttpRequest req = Request("POST", "/v1/sessions", locked);
    req.headers["content-type"] = "application/json";
    req.body.assign(body);
    const HttpResponse r = h.Dispatch(std::move(req));
    if (r.status != 201) {
        if (r.status != 400 && r.status != 413 && r.status != 415)
            Fail("create", "status " + std::to_string(r.status) + ": " + r.body);
        return;
    }
    const auto j = Body(r, "create");
    const std::string id = j.at("session_id").get<std::string>();
    const std::string token = j.at("client_token").get<std::string>();
    const std::string mode = j.at("mode").get<std::string>();
    if (token.size() < 43) Fail("create", "a short client token");
    if (h.Dispatch(Request("GET", "/v1/sessions/" + id, locked)).status != 200)
        Fail("create", "the new session does not read back");
    // The token opens only its own door, and only once.
    auto& s = *h.ctx.sessions;
    const auto wrong = s.BeginRun(id, token.substr(1) + "A", mode, "127.0.0.1");
    if (!std::holds_alternative<HttpResponse>(wrong) || std::get<HttpResponse>(wrong).status != 401)
        Fail("begin", "a wrong token was not refused with 401");
    if (!std::holds_alternative<liveproof::server::SessionRun>(
            s.BeginRun(id, token, mode, "127.0.0.1")))
        Fail("begin", "the right token did not start the run");
    const auto second = s.BeginRun(id, token, mode, "127.0.0.1");
    if (!std::holds_alternative<HttpResponse>(second) ||
        std::get<HttpResponse>(second).status != 409)
        Fail("begin", "a second run was not refused with 409");
    if (h.Dispatch(Request("DELETE", "/v1/sessions/" + id, locked)).status != 204)
        Fail("delete", "not 204");
    if (h.Dispatch(Request("GET", "/v1/sessions/" + id, locked)).status != 404)
        Fail("delete", "an erased session still reads");
}

// The list's query: "k=v&k=v" as the router would have split it.
void ListWithQuery(ServerHarness& h, bool locked, std::string_view text) {
    HttpRequest req = Request("GET", "/v1/sessions", locked);
    while (!text.empty()) {
        const auto amp = text.find('&');
        const std::string_view pair = text.substr(0, amp);
        const auto eq = pair.find('=');
        req.query[std::string(pair.substr(0, eq))] =
            eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        text.remove_prefix(amp + 1);
    }
    const HttpResponse r = h.Dispatch(std::move(req));
    if (r.status != 200 && r.status != 400)
        Fail("list", "status " + std::to_string(r.status) + ": " + r.body);
    if (r.status == 200 && !Body(r, "list").at("sessions").is_array())
        Fail("list", "no sessions array");
}

// A path under /v1/sessions/ that no session has (ids are 128 random bits).
void UnknownPath(ServerHarness& h, bool locked, std::uint8_t pick, std::string_view tail) {
    static const char* const kMethods[] = {"GET", "DELETE", "POST", "GET"};
    HttpRequest req =
        Request(kMethods[(pick >> 4) & 3], "/v1/sessions/" + std::string(tail), locked);
    if (pick & 0x40) req.query["token"] = std::string(tail);
    const HttpResponse r = h.Dispatch(std::move(req));
    if (r.status / 100 == 2) Fail("path", "2xx for an unknown session: " + r.body);
}

// A run ended with client bytes as its audit image and client text in its details (or, as the
// doors end an abandoned or refused run, no details at all).
void FinishWithBytes(ServerHarness& h, bool locked, std::string_view bytes) {
    const auto [id, token] = NewSession(h, locked, "passive");
    auto& s = *h.ctx.sessions;
    auto begun = s.BeginRun(id, token, "passive", "127.0.0.1");
    auto* run = std::get_if<liveproof::server::SessionRun>(&begun);
    if (run == nullptr) Fail("finish", "the run did not start");
    liveproof::server::RunOutcome o;
    o.decision = "failed";
    o.reason = "no_face";
    // Client text may be anything, UTF-8 or not.
    if (bytes.empty() || (bytes[0] & 1) != 0) o.details["error"] = std::string(bytes);
    o.images.push_back({"audit", std::vector<std::uint8_t>(bytes.begin(), bytes.end()), nullptr});
    auto verdict = s.FinishRun(*run, o);
    if (!verdict) Fail("finish", verdict.error().detail);
    if (s.FinishRun(*run, o)) Fail("finish", "a run ended twice");
    const HttpResponse read = h.Dispatch(Request("GET", "/v1/sessions/" + id, locked));
    if (read.status != 200) Fail("finish", "the record does not read: " + read.body);
    if (Body(read, "finish").value("verdict", "") != *verdict)
        Fail("finish", "the stored verdict is not the one returned");
    const HttpResponse image =
        h.Dispatch(Request("GET", "/v1/sessions/" + id + "/images/0", locked));
    if (image.status != 200 || image.body != bytes) Fail("finish", "the image did not round-trip");
    (void)h.Dispatch(Request("DELETE", "/v1/sessions/" + id, locked));
}

// Client text is never a verdict; a signed one verifies and stops verifying at any change.
void Jws(std::string_view text) {
    static const auto ring = liveproof::verdict::KeyRing::Generate();
    if (ring.Verify(text)) Fail("jws", "client text verified as a verdict");
    nlohmann::json claims;
    claims["sub"] = liveproof::PrintableUtf8(text);
    const std::string jws = ring.Sign(claims);
    auto back = ring.Verify(jws);
    if (!back || *back != claims) Fail("jws", "a signed verdict did not verify");
    if (text.empty()) return;
    std::string tampered = jws;
    tampered[static_cast<unsigned char>(text[0]) % tampered.size()] ^= 0x01;
    if (ring.Verify(tampered)) Fail("jws", "a changed verdict verified: " + tampered);
}

// base64url takes canonical text only: what it accepts encodes back to the same text.
void Base64Url(std::string_view text) {
    using liveproof::verdict::Base64UrlDecode;
    using liveproof::verdict::Base64UrlEncode;
    if (auto bytes = Base64UrlDecode(text, 1 << 16)) {
        if (Base64UrlEncode(*bytes) != text) Fail("base64url", "accepted non-canonical text");
    }
    const std::string encoded = Base64UrlEncode(text);
    auto back = Base64UrlDecode(encoded, 1 << 16);
    if (!back ||
        std::string_view(reinterpret_cast<const char*>(back->data()), back->size()) != text)
        Fail("base64url", "did not round-trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    // First byte: action (low 3 bits), server mode (0x08); the rest is the client's bytes.
    const std::uint8_t pick = data[0];
    const bool locked = (pick & 0x08) != 0;
    ServerHarness& h =
        liveproof::fuzz::Harness(locked ? ServerHarness::Mode::Locked : ServerHarness::Mode::Open);
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (pick & 7) {
        case 0:
        case 1:
            CreateWithBody(h, locked, rest);
            break;
        case 2:
            ListWithQuery(h, locked, rest);
            break;
        case 3:
            UnknownPath(h, locked, pick, rest);
            break;
        case 4:
            FinishWithBytes(h, locked, rest);
            break;
        case 5:
            Jws(rest);
            break;
        default:
            Base64Url(rest);
            break;
    }
    return 0;
}
