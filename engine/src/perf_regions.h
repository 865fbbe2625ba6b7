// Where the engine's time goes, for the ARM1176 cycle model.
//
// Built with -DAGM_PERF_MARKERS=ON, the forward pass charges its work to
// buckets of the QEMU cycle plugin (qemu/plugin/README.md): each AGM_REGION
// is one NOP-equivalent instruction the plugin recognises and charges
// nothing. In normal builds the macro is empty. bench/pizero-estimate builds
// with the markers and prints the buckets per operation.
#ifndef AGM_PERF_REGIONS_H
#define AGM_PERF_REGIONS_H

// The bucket numbers (constants: each is encoded in its instruction).
#define AGM_REGION_REST 0        // norms, quantisation, RoPE, residuals, the API
#define AGM_REGION_TERNARY 1     // ternary matrix-vector kernels
#define AGM_REGION_TABLES 2      // lookup tables the tl5 kernels read
#define AGM_REGION_CLASSIFIER 3  // the classifier (logits) product
#define AGM_REGION_ATTENTION 4   // scores, softmax, weighted sum over the KV cache
#define AGM_REGION_SAMPLE 5      // sampling from the logits
#define AGM_REGION_GRAMMAR 10    // grammar masks, matching, forced tokens (bench/pizero_driver.cpp json)
// The parts of "rest" (bench/pizero-estimate adds them to bucket 0):
#define AGM_REGION_NORM 6        // RMS norms
#define AGM_REGION_QUANTIZE 7    // activations to int8 (and back: the scale per output)
#define AGM_REGION_ACT 8         // the FFN's gate activation (SiLU, ReLU^2)
#define AGM_REGION_ROPE 9        // RoPE table and rotation

#if defined(AGM_PERF_MARKERS)
#include "agm_marker.h"
#define AGM_REGION(k) agm_perf_region(k)
#else
#define AGM_REGION(k) ((void)0)
#endif

#endif
