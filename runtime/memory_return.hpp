#pragma once
/// Memory a node freed goes back to the system. glibc keeps freed heap memory in its arenas, and after each
/// large free it raises its mmap threshold so that the next large blocks come from the heap as well: one
/// burst of 8 MB payloads or page images would leave a node's RSS hundreds of MB higher for good (measured by
/// tests/integration/hostile_input_test.cpp). A `memory_return` pins the mmap threshold (a block of 1 MiB or
/// more is its own mapping, unmapped when freed) and, while it lives, trims the heap once a second when more
/// than `slack` of it is free.

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>

namespace infermesh {

class memory_return {
 public:
  explicit memory_return(std::size_t slack = std::size_t(32) << 20);
  ~memory_return();
  memory_return(const memory_return&) = delete;
  memory_return& operator=(const memory_return&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread trimmer_;
};

}  // namespace infermesh
