// How the server's allocator keeps freed image and tensor buffers for the next request.
#pragma once

namespace liveproof::cli {

/// @brief Raises glibc's mmap and trim thresholds so that a request's large buffers (a decoded
/// 8-megapixel image is 24 MB) come from, and go back to, the heap instead of fresh mmap()ed
/// pages: every first touch of a fresh page is a page fault (15-22 us each on the project's VM).
/// The thresholds stay fixed (glibc would otherwise move them after each large free). Settings
/// given in the environment (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_,
/// GLIBC_TUNABLES) win: nothing is changed when any of them is set.
/// THREAD SAFETY: call once, at start-up, before any worker thread exists.
void KeepFreedBuffersForReuse();

}  // namespace liveproof::cli
