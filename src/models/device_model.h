// A model's weights in a device backend's memory: what Student (and the
// other model classes) compute from when their Backend is not the CPU's.
#pragma once

#include "backend/backend.h"
#include "models/model.h"

namespace radlads {

// A Model whose every weight is a slice of one arena in be's memory (the
// layout of pack_parameters), uploaded from m; config, options and tokenizer
// come along, the source's metadata does not. m must hold no quantized stored
// weights. The result must not be copied (a copy would read device memory on
// the host): move it.
Model model_on_device(const Model& m, const Backend& be);

}  // namespace radlads
