// Expected<T> (a value or an Error): tl::expected from Debian's libexpected-dev, the interface of
// C++23's std::expected, so that the project can switch to std::expected with g++ 13 by changing
// this file only.
#pragma once

#include <string>
#include <tl/expected.hpp>

#include "liveproof/error.hpp"

namespace liveproof {

/// @brief Either a T or an Error, never both. A plain value type: distinct objects may be used
/// from distinct threads. value() on an error throws tl::bad_expected_access; callers test
/// first (has_value() or operator bool), and no exception crosses the public API.
template <typename T>
using Expected = tl::expected<T, Error>;

/// @brief An Error on its way into any Expected<T>: `return Unexpected{e};`.
using Unexpected = tl::unexpected<Error>;

/// @brief Builds an Unexpected from a code and a human-readable detail.
inline Unexpected MakeError(ErrorCode code, std::string detail) {
    return Unexpected{Error{code, std::move(detail)}};
}

}  // namespace liveproof
