#include "agm/ak42.h"

#include <cmath>
#include <cstring>

#include "agm/format.h"
#include "agm/model_file.h"
#include "agm/ternary.h"

namespace agm {

bool is_ak42(const uint8_t* data, size_t size) {
    uint32_t magic;
    if (size < 4) return false;
    std::memcpy(&magic, data, 4);
    return magic == kAk42Magic;
}

bool read_ak42(const uint8_t* data, size_t size, Ak42Model* out, Error* err) {
    *out = Ak42Model();
    if (size < kAk42HeaderBytes)
        return fail(err, "ak42: file is %zu bytes, shorter than the 256-byte header", size);
    int32_t h[9];
    std::memcpy(h, data, sizeof h);
    if ((uint32_t)h[0] != kAk42Magic) return fail(err, "ak42: bad magic");
    if (h[1] != 1)
        return fail_as(err, ErrorKind::Unsupported, "ak42: version %d, only version 1 is known",
                       h[1]);
    Ak42Model& m = *out;
    m.dim = h[2];
    m.hidden_dim = h[3];
    m.n_layers = h[4];
    m.n_heads = h[5];
    m.n_kv_heads = h[6];
    m.vocab_size = h[7];
    m.seq_len = h[8];
    m.shared_classifier = m.vocab_size > 0;
    if (m.vocab_size < 0) {
        if (m.vocab_size == INT32_MIN) return fail(err, "ak42: vocab_size is out of range");
        m.vocab_size = -m.vocab_size;
    }
    const struct { const char* name; int32_t v; int32_t max; } fields[] = {
        {"dim", m.dim, (int32_t)kMaxWidth}, {"hidden_dim", m.hidden_dim, (int32_t)kMaxWidth},
        {"n_layers", m.n_layers, (int32_t)kMaxLayers}, {"n_heads", m.n_heads, 4096},
        {"n_kv_heads", m.n_kv_heads, 4096}, {"vocab_size", m.vocab_size, (int32_t)kMaxWidth},
        {"seq_len", m.seq_len, (int32_t)kMaxSeqLen}};
    for (const auto& f : fields)
        if (f.v < 1 || f.v > f.max)
            return fail(err, "ak42: header %s is %d, must be 1..%d", f.name, f.v, f.max);
    if (m.dim % m.n_heads != 0 || m.n_kv_heads > m.n_heads || m.n_heads % m.n_kv_heads != 0)
        return fail(err, "ak42: dim %d, n_heads %d, n_kv_heads %d do not fit together", m.dim,
                    m.n_heads, m.n_kv_heads);
    if ((m.dim / m.n_heads) % 2 != 0) return fail(err, "ak42: head size %d is odd", m.dim / m.n_heads);

    const uint64_t dim = (uint64_t)m.dim, hidden = (uint64_t)m.hidden_dim;
    const uint64_t kv_dim = dim * (uint64_t)m.n_kv_heads / (uint64_t)m.n_heads;
    const uint64_t shapes[7][2] = {{dim, dim}, {kv_dim, dim}, {kv_dim, dim}, {dim, dim},
                                   {hidden, dim}, {dim, hidden}, {hidden, dim}};
    uint64_t need = kAk42HeaderBytes + dim * 4 + (uint64_t)m.vocab_size * dim * 4;
    for (const auto& s : shapes) {
        if ((s[0] * s[1]) % 4 != 0)
            return fail(err, "ak42: a %llux%llu matrix is not a whole number of bytes",
                        (unsigned long long)s[0], (unsigned long long)s[1]);
        need += (uint64_t)m.n_layers * (4 + s[0] * s[1] / 4);
    }
    if (!m.shared_classifier) need += (uint64_t)m.vocab_size * dim * 4;
    if (need != size)
        return fail(err, "ak42: the header's sizes need %llu bytes, the file has %zu%s",
                    (unsigned long long)need, size, need > size ? " (truncated?)" : "");

    const uint8_t* p = data + kAk42HeaderBytes;
    m.final_norm = reinterpret_cast<const float*>(p);
    p += dim * 4;
    m.embedding = p;
    p += (uint64_t)m.vocab_size * dim * 4;
    m.matrices.resize(7 * (size_t)m.n_layers);
    for (int kind = 0; kind < 7; ++kind) {
        for (int l = 0; l < m.n_layers; ++l) {
            Ak42Matrix& mat = m.matrices[(size_t)kind * m.n_layers + l];
            std::memcpy(&mat.scale, p, 4);
            if (!std::isfinite(mat.scale) || mat.scale < 0.0f)
                return fail(err, "ak42: matrix %d of layer %d has scale %g", kind, l, (double)mat.scale);
            mat.rows = (uint32_t)shapes[kind][0];
            mat.cols = (uint32_t)shapes[kind][1];
            mat.codes = p + 4;
            p += 4 + shapes[kind][0] * shapes[kind][1] / 4;
        }
    }
    if (!m.shared_classifier) m.classifier = p;
    return true;
}

bool repack_ak42(const Ak42Matrix& m, BitOrder order, uint32_t type, const char* name,
                 std::vector<uint8_t>* out, Error* err) {
    std::vector<int8_t> w((size_t)m.rows * m.cols);
    for (uint64_t idx = 0; idx < w.size(); ++idx) {
        const uint8_t byte = m.codes[idx / 4];
        const unsigned slot = (unsigned)(idx % 4);
        const unsigned shift = order == BitOrder::Msb ? 6 - 2 * slot : 2 * slot;
        const uint8_t code = (byte >> shift) & 3u;
        if (code == 2)
            return fail(err, "%s: weight at row %llu, column %llu has code 10, which no ternary "
                        "value has (damaged file or wrong format)", name,
                        (unsigned long long)(idx / m.cols), (unsigned long long)(idx % m.cols));
        w[idx] = (int8_t)(code == 1 ? 1 : code == 3 ? -1 : 0);
    }
    if (!pack_ternary(type, w.data(), m.rows, m.cols, out, err)) return fail_context(err, name);
    return true;
}

}  // namespace agm
