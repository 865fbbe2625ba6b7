// Fuzz target: the GGUF reader and the vocabulary reader behind it.
// parse_gguf on the bytes; if it accepts them, every invariant it promises is
// checked (a broken one traps: that is a finding), every value is read
// through the typed getters, and vocab_from_gguf runs, then the vocabulary is
// serialised and the section parsed back; import_gguf and build_native_file
// run on it too. It must never crash, leak or hang.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "agm/convert_gguf.h"
#include "agm/gguf.h"
#include "agm/import.h"
#include "agm/gguf_vocab.h"
#include "agm/tokenizer_section.h"
#include "agm/vocab.h"
#include "fuzz_util.h"

namespace {

using agm_fuzz::check;
using agm_fuzz::one_line;

void read_values(const agm::GgufFile& f) {
    for (const agm::GgufKv& kv : f.kv) {
        const char* k = kv.key.c_str();
        agm::Error err;
        uint32_t u32;
        uint64_t u64;
        int32_t i32;
        float f32;
        bool b;
        std::string s;
        std::vector<std::string> sa;
        std::vector<float> fa;
        std::vector<int32_t> ia;
        // Each either succeeds or says why in one line.
        if (!f.get_u32(k, &u32, false, &err)) check(one_line(err));
        if (!f.get_u64(k, &u64, false, &err)) check(one_line(err));
        if (!f.get_i32(k, &i32, false, &err)) check(one_line(err));
        if (!f.get_f32(k, &f32, false, &err)) check(one_line(err));
        if (!f.get_bool(k, &b, false, &err)) check(one_line(err));
        if (!f.get_string(k, &s, false, &err)) check(one_line(err));
        if (!f.get_string_array(k, &sa, false, &err)) check(one_line(err));
        else check(sa.size() == kv.value.count);
        if (!f.get_f32_array(k, &fa, false, &err)) check(one_line(err));
        if (!f.get_i32_array(k, &ia, false, &err)) check(one_line(err));
    }
}

void check_tensors(const agm::GgufFile& f, const uint8_t* data, size_t size) {
    check(f.alignment != 0 && (f.alignment & (f.alignment - 1)) == 0);
    check(f.data_offset % f.alignment == 0);
    uint64_t sum = 0;
    for (const agm::GgufTensorInfo& t : f.tensors) {
        check(agm::ggml_type_name(t.type) != nullptr);
        check(t.n_dims >= 1 && t.n_dims <= 4);
        uint64_t bytes = 0;
        agm::Error err;
        check(agm::ggml_tensor_bytes(t.type, t.ne, t.n_dims, &bytes, &err) && bytes == t.bytes);
        check(t.bytes > 0 && t.offset >= f.data_offset && t.offset <= size && t.bytes <= size - t.offset);
        check((t.offset - f.data_offset) % f.alignment == 0);
        check(t.data == data + t.offset);
        sum += t.data[0] + t.data[t.bytes - 1];  // both ends inside the buffer (ASan)
        check(f.find_tensor(t.name.c_str()) != nullptr);
    }
    (void)sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    agm::GgufFile f;
    agm::Error err;
    if (!agm::parse_gguf(data, size, &f, &err)) {
        check(one_line(err));
        return 0;
    }
    check(f.version == 2 || f.version == 3);
    check_tensors(f, data, size);
    read_values(f);

    // The converter on what the reader accepted: it imports a model or says
    // why not, in one line, and what it imports packs into a file that our
    // own reader accepts.
    {
        agm::ImportModel m;
        agm::Error e;
        if (!agm::import_gguf(f, agm::GgufImportOptions(), &m, &e)) {
            check(one_line(e));
        } else {
            std::vector<uint8_t> file;
            agm::SizeReport rep;
            if (!agm::build_native_file(m, agm::BuildOptions(), &file, &rep, &e)) check(one_line(e));
        }
    }

    agm::Vocab v;
    std::string kind;
    if (!agm::vocab_from_gguf(f, &v, &kind, &err)) {
        check(one_line(err));
        return 0;
    }
    check((kind == "llama" || kind == "gpt2") && !v.pieces.empty());
    // What vocab_from_gguf accepts, the section reader must accept too.
    agm_fuzz::check_vocab_section(v);
    return 0;
}
