// Model loading: manifest parsing, sha256 verification, and the derived lookup tables.
#include "engine/models.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/json_text.hpp"

namespace liveproof::engine {

namespace fs = std::filesystem;

namespace {

constexpr const char* kYuNet = "face_detection_yunet_2022mar.onnx";
constexpr const char* kMesh = "mediapipe_face_landmark.onnx";
constexpr const char* kIris = "mediapipe_iris_landmark.onnx";
constexpr const char* kFasV2 = "2.7_80x80_MiniFASNetV2.onnx";
constexpr const char* kFasV1se = "4_0_0_80x80_MiniFASNetV1SE.onnx";
constexpr const char* kCanonical = "mediapipe_canonical_face_model.obj";
constexpr const char* kLandmarkMaps = "landmark_maps.json";
constexpr std::uint64_t kMaxModelBytes = 64u << 20;  // no model here is near this

std::string Trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

Expected<std::vector<std::uint8_t>> ReadFile(const fs::path& path) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec == std::errc::no_such_file_or_directory) {
        return MakeError(ErrorCode::ModelMissing, "model file missing: " + path.string() +
                                                      " (install with scripts/install_models.sh)");
    }
    if (ec) {
        // e.g. a folder without read or search permission: say so, not "missing".
        return MakeError(ErrorCode::ModelMissing,
                         "cannot read " + path.string() + ": " + ec.message());
    }
    if (size > kMaxModelBytes) {
        return MakeError(ErrorCode::ModelCorrupt, "model file too large: " + path.string());
    }
    std::ifstream in(path, std::ios::binary);
    std::vector<std::uint8_t> data(size);
    if (!in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(size))) {
        return MakeError(ErrorCode::ModelMissing,
                         "cannot read " + path.string() + ": " + std::strerror(errno));
    }
    return data;
}

}  // namespace

std::string Sha256Hex(const std::vector<std::uint8_t>& data) {
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, data.data(), data.size());
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : digest) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    return out;
}

Expected<std::vector<ManifestEntry>> ParseManifest(const std::string& text) {
    std::vector<ManifestEntry> entries;
    std::istringstream in(text);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        line = Trim(line);
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> cols;
        std::istringstream fields(line);
        std::string col;
        while (std::getline(fields, col, '|')) cols.push_back(Trim(col));
        if (cols.size() < 3 || cols[1].size() != 64) {
            return MakeError(ErrorCode::ManifestInvalid,
                             "manifest line " + std::to_string(number) +
                                 ": expected 'file | sha256 | bytes | licence | provenance'");
        }
        ManifestEntry e;
        e.file = cols[0];
        e.sha256 = cols[1];
        try {
            e.bytes = std::stoull(cols[2]);
        } catch (const std::exception&) {
            return MakeError(ErrorCode::ManifestInvalid,
                             "manifest line " + std::to_string(number) + ": bad byte count");
        }
        entries.push_back(e);
    }
    return entries;
}

Expected<Models> Models::Load(const EngineOptions& options) {
    if (sodium_init() < 0) return MakeError(ErrorCode::Internal, "libsodium failed to initialise");
    Models m;
    m.dir = options.model_dir;
    std::map<std::string, ManifestEntry> manifest;
    if (options.verify_checksums) {
        auto text = ReadFile(m.dir / kManifestName);
        if (!text) {
            std::error_code ec;
            const bool missing = !fs::exists(m.dir / kManifestName, ec) && !ec;
            return MakeError(ErrorCode::ManifestInvalid,
                             missing ? "model manifest missing: " + (m.dir / kManifestName).string()
                                     : "model manifest: " + text.error().detail);
        }
        auto entries = ParseManifest(std::string(text->begin(), text->end()));
        if (!entries) return Unexpected{entries.error()};
        for (auto& e : *entries) manifest[e.file] = e;
    }
    // Reads one file and checks it against its manifest row.
    auto load = [&](const char* name) -> Expected<std::vector<std::uint8_t>> {
        auto data = ReadFile(m.dir / name);
        if (!data) return data;
        if (!options.verify_checksums) return data;
        const auto it = manifest.find(name);
        if (it == manifest.end()) {
            return MakeError(ErrorCode::ManifestInvalid,
                             std::string("manifest has no entry for ") + name);
        }
        if (data->size() != it->second.bytes || Sha256Hex(*data) != it->second.sha256) {
            return MakeError(
                ErrorCode::ModelCorrupt,
                std::string("model file corrupt (sha256 mismatch): ") + (m.dir / name).string());
        }
        return data;
    };

    const bool want_yunet = options.detector != DetectorKind::Haar;
    if (want_yunet) {
        const bool present = fs::exists(m.dir / kYuNet);
        if (present || options.detector == DetectorKind::YuNet) {
            auto yunet = load(kYuNet);
            if (!yunet) return Unexpected{yunet.error()};
            m.yunet_path = (m.dir / kYuNet).string();
            m.yunet = std::move(*yunet);
        } else {
            spdlog::warn("{} not found in {}: falling back to the Haar cascade detector", kYuNet,
                         m.dir.string());
        }
    }
    for (auto [name, target] : {std::pair{kMesh, &m.face_mesh}, std::pair{kIris, &m.iris},
                                std::pair{kFasV2, &m.fas_v2}, std::pair{kFasV1se, &m.fas_v1se}}) {
        auto data = load(name);
        if (!data) return Unexpected{data.error()};
        *target = std::move(*data);
    }
    auto obj = load(kCanonical);
    if (!obj) return Unexpected{obj.error()};
    auto canonical = vision::CanonicalFace::FromObj(std::string(obj->begin(), obj->end()));
    if (!canonical) return Unexpected{canonical.error()};
    m.canonical = std::move(*canonical);

    auto maps = load(kLandmarkMaps);
    if (!maps) return Unexpected{maps.error()};
    const auto j = ParseJsonObject(
        std::string_view(reinterpret_cast<const char*>(maps->data()), maps->size()));
    if (!j) return MakeError(ErrorCode::ModelCorrupt, "landmark_maps.json: " + j.error().detail);
    try {
        m.mesh_to_ibug68 = j->at("mediapipe468_to_ibug68").get<std::vector<int>>();
    } catch (const nlohmann::json::exception&) {
        return MakeError(ErrorCode::ModelCorrupt,
                         "landmark_maps.json has no valid mediapipe468_to_ibug68");
    }
    if (m.mesh_to_ibug68.size() != 68) {
        return MakeError(ErrorCode::ModelCorrupt,
                         "landmark_maps.json: mesh-to-iBUG map must have 68 entries");
    }
    for (int idx : m.mesh_to_ibug68) {
        if (idx < 0 || idx >= 468) {
            return MakeError(ErrorCode::ModelCorrupt,
                             "landmark_maps.json: mesh index out of range");
        }
    }
    return m;
}

}  // namespace liveproof::engine
