#include "runtime/fault_control.hpp"

#include "messages/codec.hpp"
#include "runtime/log.hpp"

namespace infermesh {

void handle_fault_command(const incoming_message& in, fault_door& door, nats_transport& transport) {
  auto answer = [&](const std::optional<error>& problem) {
    if (in.reply.empty()) return;
    value_map out{{"ok", !problem}};
    if (problem) out.emplace_back("error", problem->message);
    transport.publish(in.reply, encode_value(value{std::move(out)}, encoding::json));
  };
  auto v = decode_value(in.payload, encoding::json, decode_limits{});
  if (!v) return answer(error{error_code::bad_request, "a fault command is JSON: " + v.err().message});
  auto f = parse_fault(*v);
  if (!f) return answer(f.err());
  if (auto problem = door.apply(*f)) return answer(problem);
  log(log_level::warn, "fault injected: ", std::string(in.payload.view()));
  answer(std::nullopt);
}

}  // namespace infermesh
