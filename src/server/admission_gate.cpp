// AdmissionGate: a counting semaphore with a first-come, first-served line of callbacks.
#include "server/admission_gate.hpp"

#include <algorithm>

namespace liveproof::server {

AdmissionGate::AdmissionGate(std::size_t slots) : state_(std::make_shared<State>(slots)) {}

AdmissionGate::Slot AdmissionGate::MakeSlot(const std::shared_ptr<State>& state) {
    // The deleter, not the pointee, is what matters: destroying the last copy frees the slot.
    return Slot(static_cast<void*>(state.get()), [state](void*) { Free(state); });
}

void AdmissionGate::Free(const std::shared_ptr<State>& state) {
    std::shared_ptr<Ticket> next;
    {
        std::lock_guard lock(state->mutex);
        if (state->line.empty()) {
            --state->held;
            return;
        }
        // The slot passes straight to the first in line: held stays the same.
        next = std::move(state->line.front());
        state->line.pop_front();
    }
    // Outside the lock: the callback posts to its connection; it may not come back here.
    auto grant = std::move(next->grant);
    grant(MakeSlot(state));
}

AdmissionGate::Slot AdmissionGate::TryAcquire() {
    std::lock_guard lock(state_->mutex);
    if (!state_->line.empty() || state_->held >= state_->slots) return nullptr;
    ++state_->held;
    return MakeSlot(state_);
}

std::shared_ptr<AdmissionGate::Ticket> AdmissionGate::Enqueue(std::function<void(Slot)> grant) {
    auto ticket = std::make_shared<Ticket>();
    {
        std::lock_guard lock(state_->mutex);
        // Freed between the caller's TryAcquire and now, with nobody else waiting: it is ours.
        if (state_->line.empty() && state_->held < state_->slots) {
            ++state_->held;
        } else {
            ticket->grant = std::move(grant);
            state_->line.push_back(ticket);
            return ticket;
        }
    }
    grant(MakeSlot(state_));
    return ticket;
}

bool AdmissionGate::Cancel(const std::shared_ptr<Ticket>& ticket) {
    if (!ticket) return false;
    std::lock_guard lock(state_->mutex);
    const auto it = std::find(state_->line.begin(), state_->line.end(), ticket);
    if (it == state_->line.end()) return false;
    state_->line.erase(it);
    return true;
}

std::size_t AdmissionGate::held() const {
    std::lock_guard lock(state_->mutex);
    return state_->held;
}

std::size_t AdmissionGate::waiting() const {
    std::lock_guard lock(state_->mutex);
    return state_->line.size();
}

}  // namespace liveproof::server
