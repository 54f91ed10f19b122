// libFuzzer target: image header parsing (JPEG markers, EXIF, PNG, BMP, WebP) on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "media/image_header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto h = liveproof::media::ReadImageHeader(std::span<const std::uint8_t>(data, size));
    if (h &&
        (h->width <= 0 || h->height <= 0 || h->exif_orientation < 1 || h->exif_orientation > 8)) {
        __builtin_trap();  // a success must describe a real image
    }
    return 0;
}
