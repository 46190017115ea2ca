// The process's heap policy for training (DESIGN §4: fresh large allocations
// cost page faults; a 200000x64x64 matmul runs 10x faster into a reused
// buffer). Applied once by main() for commands that run models.
#pragma once

namespace hepgnn {

/// Serves every allocation from the heap (no per-allocation mmap) and keeps
/// freed memory for reuse instead of returning it to the OS, so the
/// same-sized tensors of every training step reuse already-faulted pages.
/// Trades a higher resident set between steps for no page-fault storm inside
/// them. Returns false if glibc refused a setting.
bool apply_training_allocator_policy();

}  // namespace hepgnn
