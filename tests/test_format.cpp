// The native format and the ak42 reader: writer/reader round trip, the
// converter's repacking in both bit orders, checksum behaviour.
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "agm/ak42.h"
#include "agm/model_file.h"
#include "agm/model_writer.h"
#include "doctest.h"
#include "test_util.h"

namespace {

using Aligned = agm_test::AlignedCopy;  // the image 64-byte aligned, as the reader wants

agm::ModelWriter tiny_writer() {
    agm::ModelWriter w;
    w.set_u32(AGM_KEY_ARCH, AGM_ARCH_BITNET_LLAMA);
    w.set_u32(AGM_KEY_DIM, 8);
    w.set_u32(AGM_KEY_HIDDEN_DIM, 16);
    w.set_u32(AGM_KEY_N_LAYERS, 1);
    w.set_u32(AGM_KEY_N_HEADS, 2);
    w.set_u32(AGM_KEY_N_KV_HEADS, 1);
    w.set_u32(AGM_KEY_VOCAB_SIZE, 4);
    w.set_u32(AGM_KEY_MAX_SEQ_LEN, 32);
    w.set_f32(AGM_KEY_ROPE_THETA, 500000.0f);
    return w;
}

}  // namespace

TEST_CASE("writer and reader agree on every field") {
    agm::ModelWriter w = tiny_writer();
    agm::Error err;
    std::vector<uint8_t> emb(4 * 8 * 4, 0), q(32 * 8, 0);
    REQUIRE(w.add_tensor("token_embd", AGM_TYPE_F32, {4, 8}, 1.0f, emb, &err));
    REQUIRE(w.add_tensor("blk.0.attn_q", AGM_TYPE_T2_B128, {8, 8}, 0.25f, q, &err));
    CHECK_FALSE(w.add_tensor("bad", AGM_TYPE_T2_B128, {8, 8}, 1.0f, std::vector<uint8_t>(7), &err));
    CHECK(std::string(err.msg).find("bad") != std::string::npos);
    w.add_metadata("source", "unit test");
    std::vector<uint8_t> file;
    REQUIRE(w.finish(&file, &err));
    Aligned buf(file);
    agm::FileView f;
    REQUIRE(agm::parse_model_file(buf.data(), file.size(), true, &f, &err));
    CHECK(f.checksum_verified);
    CHECK(f.config.dim == 8);
    CHECK(f.config.head_dim == 4);
    CHECK(f.config.rope_theta == 500000.0f);
    CHECK(f.config.norm_input == AGM_NORM_RMS);  // default of an absent key
    REQUIRE(f.n_tensors == 2);
    const agm_tensor_entry* t = agm::find_tensor(f, "blk.0.attn_q");
    REQUIRE(t != nullptr);
    CHECK(t->scale == 0.25f);
    CHECK(t->offset % AGM_FILE_ALIGN == 0);
    CHECK(t->bytes == 8 * 32);
    CHECK(std::string(f.metadata, f.metadata_bytes) == "source: unit test\n");
    CHECK(agm::find_tensor(f, "nope") == nullptr);
}

TEST_CASE("a changed byte fails the checksum; an unknown tensor type is named") {
    agm::ModelWriter w = tiny_writer();
    agm::Error err;
    REQUIRE(w.add_tensor("token_embd", AGM_TYPE_F32, {4, 8}, 1.0f, std::vector<uint8_t>(128), &err));
    std::vector<uint8_t> file;
    REQUIRE(w.finish(&file, &err));
    file.back() ^= 1;
    {
        Aligned buf(file);
        agm::FileView f;
        CHECK_FALSE(agm::parse_model_file(buf.data(), file.size(), true, &f, &err));
        CHECK(std::string(err.msg).find("checksum mismatch") != std::string::npos);
        CHECK(agm::parse_model_file(buf.data(), file.size(), false, &f, &err));
    }
    // Find the tensor entry and give it type 99.
    agm_file_header h;
    std::memcpy(&h, file.data(), sizeof h);
    for (uint32_t i = 0; i < h.n_sections; ++i) {
        agm_section_entry s;
        std::memcpy(&s, file.data() + h.section_table + i * sizeof s, sizeof s);
        if (s.kind != AGM_SECTION_TENSORS) continue;
        const uint32_t bad_type = 99;
        std::memcpy(file.data() + s.offset + sizeof(agm_tensors_header) + offsetof(agm_tensor_entry, type), &bad_type, 4);
    }
    h.checksum = 0;
    std::memcpy(file.data(), &h, sizeof h);
    h.checksum = agm::model_file_checksum(file.data(), file.size());
    std::memcpy(file.data(), &h, sizeof h);
    Aligned buf(file);
    agm::FileView f;
    CHECK_FALSE(agm::parse_model_file(buf.data(), file.size(), true, &f, &err));
    CHECK(err.kind == agm::ErrorKind::Unsupported);
    CHECK(std::string(err.msg) == "tensor token_embd has type 99, unknown to this build (the file needs a newer agmodel)");
}

TEST_CASE("ak42: both bit orders repack to the same ternary tensors") {
    std::vector<uint8_t> msb;
    REQUIRE(agm_test::read_file(agm_test::model_3m_dir() + "/model.bin", &msb));
    agm::Ak42Model m;
    agm::Error err;
    REQUIRE(agm::read_ak42(msb.data(), msb.size(), &m, &err));
    CHECK(m.dim == 256);
    CHECK(m.n_kv_heads == 4);
    CHECK(m.shared_classifier);
    REQUIRE(m.matrices.size() == 56);
    // The same checkpoint with the first weight of each byte in the low bits.
    std::vector<uint8_t> lsb = msb;
    agm::Ak42Model ml;
    REQUIRE(agm::read_ak42(lsb.data(), lsb.size(), &ml, &err));
    for (const agm::Ak42Matrix& mat : ml.matrices) {
        uint8_t* p = const_cast<uint8_t*>(mat.codes);
        const size_t n = (size_t)mat.rows * mat.cols / 4;
        for (size_t i = 0; i < n; ++i) {
            const uint8_t b = p[i];
            p[i] = (uint8_t)(((b >> 6) & 3) | (((b >> 4) & 3) << 2) | (((b >> 2) & 3) << 4) | ((b & 3) << 6));
        }
    }
    for (size_t i = 0; i < m.matrices.size(); ++i) {
        std::vector<uint8_t> a, b;
        REQUIRE(agm::repack_ak42(m.matrices[i], agm::BitOrder::Msb, AGM_TYPE_T2_B128, "m", &a, &err));
        REQUIRE(agm::repack_ak42(ml.matrices[i], agm::BitOrder::Lsb, AGM_TYPE_T2_B128, "m", &b, &err));
        CHECK(a == b);
    }
    // Read with the wrong order, a matrix comes out permuted, not equal.
    std::vector<uint8_t> wrong;
    REQUIRE(agm::repack_ak42(ml.matrices[0], agm::BitOrder::Msb, AGM_TYPE_T2_B128, "m", &wrong, &err));
    std::vector<uint8_t> right;
    REQUIRE(agm::repack_ak42(m.matrices[0], agm::BitOrder::Msb, AGM_TYPE_T2_B128, "m", &right, &err));
    CHECK(wrong != right);
}

// A tl5_r4 tensor of 330 columns: 66 words a quad as written before the
// rounding, 72 now (formats/include/agm/format.h). The reader takes both
// sizes and tells them apart; any other size is refused.
TEST_CASE("tl5_r4: quads rounded up to 8 words from 64 on; older files' unrounded quads still read") {
    CHECK(agm::tl5_quad_words(AGM_TYPE_TL5_R4, 315) == 63);  // below AGM_TL5_QUAD_ALIGN_FROM: as it was
    CHECK(agm::tl5_quad_words(AGM_TYPE_TL5_R4, 320) == 64);
    CHECK(agm::tl5_quad_words(AGM_TYPE_TL5_R4, 330) == 72);
    CHECK(agm::tl5_quad_words(AGM_TYPE_TL5_R4S, 512) == 104);
    CHECK(agm::tl5_quad_words(AGM_TYPE_Q4_B32, 512) == 103);
    const auto image = [](uint64_t entry_bytes) {
        agm::ModelWriter w = tiny_writer();
        agm::Error err;
        std::vector<uint8_t> data(2 * 72 * 4, 0x79);  // 2 quads of 72 words, every byte 121 (zero weights)
        REQUIRE(w.add_tensor("blk.0.attn_q", AGM_TYPE_TL5_R4, {8, 330}, 1.0f, data, &err));
        std::vector<uint8_t> file;
        REQUIRE(w.finish(&file, &err));
        // the entry's size as an older writer gave it (the data stays; it is
        // inside the data section either way), then the checksum again
        agm_file_header h;
        std::memcpy(&h, file.data(), sizeof h);
        for (uint32_t i = 0; i < h.n_sections; ++i) {
            agm_section_entry s;
            std::memcpy(&s, file.data() + h.section_table + i * sizeof s, sizeof s);
            if (s.kind == AGM_SECTION_TENSORS)
                std::memcpy(file.data() + s.offset + sizeof(agm_tensors_header) + offsetof(agm_tensor_entry, bytes),
                            &entry_bytes, 8);
        }
        h.checksum = 0;
        std::memcpy(file.data(), &h, sizeof h);
        h.checksum = agm::model_file_checksum(file.data(), file.size());
        std::memcpy(file.data(), &h, sizeof h);
        return file;
    };
    for (const uint64_t bytes : {2 * 72 * 4, 2 * 66 * 4, 2 * 67 * 4}) {
        INFO("entry bytes " << bytes);
        const std::vector<uint8_t> file = image(bytes);
        Aligned buf(file);
        agm::FileView f;
        agm::Error err;
        const bool ok = agm::parse_model_file(buf.data(), file.size(), true, &f, &err);
        CHECK(ok == (bytes != 2 * 67 * 4));
        if (!ok) {
            CHECK(std::string(err.msg).find("blk.0.attn_q: 576 bytes expected") != std::string::npos);
            continue;
        }
        const agm_tensor_entry* t = agm::find_tensor(f, "blk.0.attn_q");
        REQUIRE(t != nullptr);
        CHECK(agm::tl5_entry_quad_words(*t) == (bytes == 2 * 72 * 4 ? 72u : 66u));
    }
}
