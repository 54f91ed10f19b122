// The status names and the list cursor of the session store, the one place that spells them.
#include "store/session_store.hpp"

#include <array>
#include <charconv>
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

std::string ListCursorText(const SessionRecord& last) {
    return std::to_string(last.created_ms) + ":" + last.id;
}

std::optional<ListCursor> ParseListCursor(std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0 || text.size() - colon - 1 != 32)
        return std::nullopt;
    ListCursor c;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + colon, c.created_ms);
    if (ec != std::errc() || end != text.data() + colon || c.created_ms < 0) return std::nullopt;
    c.id = std::string(text.substr(colon + 1));
    for (const char ch : c.id)
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return std::nullopt;
    return c;
}

Expected<std::optional<ListCursor>> StartOf(const ListQuery& query) {
    if (query.cursor.empty()) return std::optional<ListCursor>();
    auto cursor = ParseListCursor(query.cursor);
    if (!cursor)
        return MakeError(ErrorCode::InvalidArgument,
                         "cursor is not a next_cursor this server gave");
    return cursor;
}

}  // namespace liveproof::store
