// libFuzzer target for the safetensors reader (agm/safetensors.h).
//
// Beyond "no crash, no leak, no undefined behaviour" it checks that a
// refusal has a one-line, non-empty message, and that an accepted file
// keeps the reader's promises: every tensor's bytes lie inside the input's
// data buffer, sizes agree with dtype and shape, the tensors tile the buffer,
// lookup by name finds each one, and the float conversions cover every
// element. Every byte of every tensor is read, so ASan sees a bad pointer.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "agm/safetensors.h"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    agm::SafetensorsFile f;
    agm::Error err;
    if (!agm::parse_safetensors(data, size, &f, &err)) {
        check(err.msg[0] != '\0' && std::strchr(err.msg, '\n') == nullptr);
        check(f.tensors.empty());
        return 0;
    }
    check(f.data_start == 8 + f.header_size && f.data_start + f.data_size == size);
    uint64_t covered = 0;
    volatile uint8_t sink = 0;
    for (const agm::SafetensorsTensor& t : f.tensors) {
        check(f.find(t.name) == &t);
        check(t.end - t.begin == t.nbytes && t.end <= f.data_size);
        check(t.nbytes == t.n_elements * agm::st_dtype_size(t.dtype));
        check(t.data == data + f.data_start + t.begin);
        for (uint64_t i = 0; i < t.nbytes; ++i) sink = sink ^ t.data[i];
        covered += t.nbytes;
        if (t.dtype == agm::StDtype::F32 || t.dtype == agm::StDtype::F16 ||
            t.dtype == agm::StDtype::BF16) {
            std::vector<float> v;
            check(agm::tensor_to_f32(t, &v, &err, true));
            check(v.size() == t.n_elements);
            const bool finite = agm::first_non_finite(v.data(), v.size()) < 0;
            check(agm::tensor_to_f32(t, &v, &err, false) == finite);
        }
    }
    check(covered == f.data_size);  // no holes, no overlaps
    (void)sink;
    return 0;
}
