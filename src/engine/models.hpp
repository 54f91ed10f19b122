// The model files: read once from the model folder, verified against the committed manifest.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "liveproof/expected.hpp"
#include "liveproof/options.hpp"
#include "vision/head_pose.hpp"

namespace liveproof::engine {

/// @brief One manifest row.
struct ManifestEntry {
    std::string file;         ///< file name inside the model folder
    std::string sha256;       ///< lowercase hex
    std::uint64_t bytes = 0;  ///< exact size
};

/// @brief Parses "file | sha256 | bytes | licence | provenance" lines ('#' starts a comment).
Expected<std::vector<ManifestEntry>> ParseManifest(const std::string& text);

/// @brief Lowercase hex sha256 of a byte string (libsodium).
std::string Sha256Hex(const std::vector<std::uint8_t>& data);

/// @brief WHAT THIS OBJECT REPRESENTS: the immutable model bytes and derived tables every
/// pipeline is built from. THREAD SAFETY: immutable after Load; share freely.
struct Models {
    std::filesystem::path dir;            ///< where they were read from
    std::string yunet_path;               ///< empty when the Haar fallback is in use
    std::vector<std::uint8_t> yunet;      ///< its verified bytes (the XNNPACK path reads these)
    std::vector<std::uint8_t> face_mesh;  ///< mediapipe_face_landmark.onnx
    std::vector<std::uint8_t> iris;       ///< mediapipe_iris_landmark.onnx
    std::vector<std::uint8_t> fas_v2;     ///< 2.7_80x80_MiniFASNetV2.onnx
    std::vector<std::uint8_t> fas_v1se;   ///< 4_0_0_80x80_MiniFASNetV1SE.onnx
    vision::CanonicalFace canonical;      ///< for head pose
    std::vector<int> mesh_to_ibug68;      ///< 68 mesh indices (landmark_maps.json)

    /// @brief Reads and verifies every file. Fails naming the first missing or corrupt file.
    static Expected<Models> Load(const EngineOptions& options);
};

/// @brief The manifest file name inside the model folder.
inline constexpr const char* kManifestName = "MANIFEST";

}  // namespace liveproof::engine
