// RFC 4180 CSV parsing sufficient for labels.csv.
#include "support/labels.hpp"

#include <fstream>
#include <sstream>

namespace liveproof::test {

std::vector<LabelRow> ReadLabels(const std::filesystem::path& csv) {
    std::ifstream in(csv);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    std::vector<std::vector<std::string>> rows(1);
    std::string field;
    bool quoted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            rows.back().push_back(field);
            field.clear();
        } else if (c == '\n') {
            rows.back().push_back(field);
            field.clear();
            rows.emplace_back();
        } else if (c != '\r') {
            field += c;
        }
    }
    std::vector<LabelRow> out;
    for (std::size_t r = 1; r < rows.size(); ++r) {  // row 0 is the header
        if (rows[r].size() < 10) continue;
        out.push_back({rows[r][0], rows[r][1], rows[r][2], rows[r][9]});
    }
    return out;
}

}  // namespace liveproof::test
