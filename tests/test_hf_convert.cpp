// Hugging Face checkpoints (config.json + safetensors) of every supported
// architecture and weight storage, written with tests/safetensors_writer.h
// from a test reference model, converted (import_hf + build_native_file, and
// on the host the agmodel-convert binary, which must write the same bytes),
// then run: 64 greedy steps equal to the reference, token for token, logits
// within 1e-4 of the largest. Plus refusals naming the key or tensor.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "agm/convert_hf.h"
#include "agm/hf_checkpoint.h"
#include "agm/import.h"
#include "agmodel.h"
#include "doctest.h"
#include "engine_compare.h"
#include "ggml_encode.h"
#include "ref_model.h"
#include "run_tool.h"
#include "snapshot_check.h"
#include "safetensors_writer.h"
#include "test_util.h"

using namespace agm_test;

namespace {

enum class Storage { Packed, TernaryFloats, Latent };

struct HfVariant {
    const char* name;
    const char* arch;
    RefConfig c;
    Storage storage;
    const char* dtype;         // floats' dtype (embedding, norms, float matrices, weight_scale)
    bool onebit_names;         // 1bitLLM's sub-norm names (inner_attn_ln, ffn_layernorm)
    bool quant_config;         // quantization_config {"quant_method": "bitnet"}
    bool latent_flag;          // --bitnet-latent
    uint32_t shards;
};

float round_dtype(const char* dtype, float x) {
    if (std::strcmp(dtype, "F16") == 0) return round_to_f16(x);
    if (std::strcmp(dtype, "BF16") == 0) return round_to_bf16(x);
    return x;
}

// Writes one matrix of the reference in the variant's storage (and, for
// latent storage, replaces the reference's matrix with what absmean makes of
// the latent values written).
void add_matrix(const HfVariant& v, const std::string& name, RefTernary* t, uint64_t* rng, HfDirSpec* spec) {
    const uint32_t rows = t->rows, cols = t->cols;
    if (v.storage == Storage::Packed) {
        std::vector<uint8_t> bytes((size_t)rows / 4 * cols, 0);
        for (uint32_t r = 0; r < rows; ++r)
            for (uint32_t c = 0; c < cols; ++c)
                bytes[(size_t)(r % (rows / 4)) * cols + c] |=
                    (uint8_t)((t->w[(size_t)r * cols + c] + 1) << (2 * (r / (rows / 4))));
        spec->tensors.push_back(st_raw(name, "U8", {rows / 4, cols}, bytes));
        // value = w / weight_scale: pick weight_scale in the dtype, the model's scale follows.
        const float ws = round_dtype(v.dtype, 1.0f / t->scale);
        t->scale = 1.0f / ws;
        spec->tensors.push_back(st_floats(name + "_scale", v.dtype, {1}, {ws}));
        return;
    }
    std::vector<float> x((size_t)rows * cols);
    if (v.storage == Storage::TernaryFloats) {
        t->scale = round_dtype(v.dtype, t->scale);
        for (size_t i = 0; i < x.size(); ++i) x[i] = (float)t->w[i] * t->scale;
    } else {
        for (float& f : x) {  // latent: centred values around the ternary levels, in the dtype
            *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
            const float u = (float)(*rng >> 40) / 16777216.0f;  // [0, 1)
            f = round_dtype(v.dtype, (u - 0.5f) * 0.2f);
        }
        *t = ref_absmean(x, rows, cols);
    }
    spec->tensors.push_back(st_floats(name, v.dtype, {rows, cols}, x));
}

std::string config_json(const HfVariant& v) {
    const RefConfig& c = v.c;
    char buf[1024];
    std::snprintf(buf, sizeof buf,
                  "{\"architectures\": [\"%s\"], \"hidden_size\": %u, \"intermediate_size\": %u, "
                  "\"num_hidden_layers\": %u, \"num_attention_heads\": %u, \"num_key_value_heads\": %u, "
                  "\"vocab_size\": %u, \"max_position_embeddings\": %u, \"rms_norm_eps\": %.9g, "
                  "\"rope_theta\": %.9g, \"hidden_act\": \"%s\", \"tie_word_embeddings\": %s, "
                  "\"torch_dtype\": \"bfloat16\", \"rope_scaling\": null%s}",
                  v.arch, c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.max_seq_len,
                  (double)c.norm_eps, (double)c.rope_theta, c.ffn_act == AGM_FFN_SILU_GATED ? "silu" : "relu2",
                  c.tied ? "true" : "false",
                  v.quant_config ? ", \"quantization_config\": {\"quant_method\": \"bitnet\", "
                                   "\"linear_class\": \"autobitlinear\", \"quantization_mode\": \"offline\"}"
                                 : "");
    return buf;
}

// A small byte-level tokenizer.json of n tokens (LLaMA-3 style): the 256
// bytes in GPT-2's alphabet (id = byte), merges building "the", " the",
// " cat", ..., then <|begin_of_text|> and <|end_of_text|> as specials.
std::string small_byte_level_tokenizer(uint32_t n) {
    auto spell = [](uint8_t b) {  // GPT-2's byte-to-unicode, as UTF-8
        uint32_t cp = b;
        if (!((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE))) {
            uint32_t k = 0;
            for (uint32_t x = 0; x < b; ++x)
                if (!((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE))) ++k;
            cp = 0x100 + k;
        }
        std::string s;
        if (cp < 0x80) s += (char)cp;
        else {
            s += (char)(0xC0 | (cp >> 6));
            s += (char)(0x80 | (cp & 0x3F));
        }
        return s;
    };
    std::vector<std::string> tokens;
    for (int b = 0; b < 256; ++b) tokens.push_back(spell((uint8_t)b));
    const std::string sp = spell(' ');
    const char* const pairs[][2] = {{"t", "h"}, {"th", "e"}, {"c", "a"}, {"ca", "t"}, {"a", "n"}, {"o", "n"},
                                    {"i", "n"}, {"e", "r"}, {"s", "a"}, {"sa", "t"}};
    std::vector<std::string> merges;
    for (const auto& p : pairs) {
        merges.push_back(std::string(p[0]) + " " + p[1]);
        tokens.push_back(std::string(p[0]) + p[1]);
    }
    for (const char* w : {"the", "cat", "on", "sat", "in", "an"}) {
        merges.push_back(sp + " " + w);
        tokens.push_back(sp + w);
    }
    while (tokens.size() + 2 < n) {  // filler tokens nothing merges into
        merges.push_back("q " + std::to_string(tokens.size()));
        tokens.push_back("q" + std::to_string(tokens.size()));
        merges.pop_back();
    }
    std::string j = "{\"added_tokens\": [{\"id\": " + std::to_string(n - 2) +
                    ", \"content\": \"<|begin_of_text|>\", \"special\": true}, {\"id\": " + std::to_string(n - 1) +
                    ", \"content\": \"<|end_of_text|>\", \"special\": true}], \"normalizer\": null, "
                    "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}, "
                    "\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": "
                    "{\"id\": \"<|begin_of_text|>\", \"type_id\": 0}}]}, \"model\": {\"type\": \"BPE\", \"vocab\": {";
    for (size_t i = 0; i < tokens.size(); ++i) {
        std::string q;
        for (char c : tokens[i]) {
            if (c == '"' || c == '\\') q += '\\';
            q += c;
        }
        j += (i ? ", \"" : "\"") + q + "\": " + std::to_string(i);
    }
    j += "}, \"merges\": [";
    for (size_t i = 0; i < merges.size(); ++i) j += (i ? ", \"" : "\"") + merges[i] + "\"";
    return j + "]}}";
}

HfDirSpec checkpoint(const HfVariant& v, RefModel* m) {
    HfDirSpec spec;
    spec.config_json = config_json(v);
    if (v.storage == Storage::Packed && v.c.tied) spec.tokenizer_json = small_byte_level_tokenizer(v.c.vocab_size);
    spec.n_shards = v.shards;
    const RefConfig& c = m->c;
    uint64_t rng = 12345;
    auto floats = [&](const std::string& name, std::vector<float>* x, std::vector<uint64_t> shape) {
        for (float& f : *x) f = round_dtype(v.dtype, f);
        spec.tensors.push_back(st_floats(name, v.dtype, shape, *x));
    };
    floats("model.embed_tokens.weight", &m->embd, {c.vocab_size, c.dim});
    floats("model.norm.weight", &m->output_norm, {c.dim});
    if (!c.tied) floats("lm_head.weight", &m->output, {c.vocab_size, c.dim});
    for (uint32_t l = 0; l < c.n_layers; ++l) {
        RefLayer& L = m->layers[l];
        const std::string b = "model.layers." + std::to_string(l) + ".";
        floats(b + "input_layernorm.weight", &L.attn_norm, {c.dim});
        floats(b + "post_attention_layernorm.weight", &L.ffn_norm, {c.dim});
        if (c.sub_norms) {
            floats(b + (v.onebit_names ? "self_attn.inner_attn_ln.weight" : "self_attn.attn_sub_norm.weight"),
                   &L.attn_sub_norm, {m->q_dim()});
            floats(b + (v.onebit_names ? "mlp.ffn_layernorm.weight" : "mlp.ffn_sub_norm.weight"), &L.ffn_sub_norm,
                   {c.hidden_dim});
        }
        add_matrix(v, b + "self_attn.q_proj.weight", &L.wq, &rng, &spec);
        add_matrix(v, b + "self_attn.k_proj.weight", &L.wk, &rng, &spec);
        add_matrix(v, b + "self_attn.v_proj.weight", &L.wv, &rng, &spec);
        add_matrix(v, b + "self_attn.o_proj.weight", &L.wo, &rng, &spec);
        add_matrix(v, b + "mlp.gate_proj.weight", &L.w1, &rng, &spec);
        add_matrix(v, b + "mlp.up_proj.weight", &L.w3, &rng, &spec);
        add_matrix(v, b + "mlp.down_proj.weight", &L.w2, &rng, &spec);
    }
    return spec;
}

std::vector<HfVariant> hf_variants() {
    std::vector<HfVariant> out;
    RefConfig llama;
    llama.rope_layout = AGM_ROPE_HALVES;
    out.push_back({"LlamaForCausalLM, ternary-valued F16 matrices", "LlamaForCausalLM", llama,
                   Storage::TernaryFloats, "F16", false, false, false, 0});
    RefConfig b2b = llama;
    b2b.sub_norms = true;
    b2b.ffn_act = AGM_FFN_RELU2_GATED;
    b2b.n_kv_heads = 1;
    b2b.tied = true;
    b2b.embd_range = 0.05f;
    b2b.rope_theta = 500000.0f;
    out.push_back({"BitNetForCausalLM (2B4T), packed U8 + BF16 weight_scale, tied, GQA", "BitNetForCausalLM", b2b,
                   Storage::Packed, "BF16", false, true, false, 0});
    RefConfig onebit = llama;
    onebit.sub_norms = true;
    out.push_back({"BitnetForCausalLM (1bitLLM), latent F32, 2 shards", "BitnetForCausalLM", onebit,
                   Storage::Latent, "F32", true, false, false, 2});
    RefConfig l3 = llama;
    l3.n_kv_heads = 2;
    l3.rope_theta = 500000.0f;
    out.push_back({"LlamaForCausalLM + quantization_config bitnet, packed, 3 shards", "LlamaForCausalLM", l3,
                   Storage::Packed, "BF16", false, true, false, 3});
    out.push_back({"LlamaForCausalLM, latent BF16 with --bitnet-latent", "LlamaForCausalLM", l3, Storage::Latent,
                   "BF16", false, false, true, 0});
    return out;
}

}  // namespace

TEST_CASE("Hugging Face: every architecture and storage converts and runs as the reference, 64 greedy steps") {
    const char* convert = std::getenv("AGM_CONVERT");
    TempDir tmp;
    int i = 0;
    for (const HfVariant& v : hf_variants()) {
        INFO(std::string(v.name));
        RefModel ref = make_ref_model(v.c, test_seed() + (uint64_t)i);
        const HfDirSpec spec = checkpoint(v, &ref);
        const std::string dir = tmp.path + "/ckpt" + std::to_string(i++);
        std::string why;
        REQUIRE_MESSAGE(write_hf_dir(dir, spec, &why), why);
        agm::HfCheckpoint ck;
        agm::ImportModel m;
        agm::HfImportOptions o;
        o.bitnet_latent = v.latent_flag;
        std::vector<uint8_t> file;
        agm::SizeReport rep;
        agm::Error err;
        REQUIRE_MESSAGE(agm::load_hf_checkpoint(dir, &ck, &err), err.msg);
        REQUIRE_MESSAGE(agm::import_hf(ck, o, &m, &err), err.msg);
        REQUIRE_MESSAGE(agm::build_native_file(m, agm::BuildOptions(), &file, &rep, &err), err.msg);
        if (convert != nullptr) {
            const std::string out = tmp.path + "/out.agm";
            std::vector<std::string> args = {dir, "-o", out};
            if (v.latent_flag) args.push_back("--bitnet-latent");
            const Run r = run_convert(convert, args);
            INFO(r.err);
            REQUIRE(r.code == 0);
            std::vector<uint8_t> tool_out;
            REQUIRE(read_file(out, &tool_out));
            CHECK(tool_out == file);
            std::remove(out.c_str());
        }
        if (!spec.tokenizer_json.empty()) {  // the tokenizer came along: text encodes through it
            agm_model* model = nullptr;
            agm_error e;
            const AlignedCopy image(file);
            REQUIRE(agm_model_open_memory(image.data(), file.size(), nullptr, &model, &e) == AGM_OK);
            agm_model_info info;
            agm_model_get_info(model, &info);
            CHECK(info.add_bos == 1);  // the post-processor puts <|begin_of_text|> first
            CHECK(info.bos_id == (int32_t)(v.c.vocab_size - 2));
            int32_t ids[16];
            size_t n = 0;
            REQUIRE(agm_tokenize(model, "the cat sat", 11, 1, ids, 16, &n, &e) == AGM_OK);
            // <|begin_of_text|> "the" " cat" " sat"
            const uint32_t V = v.c.vocab_size;
            CHECK(n == 4);
            CHECK(ids[0] == (int32_t)(V - 2));
            CHECK(ids[1] == 257);
            CHECK(ids[2] == 267);
            CHECK(ids[3] == 269);
            agm_model_close(model);
        }
        const CompareResult r = compare_greedy(file, ref, {3, 14, 15, 92}, 64);
        INFO(r.error);
        REQUIRE(r.opened);
        CHECK(r.first_mismatch == 64);
        // Session snapshots of the converted model: restored equals recomputed.
        agm_test::check_restore_image(file, {3, 14, 15, 92, 6, 5}, {35, 8});
        CHECK(r.distinct >= 8);
        CHECK(r.max_logit_diff <= 1e-4f * std::fmax(1.0f, r.max_logit_abs));
        CHECK(rep.output_file <= rep.input_ternary + rep.output_other);
        MESSAGE(std::string(v.name) << ": " << r.first_mismatch << "/64 tokens agree (" << r.distinct
                                    << " distinct), max |logit diff| " << r.max_logit_diff << "; ternary "
                                    << rep.input_ternary << " -> " << rep.output_ternary << " bytes, other "
                                    << rep.input_other << " -> " << rep.output_other << ", file "
                                    << rep.output_file);
    }
}

TEST_CASE("Hugging Face: what agmodel does not implement is refused with the key and value, or the tensor") {
    TempDir tmp;
    const HfVariant base = hf_variants()[1];  // 2B4T, packed
    RefConfig c = base.c;
    c.n_layers = 1;
    int n = 0;
    // Writes the checkpoint after `edit` changed the spec, converts, expects `expect` in the message.
    auto refused = [&](const char* what, void (*edit)(HfDirSpec&), const char* expect, bool latent = false) {
        HfVariant v = base;
        v.c = c;
        RefModel ref = make_ref_model(c, 77);
        HfDirSpec spec = checkpoint(v, &ref);
        edit(spec);
        const std::string dir = tmp.path + "/r" + std::to_string(n++);
        std::string why;
        REQUIRE_MESSAGE(write_hf_dir(dir, spec, &why), why);
        agm::HfCheckpoint ck;
        agm::ImportModel m;
        agm::HfImportOptions o;
        o.bitnet_latent = latent;
        agm::Error e;
        const bool ok = agm::load_hf_checkpoint(dir, &ck, &e) && agm::import_hf(ck, o, &m, &e);
        INFO(std::string(what) << ": " << e.msg);
        CHECK_FALSE(ok);
        CHECK(std::string(e.msg).find(expect) != std::string::npos);
        MESSAGE(std::string(what) << ": " << e.msg);
    };
    refused("architecture", [](HfDirSpec& s) {
        s.config_json.replace(s.config_json.find("BitNetForCausalLM"), 17, "MistralForCausalLM");
    }, "architectures = [\"MistralForCausalLM\"]");
    refused("rope scaling", [](HfDirSpec& s) {
        s.config_json.replace(s.config_json.find("\"rope_scaling\": null"), 20,
                              "\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4.0}");
    }, "rope_scaling = {\"type\":\"yarn\",\"factor\":4.0}");
    refused("attention bias", [](HfDirSpec& s) {
        s.config_json.insert(s.config_json.size() - 1, ", \"attention_bias\": true");
    }, "attention_bias = true");
    refused("activation", [](HfDirSpec& s) {
        s.config_json.replace(s.config_json.find("relu2"), 5, "gelu");
    }, "hidden_act = \"gelu\"");
    refused("quantization method", [](HfDirSpec& s) {
        s.config_json.replace(s.config_json.find("\"bitnet\""), 8, "\"gptq\"");
    }, "quant_method = \"gptq\"");
    refused("a bias tensor", [](HfDirSpec& s) {
        s.tensors.push_back(st_floats("model.layers.0.self_attn.q_proj.bias", "F32", {256}, std::vector<float>(256)));
    }, "model.layers.0.self_attn.q_proj.bias");
    refused("packed code 3", [](HfDirSpec& s) {
        for (StTensor& t : s.tensors)
            if (t.name == "model.layers.0.mlp.up_proj.weight") t.bytes[5] |= 0x30;
    }, "not ternary");
    refused("missing weight_scale", [](HfDirSpec& s) {
        for (size_t i = 0; i < s.tensors.size(); ++i)
            if (s.tensors[i].name == "model.layers.0.self_attn.k_proj.weight_scale")
                s.tensors.erase(s.tensors.begin() + (long)i);
    }, "k_proj.weight_scale is missing");
    refused("NaN weight_scale", [](HfDirSpec& s) {
        for (StTensor& t : s.tensors)
            if (t.name == "model.layers.0.self_attn.v_proj.weight_scale") t = st_floats(t.name, "F32", {1}, {NAN});
    }, "v_proj.weight_scale");
    refused("a missing matrix", [](HfDirSpec& s) {
        for (size_t i = 0; i < s.tensors.size(); ++i)
            if (s.tensors[i].name == "model.layers.0.mlp.down_proj.weight") s.tensors.erase(s.tensors.begin() + (long)i);
    }, "down_proj.weight is missing");
    refused("a wrong shape", [](HfDirSpec& s) {
        for (StTensor& t : s.tensors)
            if (t.name == "model.norm.weight") t = st_floats(t.name, "BF16", {255}, std::vector<float>(255, 1.0f));
    }, "model.norm.weight: shape [255]");
    refused("an I32 embedding", [](HfDirSpec& s) {
        for (StTensor& t : s.tensors)
            if (t.name == "model.embed_tokens.weight") t = st_raw(t.name, "I32", {300, 256}, std::vector<uint8_t>(300 * 256 * 4));
    }, "dtype I32");
    refused("non-ternary floats without --bitnet-latent", [](HfDirSpec& s) {
        s.config_json.replace(s.config_json.find("BitNetForCausalLM"), 17, "LlamaForCausalLM");
        const size_t q = s.config_json.find(", \"quantization_config\"");
        s.config_json.erase(q, s.config_json.size() - 1 - q);
        for (StTensor& t : s.tensors)
            if (t.name == "model.layers.0.self_attn.q_proj.weight") {
                std::vector<float> x(256 * 256);
                for (size_t i = 0; i < x.size(); ++i) x[i] = (float)((int)(i % 5) - 2) * 0.01f;
                t = st_floats(t.name, "F32", {256, 256}, x);
            }
    }, "--bitnet-latent");
}

TEST_CASE("Hugging Face: tokenizer_config.json's chat_template is kept in the file (a string, or the default of a list)") {
    TempDir tmp;
    const HfVariant v = hf_variants()[0];
    struct Case {
        const char* json;
        const char* expect;  // nullptr: refused
    };
    const Case cases[] = {
        {"{\"chat_template\": \"<|im_start|>{{ x }}\"}", "<|im_start|>{{ x }}"},
        {"{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"}, "
         "{\"name\": \"default\", \"template\": \"[INST] D\"}]}", "[INST] D"},
        {"{\"bos_token\": \"<s>\"}", ""},
        {"{\"chat_template\": 5}", nullptr},
        {"{\"chat_template\": ", nullptr},
    };
    int i = 0;
    for (const Case& c : cases) {
        INFO(c.json);
        RefModel ref = make_ref_model(v.c, 11);
        const HfDirSpec spec = checkpoint(v, &ref);
        const std::string dir = tmp.path + "/t" + std::to_string(i++);
        std::string why;
        REQUIRE_MESSAGE(write_hf_dir(dir, spec, &why), why);
        FILE* f = std::fopen((dir + "/tokenizer_config.json").c_str(), "wb");
        REQUIRE(f != nullptr);
        std::fputs(c.json, f);
        std::fclose(f);
        agm::HfCheckpoint ck;
        agm::ImportModel m;
        agm::Error err;
        REQUIRE_MESSAGE(agm::load_hf_checkpoint(dir, &ck, &err), err.msg);
        const bool ok = agm::import_hf(ck, agm::HfImportOptions(), &m, &err);
        if (c.expect == nullptr) {
            CHECK(!ok);
            CHECK(std::string(err.msg).find("tokenizer_config.json") != std::string::npos);
            continue;
        }
        REQUIRE_MESSAGE(ok, err.msg);
        std::vector<uint8_t> file;
        agm::SizeReport rep;
        REQUIRE_MESSAGE(agm::build_native_file(m, agm::BuildOptions(), &file, &rep, &err), err.msg);
        const AlignedCopy image(file);
        agm_model* model = nullptr;
        agm_error e;
        REQUIRE(agm_model_open_memory(image.data(), file.size(), nullptr, &model, &e) == AGM_OK);
        size_t len = 0;
        const char* got = agm_model_chat_template(model, &len);
        CHECK(std::string(got != nullptr ? got : "", len) == c.expect);
        agm_model_close(model);
    }
}
