// The tensors a student adds to its teacher, per architecture: HF names (the
// reference's), shapes, and step 0's initialisation (DESIGN.md, Students).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "models/model.h"

namespace radlads {

struct StudentTensorSpec {
  std::string name;  // HF name, e.g. model.layers.3.self_attn.w0
  Shape shape;
};

// Every tensor the student has beyond the teacher's, in a fixed order.
std::vector<StudentTensorSpec> student_new_tensors(const TeacherConfig& c, const StudentOptions& o);

// Reads LoRA ranks from the tensor shapes of a loaded student (first time-mix layer).
void read_student_ranks(const Model& m, StudentOptions& o);

// Checks every teacher and student tensor is present with the right shape and
// nothing else is; throws Error naming the path.
void validate_student_weights(const Model& m);

// Rows of an orthonormal (rows <= cols) or column-orthonormal matrix times
// scale, like torch.nn.init.orthogonal_ with the reference's gain rule.
void orthogonal_init(Tensor& t, double scale, std::mt19937_64& rng);

// Step 0: a student from a teacher. Copies every teacher tensor, unties a tied
// head, initialises the new tensors as DESIGN.md says (seeded).
Model init_student(const Model& teacher, const StudentOptions& o, uint64_t seed);

}  // namespace radlads
