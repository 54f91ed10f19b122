// libFuzzer target: the labels CSV reader (src/eval/labels_csv): caps hold, quoting round-trips.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "eval/labels_csv.hpp"
#include "fuzz_support.hpp"

namespace {

[[noreturn]] void Broken(const char* what) { liveproof::fuzz::Fail(what); }

// RFC 4180 text for records: every field quoted, so commas, quotes and line breaks survive.
std::string ToCsv(const std::vector<std::vector<std::string>>& records) {
    std::string out;
    for (const auto& rec : records) {
        for (std::size_t i = 0; i < rec.size(); ++i) {
            if (i > 0) out += ',';
            out += '"';
            for (const char c : rec[i]) out += c == '"' ? std::string("\"\"") : std::string(1, c);
            out += '"';
        }
        out += "\r\n";
    }
    return out;
}

bool SameRows(const std::vector<liveproof::eval::LabelRow>& a,
              const std::vector<liveproof::eval::LabelRow>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].file != b[i].file || a[i].task != b[i].task || a[i].label != b[i].label ||
            a[i].notes != b[i].notes || a[i].extra != b[i].extra || a[i].line != b[i].line) {
            return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace ev = liveproof::eval;
    if (size == 0) return 0;
    // The first byte chooses between the real caps and tiny ones (so every cap is reachable).
    ev::CsvLimits limits;
    if (data[0] & 1) {
        limits.max_bytes = 64 + (data[0] >> 1) * 64u;
        limits.max_rows = 1 + (data[0] >> 4);
        limits.max_fields = 1 + (data[0] >> 3) % 8;
        limits.max_field_bytes = 1 + (data[0] >> 2) * 4u;
    }
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    auto records = ev::ParseCsv(text, limits);
    if (!records) {
        const auto code = records.error().code;
        if (code != liveproof::ErrorCode::InvalidArgument &&
            code != liveproof::ErrorCode::InputTooLarge)
            Broken("unexpected error code");
        return 0;
    }
    if (records->size() > limits.max_rows + 1) Broken("row cap exceeded");
    for (const auto& rec : *records) {
        if (rec.empty() || rec.size() > limits.max_fields) Broken("field count cap exceeded");
        if (rec.size() == 1 && rec[0].empty()) Broken("an empty record was emitted");
        for (const auto& f : rec) {
            if (f.size() > limits.max_field_bytes) Broken("field size cap exceeded");
        }
    }
    // What it parsed, written back with full quoting, parses to the same records.
    auto again = ev::ParseCsv(ToCsv(*records), ev::CsvLimits{});
    if (!again || *again != *records) Broken("quoted round trip changed the records");

    auto rows = ev::RowsFromCsv(*records);
    if (rows) {
        if (rows->size() + 1 != records->size()) Broken("row count differs from records");
        for (const auto& r : *rows) {
            if (!r.extra.is_object()) Broken("extra is not an object");
            const std::string kind = ev::NormalizeAttackType(r.label + r.notes);
            if (kind != "mask" && kind != "replay" && kind != "print" && kind != "other" &&
                kind != "unknown")
                Broken("unknown attack type");
        }
    }
    // The file reader gives what the text parser gives (a memfd: no file left behind); on a
    // quarter of the inputs, as the file system calls cost more than the parse.
    if ((data[0] & 0xC0) != 0xC0) return 0;
    const int fd = memfd_create("labels.csv", 0);
    if (fd < 0) return 0;
    if (write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size())) {
        auto from_file = ev::ReadLabels("/proc/self/fd/" + std::to_string(fd), limits);
        if (static_cast<bool>(from_file) != static_cast<bool>(rows) ||
            (rows && !SameRows(*from_file, *rows)))
            Broken("ReadLabels differs from ParseCsv + RowsFromCsv");
    }
    close(fd);
    return 0;
}
