// Reads the evaluation labels CSV (RFC 4180 quoting) into typed rows, with caps on its size.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "liveproof/expected.hpp"

namespace liveproof::eval {

/// @brief Caps that keep a hostile or mistaken labels file from exhausting memory.
struct CsvLimits {
    std::size_t max_bytes = 16u << 20;       ///< whole file size cap
    std::size_t max_rows = 100'000;          ///< data rows (header excluded)
    std::size_t max_fields = 64;             ///< fields per row
    std::size_t max_field_bytes = 1u << 16;  ///< bytes per field
};

/// @brief Parses CSV text: comma separated, fields optionally quoted with '"', a doubled quote
/// inside a quoted field is one quote, quoted fields may hold commas and line breaks. CRLF and LF
/// line ends are accepted; a trailing line break does not make an empty row.
/// @return the records (the header is the first one), or InvalidArgument / InputTooLarge.
Expected<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text,
                                                         const CsvLimits& limits = {});

/// @brief One row of labels.csv; column meanings in ../shared/data/README.md.
struct LabelRow {
    std::string file;         ///< path relative to the data folder
    std::string task;         ///< antispoof, antispoof_crop, headpose, eyes, mouth, face_count, ...
    std::string label;        ///< task-specific label (live/spoof, eyes_open, 3, many, ...)
    std::string source_repo;  ///< where the file came from
    std::string notes;        ///< free text
    nlohmann::json extra;     ///< parsed `extra` column (an object; empty object when blank)
    std::size_t line = 0;     ///< 1-based record number in the file (header = 1), for messages
};

/// @brief Turns parsed records into LabelRows; the header must name at least file, task, label.
/// @return the rows, or InvalidArgument naming the record with a bad `extra` JSON or no header.
Expected<std::vector<LabelRow>> RowsFromCsv(const std::vector<std::vector<std::string>>& records);

/// @brief Reads and parses a labels file, checking the byte cap before reading.
Expected<std::vector<LabelRow>> ReadLabels(const std::string& path, const CsvLimits& limits = {});

/// @brief Maps a free-text attack description onto print / replay / mask / unknown / other.
/// 'mask' wins over 'print' ("paper mask (printed face cut-out ...)" is a mask); empty -> unknown.
std::string NormalizeAttackType(std::string_view raw);

}  // namespace liveproof::eval
