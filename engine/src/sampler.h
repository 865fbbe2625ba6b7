// Token sampling: greedy, temperature, top-k, top-p, with a seeded xorshift
// generator, so the same seed and logits give the same tokens on every target.
#ifndef AGM_ENGINE_SAMPLER_H
#define AGM_ENGINE_SAMPLER_H

#include <cstddef>
#include <cstdint>

#include "agmodel.h"

namespace agm {

// Scratch the sampler needs for a vocabulary of n tokens.
size_t sampler_scratch_bytes(uint32_t n);

// Picks a token from logits[n] (not modified) using `scratch`.
int32_t sample(agm_sampler* sampler, const float* logits, uint32_t n, void* scratch);

// The same, restricted to the tokens whose bit is set in mask[(n + 31) / 32]
// (bit t % 32 of word t / 32): bit for bit sample() with every other logit
// at -infinity, reading no other logit. -1 if no token is allowed, -2 if
// the logit biases ban every allowed one.
int32_t sample_masked(agm_sampler* sampler, const float* logits, uint32_t n, const uint32_t* mask, void* scratch);

}  // namespace agm

#endif
