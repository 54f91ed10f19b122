// The status names of the session store, the one place that spells them.
#include "store/session_store.hpp"

#include <array>
#include <utility>

namespace liveproof::store {

namespace {
constexpr std::array<std::pair<SessionStatus, std::string_view>, 5> kNames{{
    {SessionStatus::Created, "CREATED"},
    {SessionStatus::InProgress, "IN_PROGRESS"},
    {SessionStatus::Succeeded, "SUCCEEDED"},
    {SessionStatus::Failed, "FAILED"},
    {SessionStatus::Expired, "EXPIRED"},
}};
}  // namespace

std::string_view SessionStatusName(SessionStatus status) {
    for (const auto& [s, name] : kNames)
        if (s == status) return name;
    return "FAILED";
}

std::optional<SessionStatus> ParseSessionStatus(std::string_view name) {
    for (const auto& [s, n] : kNames)
        if (n == name) return s;
    return std::nullopt;
}

bool IsTerminal(SessionStatus status) {
    return status == SessionStatus::Succeeded || status == SessionStatus::Failed ||
           status == SessionStatus::Expired;
}

}  // namespace liveproof::store
