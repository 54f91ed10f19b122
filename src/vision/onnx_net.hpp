// Builds a cv::dnn::Net from ONNX bytes already read and verified by engine::Models.
#pragma once

#include <cstdint>
#include <opencv2/dnn.hpp>
#include <string>
#include <vector>

#include "liveproof/expected.hpp"

namespace liveproof::vision {

/// @brief The network, or ModelCorrupt naming `what` when OpenCV cannot load the bytes.
inline Expected<cv::dnn::Net> LoadOnnxNet(const std::vector<std::uint8_t>& onnx,
                                          const std::string& what) {
    try {
        cv::dnn::Net net =
            cv::dnn::readNetFromONNX(reinterpret_cast<const char*>(onnx.data()), onnx.size());
        if (!net.empty()) return net;
    } catch (const cv::Exception&) {
    }
    return MakeError(ErrorCode::ModelCorrupt, what + " ONNX could not be loaded");
}

}  // namespace liveproof::vision
