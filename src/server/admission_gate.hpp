// Admission of requests that will need an inference worker, decided before their body is read.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace liveproof::server {

/// @brief WHAT THIS OBJECT REPRESENTS: the right to have a body read and queued for the
/// inference workers, counted out in `slots` (the workers plus the queue behind them).
///
/// A request holds a slot from its header until its answer: while the slots are taken, the
/// next requests wait here, in arrival order, with their bodies unread (the client's send
/// blocks on TCP flow control: no CPU, no memory on the server). So past capacity the server
/// neither buffers uploads nor spends its cores answering 503 after 503 to clients that retry at
/// once: throughput stays at the workers' rate, and the wait is first come, first served. A
/// waiter gives up at its own deadline (the transport answers 503 then).
///
/// THREAD SAFETY: every public function may be called from any thread. The grant callback runs
/// on the thread that freed the slot (or the caller's, when a slot is free at once), outside
/// the gate's lock: it must only hand the slot on (post to the connection's executor).
class AdmissionGate {
  public:
    /// @brief A held slot; freed when the last copy is destroyed.
    using Slot = std::shared_ptr<void>;
    /// @brief A place in line; Cancel() it to give up.
    class Ticket;

    explicit AdmissionGate(std::size_t slots);

    /// @brief A slot when one is free and nobody is waiting for one; else null.
    Slot TryAcquire();

    /// @brief Joins the line: @p grant gets a slot when it is this ticket's turn, called from
    /// the thread that frees one (or from this call, when one is free by now).
    std::shared_ptr<Ticket> Enqueue(std::function<void(Slot)> grant);

    /// @brief Leaves the line. False when the slot was already granted (the grant callback
    /// ran or is running): the caller then receives the slot and should drop it.
    bool Cancel(const std::shared_ptr<Ticket>& ticket);

    /// @brief Requests holding a slot.
    [[nodiscard]] std::size_t held() const;
    /// @brief Requests waiting for one.
    [[nodiscard]] std::size_t waiting() const;
    /// @brief Slots in all.
    [[nodiscard]] std::size_t slots() const { return state_->slots; }

  private:
    // Shared with every slot, so that a slot freed after the gate (a connection that outlives
    // the server object at shutdown) still has its counter.
    struct State {
        explicit State(std::size_t n) : slots(n) {}
        const std::size_t slots;
        std::mutex mutex;
        std::size_t held = 0;
        std::deque<std::shared_ptr<Ticket>> line;
    };
    // A slot counted as held already (called with the lock held).
    static Slot MakeSlot(const std::shared_ptr<State>& state);
    static void Free(const std::shared_ptr<State>& state);

    std::shared_ptr<State> state_;
};

class AdmissionGate::Ticket {
    friend class AdmissionGate;
    std::function<void(Slot)> grant;
};

}  // namespace liveproof::server
