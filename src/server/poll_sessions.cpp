// Polling sessions: capped, expiring, looked up by the hash of their id.
#include "server/poll_sessions.hpp"

#include <sodium.h>

#include <array>
#include <cstdio>

namespace liveproof::server {

namespace {

// uuid4 text (what A's clients were given): 16 random bytes, version 4, variant 10.
std::string NewUuid4() {
    std::array<unsigned char, 16> b{};
    randombytes_buf(b.data(), b.size());
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    char text[37];
    std::snprintf(text, sizeof text,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                  b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                  b[14], b[15]);
    return text;
}

}  // namespace

std::string PollSessions::Key(const std::string& id) {
    std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
    crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(id.data()), id.size());
    return std::string(digest.begin(), digest.end());
}

void PollSessions::SweepExpired(double now) {
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        it = now - it->second->created > ttl_s_ ? sessions_.erase(it) : std::next(it);
    }
}

bool PollSessions::Insert(const std::string& id, std::shared_ptr<PollSession>& session,
                          double now) {
    std::lock_guard lock(mutex_);
    if (sessions_.size() >= max_) SweepExpired(now);
    if (sessions_.size() >= max_) return false;
    session->created = now;
    return sessions_.emplace(Key(id), std::move(session)).second;
}

std::optional<std::string> PollSessions::Add(std::shared_ptr<PollSession> session, double now) {
    std::string id = NewUuid4();
    if (!Insert(id, session, now)) return std::nullopt;
    return id;
}

bool PollSessions::AddAs(const std::string& id, std::shared_ptr<PollSession> session, double now) {
    return Insert(id, session, now);
}

std::shared_ptr<PollSession> PollSessions::Find(const std::string& id, double now) {
    const std::string key = Key(id);
    std::lock_guard lock(mutex_);
    const auto it = sessions_.find(key);
    if (it == sessions_.end()) return nullptr;
    if (now - it->second->created > ttl_s_) {
        sessions_.erase(it);
        return nullptr;
    }
    return it->second;
}

std::size_t PollSessions::size() const {
    std::lock_guard lock(mutex_);
    return sessions_.size();
}

}  // namespace liveproof::server
