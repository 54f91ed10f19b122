// System A's JSON messages: key order per message type and Python-compatible rounding.
#include "challenge/a_protocol.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace liveproof::challenge {
namespace {

void PutPose(nlohmann::ordered_json& j, const Event& event) {
    if (event.yaw) j["yaw"] = RoundTo2Decimals(*event.yaw);
    if (event.pitch) j["pitch"] = RoundTo2Decimals(*event.pitch);
}

void PutCounts(nlohmann::ordered_json& j, const Event& event) {
    j["success"] = event.success;
    j["total"] = event.total;
}

}  // namespace

double RoundTo2Decimals(double x) {
    if (!std::isfinite(x)) return x;
    // printf rounds the exact binary value correctly (ties to even), like CPython's round();
    // x * 100 would round twice and disagree on values such as 1.005.
    char text[64];
    std::snprintf(text, sizeof text, "%.2f", x);
    return std::strtod(text, nullptr);
}

nlohmann::ordered_json ToAJson(const Event& event) {
    nlohmann::ordered_json j;
    j["type"] = EventTypeName(event.type);
    switch (event.type) {
        case EventType::Failed:
            j["reason"] = event.reason ? FailReasonName(*event.reason) : "timeout";
            j["message"] = event.message;
            return j;
        case EventType::Error:
            j["message"] = event.message;
            return j;
        case EventType::Start:
        case EventType::NoFace:
            j["state"] = StateName(event.state);
            j["instruction"] = InstructionName(event.instruction);
            PutCounts(j, event);
            return j;
        case EventType::Waiting:
        case EventType::Challenge:
        case EventType::Success:
        case EventType::Complete:
            break;
    }
    j["state"] = StateName(event.state);
    j["instruction"] = InstructionName(event.instruction);
    PutPose(j, event);
    PutCounts(j, event);
    if (event.type == EventType::Waiting && event.state == State::WaitingAction) {
        if (event.wrong_direction) {
            j["wrong_direction"] = DirectionName(*event.wrong_direction);
        } else {
            j["wrong_direction"] = nullptr;
        }
    }
    if (event.type == EventType::Complete) j["live"] = event.live;
    return j;
}

nlohmann::ordered_json ToAPollJson(const Event& event) {
    nlohmann::ordered_json j;
    if (event.type == EventType::NoFace) {
        j["status"] = "NO_FACE";
    } else if (event.type == EventType::Failed) {
        j["status"] = "FAILED";
        j["reason"] = event.reason ? FailReasonName(*event.reason) : "timeout";
        j["message"] = event.message;
    } else {
        PutPose(j, event);
        j["challenge"] = InstructionName(event.instruction);
    }
    j["success"] = event.success;
    j["live"] = event.type == EventType::Complete && event.live;
    j["type"] = EventTypeName(event.type);
    if (event.type != EventType::Failed) {
        j["state"] = StateName(event.state);
        j["instruction"] = InstructionName(event.instruction);
    }
    j["total"] = event.total;
    return j;
}

std::string ToAText(const Event& event) { return ToAJson(event).dump(); }

}  // namespace liveproof::challenge
