#pragma once
/// What the page-rendering child (page_render_child.cpp) and its parent (page_render_sandbox.cpp) say over
/// their socket: one request (a header, then the document's bytes; the parent then shuts its side for
/// writing), one answer (the pages, or an error), in the machine's own byte order (both ends are built from
/// this file, on one machine). Plain structs and byte appends; no library.

#include <cstdint>
#include <cstring>
#include <string>

namespace infermesh::render_wire {

inline constexpr std::uint32_t request_magic = 0x31504D49;  // "IMP1"

struct request_header {
  std::uint32_t magic = request_magic;
  std::int32_t max_pages = 1;
  std::int32_t dpi = 300;
  std::int32_t max_document_pages = 1000;
  std::uint64_t max_pixels = 0;
  std::uint64_t max_request_pixels = 0;
  std::uint64_t size = 0;  ///< bytes of the document that follow
};

/// The answer starts with one status byte: `ok` (then total_pages i32, pixels u64, count u32, and per page
/// its size u64 and bytes) or `failed` (then the error code u8, the message's size u32 and its bytes).
inline constexpr std::uint8_t ok = 0, failed = 1;

template <class T>
void append(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

/// Reads a `T` at `at` of `in`, advancing `at`; false when `in` is too short.
template <class T>
bool take(const std::string& in, std::size_t& at, T& v) {
  if (in.size() < at + sizeof v) return false;
  std::memcpy(&v, in.data() + at, sizeof v);
  at += sizeof v;
  return true;
}

}  // namespace infermesh::render_wire
