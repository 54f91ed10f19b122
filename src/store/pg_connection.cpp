// The PostgreSQL connection pool and statement results (libpq).
#include "store/pg_connection.hpp"

#include <charconv>

namespace liveproof::store {

namespace {

// libpq's message, on one line (it ends its messages with a newline).
std::string Message(const char* text) {
    std::string m = text != nullptr ? text : "";
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    for (char& c : m) c = c == '\n' ? ' ' : c;
    return m;
}

}  // namespace

std::int64_t PgResult::Int(int row, int col) const {
    const char* v = PQgetvalue(r_.get(), row, col);
    std::int64_t out = 0;
    std::from_chars(v, v + PQgetlength(r_.get(), row, col), out);
    return out;
}

std::vector<std::uint8_t> PgResult::Bytes(int row, int col) const {
    std::size_t n = 0;
    unsigned char* raw =
        PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_.get(), row, col)), &n);
    if (raw == nullptr) return {};
    std::vector<std::uint8_t> out(raw, raw + n);
    PQfreemem(raw);
    return out;
}

int PgResult::changed() const {
    const char* n = PQcmdTuples(r_.get());
    int out = 0;
    std::from_chars(n, n + std::char_traits<char>::length(n), out);
    return out;
}

PgPool::PgPool(std::string url, std::size_t size, std::chrono::milliseconds wait)
    : url_(std::move(url)), size_(size == 0 ? 1 : size), wait_(wait) {}

PgPool::~PgPool() {
    std::lock_guard lock(mu_);
    for (PGconn* c : idle_) PQfinish(c);
}

Expected<std::unique_ptr<PgPool::Lease>> PgPool::Acquire() {
    std::unique_lock lock(mu_);
    if (!returned_.wait_for(lock, wait_, [&] { return !idle_.empty() || open_ < size_; })) {
        return MakeError(ErrorCode::Internal, "PostgreSQL: all " + std::to_string(size_) +
                                                  " connections stayed busy for " +
                                                  std::to_string(wait_.count()) +
                                                  " ms (store_pool_size)");
    }
    if (!idle_.empty()) {
        PGconn* c = idle_.back();
        idle_.pop_back();
        return std::make_unique<Lease>(*this, c);
    }
    ++open_;
    lock.unlock();
    // A short connect timeout unless the URL sets one: a node must notice a dead database in
    // seconds (its /readyz turns false, its requests get 503), not in minutes.
    const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {"3", "liveproof", url_.c_str(), nullptr};
    PGconn* c = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
        const std::string why = c != nullptr ? Message(PQerrorMessage(c)) : "out of memory";
        PQfinish(c);
        lock.lock();
        --open_;
        returned_.notify_one();
        return MakeError(ErrorCode::Internal,
                         "PostgreSQL " + RedactedPgUrl(url_) + ": cannot connect: " + why);
    }
    return std::make_unique<Lease>(*this, c);
}

void PgPool::Return(PGconn* c, bool broken) {
    std::lock_guard lock(mu_);
    if (broken || PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) != PQTRANS_IDLE) {
        // A connection in an unknown state is never reused: it is closed, the next caller opens
        // a fresh one.
        PQfinish(c);
        --open_;
    } else {
        idle_.push_back(c);
    }
    returned_.notify_one();
}

Expected<PgResult> PgPool::Lease::Exec(const std::string& what, const char* sql,
                                       const std::vector<PgParam>& params) {
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    for (const auto& p : params) {
        values.push_back(p.text.data());
        lengths.push_back(static_cast<int>(p.text.size()));
        formats.push_back(p.binary ? 1 : 0);
    }
    return Checked(what, PQexecParams(c_, sql, static_cast<int>(params.size()), nullptr,
                                      values.data(), lengths.data(), formats.data(),
                                      /*resultFormat=*/0));
}

Expected<void> PgPool::Lease::ExecScript(const std::string& what, const char* sql) {
    auto r = Checked(what, PQexec(c_, sql));
    if (!r) return Unexpected{r.error()};
    return {};
}

Expected<PgResult> PgPool::Lease::Checked(const std::string& what, PGresult* raw) {
    const ExecStatusType status = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return PgResult(raw);
    // The primary message and the SQLSTATE only: the detail lines may quote row values.
    std::string why;
    if (raw != nullptr) {
        why = Message(PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY));
        if (const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE))
            why += std::string(" (SQLSTATE ") + state + ")";
    }
    if (why.empty()) why = Message(PQerrorMessage(c_));
    PQclear(raw);
    if (PQstatus(c_) != CONNECTION_OK) broken_ = true;
    return MakeError(ErrorCode::Internal, "PostgreSQL, " + what + ": " + why);
}

std::string RedactedPgUrl(std::string_view url) {
    // postgresql://user:password@host/...: the part between the user's ':' and '@' goes.
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return "(conninfo)";
    const auto at = url.find('@', scheme + 3);
    if (at == std::string_view::npos) return std::string(url);
    const auto colon = url.find(':', scheme + 3);
    if (colon == std::string_view::npos || colon > at) return std::string(url);
    return std::string(url.substr(0, colon)) + ":***" + std::string(url.substr(at));
}

}  // namespace liveproof::store
