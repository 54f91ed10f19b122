// A network run by XNNPACK (Debian libxnnpack-dev), built from the same ONNX bytes as OpenCV's.
#pragma once

#include <xnnpack.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <opencv2/core.hpp>
#include <span>
#include <string>
#include <vector>

#include "liveproof/expected.hpp"

namespace liveproof::vision {

/// @brief Where to cut a graph and at which input size to build it.
struct XnnNetShape {
    /// Tensors to return, in this order; empty = the graph's outputs. Naming inner tensors cuts
    /// off a tail of ops XNNPACK lacks (YuNet's Transpose/Concat/Softmax).
    std::vector<std::string> outputs;
    /// {height, width} instead of the graph's input size (fully convolutional networks; one
    /// runtime per size); empty = the graph's.
    std::vector<std::size_t> input_hw;
};

/// @brief WHAT THIS OBJECT REPRESENTS: one ONNX network converted to an XNNPACK runtime (fp32,
/// single-threaded: parallelism comes from the workers).
///
/// Why: OpenCV 4.6's depthwise convolutions run at 0.7-2 GFLOP/s on the 10x10 and 5x5 maps of
/// MiniFASNet, XNNPACK's at 16-51 GFLOP/s (docs/performance.md). Supported ONNX ops: Conv
/// (dense, grouped, depthwise), PRelu, Relu, Clip, Sigmoid, Add, Mul, BatchNormalization (folded
/// into the preceding Conv/MatMul/Gemm, else scale and shift), MatMul/Gemm with constant weights,
/// GlobalAveragePool, MaxPool, Pad (constant), Reshape/Flatten where NCHW and NHWC orders agree,
/// Constant. Any other op refuses the model (ModelCorrupt naming the op).
///
/// Input: N*H*W*C floats, NHWC (a CV_32FC3 image is NHWC). Outputs (the graph's, or tensors
/// named in XnnNetShape) come back as XNNPACK lays them out: NHWC for 4-D, as ONNX for 2-D.
///
/// THREAD SAFETY: not thread-safe (an XNNPACK runtime has one set of buffers); one per worker.
class XnnNet {
  public:
    /// @brief Converts @p onnx; ModelCorrupt naming @p what when it cannot.
    static Expected<std::unique_ptr<XnnNet>> FromOnnx(const std::vector<std::uint8_t>& onnx,
                                                      const std::string& what,
                                                      const XnnNetShape& shape = {});
    ~XnnNet();
    XnnNet(const XnnNet&) = delete;
    XnnNet& operator=(const XnnNet&) = delete;

    /// @brief Input dims, NHWC.
    [[nodiscard]] const std::vector<std::size_t>& input_dims() const { return input_dims_; }
    /// @brief Values in the first output.
    [[nodiscard]] std::size_t output_size() const { return outputs_.front().size; }
    /// @brief Outputs, in graph (or XnnNetShape) order.
    [[nodiscard]] std::size_t output_count() const { return outputs_.size(); }
    /// @brief Dims of output @p i (NHWC for 4-D).
    [[nodiscard]] const std::vector<std::size_t>& output_dims(std::size_t i) const {
        return outputs_.at(i).dims;
    }
    /// @brief Values of output @p i from the last Run.
    [[nodiscard]] std::span<const float> output(std::size_t i) const {
        return {outputs_.at(i).data.data(), outputs_.at(i).size};
    }
    /// @brief Runs on @p input_nhwc (input_dims() floats); the first output's values (the others:
    /// output(i)), valid until the next Run. Throws std::runtime_error if XNNPACK fails.
    std::span<const float> Run(std::span<const float> input_nhwc);
    /// @brief Run() on an 8-bit BGR image of the input's size, converted as
    /// cv::dnn::blobFromImage(image, scale, size, no mean, swap_rb) converts it, but interleaved
    /// (NHWC) and written straight into the input buffer: the one place where every network's
    /// image becomes XNNPACK's input. Throws std::runtime_error on another size or type.
    std::span<const float> RunImage(const cv::Mat& bgr, double scale, bool swap_rb);

  private:
    XnnNet() = default;
    struct Impl;
    struct Output {
        std::vector<std::size_t> dims;
        std::vector<float> data;  // size values + padding
        std::size_t size = 0;
    };
    void Build(const std::vector<std::uint8_t>& onnx, const XnnNetShape& shape);

    std::vector<std::size_t> input_dims_;
    std::vector<float> input_;  // input + XNN_EXTRA_BYTES of padding, which XNNPACK may read
    cv::Mat rgb_;               // RunImage's reused channel-swapped copy
    std::vector<Output> outputs_;
    std::unique_ptr<Impl> impl_;  // the static weights the runtime may point into
    xnn_runtime_t runtime_ = nullptr;
};

}  // namespace liveproof::vision
