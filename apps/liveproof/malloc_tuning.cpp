// glibc mallopt() at server start-up; measured in docs/performance.md ("Page faults").
#include "malloc_tuning.hpp"

#include <malloc.h>

#include <cstdlib>
#include <initializer_list>

namespace liveproof::cli {

void KeepFreedBuffersForReuse() {
    for (const char* name : {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
                             "GLIBC_TUNABLES"}) {
        if (std::getenv(name) != nullptr) return;
    }
    constexpr int kMiB = 1 << 20;
    // Up to 32 MiB per allocation from the heap: a 4K frame (25 MB) and every tensor.
    mallopt(M_MMAP_THRESHOLD, 32 * kMiB);
    // Free memory at the top of a heap is returned to the kernel only past 64 MiB, and the
    // heap grows 16 MiB at a time: bounded retention (RSS) for no fresh pages per request.
    mallopt(M_TRIM_THRESHOLD, 64 * kMiB);
    mallopt(M_TOP_PAD, 16 * kMiB);
}

}  // namespace liveproof::cli
