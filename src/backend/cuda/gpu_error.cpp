// gpu_error.h's one function: the host compiler's side, where Error lives.
#include "backend/cuda/gpu_error.h"

#include "core/error.h"

namespace radlads::gpu {

void gpu_fail_message(const std::string& message) { throw Error(message); }

}  // namespace radlads::gpu
