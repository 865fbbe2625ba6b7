// GGUF models of every supported architecture and tensor type, written by
// tests/gguf_model.cpp, converted (import_gguf + build_native_file, and on
// the host also the agmodel-convert binary, which must write the same bytes),
// then run by the engine: 64 greedy steps must equal the test reference's,
// token for token, with every step's logits within 1e-4 (relative to the
// largest logit). Plus refusals that name the key or tensor.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "agm/convert_gguf.h"
#include "agm/gguf.h"
#include "agm/import.h"
#include "doctest.h"
#include "engine_compare.h"
#include "gguf_model.h"
#include "gguf_writer.h"
#include "ref_model.h"
#include "run_tool.h"
#include "snapshot_check.h"
#include "test_util.h"

using namespace agm_test;

namespace {

struct Variant {
    const char* name;
    GgufModelSpec spec;
    RefConfig config;
};

std::vector<Variant> variants() {
    std::vector<Variant> v;
    RefConfig llama;  // pre-norm LLaMA, SiLU, interleaved RoPE, untied
    GgufModelSpec s;
    s.arch = "llama";
    s.ternary_type = agm::GGML_TQ2_0;
    s.embd_type = agm::GGML_F32;
    v.push_back({"llama TQ2_0, F32 embedding", s, llama});

    RefConfig gqa = llama;
    gqa.n_kv_heads = 2;
    gqa.rope_theta = 500000.0f;
    s.ternary_type = agm::GGML_TQ1_0;
    s.embd_type = agm::GGML_F16;
    v.push_back({"llama TQ1_0, F16 embedding, GQA, theta 5e5", s, gqa});

    RefConfig bitnet = llama;  // llama.cpp's "bitnet" (1bitLLM): sub-norms, SiLU, halves
    bitnet.sub_norms = true;
    bitnet.rope_layout = AGM_ROPE_HALVES;
    s.arch = "bitnet";
    s.ternary_type = agm::GGML_TQ2_0;
    s.embd_type = agm::GGML_Q8_0;
    v.push_back({"bitnet TQ2_0, Q8_0 embedding", s, bitnet});

    s.ternary_type = agm::GGML_F16;  // llama.cpp's bitnet converter: ternary values as F16
    s.embd_type = agm::GGML_F16;
    s.norm_type = agm::GGML_F16;
    v.push_back({"bitnet F16 ternary values, F16 norms", s, bitnet});

    RefConfig b2b = bitnet;  // bitnet.cpp's 2B4T: sub-norms, ReLU^2, GQA, tied
    b2b.ffn_act = AGM_FFN_RELU2_GATED;
    b2b.n_kv_heads = 1;
    b2b.tied = true;
    b2b.embd_range = 0.05f;
    b2b.rope_theta = 500000.0f;
    s = GgufModelSpec();
    s.arch = "bitnet-b1.58";
    s.ternary_type = agm::GGML_I2_S;
    s.embd_type = agm::GGML_BF16;
    s.norm_type = agm::GGML_BF16;
    v.push_back({"bitnet-b1.58 I2_S, BF16, tied, GQA", s, b2b});

    RefConfig b25 = b2b;
    b25.tied = false;
    b25.n_kv_heads = 2;
    s.arch = "bitnet-25";
    s.ternary_type = agm::GGML_TQ1_0;
    s.embd_type = agm::GGML_Q8_0;
    s.norm_type = agm::GGML_F32;
    s.version = 2;
    v.push_back({"bitnet-25 TQ1_0, Q8_0, GGUF v2", s, b25});

    // llama-quantize's defaults for TQ files: Q4_K embedding, Q6_K classifier.
    s = GgufModelSpec();
    s.arch = "llama";
    s.ternary_type = agm::GGML_TQ2_0;
    s.embd_type = agm::GGML_Q4_K;
    s.output_type = agm::GGML_Q6_K;
    v.push_back({"llama TQ2_0, Q4_K embedding, Q6_K classifier", s, llama});

    // Ternary values stored as F32, BF16 and Q8_0 matrices.
    s = GgufModelSpec();
    s.arch = "bitnet";
    s.ternary_type = agm::GGML_Q8_0;
    v.push_back({"bitnet Q8_0 ternary values", s, bitnet});
    s.ternary_type = agm::GGML_BF16;
    v.push_back({"bitnet BF16 ternary values", s, bitnet});
    s.ternary_type = agm::GGML_F32;
    v.push_back({"bitnet F32 ternary values", s, bitnet});
    s.ternary_type = agm::GGML_F16;
    s.latent = true;
    v.push_back({"bitnet F16 latent weights (absmean at conversion)", s, bitnet});
    return v;
}

bool convert_image(const std::vector<uint8_t>& gguf, std::vector<uint8_t>* out, agm::SizeReport* rep,
                   agm::Error* err) {
    agm::GgufFile f;
    agm::ImportModel m;
    return agm::parse_gguf(gguf.data(), gguf.size(), &f, err) &&
           agm::import_gguf(f, agm::GgufImportOptions(), &m, err) &&
           agm::build_native_file(m, agm::BuildOptions(), out, rep, err);
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
    FILE* fp = std::fopen(path.c_str(), "wb");
    REQUIRE(fp != nullptr);
    REQUIRE(std::fwrite(bytes.data(), 1, bytes.size(), fp) == bytes.size());
    REQUIRE(std::fclose(fp) == 0);
}

std::string temp_dir() {
    char tmpl[] = "/tmp/agm_gguf_XXXXXX";
    const char* d = mkdtemp(tmpl);
    REQUIRE(d != nullptr);
    return d;
}

}  // namespace

TEST_CASE("GGUF: every architecture and tensor type converts and runs as the reference, 64 greedy steps") {
    const char* convert = std::getenv("AGM_CONVERT");
    const std::string dir = temp_dir();
    for (const Variant& v : variants()) {
        RefModel ref = make_ref_model(v.config, test_seed(), gguf_float_rounding(v.spec), gguf_scale_rounding(v.spec));
        const std::vector<uint8_t> gguf = write_gguf_model(&ref, v.spec);
        std::vector<uint8_t> file;
        agm::SizeReport rep;
        agm::Error err;
        INFO(std::string(v.name));
        REQUIRE_MESSAGE(convert_image(gguf, &file, &rep, &err), err.msg);
        if (convert != nullptr) {  // the tool writes the same bytes
            const std::string in = dir + "/in.gguf", out = dir + "/out.agm";
            write_file(in, gguf);
            const Run r = run_convert(convert, {in, "-o", out});
            INFO(r.err);
            REQUIRE(r.code == 0);
            std::vector<uint8_t> tool_out;
            REQUIRE(read_file(out, &tool_out));
            CHECK(tool_out == file);
            std::remove(in.c_str());
            std::remove(out.c_str());
        }
        const CompareResult r = compare_greedy(file, ref, {1, 17, 42, 99}, 64);
        INFO(r.error);
        REQUIRE(r.opened);
        CHECK(r.first_mismatch == 64);
        // Session snapshots of the converted model: restored equals recomputed.
        agm_test::check_restore_image(file, {1, 17, 42, 99, 7, 3}, {5, 64});
        CHECK(r.distinct >= 8);
        CHECK(r.max_logit_diff <= 1e-4f * std::fmax(1.0f, r.max_logit_abs));
        // Ternary matrices never grow: tl5_r4 is 1.6 bits a weight (plus padding to 5 columns).
        CHECK(rep.output_ternary <= rep.input_ternary);
        // The bound: the file is no larger than the input's ternary
        // payload plus the other tensors at the precision chosen for them
        // (headers, tokenizer and alignment fit in what tl5_r4 saves).
        CHECK(rep.output_file <= rep.input_ternary + rep.output_other);
        MESSAGE(std::string(v.name) << ": " << r.first_mismatch << "/64 tokens agree (" << r.distinct
                                    << " distinct), max |logit diff| " << r.max_logit_diff
                                    << "; ternary " << rep.input_ternary << " -> " << rep.output_ternary
                                    << " bytes, other " << rep.input_other << " -> " << rep.output_other
                                    << ", file " << gguf.size() << " -> " << rep.output_file << " (overhead "
                                    << rep.output_overhead << ")");
    }
    rmdir(dir.c_str());
}

TEST_CASE("GGUF: what agmodel does not implement is refused with the key and value, or the tensor and type") {
    RefConfig c;
    c.n_layers = 1;
    GgufModelSpec spec;
    RefModel ref = make_ref_model(c, 5, nullptr, gguf_scale_rounding(spec));
    const std::vector<uint8_t> good = write_gguf_model(&ref, spec);
    agm::GgufFile f;
    agm::Error err;
    REQUIRE(agm::parse_gguf(good.data(), good.size(), &f, &err));

    // Rebuilds the model's GGUF with one change made by `edit`.
    auto refused = [&](const char* what, void (*edit)(GgufWriter&), const char* expect) {
        GgufWriter w;
        w.version = f.version;
        for (const agm::GgufKv& kv : f.kv) {
            if (kv.key == "general.alignment") continue;
            Bytes b;
            if (kv.value.type == agm::GGUF_STRING) {
                put_str(&b, std::string((const char*)kv.value.data, kv.value.count));
                w.add_raw(kv.key, kv.value.type, b);
            } else if (kv.value.type == agm::GGUF_ARRAY && kv.value.elem_type == agm::GGUF_STRING) {
                w.add_string_array(kv.key, kv.value.strings);
            } else if (kv.value.type == agm::GGUF_ARRAY) {
                const uint32_t es = kv.value.elem_type == agm::GGUF_F32 || kv.value.elem_type == agm::GGUF_I32 ||
                                            kv.value.elem_type == agm::GGUF_U32 ? 4 : 1;
                put_u32(&b, kv.value.elem_type);
                put_u64(&b, kv.value.count);
                b.insert(b.end(), kv.value.data, kv.value.data + kv.value.count * es);
                w.add_raw(kv.key, kv.value.type, b);
            } else {
                const uint32_t sz = kv.value.type == agm::GGUF_U64 || kv.value.type == agm::GGUF_I64 ||
                                            kv.value.type == agm::GGUF_F64 ? 8 : 4;
                b.insert(b.end(), kv.value.data, kv.value.data + sz);
                w.add_raw(kv.key, kv.value.type, b);
            }
        }
        for (const agm::GgufTensorInfo& t : f.tensors)
            w.add_tensor(t.name, t.type, std::vector<uint64_t>(t.ne, t.ne + t.n_dims),
                         Bytes(t.data, t.data + t.bytes));
        edit(w);
        const Bytes img = w.build();
        agm::GgufFile g;
        agm::ImportModel m;
        agm::Error e;
        std::vector<uint8_t> file;
        agm::SizeReport rep;
        const bool ok = agm::parse_gguf(img.data(), img.size(), &g, &e) &&
                        agm::import_gguf(g, agm::GgufImportOptions(), &m, &e) &&
                        agm::build_native_file(m, agm::BuildOptions(), &file, &rep, &e);
        INFO(std::string(what) << ": " << e.msg);
        CHECK_FALSE(ok);
        CHECK(std::string(e.msg).find(expect) != std::string::npos);
        MESSAGE(std::string(what) << ": " << e.msg);
    };
    refused("architecture", [](GgufWriter& w) {
        for (auto& kv : w.kvs)
            if (kv.key == "general.architecture") {
                kv.value.clear();
                put_str(&kv.value, "qwen2");
            }
    }, "general.architecture = \"qwen2\"");
    refused("experts", [](GgufWriter& w) { w.add_u32("llama.expert_count", 8); }, "llama.expert_count = 8");
    refused("yarn", [](GgufWriter& w) { w.add_string("llama.rope.scaling.type", "yarn"); },
            "llama.rope.scaling.type = \"yarn\"");
    refused("partial rotary", [](GgufWriter& w) {
        for (auto& kv : w.kvs)
            if (kv.key == "llama.rope.dimension_count") {
                kv.value.clear();
                put_u32(&kv.value, 32);
            }
    }, "llama.rope.dimension_count = 32");
    // Found by fuzzing: ranges are checked before anything is sized by them
    // (2^31 layers once asked for gigabytes of layer records).
    refused("a huge block count", [](GgufWriter& w) {
        for (auto& kv : w.kvs)
            if (kv.key == "llama.block_count") {
                kv.value.clear();
                put_u32(&kv.value, 0x80000000u);
            }
    }, "llama.block_count = 2147483648 (1..1024)");
    // Found by fuzzing: a key with a newline made a two-line message.
    refused("a control byte in a key", [](GgufWriter& w) { w.add_u32("llama.block_\ncount", 1); },
            "llama.block_\\x0Acount = 1: not implemented");
    refused("a NaN in a norm", [](GgufWriter& w) {
        for (auto& t : w.tensors)
            if (t.name == "blk.0.ffn_norm.weight") {
                const float nan = NAN;
                std::memcpy(&t.data[12], &nan, 4);
            }
    }, "tensor blk.0.ffn_norm: value at [0, 3] is NaN");
    refused("a bias", [](GgufWriter& w) { w.add_tensor("blk.0.attn_q.bias", agm::GGML_F32, {256}, Bytes(1024)); },
            "blk.0.attn_q.bias");
    refused("rope_freqs", [](GgufWriter& w) { w.add_tensor("rope_freqs.weight", agm::GGML_F32, {32}, Bytes(128)); },
            "rope_freqs.weight");
    refused("Q4_0 ternary matrix", [](GgufWriter& w) {
        for (auto& t : w.tensors)
            if (t.name == "blk.0.attn_k.weight") {
                t.type = agm::GGML_Q4_0;
                t.data.assign(256 / 32 * 18 * 256, 0);
            }
    }, "blk.0.attn_k.weight: type Q4_0");
    refused("a missing matrix", [](GgufWriter& w) {
        for (size_t i = 0; i < w.tensors.size(); ++i)
            if (w.tensors[i].name == "blk.0.ffn_up.weight") w.tensors.erase(w.tensors.begin() + (long)i);
    }, "blk.0.ffn_up.weight is missing");
    refused("non-ternary floats in a llama model", [](GgufWriter& w) {
        for (auto& t : w.tensors)
            if (t.name == "blk.0.attn_v.weight") {
                t.type = agm::GGML_F32;
                t.data.assign(256 * 256 * 4, 0);
                for (size_t i = 0; i < t.data.size(); i += 4) {
                    const float v = (float)(i % 7) * 0.01f;
                    std::memcpy(&t.data[i], &v, 4);
                }
            }
    }, "not ternary");
    refused("a Q4_K norm", [](GgufWriter& w) {
        for (auto& t : w.tensors)
            if (t.name == "output_norm.weight") {
                t.type = agm::GGML_Q2_K;
                t.data.assign(84, 0);
            }
    }, "output_norm.weight: type Q2_K");
}

TEST_CASE("GGUF at M300's shapes (24 layers, 1024 wide, 32000 tokens): the file against the input's sizes") {
    // About 20 s and 1.5 GB: run with AGM_TEST_LARGE=1 (the numbers are in docs/formats.md).
    if (std::getenv("AGM_TEST_LARGE") == nullptr) {
        MESSAGE("skipped: set AGM_TEST_LARGE=1");
        return;
    }
    RefConfig c;
    c.dim = 1024;
    c.hidden_dim = 2816;
    c.n_layers = 24;
    c.n_heads = 16;
    c.n_kv_heads = 4;
    c.head_dim = 64;
    c.vocab_size = 32000;
    c.max_seq_len = 2048;
    struct Case {
        const char* name;
        uint32_t ternary;
        uint32_t embd, output;
        uint32_t embedding_option;
    } cases[] = {
        {"TQ1_0, Q4_K/Q6_K embedding/classifier (llama-quantize's TQ1_0), --embedding q4", agm::GGML_TQ1_0,
         agm::GGML_Q4_K, agm::GGML_Q6_K, AGM_TYPE_Q4_B32},
        {"TQ2_0, Q4_K/Q6_K, --embedding q4", agm::GGML_TQ2_0, agm::GGML_Q4_K, agm::GGML_Q6_K, AGM_TYPE_Q4_B32},
        {"I2_S, F16 embedding/classifier, --embedding f32", agm::GGML_I2_S, agm::GGML_F16, agm::GGML_F16,
         AGM_TYPE_F32},
    };
    for (const Case& k : cases) {
        GgufModelSpec s;
        s.ternary_type = k.ternary;
        s.embd_type = k.embd;
        s.output_type = k.output;
        RefModel ref = make_ref_model(c, 3, gguf_float_rounding(s), gguf_scale_rounding(s));
        const std::vector<uint8_t> gguf = write_gguf_model(&ref, s);
        agm::GgufFile f;
        agm::ImportModel m;
        agm::Error err;
        REQUIRE(agm::parse_gguf(gguf.data(), gguf.size(), &f, &err));
        REQUIRE_MESSAGE(agm::import_gguf(f, agm::GgufImportOptions(), &m, &err), err.msg);
        agm::BuildOptions o;
        o.embedding_type = k.embedding_option;
        std::vector<uint8_t> file;
        agm::SizeReport rep;
        REQUIRE_MESSAGE(agm::build_native_file(m, o, &file, &rep, &err), err.msg);
        CHECK(rep.output_ternary <= rep.input_ternary);
        CHECK(rep.output_file <= rep.input_ternary + rep.output_other);
        MESSAGE(std::string(k.name) << ": input " << gguf.size() << " bytes (ternary " << rep.input_ternary
                                    << ", other " << rep.input_other << "); file " << rep.output_file
                                    << " bytes (ternary " << rep.output_ternary << ", other " << rep.output_other
                                    << ", overhead " << rep.output_overhead << "); bound "
                                    << rep.input_ternary + rep.output_other);
    }
}

TEST_CASE("GGUF: tokenizer.chat_template is kept in the file, byte for byte, and given out by the engine") {
    for (const std::string& tmpl : {std::string("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}"
                                               "<|im_end|>\n{% endfor %}\u00e9"),
                                   std::string()}) {
        Variant v = variants()[0];
        v.spec.chat_template = tmpl;
        RefModel ref = make_ref_model(v.config, 9, gguf_float_rounding(v.spec), gguf_scale_rounding(v.spec));
        const std::vector<uint8_t> gguf = write_gguf_model(&ref, v.spec);
        std::vector<uint8_t> file;
        agm::SizeReport rep;
        agm::Error err;
        REQUIRE_MESSAGE(convert_image(gguf, &file, &rep, &err), err.msg);
        const AlignedCopy image(file);
        agm_model* m = nullptr;
        agm_error e;
        REQUIRE_MESSAGE(agm_model_open_memory(image.data(), file.size(), nullptr, &m, &e) == AGM_OK, e.message);
        size_t len = 99;
        const char* got = agm_model_chat_template(m, &len);
        if (tmpl.empty()) {
            CHECK(got == nullptr);
            CHECK(len == 0);
        } else {
            REQUIRE(got != nullptr);
            CHECK(std::string(got, len) == tmpl);
        }
        agm_model_close(m);
    }
}

TEST_CASE("GGUF: agmodel-serve formats by a converted model's chat template, or refuses to start with the choices") {
    const char* convert = std::getenv("AGM_CONVERT");
    const char* serve = std::getenv("AGM_SERVE");
    if (convert == nullptr || serve == nullptr) return;  // host builds: ctest sets both
    const std::string dir = temp_dir();
    struct Case {
        const char* name;
        std::string tmpl;
        std::vector<std::string> args;
        int code;
        const char* says;
    };
    const std::string chatml = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
                               "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
    const std::string unknown = "{% for m in messages %}### {{ m.role }}: {{ m.content }}\n{% endfor %}";
    const Case cases[] = {
        {"ChatML", chatml, {}, 0, "chat template chatml"},
        {"no template", "", {}, 0, "chat template plain"},
        {"an unrecognised one", unknown, {}, 2, "is not one of the built-in families; choose one with --chat-template"},
        {"an unrecognised one, chosen", unknown, {"--chat-template", "zephyr"}, 0, "chat template zephyr"},
    };
    for (const Case& c : cases) {
        INFO(c.name);
        Variant v = variants()[0];
        v.spec.chat_template = c.tmpl;
        RefModel ref = make_ref_model(v.config, 9, gguf_float_rounding(v.spec), gguf_scale_rounding(v.spec));
        const std::vector<uint8_t> gguf = write_gguf_model(&ref, v.spec);
        const std::string in = dir + "/in.gguf", out = dir + "/out.agm";
        write_file(in, gguf);
        const Run conv = run_convert(convert, {in, "-o", out});
        INFO(conv.err);
        REQUIRE(conv.code == 0);
        std::vector<std::string> args = {"--model", out, "--host", "127.0.0.1", "--port", "0"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        const Run r = run_until(serve, args, "listening on http://127.0.0.1:");
        INFO(r.err);
        CHECK(r.exited);
        CHECK(r.code == c.code);
        CHECK(r.err.find(c.says) != std::string::npos);
        if (c.code == 2) {  // the choices are named
            CHECK(r.err.find("chatml") != std::string::npos);
            CHECK(r.err.find("llama3") != std::string::npos);
            CHECK(r.err.find("listening") == std::string::npos);
        }
        std::remove(in.c_str());
        std::remove(out.c_str());
    }
    rmdir(dir.c_str());
}
