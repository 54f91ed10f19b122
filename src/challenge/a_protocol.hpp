// System A's WebSocket messages: renders a challenge Event as A's JSON, keys in A's order.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "liveproof/challenge_session.hpp"

namespace liveproof::challenge {

/// @brief A's error text when the client JSON has no "frame" key.
inline constexpr std::string_view kAErrorFrameRequired = "frame field required";
/// @brief A's error text when the frame is not base64.
inline constexpr std::string_view kAErrorInvalidImageData = "Invalid image data";
/// @brief A's error text when the bytes do not decode as an image.
inline constexpr std::string_view kAErrorCouldNotDecode = "Could not decode image";

/// @brief Python's round(x, 2) for the JSON: the exact binary value rounded half to even,
/// which is what glibc's "%.2f" does (2.675 -> 2.67, 0.125 -> 0.12).
double RoundTo2Decimals(double x);

/// @brief The event as system A's message (compat.md §1.3), keys in A's order:
/// start/no_face: type, state, instruction, success, total;
/// waiting/challenge/success: type, state, instruction, yaw, pitch, success, total, and
/// wrong_direction (a name or null) only on waiting in WAITING_ACTION;
/// complete: ... total, live (true); failed: type, reason, message; error: type, message.
/// @requires event.state is not Verifying (no event is emitted there).
/// @ensures yaw and pitch rounded with RoundTo2Decimals.
nlohmann::ordered_json ToAJson(const Event& event);

/// @brief The event as an answer of A's HTTP polling door (POST /frame, compat.md §1.2), A's
/// keys first: no_face -> {"status":"NO_FACE", ...}; a judged frame -> {"yaw","pitch",
/// "challenge","success","live", ...}; failed -> {"status":"FAILED","reason","message",
/// "success","live":false}. After A's keys come "type", "state", "instruction", "total".
/// "challenge" is what the user is asked now (A's direction, or CENTER / VERIFIED); "live" is
/// true only on complete (A said live once 2 moves passed, with no passive check).
/// @requires event.type is not Error (the door answers those as HTTP errors).
nlohmann::ordered_json ToAPollJson(const Event& event);

/// @brief ToAJson(event) serialised compactly, as Starlette's send_json (separators ",", ":").
std::string ToAText(const Event& event);

}  // namespace liveproof::challenge
