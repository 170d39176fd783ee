#pragma once
/// The fault door's remote control: a node with `node.faults: true` subscribes its control subject
/// (`wire::control_subject(node)`) and hands each command here. A command is a JSON fault (fault_door.hpp
/// `parse_fault`); the reply, when the message has a reply subject, is {"ok": true} or {"ok": false, "error"}.
/// Called on a nats.c delivery thread: it only decodes, applies (non-blocking) and publishes.

#include "actors/fault_door.hpp"
#include "runtime/nats_transport.hpp"

namespace infermesh {

void handle_fault_command(const incoming_message& in, fault_door& door, nats_transport& transport);

}  // namespace infermesh
