// Hand-written multipart/form-data parser: one forward pass, views into the body, hard caps.
#include "server/multipart.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace liveproof::server {
namespace {

constexpr std::string_view kOws = " \t";
constexpr std::size_t kNpos = std::string_view::npos;

Unexpected Invalid(std::string detail) {
    return MakeError(ErrorCode::InvalidEncoding, std::move(detail));
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ToLower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = Lower(c);
    return out;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return Lower(x) == Lower(y); });
}

std::string_view Trim(std::string_view s) {
    const std::size_t first = s.find_first_not_of(kOws);
    if (first == kNpos) return {};
    const std::size_t last = s.find_last_not_of(kOws);
    return s.substr(first, last - first + 1);
}

// Control characters (CR above all) in a boundary would break the line-based framing and the
// linear-time argument of FindDelimiter; non-ASCII is outside RFC 2046's bchars.
bool BoundaryCharsOk(std::string_view boundary) {
    return std::all_of(boundary.begin(), boundary.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u >= 0x20 && u < 0x7f;
    });
}

struct Param {
    std::string name;  // lower-cased
    std::string value;
};

// Parses "; a=b; c=\"d\\\"e\"" (what follows the main value of a header). Quoted strings honour
// backslash escapes; token values run to the next ';' so a sloppy unquoted value with spaces is
// still read whole.
Expected<std::vector<Param>> ParseParams(std::string_view s, std::string_view what) {
    std::vector<Param> params;
    std::size_t i = 0;
    auto skip_ows = [&] {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    };
    while (true) {
        skip_ows();
        if (i == s.size()) break;
        if (s[i] != ';') {
            return Invalid("expected ';' at offset " + std::to_string(i) + " of the " +
                           std::string(what));
        }
        ++i;
        skip_ows();
        if (i == s.size()) break;  // a trailing ';' is harmless
        if (s[i] == ';') continue;
        const std::size_t name_begin = i;
        while (i < s.size() && s[i] != '=' && s[i] != ';' && s[i] != ' ' && s[i] != '\t') ++i;
        const std::string_view name = s.substr(name_begin, i - name_begin);
        skip_ows();
        if (name.empty() || i == s.size() || s[i] != '=') {
            return Invalid("parameter '" + std::string(name) + "' without a value in the " +
                           std::string(what));
        }
        ++i;
        skip_ows();
        Param p{ToLower(name), {}};
        if (i < s.size() && s[i] == '"') {
            ++i;
            bool closed = false;
            while (i < s.size()) {
                const char c = s[i++];
                if (c == '"') {
                    closed = true;
                    break;
                }
                if (c == '\\') {
                    if (i == s.size()) break;
                    p.value.push_back(s[i++]);
                } else {
                    p.value.push_back(c);
                }
            }
            if (!closed) {
                return Invalid("unterminated quoted value of parameter '" + p.name + "' in the " +
                               std::string(what));
            }
        } else {
            const std::size_t value_begin = i;
            while (i < s.size() && s[i] != ';') ++i;
            p.value = std::string(Trim(s.substr(value_begin, i - value_begin)));
        }
        params.push_back(std::move(p));
    }
    return params;
}

// Finds "\r\n--boundary" at or after `from`. The needle holds '\r' only at index 0 (boundaries
// have no control characters), so bytes matched by a failed attempt can never start a match:
// resuming at the mismatch keeps the whole search linear in the body size.
std::size_t FindDelimiter(std::string_view body, std::string_view needle, std::size_t from) {
    while (from < body.size() && body.size() - from >= needle.size()) {
        const std::size_t span = body.size() - needle.size() + 1 - from;
        const void* hit = std::memchr(body.data() + from, '\r', span);
        if (hit == nullptr) return kNpos;
        const auto p = static_cast<std::size_t>(static_cast<const char*>(hit) - body.data());
        std::size_t k = 1;
        while (k < needle.size() && body[p + k] == needle[k]) ++k;
        if (k == needle.size()) return p;
        from = p + k;
    }
    return kNpos;
}

enum class LineKind { Part, Close, NotDelimiter, Truncated };

struct DelimiterLine {
    LineKind kind = LineKind::NotDelimiter;
    std::size_t next = 0;  // for Part: the first byte after the line's CRLF
};

// Classifies what follows "--boundary" at `pos`: "--" closes, spaces/tabs then CRLF open a part,
// the end of the body means it was cut, anything else means the match was data.
DelimiterLine ClassifyDelimiter(std::string_view body, std::size_t pos) {
    if (pos < body.size() && body[pos] == '-') {
        if (pos + 1 == body.size()) return {LineKind::Truncated};
        if (body[pos + 1] == '-') return {LineKind::Close};
        return {LineKind::NotDelimiter};
    }
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (pos == body.size()) return {LineKind::Truncated};
    if (body[pos] != '\r') return {LineKind::NotDelimiter};
    if (pos + 1 == body.size()) return {LineKind::Truncated};
    if (body[pos + 1] != '\n') return {LineKind::NotDelimiter};
    return {LineKind::Part, pos + 2};
}

Unexpected Truncated() { return Invalid("no close delimiter (truncated multipart body)"); }

std::string PartLabel(std::size_t index) { return "part " + std::to_string(index + 1); }

// Reads the part's header block (CRLF-terminated lines, obsolete folding joined) into `part`.
Expected<void> ParseHeaders(std::string_view block, std::size_t index, MultipartPart& part) {
    std::vector<std::pair<std::string_view, std::string>> headers;
    std::size_t i = 0;
    while (i < block.size()) {
        // Every line of the block ends in CRLF and none is empty (an empty one would have ended
        // the block), but a defensive check costs nothing.
        const std::size_t eol = block.find("\r\n", i);
        if (eol == kNpos || eol == i) return Invalid("malformed headers in " + PartLabel(index));
        const std::string_view line = block.substr(i, eol - i);
        i = eol + 2;
        if (line.find_first_of(std::string_view("\r\n\0", 3)) != kNpos) {
            return Invalid("bare CR, LF or NUL in the headers of " + PartLabel(index));
        }
        if (line.front() == ' ' || line.front() == '\t') {
            if (headers.empty()) {
                return Invalid("continuation line before any header in " + PartLabel(index));
            }
            headers.back().second += ' ';
            headers.back().second += Trim(line);
            continue;
        }
        const std::size_t colon = line.find(':');
        if (colon == kNpos) return Invalid("header line without ':' in " + PartLabel(index));
        headers.emplace_back(Trim(line.substr(0, colon)),
                             std::string(Trim(line.substr(colon + 1))));
    }

    bool have_disposition = false;
    bool have_name = false;
    bool have_type = false;
    for (const auto& [name, value] : headers) {
        if (EqualsNoCase(name, "content-type")) {
            if (have_type) return Invalid("two Content-Type headers in " + PartLabel(index));
            have_type = true;
            part.content_type = value;
            continue;
        }
        if (!EqualsNoCase(name, "content-disposition")) continue;
        // Two dispositions would let two readers disagree about which field this is.
        if (have_disposition) {
            return Invalid("two Content-Disposition headers in " + PartLabel(index));
        }
        have_disposition = true;
        const std::size_t semi = std::string_view(value).find(';');
        const std::string_view type = Trim(std::string_view(value).substr(0, semi));
        if (!EqualsNoCase(type, "form-data")) {
            return Invalid("Content-Disposition of " + PartLabel(index) + " is not form-data");
        }
        auto params = ParseParams(semi == kNpos ? std::string_view() : value.substr(semi),
                                  "Content-Disposition of " + PartLabel(index));
        if (!params) return Unexpected{params.error()};
        bool have_filename = false;
        for (auto& p : *params) {
            if (p.name == "name" || p.name == "filename") {
                bool& seen = p.name == "name" ? have_name : have_filename;
                if (seen) {
                    return Invalid("duplicate '" + p.name + "' in the Content-Disposition of " +
                                   PartLabel(index));
                }
                seen = true;
                (p.name == "name" ? part.name : part.filename) = std::move(p.value);
            }
        }
    }
    if (!have_disposition) {
        return Invalid(PartLabel(index) + " has no Content-Disposition header");
    }
    if (!have_name) return Invalid(PartLabel(index) + " has no name in its Content-Disposition");
    return {};
}

}  // namespace

Expected<std::string> MultipartBoundary(std::string_view content_type) {
    const std::size_t semi = content_type.find(';');
    const std::string_view media_type = Trim(content_type.substr(0, semi));
    if (!EqualsNoCase(media_type, "multipart/form-data")) {
        return Invalid("Content-Type is not multipart/form-data");
    }
    auto params =
        ParseParams(semi == kNpos ? std::string_view() : content_type.substr(semi), "Content-Type");
    if (!params) return Unexpected{params.error()};
    const std::string* boundary = nullptr;
    for (const auto& p : *params) {
        if (p.name != "boundary") continue;
        if (boundary != nullptr) return Invalid("duplicate boundary parameter in Content-Type");
        boundary = &p.value;
    }
    if (boundary == nullptr) return Invalid("multipart Content-Type without a boundary");
    if (boundary->empty()) return Invalid("empty multipart boundary");
    if (boundary->size() > kMaxBoundaryLength) {
        return Invalid("multipart boundary longer than 70 characters (" +
                       std::to_string(boundary->size()) + ")");
    }
    if (!BoundaryCharsOk(*boundary)) {
        return Invalid("multipart boundary holds control or non-ASCII characters");
    }
    return *boundary;
}

Expected<std::vector<MultipartPart>> ParseMultipart(std::string_view body,
                                                    std::string_view boundary,
                                                    std::size_t max_parts) {
    if (boundary.empty() || boundary.size() > kMaxBoundaryLength || !BoundaryCharsOk(boundary)) {
        return MakeError(ErrorCode::InvalidArgument,
                         "multipart boundary must be 1 to 70 printable ASCII characters");
    }
    const std::string needle = "\r\n--" + std::string(boundary);
    const std::string_view dash_boundary = std::string_view(needle).substr(2);

    // Opening delimiter: either at the very start (no CRLF) or after a preamble.
    std::size_t part_start = 0;
    bool opened = false;
    if (body.starts_with(dash_boundary)) {
        const DelimiterLine line = ClassifyDelimiter(body, dash_boundary.size());
        if (line.kind == LineKind::Truncated) return Truncated();
        if (line.kind == LineKind::Close) return std::vector<MultipartPart>{};
        if (line.kind == LineKind::Part) {
            part_start = line.next;
            opened = true;
        }
    }
    std::size_t from = 0;
    while (!opened) {
        const std::size_t pos = FindDelimiter(body, needle, from);
        if (pos == kNpos)
            return Invalid("no opening multipart delimiter --" + std::string(boundary));
        const DelimiterLine line = ClassifyDelimiter(body, pos + needle.size());
        if (line.kind == LineKind::Truncated) return Truncated();
        if (line.kind == LineKind::Close) return std::vector<MultipartPart>{};
        if (line.kind == LineKind::Part) {
            part_start = line.next;
            opened = true;
        }
        from = pos + needle.size();
    }

    std::vector<MultipartPart> parts;
    while (true) {
        if (parts.size() == max_parts) {
            return Invalid("more than " + std::to_string(max_parts) + " multipart parts");
        }
        // The CRLF that ended the delimiter line sits at part_start - 2; searching for CRLFCRLF
        // from there finds an empty header block too. The window bounds both the header size and
        // the bytes scanned.
        const std::size_t window_end = std::min(body.size(), part_start + kMaxPartHeaderBytes + 2);
        const std::size_t header_end = body.substr(0, window_end).find("\r\n\r\n", part_start - 2);
        if (header_end == kNpos) {
            if (window_end == body.size() && body.size() < part_start + kMaxPartHeaderBytes + 2) {
                return Invalid("headers of " + PartLabel(parts.size()) +
                               " not terminated (truncated multipart body)");
            }
            return Invalid("header block of " + PartLabel(parts.size()) + " over " +
                           std::to_string(kMaxPartHeaderBytes) + " bytes");
        }
        MultipartPart part;
        const std::size_t block_size = header_end + 2 - part_start;  // 0 when no headers
        if (auto ok = ParseHeaders(body.substr(part_start, block_size), parts.size(), part); !ok) {
            return Unexpected{ok.error()};
        }

        // The data ends at the next real delimiter; its leading CRLF belongs to the delimiter.
        // Searching from header_end + 2 also accepts a part with no data and no blank line.
        const std::size_t data_start = header_end + 4;
        std::size_t search = header_end + 2;
        while (true) {
            const std::size_t pos = FindDelimiter(body, needle, search);
            if (pos == kNpos) return Truncated();
            const DelimiterLine line = ClassifyDelimiter(body, pos + needle.size());
            if (line.kind == LineKind::Truncated) return Truncated();
            if (line.kind == LineKind::NotDelimiter) {
                search = pos + needle.size();
                continue;
            }
            part.data =
                pos > data_start ? body.substr(data_start, pos - data_start) : std::string_view();
            parts.push_back(std::move(part));
            if (line.kind == LineKind::Close) return parts;  // the epilogue is ignored
            part_start = line.next;
            break;
        }
    }
}

const MultipartPart* FindPart(const std::vector<MultipartPart>& parts, std::string_view name) {
    for (const auto& part : parts) {
        if (part.name == name) return &part;
    }
    return nullptr;
}

}  // namespace liveproof::server
