// msgpack <-> value. Byte strings (bin) are not copied: they become views of the payload.

#include <msgpack.hpp>

#include <optional>

#include "messages/encodings.hpp"

namespace infermesh {
namespace {

/// A first pass over the bytes that allocates nothing: msgpack's unpacker builds every object into its zone
/// before anything can look at the tree, and its limits are per container only. Counts nesting and the items of
/// every array and map as their headers announce them (before the items are read, so a header that claims more
/// than the payload holds is refused as well), and stops at the first limit passed.
struct limit_visitor : msgpack::null_visitor {
  explicit limit_visitor(const decode_limits& l) : limits(l) {}
  const decode_limits& limits;
  std::size_t depth = 0;
  std::size_t total = 0;
  std::optional<error> exceeded;

  bool opened(std::uint32_t items, bool is_array) {
    if (++depth > limits.max_depth) {
      exceeded = error{error_code::bad_request, "malformed msgpack: nested deeper than " + std::to_string(limits.max_depth)};
      return false;
    }
    const std::size_t limit = is_array ? limits.max_array_items : limits.max_map_items;
    if (items > limit) {
      exceeded = error{error_code::too_large, std::string("msgpack ") + (is_array ? "array" : "map") + " has more than " +
                                                  std::to_string(limit) + " items (the limit " +
                                                  (is_array ? "max_array_items" : "max_map_items") + ")"};
      return false;
    }
    total += items;
    if (total > limits.max_total_items) {
      exceeded = too_many_items("msgpack", limits);
      return false;
    }
    return true;
  }
  bool start_array(std::uint32_t items) { return opened(items, true); }
  bool start_map(std::uint32_t items) { return opened(items, false); }
  bool end_array() { return --depth, true; }
  bool end_map() { return --depth, true; }
};

bool reference_bin(msgpack::type::object_type type, std::size_t, void*) { return type == msgpack::type::BIN; }

outcome<value> from_object(const msgpack::object& o, const shared_bytes& payload) {
  switch (o.type) {
    case msgpack::type::NIL: return value{};
    case msgpack::type::BOOLEAN: return value{o.via.boolean};
    case msgpack::type::POSITIVE_INTEGER:
      if (o.via.u64 > static_cast<std::uint64_t>(INT64_MAX)) return value{static_cast<double>(o.via.u64)};
      return value{static_cast<std::int64_t>(o.via.u64)};
    case msgpack::type::NEGATIVE_INTEGER: return value{static_cast<std::int64_t>(o.via.i64)};
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return value{o.via.f64};
    case msgpack::type::STR: return value{std::string(o.via.str.ptr, o.via.str.size)};
    case msgpack::type::BIN: {
      auto offset = static_cast<std::size_t>(reinterpret_cast<const std::uint8_t*>(o.via.bin.ptr) - payload.data());
      return value{payload.slice(offset, o.via.bin.size)};
    }
    case msgpack::type::ARRAY: {
      value_array items;
      items.reserve(o.via.array.size);
      for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
        auto item = from_object(o.via.array.ptr[i], payload);
        if (!item) return item;
        items.push_back(std::move(*item));
      }
      return value{std::move(items)};
    }
    case msgpack::type::MAP: {
      value_map members;
      members.reserve(o.via.map.size);
      for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& kv = o.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR)
          return error{error_code::bad_request, "msgpack map keys must be strings"};
        auto item = from_object(kv.val, payload);
        if (!item) return item;
        members.emplace_back(std::string(kv.key.via.str.ptr, kv.key.via.str.size), std::move(*item));
      }
      return value{std::move(members)};
    }
    default: return error{error_code::bad_request, "msgpack extension types are not accepted"};
  }
}

void pack(msgpack::packer<msgpack::sbuffer>& pk, const value& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          pk.pack_nil();
        } else if constexpr (std::is_same_v<T, bool>) {
          x ? pk.pack_true() : pk.pack_false();
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          pk.pack_int64(x);
        } else if constexpr (std::is_same_v<T, double>) {
          pk.pack_double(x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          pk.pack_str(static_cast<std::uint32_t>(x.size()));
          pk.pack_str_body(x.data(), static_cast<std::uint32_t>(x.size()));
        } else if constexpr (std::is_same_v<T, shared_bytes>) {
          pk.pack_bin(static_cast<std::uint32_t>(x.size()));
          pk.pack_bin_body(x.chars(), static_cast<std::uint32_t>(x.size()));
        } else if constexpr (std::is_same_v<T, value_array>) {
          pk.pack_array(static_cast<std::uint32_t>(x.size()));
          for (const auto& item : x) pack(pk, item);
        } else {
          pk.pack_map(static_cast<std::uint32_t>(x.size()));
          for (const auto& [k, item] : x) {
            pk.pack_str(static_cast<std::uint32_t>(k.size()));
            pk.pack_str_body(k.data(), static_cast<std::uint32_t>(k.size()));
            pack(pk, item);
          }
        }
      },
      v.data);
}

}  // namespace

outcome<value> decode_msgpack(const shared_bytes& payload, const decode_limits& limits) {
  msgpack::unpack_limit limit(limits.max_array_items, limits.max_map_items, limits.max_payload_bytes,
                              limits.max_payload_bytes, 0, limits.max_depth);
  {
    limit_visitor counter(limits);
    std::size_t scanned = 0;
    // A malformed payload fails here too (without `exceeded`): the unpacker below names what is wrong.
    bool parsed = false;
    try {
      parsed = msgpack::parse(payload.chars(), payload.size(), scanned, counter);
    } catch (const std::exception&) {  // the unpacker below reports it
    }
    if (!parsed && counter.exceeded) return *counter.exceeded;
  }
  std::size_t offset = 0;
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(payload.chars(), payload.size(), offset, reference_bin, nullptr, limit);
  } catch (const msgpack::array_size_overflow&) {
    return error{error_code::too_large, "msgpack array has more than " + std::to_string(limits.max_array_items) +
                                            " items (the limit max_array_items)"};
  } catch (const msgpack::map_size_overflow&) {
    return error{error_code::too_large, "msgpack map has more than " + std::to_string(limits.max_map_items) +
                                            " items (the limit max_map_items)"};
  } catch (const std::exception& e) {
    return error{error_code::bad_request, std::string("malformed msgpack: ") + e.what()};
  }
  if (offset != payload.size())
    return error{error_code::bad_request,
                 "malformed msgpack: " + std::to_string(payload.size() - offset) + " trailing bytes after the map"};
  return from_object(handle.get(), payload);
}

std::string encode_msgpack(const value& v) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk(buffer);
  pack(pk, v);
  return std::string(buffer.data(), buffer.size());
}

}  // namespace infermesh
