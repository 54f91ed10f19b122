// RFC 4180 CSV parsing and labels.csv row mapping for the evaluator.
#include "eval/labels_csv.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/json_text.hpp"

namespace liveproof::eval {

namespace {

std::string Lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

}  // namespace

Expected<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text,
                                                         const CsvLimits& limits) {
    if (text.size() > limits.max_bytes) {
        return MakeError(ErrorCode::InputTooLarge, "CSV is " + std::to_string(text.size()) +
                                                       " bytes; the cap is " +
                                                       std::to_string(limits.max_bytes));
    }
    std::vector<std::vector<std::string>> records;
    std::vector<std::string> row;
    std::string field;
    bool in_quotes = false;
    bool field_was_quoted = false;
    // A record is only emitted when it holds something: this swallows the final line break and
    // blank lines, which are never meaningful in labels.csv.
    auto end_field = [&]() -> Expected<void> {
        if (row.size() >= limits.max_fields) {
            return MakeError(ErrorCode::InputTooLarge,
                             "record " + std::to_string(records.size() + 1) + " has over " +
                                 std::to_string(limits.max_fields) + " fields");
        }
        row.push_back(std::move(field));
        field.clear();
        field_was_quoted = false;
        return {};
    };
    auto end_record = [&]() -> Expected<void> {
        if (auto r = end_field(); !r) return r;
        if (row.size() == 1 && row[0].empty()) {
            row.clear();
            return {};
        }
        // The header is records[0], so data rows are records.size() - 1.
        if (records.size() > limits.max_rows) {
            return MakeError(ErrorCode::InputTooLarge,
                             "CSV has over " + std::to_string(limits.max_rows) + " rows");
        }
        records.push_back(std::move(row));
        row.clear();
        return {};
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_quotes) {
            if (c == '"') {
                if (i + 1 < text.size() && text[i + 1] == '"') {
                    field.push_back('"');
                    ++i;
                } else {
                    in_quotes = false;
                }
            } else {
                field.push_back(c);
            }
        } else if (c == '"') {
            // A quote is only special at the start of a field (RFC 4180 §2.5); elsewhere it is
            // malformed, and guessing would silently shift columns.
            if (!field.empty() || field_was_quoted) {
                return MakeError(ErrorCode::InvalidArgument,
                                 "stray quote in record " + std::to_string(records.size() + 1));
            }
            in_quotes = true;
            field_was_quoted = true;
        } else if (c == ',') {
            if (auto r = end_field(); !r) return Unexpected{r.error()};
        } else if (c == '\n' || c == '\r') {
            if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
            if (auto r = end_record(); !r) return Unexpected{r.error()};
        } else {
            if (field_was_quoted) {
                return MakeError(
                    ErrorCode::InvalidArgument,
                    "text after a closing quote in record " + std::to_string(records.size() + 1));
            }
            field.push_back(c);
        }
        if (field.size() > limits.max_field_bytes) {
            return MakeError(ErrorCode::InputTooLarge,
                             "a field in record " + std::to_string(records.size() + 1) +
                                 " is over " + std::to_string(limits.max_field_bytes) + " bytes");
        }
    }
    if (in_quotes) {
        return MakeError(ErrorCode::InvalidArgument, "unterminated quoted field at end of CSV");
    }
    if (!field.empty() || field_was_quoted || !row.empty()) {
        if (auto r = end_record(); !r) return Unexpected{r.error()};
    }
    return records;
}

Expected<std::vector<LabelRow>> RowsFromCsv(const std::vector<std::vector<std::string>>& records) {
    if (records.empty()) return MakeError(ErrorCode::InvalidArgument, "labels CSV is empty");
    std::map<std::string, std::size_t> col;
    for (std::size_t i = 0; i < records[0].size(); ++i) col[Lower(records[0][i])] = i;
    for (const char* required : {"file", "task", "label"}) {
        if (!col.contains(required)) {
            return MakeError(ErrorCode::InvalidArgument,
                             std::string("labels CSV header has no '") + required + "' column");
        }
    }
    auto get = [&](const std::vector<std::string>& rec, const char* name) -> std::string {
        const auto it = col.find(name);
        if (it == col.end() || it->second >= rec.size()) return {};
        return rec[it->second];
    };
    std::vector<LabelRow> rows;
    rows.reserve(records.size() - 1);
    for (std::size_t r = 1; r < records.size(); ++r) {
        LabelRow row;
        row.line = r + 1;
        row.file = get(records[r], "file");
        row.task = get(records[r], "task");
        row.label = get(records[r], "label");
        row.source_repo = get(records[r], "source_repo");
        row.notes = get(records[r], "notes");
        const std::string extra = get(records[r], "extra");
        row.extra = nlohmann::json::object();
        if (!extra.empty()) {
            auto parsed = ParseJsonObject(extra);
            if (!parsed) {
                return MakeError(ErrorCode::InvalidArgument,
                                 "record " + std::to_string(row.line) +
                                     ": 'extra' is not a JSON object: " + parsed.error().detail);
            }
            row.extra = std::move(*parsed);
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

Expected<std::vector<LabelRow>> ReadLabels(const std::string& path, const CsvLimits& limits) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return MakeError(ErrorCode::InvalidArgument, "not a readable file: " + path);
    }
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return MakeError(ErrorCode::InvalidArgument, "cannot stat " + path);
    if (size > limits.max_bytes) {
        return MakeError(ErrorCode::InputTooLarge, path + " is " + std::to_string(size) +
                                                       " bytes; the cap is " +
                                                       std::to_string(limits.max_bytes));
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (!in && !in.eof()) return MakeError(ErrorCode::InvalidArgument, "cannot read " + path);
    auto records = ParseCsv(buffer.str(), limits);
    if (!records) return Unexpected{records.error()};
    return RowsFromCsv(*records);
}

std::string NormalizeAttackType(std::string_view raw) {
    const std::string s = Lower(raw);
    if (s.empty()) return "unknown";
    if (s.find("mask") != std::string::npos) return "mask";
    if (s.find("replay") != std::string::npos) return "replay";
    if (s.find("print") != std::string::npos) return "print";
    return "other";
}

}  // namespace liveproof::eval
