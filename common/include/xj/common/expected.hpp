// Expected<T>: a value or an error message, for runtime paths that must not throw. An error
// type other than Error (it needs a `message`) carries more for callers that branch on it,
// e.g. Expected<HttpClientResponse, HttpClientError>.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace xj {

struct Error {
  std::string message;
};

inline Error make_error(std::string message) { return Error{std::move(message)}; }

template <typename T, typename E = Error>
class Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}           // NOLINT(google-explicit-constructor)
  Expected(E error) : v_(std::move(error)) {}           // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }
  const std::string& error() const { return std::get<E>(v_).message; }
  const E& failure() const { return std::get<E>(v_); }

 private:
  std::variant<T, E> v_;
};

}  // namespace xj
