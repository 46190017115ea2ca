// Where libhepgnn_ops.so (the custom-op library, models/ops/torch_library.cpp) lives, for messages
// that tell a TorchScript user what to load.
#pragma once

#include <string>

namespace hepgnn::ops {

/// The absolute path of the loaded libhepgnn_ops.so ("libhepgnn_ops.so" if unknown).
std::string library_path();

}  // namespace hepgnn::ops
