// libFuzzer target: the bounded JSON helper (src/common/json_text) never throws and round-trips.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/json_text.hpp"
#include "fuzz_support.hpp"

namespace {

[[noreturn]] void Broken(const char* what) { liveproof::fuzz::Fail(what); }

bool HasControl(std::string_view s) {
    for (const char c : s) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return true;
    }
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using liveproof::IsValidUtf8;
    using liveproof::ParseJson;
    using liveproof::ToJsonText;
    const std::string text(reinterpret_cast<const char*>(data), size);  // exact-size heap copy

    // Sanitising for logs: always valid UTF-8 without control characters, and the identity on
    // text that already is.
    const std::string printable = liveproof::PrintableUtf8(text);
    if (!IsValidUtf8(printable) || HasControl(printable)) Broken("PrintableUtf8 output unsafe");
    if (IsValidUtf8(text) && !HasControl(text) && printable != text)
        Broken("PrintableUtf8 changed");

    // The first byte picks the depth cap (1..16), so shallow caps are exercised too.
    const int depth = size > 0 ? 1 + data[0] % liveproof::kMaxJsonDepth : 1;
    auto parsed = ParseJson(text, depth);
    auto object = liveproof::ParseJsonObject(text, depth);
    if (static_cast<bool>(object) && (!parsed || !object->is_object())) Broken("object mismatch");
    if (parsed) {
        // A raw NUL is never JSON: nlohmann's lexer took it for the end of the input, and what
        // followed went unchecked (json_nul_truncates, fixed: ParseJson refuses it).
        if (text.find('\0') != std::string::npos) Broken("text with a NUL byte was accepted");
        // It must be UTF-8 (strings are checked, the rest is ASCII).
        if (!IsValidUtf8(text)) Broken("parsed text is not UTF-8");
        for (const int indent : {-1, 2}) {
            const std::string again = ToJsonText(*parsed, indent);
            if (!IsValidUtf8(again)) Broken("serialised text is not UTF-8");
            auto round = ParseJson(again, depth);
            if (!round) Broken("serialised text does not parse");
            if (*round != *parsed) Broken("round trip changed the value");
        }
        const nlohmann::ordered_json ordered =
            nlohmann::ordered_json::parse(ToJsonText(*parsed), nullptr, /*allow_exceptions=*/false);
        if (ordered.is_discarded()) Broken("ordered_json cannot read our text");
        if (nlohmann::json::parse(ToJsonText(ordered)) != *parsed) Broken("ordered round trip");
    } else if (parsed.error().code != liveproof::ErrorCode::InvalidJson &&
               parsed.error().code != liveproof::ErrorCode::InputTooLarge) {
        Broken("unexpected error code");
    }

    // Client text that is not UTF-8 inside a value (an echoed path, a field name): the output is
    // still UTF-8 JSON holding one string and one key.
    nlohmann::json echo = {{"detail", text}};
    echo["key:" + text] = 1;
    const std::string out = ToJsonText(echo);
    auto back = ParseJson(out);
    if (!IsValidUtf8(out) || !back || !back->is_object() || !back->contains("detail"))
        Broken("echoed text not serialised as JSON");
    if (IsValidUtf8(text) && (*back)["detail"] != text) Broken("valid text changed when echoed");
    nlohmann::ordered_json echo_ordered = {{"type", "error"}, {"message", text}};
    if (!ParseJson(ToJsonText(echo_ordered))) Broken("ordered echo not serialised as JSON");
    return 0;
}
