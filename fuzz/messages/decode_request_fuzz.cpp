/// libFuzzer target: decode_request over any payload, msgpack or JSON (the first bytes pick, as on the wire),
/// with the node's default decode_limits. Holds: the answer is a request or a `bad_request` / `too_large`
/// error, and a decoded request survives encode_request -> decode_request unchanged in both encodings.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.hpp"
#include "messages/codec.hpp"

namespace infermesh {
namespace {

bool same_request(const request& a, const request& b) {
  return a.id == b.id && a.image.view() == b.image.view() && a.image_path == b.image_path &&
         a.doc_type == b.doc_type && a.auto_rotate == b.auto_rotate && a.max_pages == b.max_pages &&
         a.deadline_ms == b.deadline_ms && a.priority == b.priority && a.reply_to == b.reply_to &&
         a.rotation == b.rotation && a.page_rotations == b.page_rotations && a.hops == b.hops;
}

}  // namespace
}  // namespace infermesh

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace infermesh;
  const decode_limits limits;  // the node's defaults (8 MiB payload, depth 32, 4096 items)
  const auto payload = shared_bytes::copy_of({reinterpret_cast<const char*>(data), size});
  const auto decoded = decode_request(payload, limits);
  if (!decoded) {
    FUZZ_CHECK(fuzz::is_one_of(decoded.err().code, error_code::bad_request, error_code::too_large),
               decoded.err().message.c_str());
    FUZZ_CHECK(!decoded.err().message.empty(), "an error names its problem");
    return 0;
  }
  for (const auto enc : {encoding::msgpack, encoding::json}) {
    const auto again = decode_request(shared_bytes::copy_of(encode_request(*decoded, enc)), limits);
    FUZZ_CHECK(again, again ? "" : again.err().message.c_str());
    FUZZ_CHECK(same_request(*decoded, *again), enc == encoding::json ? "JSON round trip" : "msgpack round trip");
  }
  return 0;
}
