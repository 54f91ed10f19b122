// Minimal reader of ../shared/data/labels.csv for tests (quoted fields, doubled quotes).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace liveproof::test {

/// @brief One labels.csv row (the columns the tests use).
struct LabelRow {
    std::string file;   ///< relative to data/
    std::string task;   ///< e.g. eyes, face_count, headpose
    std::string label;  ///< task-specific label
    std::string extra;  ///< JSON object text
};

/// @brief All rows of labels.csv (empty if absent).
std::vector<LabelRow> ReadLabels(const std::filesystem::path& csv);

}  // namespace liveproof::test
