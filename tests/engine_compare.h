// Runs the engine on a model file image and compares it with the test
// reference (ref_model.h): greedy tokens and every step's logits.
#ifndef AGM_TESTS_ENGINE_COMPARE_H
#define AGM_TESTS_ENGINE_COMPARE_H

#include <cstdint>
#include <string>
#include <vector>

#include "ref_model.h"

namespace agm_test {

struct CompareResult {
    bool opened = false;
    std::string error;            // the engine's message when something failed
    uint32_t steps = 0;           // greedy steps compared
    uint32_t first_mismatch = 0;  // == steps when every token agrees
    float max_logit_diff = 0.0f;  // over all steps compared (up to the first mismatch)
    float max_logit_abs = 0.0f;   // the largest |logit| of the reference, for scale
    uint32_t distinct = 0;        // distinct ids among the reference's generated tokens
};

// Feeds `prompt` to the engine (file image `file`) and to the reference, then
// `steps` greedy steps on both.
CompareResult compare_greedy(const std::vector<uint8_t>& file, const RefModel& ref,
                             const std::vector<int32_t>& prompt, uint32_t steps);

}  // namespace agm_test

#endif
