#include "engine_compare.h"

#include <algorithm>
#include <cmath>

#include "agmodel.h"
#include "test_util.h"

namespace agm_test {

CompareResult compare_greedy(const std::vector<uint8_t>& file, const RefModel& ref,
                             const std::vector<int32_t>& prompt, uint32_t steps) {
    CompareResult r;
    std::vector<float> ref_logits;
    const std::vector<int32_t> want = ref_greedy(ref, prompt, steps, &ref_logits);
    std::vector<int32_t> sorted = want;
    std::sort(sorted.begin(), sorted.end());
    r.distinct = (uint32_t)(std::unique(sorted.begin(), sorted.end()) - sorted.begin());

    agm_model* model = nullptr;
    agm_session* session = nullptr;
    agm_error e;
    const AlignedCopy image(file);  // the reader wants AGM_FILE_ALIGN alignment
    if (agm_model_open_memory(image.data(), file.size(), nullptr, &model, &e) != AGM_OK) {
        r.error = e.message;
        return r;
    }
    agm_session_options o;
    agm_session_options_default(&o);
    o.n_ctx = ref.c.max_seq_len;
    if (agm_session_create(model, &o, &session, &e) != AGM_OK) {
        r.error = e.message;
        agm_model_close(model);
        return r;
    }
    r.opened = true;
    agm_status st = agm_session_feed(session, prompt.data(), prompt.size(), &e);
    const uint32_t vocab = ref.c.vocab_size;
    r.first_mismatch = steps;
    for (uint32_t i = 0; i < steps && st == AGM_OK; ++i) {
        const float* logits = agm_session_logits(session);
        uint32_t best = 0;
        for (uint32_t t = 1; t < vocab; ++t)
            if (logits[t] > logits[best]) best = t;
        for (uint32_t t = 0; t < vocab; ++t) {
            const float want_l = ref_logits[(size_t)i * vocab + t];
            r.max_logit_diff = std::fmax(r.max_logit_diff, std::fabs(logits[t] - want_l));
            r.max_logit_abs = std::fmax(r.max_logit_abs, std::fabs(want_l));
        }
        r.steps = i + 1;
        if ((int32_t)best != want[i]) {
            r.first_mismatch = i;
            break;
        }
        const int32_t tok = (int32_t)best;
        if (i + 1 < steps) st = agm_session_feed(session, &tok, 1, &e);
    }
    if (st != AGM_OK) r.error = e.message;
    agm_session_free(session);
    agm_model_close(model);
    return r;
}

}  // namespace agm_test
