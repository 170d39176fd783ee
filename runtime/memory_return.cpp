#include "runtime/memory_return.hpp"

#include <malloc.h>

#include <chrono>

namespace infermesh {

memory_return::memory_return(std::size_t slack) {
  mallopt(M_MMAP_THRESHOLD, 1 << 20);  // also stops glibc's dynamic threshold from rising
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  trimmer_ = std::thread([this, slack] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; }))
      if (mallinfo2().fordblks > slack) malloc_trim(0);  // free heap memory, in every arena
  });
}

memory_return::~memory_return() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  trimmer_.join();
}

}  // namespace infermesh
