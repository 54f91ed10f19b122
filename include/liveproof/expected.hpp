// Minimal Expected<T> (value or Error): tl-expected is not packaged in Debian bookworm.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "liveproof/error.hpp"

namespace liveproof {

/// @brief Wraps an Error so that it converts into any Expected<T>.
struct Unexpected {
    Error error;  ///< the error carried
};

/// @brief Builds an Unexpected from a code and a human-readable detail.
inline Unexpected MakeError(ErrorCode code, std::string detail) {
    return Unexpected{Error{code, std::move(detail)}};
}

/// @brief Either a T or an Error, never both; the subset of std::expected the project uses.
///
/// THREAD SAFETY: a plain value type; distinct objects may be used from distinct threads.
template <typename T>
class Expected {
  public:
    /// @brief Holds a value.
    Expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
    /// @brief Holds an error.
    Expected(Unexpected unexpected)  // NOLINT
        : state_(std::in_place_index<1>, std::move(unexpected.error)) {}

    /// @brief True when a value is held.
    [[nodiscard]] bool has_value() const { return state_.index() == 0; }
    /// @brief True when a value is held.
    explicit operator bool() const { return has_value(); }

    /// @brief The value; requires has_value().
    T& value() & {
        assert(has_value());
        return std::get<0>(state_);
    }
    /// @brief The value; requires has_value().
    const T& value() const& {
        assert(has_value());
        return std::get<0>(state_);
    }
    /// @brief The value, moved out; requires has_value().
    T&& value() && {
        assert(has_value());
        return std::get<0>(std::move(state_));
    }
    /// @brief The error; requires !has_value().
    [[nodiscard]] const Error& error() const {
        assert(!has_value());
        return std::get<1>(state_);
    }

    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

  private:
    std::variant<T, Error> state_;
};

/// @brief Expected for operations that return nothing but may fail.
template <>
class Expected<void> {
  public:
    /// @brief Success.
    Expected() = default;
    /// @brief Holds an error.
    Expected(Unexpected unexpected) : error_(std::move(unexpected.error)), ok_(false) {}  // NOLINT

    /// @brief True on success.
    [[nodiscard]] bool has_value() const { return ok_; }
    /// @brief True on success.
    explicit operator bool() const { return ok_; }
    /// @brief The error; requires !has_value().
    [[nodiscard]] const Error& error() const { return error_; }

  private:
    Error error_{};
    bool ok_ = true;
};

}  // namespace liveproof
