#pragma once
/// `shared_bytes`: a read-only view of bytes plus a share of whatever owns them (a NATS message, a decoded
/// buffer). Copying it copies a pointer, never the bytes: images travel from the NATS buffer to the decoder
/// without a copy. Immutable after construction, so any thread may read it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace infermesh {

class shared_bytes {
 public:
  shared_bytes() = default;
  shared_bytes(std::shared_ptr<const void> owner, const std::uint8_t* data, std::size_t size)
      : owner_(std::move(owner)), data_(data), size_(size) {}

  /// Takes ownership of `bytes`.
  static shared_bytes from_vector(std::vector<std::uint8_t> bytes) {
    auto owned = std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes));
    return {owned, owned->data(), owned->size()};
  }
  /// Copies `text` (tests, CLI).
  static shared_bytes copy_of(std::string_view text) {
    return from_vector(std::vector<std::uint8_t>(text.begin(), text.end()));
  }

  /// A view of [offset, offset + size) that shares this owner; the range must lie inside this view.
  shared_bytes slice(std::size_t offset, std::size_t size) const { return {owner_, data_ + offset, size}; }

  const std::uint8_t* data() const { return data_; }
  const char* chars() const { return reinterpret_cast<const char*>(data_); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {chars(), size_}; }

 private:
  std::shared_ptr<const void> owner_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace infermesh
