// AdmissionGate: slots counted out, a first-come first-served line, giving up, slots that
// outlive the gate.
#include "server/admission_gate.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace liveproof::server {
namespace {

TEST(AdmissionGate, GrantsFreeSlotsAtOnceAndFreesThemWhenDropped) {
    AdmissionGate gate(2);
    auto a = gate.TryAcquire();
    auto b = gate.TryAcquire();
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(gate.TryAcquire());
    EXPECT_EQ(gate.held(), 2u);
    a.reset();
    EXPECT_EQ(gate.held(), 1u);
    EXPECT_TRUE(gate.TryAcquire());  // dropped at once again
    EXPECT_EQ(gate.held(), 1u);
}

TEST(AdmissionGate, WaitersAreServedInArrivalOrderOneSlotEach) {
    AdmissionGate gate(1);
    auto held = gate.TryAcquire();
    std::vector<std::string> order;
    std::vector<AdmissionGate::Slot> granted;
    for (const char* name : {"first", "second", "third"}) {
        gate.Enqueue([&, name](AdmissionGate::Slot s) {
            order.push_back(name);
            granted.push_back(std::move(s));
        });
    }
    // Moved out of the vector first: dropping it runs the next grant, which appends to it.
    auto release_latest = [&] {
        AdmissionGate::Slot s = std::move(granted.back());
        granted.pop_back();
        s.reset();
    };
    EXPECT_EQ(gate.waiting(), 3u);
    EXPECT_TRUE(order.empty());
    held.reset();  // hands its slot straight to the first in line
    ASSERT_EQ(order, std::vector<std::string>{"first"});
    EXPECT_EQ(gate.held(), 1u);
    release_latest();
    EXPECT_EQ(order, (std::vector<std::string>{"first", "second"}));
    release_latest();
    EXPECT_EQ(order, (std::vector<std::string>{"first", "second", "third"}));
    release_latest();
    EXPECT_EQ(gate.held(), 0u);
    EXPECT_EQ(gate.waiting(), 0u);
}

TEST(AdmissionGate, NeverHoldsMoreThanItsSlotsUnderContention) {
    constexpr std::size_t kSlots = 3;
    AdmissionGate gate(kSlots);
    std::atomic<int> inside{0};
    std::atomic<int> most{0};
    std::atomic<int> served{0};
    auto work = [&](AdmissionGate::Slot slot) {
        const int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        --inside;
        ++served;
        slot.reset();  // may run the next waiter's grant on this thread
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 500; ++i) {
                if (auto s = gate.TryAcquire()) {
                    work(std::move(s));
                } else {
                    gate.Enqueue(work);
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(served.load(), 8 * 500);
    EXPECT_LE(most.load(), static_cast<int>(kSlots));
    EXPECT_EQ(gate.held(), 0u);
    EXPECT_EQ(gate.waiting(), 0u);
}

TEST(AdmissionGate, NewcomersQueueBehindWaitersEvenWhenASlotIsFree) {
    // A slot freed while someone waits is theirs: TryAcquire never jumps the line.
    AdmissionGate gate(1);
    auto held = gate.TryAcquire();
    AdmissionGate::Slot waiter_slot;
    gate.Enqueue([&](AdmissionGate::Slot s) { waiter_slot = std::move(s); });
    held.reset();
    EXPECT_TRUE(waiter_slot);
    EXPECT_FALSE(gate.TryAcquire());
}

TEST(AdmissionGate, EnqueueGrantsAtOnceWhenASlotFreedMeanwhile) {
    AdmissionGate gate(1);
    AdmissionGate::Slot got;
    auto ticket = gate.Enqueue([&](AdmissionGate::Slot s) { got = std::move(s); });
    EXPECT_TRUE(got);
    EXPECT_FALSE(gate.Cancel(ticket));  // granted: nothing to leave
}

TEST(AdmissionGate, ACancelledWaiterIsSkipped) {
    AdmissionGate gate(1);
    auto held = gate.TryAcquire();
    bool first_called = false;
    AdmissionGate::Slot second;
    auto first = gate.Enqueue([&](AdmissionGate::Slot) { first_called = true; });
    gate.Enqueue([&](AdmissionGate::Slot s) { second = std::move(s); });
    EXPECT_TRUE(gate.Cancel(first));
    EXPECT_FALSE(gate.Cancel(first));  // once
    held.reset();
    EXPECT_FALSE(first_called);
    EXPECT_TRUE(second);
}

TEST(AdmissionGate, ASlotMayOutliveTheGate) {
    AdmissionGate::Slot survivor;
    {
        AdmissionGate gate(1);
        survivor = gate.TryAcquire();
    }
    survivor.reset();  // no use after free (the sanitiser build checks this)
    SUCCEED();
}

}  // namespace
}  // namespace liveproof::server
