// libjpeg compression into memory, for fixtures OpenCV cannot encode (CMYK, custom scan scripts).
#pragma once

#include <jpeglib.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace liveproof::test {

/// @brief WHAT THIS OBJECT REPRESENTS: one libjpeg compression into a memory buffer: set the
/// fields of info() (size, components, colour space, then defaults and options), start,
/// write the rows, Finish() for the bytes. THREAD SAFETY: one thread.
class MemoryJpegWriter {
  public:
    MemoryJpegWriter() {
        cinfo_.err = jpeg_std_error(&jerr_);
        jpeg_create_compress(&cinfo_);
        jpeg_mem_dest(&cinfo_, &buffer_, &size_);
    }
    ~MemoryJpegWriter() {
        jpeg_destroy_compress(&cinfo_);
        std::free(buffer_);
    }
    MemoryJpegWriter(const MemoryJpegWriter&) = delete;
    MemoryJpegWriter& operator=(const MemoryJpegWriter&) = delete;

    /// @brief The compression settings and state.
    jpeg_compress_struct& info() { return cinfo_; }

    /// @brief Ends the compression and returns the JPEG bytes.
    std::vector<std::uint8_t> Finish() {
        jpeg_finish_compress(&cinfo_);
        return std::vector<std::uint8_t>(buffer_, buffer_ + size_);
    }

  private:
    jpeg_compress_struct cinfo_{};
    jpeg_error_mgr jerr_{};
    unsigned char* buffer_ = nullptr;
    unsigned long size_ = 0;  // NOLINT(runtime/int): libjpeg's type
};

}  // namespace liveproof::test
