// The frozen teacher in its stored precision: its linear layers (q/k/v/o, the
// MLP, the head) and its embedding kept as the file stores them — GGUF blocks
// of any type llama.cpp's presets write (Q8_0, Q4_1, Q4_K, Q6_K…), or bf16/f16
// from an HF folder — and their fp32 copies given back to the system, so that
// the teacher's memory is about its file's size. Every Teacher of the model
// then multiplies them block by block (Backend::FrozenWeights::add_stored).
#pragma once

#include <cstddef>

#include "models/model.h"

namespace radlads {

struct StoredReport {
  size_t stored_bytes = 0;   // the blocks now held (Model::stored)
  size_t freed_bytes = 0;    // fp32 memory given back
  size_t weights = 0;        // how many tensors are held as stored
};

// m as opened by open_model(m.path) (a teacher: GGUF or HF). GGUF tensors of
// a type other than f32 keep their file blocks (q/k rows of a llama file
// un-permuted as the fp32 load does); HF tensors are held in bf16 or f16
// where that format gives back each fp32 value exactly (their source was
// bf16/f16), else stay fp32. Afterwards m's fp32 values of the held tensors
// read as zeros: call it after everything that reads them (step 0 copies the
// teacher into the student). Throws Error naming the file.
StoredReport hold_teacher_stored(Model& m);

// The bytes a teacher file's stored linear weights and embedding take (what
// hold_teacher_stored would keep), from the file's tensor table alone; the
// fp32 parameters it would free in `freed` (nullable).
size_t stored_teacher_bytes(const std::string& path, size_t* freed);

}  // namespace radlads
