/*
 * agm baseline: the straightforward scalar reference for ternary "ak42"
 * checkpoints (bitllama2.c's layout, see the model's README.md).
 *
 * This is the yardstick the engine's speed is measured against, not a part of
 * the engine: plain C11, one branch per weight, no dequantization, no tables,
 * no SIMD, no host-only APIs. It computes the README's "Forward pass
 * semantics" float operation by float operation, so its greedy text is the
 * reference's. It never exits or prints; failures return NULL and a one-line
 * message in err.
 */
#ifndef AGM_BASELINE_H
#define AGM_BASELINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bl_config {
    int dim;        /* residual stream width */
    int hidden_dim; /* FFN width */
    int n_layers;
    int n_heads;    /* query heads */
    int n_kv_heads; /* key/value heads (grouped-query attention) */
    int vocab_size;
    int seq_len;    /* KV cache length in positions */
} bl_config;

typedef struct bl_model bl_model;

/* Parses an ak42 checkpoint held in memory; the first weight of each packed
 * byte is in its top two bits (bits 7..6), as in the shared model.bin.
 * [in] data: `size` bytes, any alignment; must outlive the model (the packed
 *      ternary weights are used in place, the float tensors are copied).
 * [out] err: a one-line message on failure (may be NULL when errcap is 0).
 * Returns NULL on any error (bad magic, version, sizes, allocation). */
bl_model* bl_load(const void* data, size_t size, char* err, size_t errcap);

const bl_config* bl_get_config(const bl_model* model);

/* Runs token at position pos (0 <= pos < seq_len; positions 0..pos-1 must
 * have been run before, in order) and returns the [vocab_size] logits, owned
 * by the model and overwritten by the next call. NULL on a bad token or pos. */
float* bl_forward(bl_model* model, int token, int pos);

/* First index of the largest of n values (greedy sampling). */
int bl_argmax(const float* v, int n);

void bl_free(bl_model* model);

#ifdef __cplusplus
}
#endif

#endif /* AGM_BASELINE_H */
