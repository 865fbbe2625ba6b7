/*
 * constrained.c: see constrained.h. The same steps as tools/agmodel-run.cpp's
 * constrained loop: the next step (forced tokens, or a mask) is known before
 * the tokens are fed, so the feed computes only the logits it needs.
 */
#include "constrained.h"

#include <string.h>

enum { kMaxJump = 256 }; /* forced tokens fed at once, at most */

/* agm_token_piece into buf, its length clamped to the buffer. */
static size_t piece_of(const agm_model* m, int32_t prev, int32_t t, char* buf, size_t cap) {
    size_t n = agm_token_piece(m, prev, t, 0, buf, cap);
    return n < cap ? n : cap;
}

/* The next step of the matcher's state: *n_forced forced tokens, or (none)
 * the mask in buffers->mask. */
static agm_status next_step(agm_matcher* m, const agm_ex_buffers* b, size_t* n_forced, agm_error* e) {
    uint32_t n_allowed = 0;
    agm_status st = agm_matcher_forced_tokens(m, b->forced, b->forced_cap < kMaxJump ? b->forced_cap : kMaxJump,
                                              n_forced, e);
    if (st != AGM_OK || *n_forced > 0 || agm_matcher_is_done(m)) return st;
    return agm_matcher_fill_mask(m, b->mask, b->mask_words, &n_allowed, e);
}

/* Feeds tokens[n]: no logits before forced tokens, else the mask's rows. */
static agm_status feed(agm_session* s, const agm_ex_buffers* b, const int32_t* tokens, size_t n, size_t n_forced,
                       agm_error* e) {
    return agm_session_feed_rows(s, tokens, n, n_forced > 0 ? b->none : b->mask, e);
}

agm_status agm_ex_constrained(const agm_model* model, agm_session* session, agm_sampler* sampler,
                              agm_matcher* matcher, const int32_t* ids, size_t n_ids, size_t positions,
                              const agm_ex_buffers* b, agm_ex_writer out, void* out_ctx, int* complete,
                              agm_error* error) {
    agm_model_info info;
    char piece[256];
    size_t done = n_ids, n_forced = 0, i;
    int32_t last, next;
    agm_status st;

    if (complete != NULL) *complete = 0;
    if (n_ids == 0 || n_ids > positions || b->forced_cap == 0) return AGM_ERR_ARGUMENT;
    agm_model_get_info(model, &info);
    memset(b->none, 0, b->mask_words * sizeof *b->none);
    last = ids[n_ids - 1];
    st = agm_matcher_reset(matcher, last);
    if (st == AGM_OK) st = next_step(matcher, b, &n_forced, error);
    if (st == AGM_OK) st = feed(session, b, ids, n_ids, n_forced, error);
    while (st == AGM_OK && !agm_matcher_is_done(matcher) && done < positions) {
        if (n_forced > 0) { /* jump-forward: the forced tokens at once */
            const int32_t* jump = b->forced;
            size_t n = n_forced < positions - done ? n_forced : positions - done;
            for (i = 0; i < n && st == AGM_OK; ++i) {
                st = agm_matcher_accept_token(matcher, jump[i], error);
                agm_sampler_accept(sampler, jump[i]);
                out(out_ctx, piece, piece_of(model, i == 0 ? last : jump[i - 1], jump[i], piece, sizeof piece));
            }
            if (st != AGM_OK) break;
            last = jump[n - 1];
            /* The forced tokens live in b->forced, which next_step rewrites:
               feed them from a copy in the session's order. */
            {
                int32_t copy[kMaxJump];
                memcpy(copy, jump, n * sizeof *copy);
                st = next_step(matcher, b, &n_forced, error);
                if (st == AGM_OK) st = feed(session, b, copy, n, n_forced, error);
                done += n;
            }
        } else {
            st = agm_session_sample_masked(session, sampler, b->mask, &next, error);
            if (st == AGM_OK) st = agm_matcher_accept_token(matcher, next, error);
            if (st != AGM_OK || next == info.eos_id) break;
            out(out_ctx, piece, piece_of(model, last, next, piece, sizeof piece));
            last = next;
            st = next_step(matcher, b, &n_forced, error);
            if (st == AGM_OK) st = feed(session, b, &next, 1, n_forced, error);
            ++done;
        }
    }
    if (complete != NULL) *complete = agm_matcher_is_complete(matcher) || agm_matcher_is_done(matcher);
    return st;
}
