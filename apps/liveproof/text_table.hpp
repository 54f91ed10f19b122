// The CLI's plain text tables (eval and bench reports).
#pragma once

#include <algorithm>
#include <cstddef>
#include <iomanip>
#include <ostream>
#include <string>
#include <vector>

namespace liveproof::cli {

/// @brief A plain text table for the CLI reports: column widths from the content,
/// left-aligned, a dashed rule under the header, no trailing blanks.
class Table {
  public:
    explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
    void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    void Print(std::ostream& out) const {
        std::vector<std::size_t> w;
        for (const auto& r : rows_) {
            w.resize(std::max(w.size(), r.size()));
            for (std::size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
        }
        for (std::size_t r = 0; r < rows_.size(); ++r) {
            out << "  ";
            for (std::size_t i = 0; i < rows_[r].size(); ++i) {
                const bool last = i + 1 == rows_[r].size();  // no trailing blanks
                out << std::left << std::setw(last ? 0 : static_cast<int>(w[i])) << rows_[r][i]
                    << (last ? "" : "  ");
            }
            out << "\n";
            if (r == 0) {
                out << "  ";
                for (std::size_t i = 0; i < w.size(); ++i) {
                    out << std::string(w[i], '-') << (i + 1 < w.size() ? "  " : "");
                }
                out << "\n";
            }
        }
    }

  private:
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace liveproof::cli
