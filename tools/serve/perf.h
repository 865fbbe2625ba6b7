// agmodel-serve's marks for the ARM1176 cycle model (qemu/plugin/README.md):
// built with -DAGM_PERF_MARKERS=ON (bench/pizero-estimate --serve), the
// plugin measures the server's first request from its last byte read to the
// first output token sampled (or to its reply, when it makes no token): the
// time to first token of a Pi Zero server, its HTTP, JSON, template and
// tokenizer work included. In normal builds these are empty.
#ifndef AGM_SERVE_PERF_H
#define AGM_SERVE_PERF_H

#if defined(AGM_PERF_MARKERS)
#include "agm_marker.h"
#define AGM_SERVE_MEASURE_BEGIN() agm_perf_begin()
#define AGM_SERVE_MEASURE_END() agm_perf_end()
#else
#define AGM_SERVE_MEASURE_BEGIN() ((void)0)
#define AGM_SERVE_MEASURE_END() ((void)0)
#endif

#endif
