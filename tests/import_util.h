// RefModel (the test reference) <-> agm::ImportModel (the converters'
// middle), for tests that bypass an input format.
#ifndef AGM_TESTS_IMPORT_UTIL_H
#define AGM_TESTS_IMPORT_UTIL_H

#include "agm/import.h"
#include "ref_model.h"

namespace agm_test {

inline agm::ImportFloat import_floats(const std::vector<float>& v, uint32_t rows, uint32_t cols) {
    agm::ImportFloat f;
    f.rows = rows;
    f.cols = cols;
    f.v = v;
    f.source_type = "F32";
    f.source_bytes = v.size() * 4;
    return f;
}

inline agm::ImportTernary import_ternary(const RefTernary& t) {
    agm::ImportTernary o;
    o.rows = t.rows;
    o.cols = t.cols;
    o.w = t.w;
    o.scale = t.scale;
    o.source_type = "int8";
    o.source_bytes = t.w.size();
    return o;
}

inline agm::ImportModel import_from_ref(const RefModel& m) {
    const RefConfig& c = m.c;
    agm::ImportModel im;
    im.dim = c.dim;
    im.hidden_dim = c.hidden_dim;
    im.n_layers = c.n_layers;
    im.n_heads = c.n_heads;
    im.n_kv_heads = c.n_kv_heads;
    im.head_dim = c.head_dim;
    im.vocab_size = c.vocab_size;
    im.max_seq_len = c.max_seq_len;
    im.norm_sub = c.sub_norms ? AGM_NORM_RMS : AGM_NORM_NONE;
    im.norm_eps = c.norm_eps;
    im.ffn_act = c.ffn_act;
    im.rope_theta = c.rope_theta;
    im.rope_layout = c.rope_layout;
    im.tied_classifier = c.tied;
    im.token_embd = import_floats(m.embd, c.vocab_size, c.dim);
    im.output_norm = import_floats(m.output_norm, 1, c.dim);
    if (!c.tied) im.output = import_floats(m.output, c.vocab_size, c.dim);
    for (const RefLayer& L : m.layers) {
        agm::ImportLayer il;
        il.attn_norm = import_floats(L.attn_norm, 1, c.dim);
        il.ffn_norm = import_floats(L.ffn_norm, 1, c.dim);
        if (c.sub_norms) {
            il.attn_sub_norm = import_floats(L.attn_sub_norm, 1, m.q_dim());
            il.ffn_sub_norm = import_floats(L.ffn_sub_norm, 1, c.hidden_dim);
        }
        il.wq = import_ternary(L.wq);
        il.wk = import_ternary(L.wk);
        il.wv = import_ternary(L.wv);
        il.wo = import_ternary(L.wo);
        il.w1 = import_ternary(L.w1);
        il.w2 = import_ternary(L.w2);
        il.w3 = import_ternary(L.w3);
        im.layers.push_back(std::move(il));
    }
    return im;
}

}  // namespace agm_test

#endif
