// Large per-call buffers for the compiled loops (lstm_recurrence.cpp, elementwise_recurrence.cpp): reused
// between calls, and huge pages populated at once where new.
//
// A training loop asks for the same few sizes at every step (the saved gates forward, their gradients
// backward). glibc hands blocks above its mmap threshold (at most 32 MiB) back to the system on free, and
// on a virtual machine memory the process has not touched before comes one 4 KiB page fault at a time, so
// every call would fault its buffers in again (measured for the LSTM at B=64, T=1000, F=16, H=128, forward
// + backward on one thread: 830 ms and 970,000 page faults without this, 390 ms and 57,000 with it).
// Blocks freed by the previous call are kept for the next one asking for the same size: at most
// kCachedBlocks blocks and a quarter of the physical memory; release() frees them all.
#pragma once

#include <ATen/ATen.h>
#include <ATen/ops/from_blob.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace recurra_buffers {

class BufferCache {
 public:
  void* take(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = blocks_.begin(); it != blocks_.end(); ++it) {
      if (it->first == bytes) {
        void* data = it->second;
        held_ -= bytes;
        blocks_.erase(it);
        return data;
      }
    }
    return nullptr;
  }
  void give(void* data, size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (blocks_.size() < kCachedBlocks && held_ + bytes <= limit()) {
        blocks_.emplace_back(bytes, data);
        held_ += bytes;
        return;
      }
    }
    std::free(data);
  }
  int64_t release() {
    std::lock_guard<std::mutex> lock(mutex_);
    const int64_t freed = static_cast<int64_t>(held_);
    for (auto& block : blocks_) std::free(block.second);
    blocks_.clear();
    held_ = 0;
    return freed;
  }

 private:
  static constexpr size_t kCachedBlocks = 6;
  static size_t limit() {
    static const size_t value = [] {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
      const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
      if (pages > 0 && page > 0) return static_cast<size_t>(pages) * static_cast<size_t>(page) / 4;
#endif
      return size_t(1) << 30;
    }();
    return value;
  }
  std::mutex mutex_;
  std::vector<std::pair<size_t, void*>> blocks_;
  size_t held_ = 0;
};

inline BufferCache& buffer_cache() {
  static BufferCache* cache = new BufferCache();  // never destroyed: tensors may be freed during exit
  return *cache;
}

// A new buffer of `sizes` (contents undefined, as at::empty's). From `min_bytes` up (default 2 MiB, one huge
// page), from the cache above, or else 2 MiB aligned, marked for transparent huge pages and populated in one
// call on Linux (both madvise calls are hints; MADV_POPULATE_WRITE needs Linux 5.14). Smaller ones, and
// elsewhere: at::empty.
inline at::Tensor empty_large(at::IntArrayRef sizes, const at::TensorOptions& options, size_t min_bytes = size_t(2) << 20) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr size_t kHuge = size_t(2) << 20;
  int64_t numel = 1;
  for (const int64_t d : sizes) numel *= d;
  const size_t bytes = static_cast<size_t>(numel) * options.dtype().itemsize();
  if (bytes >= std::max(min_bytes, kHuge)) {
    const size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
    void* data = buffer_cache().take(rounded);
    if (data == nullptr) {
      data = std::aligned_alloc(kHuge, rounded);
      if (data != nullptr) {
        madvise(data, rounded, MADV_HUGEPAGE);
#if defined(MADV_POPULATE_WRITE)
        madvise(data, rounded, MADV_POPULATE_WRITE);  // fault every page in now, in one call
#endif
      }
    }
    if (data != nullptr) {
      return at::from_blob(data, sizes, [rounded](void* p) { buffer_cache().give(p, rounded); }, options);
    }
  }
#endif
  return at::empty(sizes, options);
}

}  // namespace recurra_buffers
