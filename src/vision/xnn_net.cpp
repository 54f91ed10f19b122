// ONNX -> XNNPACK subgraph: weights and graph read from the verified model bytes (Debian
// libonnx-dev), NCHW/OIHW turned into XNNPACK's NHWC/OHWI, BatchNormalization folded.
#include "vision/xnn_net.hpp"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

namespace liveproof::vision {

namespace {

// Throws std::runtime_error naming `what` unless XNNPACK succeeded.
void XnnCheck(xnn_status status, const std::string& what) {
    if (status != xnn_status_success) {
        throw std::runtime_error("XNNPACK: " + what + " failed, status " +
                                 std::to_string(static_cast<int>(status)));
    }
}

constexpr float kInf = std::numeric_limits<float>::infinity();

struct Const {
    std::vector<int64_t> dims;  // ONNX order
    std::vector<float> f;       // FLOAT data (empty for INT64 tensors)
    std::vector<int64_t> i;     // INT64 data
    size_t numel() const {
        size_t n = 1;
        for (int64_t d : dims) n *= static_cast<size_t>(d);
        return n;
    }
};

struct Value {
    uint32_t id;
    std::vector<size_t> dims;  // XNNPACK order (NHWC for 4-D)
};

Const FromTensor(const onnx::TensorProto& t) {
    Const c;
    c.dims.assign(t.dims().begin(), t.dims().end());
    const size_t n = c.numel();
    if (t.data_type() == onnx::TensorProto::FLOAT) {
        c.f.resize(n);
        if (!t.raw_data().empty()) {
            if (t.raw_data().size() != n * sizeof(float))
                throw std::runtime_error("bad raw_data " + t.name());
            std::memcpy(c.f.data(), t.raw_data().data(), n * sizeof(float));
        } else {
            if (static_cast<size_t>(t.float_data_size()) != n)
                throw std::runtime_error("bad float_data " + t.name());
            std::copy(t.float_data().begin(), t.float_data().end(), c.f.begin());
        }
    } else if (t.data_type() == onnx::TensorProto::INT64) {
        c.i.resize(n);
        if (!t.raw_data().empty()) {
            std::memcpy(c.i.data(), t.raw_data().data(), n * sizeof(int64_t));
        } else {
            std::copy(t.int64_data().begin(), t.int64_data().end(), c.i.begin());
        }
    } else {
        throw std::runtime_error("unsupported initializer type for " + t.name());
    }
    return c;
}

const onnx::AttributeProto* FindAttr(const onnx::NodeProto& n, const std::string& name) {
    for (const auto& a : n.attribute()) {
        if (a.name() == name) return &a;
    }
    return nullptr;
}
std::vector<int64_t> AttrInts(const onnx::NodeProto& n, const std::string& name,
                              std::vector<int64_t> def) {
    const auto* a = FindAttr(n, name);
    return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : def;
}
int64_t AttrInt(const onnx::NodeProto& n, const std::string& name, int64_t def) {
    const auto* a = FindAttr(n, name);
    return a ? a->i() : def;
}
float AttrFloat(const onnx::NodeProto& n, const std::string& name, float def) {
    const auto* a = FindAttr(n, name);
    return a ? a->f() : def;
}
std::string AttrString(const onnx::NodeProto& n, const std::string& name, std::string def) {
    const auto* a = FindAttr(n, name);
    return a ? a->s() : def;
}

// XNNPACK takes sizes as uint32_t; the models' are small, anything else is refused.
std::uint32_t U32(std::int64_t v, const char* what) {
    if (v < 0 || v > 65535) throw std::runtime_error(std::string(what) + " out of range");
    return static_cast<std::uint32_t>(v);
}
std::uint32_t U32(std::size_t v, const char* what) {
    return U32(static_cast<std::int64_t>(std::min<std::size_t>(v, 1u << 20)), what);
}
std::vector<std::uint32_t> AttrU32(const onnx::NodeProto& n, const std::string& name,
                                   std::vector<std::int64_t> def, std::size_t count) {
    std::vector<std::uint32_t> r;
    for (std::int64_t v : AttrInts(n, name, std::move(def))) r.push_back(U32(v, name.c_str()));
    if (r.size() != count) throw std::runtime_error(name + ": expected " + std::to_string(count));
    return r;
}

// NCHW tensor dims -> NHWC; other ranks unchanged.
std::vector<size_t> ToNhwc(const std::vector<int64_t>& d) {
    std::vector<size_t> r(d.begin(), d.end());
    if (r.size() == 4) r = {r[0], r[2], r[3], r[1]};
    return r;
}

std::string DimsStr(const std::vector<size_t>& d) {
    std::ostringstream s;
    s << '[';
    for (size_t i = 0; i < d.size(); ++i) s << (i ? "," : "") << d[i];
    s << ']';
    return s.str();
}

}  // namespace

struct XnnNet::Impl {
    onnx::ModelProto model;
    std::map<std::string, Const> consts;
    std::map<std::string, Value> values;
    std::map<std::string, uint32_t> external_outputs;  // name -> external id
    std::map<std::string, int> uses;
    std::map<std::string, const onnx::NodeProto*> bn_after;  // producer output -> BN node
    std::deque<std::vector<float>> storage;                  // static tensor data, stable addresses
    xnn_subgraph_t sg = nullptr;

    const Const* GetConst(const std::string& name) const {
        auto it = consts.find(name);
        return it == consts.end() ? nullptr : &it->second;
    }
    const Value& GetValue(const std::string& name) const {
        auto it = values.find(name);
        if (it == values.end()) throw std::runtime_error("no value " + name);
        return it->second;
    }

    uint32_t Static(const std::vector<size_t>& dims, std::vector<float> data) {
        storage.push_back(std::move(data));
        uint32_t id;
        XnnCheck(xnn_define_tensor_value(sg, xnn_datatype_fp32, dims.size(), dims.data(),
                                         storage.back().data(), XNN_INVALID_VALUE_ID, 0, &id),
                 "define static " + DimsStr(dims));
        return id;
    }
    uint32_t Output(const std::string& name, const std::vector<size_t>& dims) {
        uint32_t ext = XNN_INVALID_VALUE_ID, flags = 0;
        if (auto it = external_outputs.find(name); it != external_outputs.end()) {
            ext = it->second;
            flags = XNN_VALUE_FLAG_EXTERNAL_OUTPUT;
        }
        uint32_t id;
        XnnCheck(xnn_define_tensor_value(sg, xnn_datatype_fp32, dims.size(), dims.data(), nullptr,
                                         ext, flags, &id),
                 "define tensor " + name);
        values[name] = {id, dims};
        return id;
    }

    // Per-channel scale/shift of a BatchNormalization node.
    static void BnScaleShift(const Impl& m, const onnx::NodeProto& bn, std::vector<float>& s,
                             std::vector<float>& t) {
        const Const* g = m.GetConst(bn.input(1));
        const Const* b = m.GetConst(bn.input(2));
        const Const* mu = m.GetConst(bn.input(3));
        const Const* var = m.GetConst(bn.input(4));
        if (!g || !b || !mu || !var) throw std::runtime_error("BatchNormalization needs constants");
        const float eps = AttrFloat(bn, "epsilon", 1e-5f);
        const size_t c = g->f.size();
        s.resize(c);
        t.resize(c);
        for (size_t k = 0; k < c; ++k) {
            s[k] = g->f[k] / std::sqrt(var->f[k] + eps);
            t[k] = b->f[k] - mu->f[k] * s[k];
        }
    }

    // Returns the name the producer's result should carry, folding a following BN
    // into (weights [O][...], bias [O]) if one was scheduled.
    std::string FoldBn(const std::string& out, std::vector<float>& w, size_t per_out,
                       std::vector<float>& bias) {
        auto it = bn_after.find(out);
        if (it == bn_after.end()) return out;
        std::vector<float> s, t;
        BnScaleShift(*this, *it->second, s, t);
        for (size_t o = 0; o < bias.size(); ++o) {
            for (size_t j = 0; j < per_out; ++j) w[o * per_out + j] *= s[o];
            bias[o] = bias[o] * s[o] + t[o];
        }
        return it->second->output(0);
    }

    void Conv(const onnx::NodeProto& n) {
        const Value in = GetValue(n.input(0));
        const Const* wc = GetConst(n.input(1));
        if (!wc || wc->dims.size() != 4 || in.dims.size() != 4)
            throw std::runtime_error("Conv: 2-D only, const W");
        if (AttrString(n, "auto_pad", "NOTSET") != "NOTSET")
            throw std::runtime_error("Conv: auto_pad unsupported");
        const size_t O = wc->dims[0], Ig = wc->dims[1], KH = wc->dims[2], KW = wc->dims[3];
        const size_t G = AttrInt(n, "group", 1);
        const size_t C = in.dims[3];
        const auto st = AttrU32(n, "strides", {1, 1}, 2);
        const auto dl = AttrU32(n, "dilations", {1, 1}, 2);
        const auto pd = AttrU32(n, "pads", {0, 0, 0, 0}, 4);  // top, left, bottom, right
        if (st[0] == 0 || st[1] == 0) throw std::runtime_error("Conv: zero stride");
        std::vector<float> bias(O, 0.f);
        if (n.input_size() > 2 && !n.input(2).empty()) bias = GetConst(n.input(2))->f;
        const bool depthwise = G > 1 && Ig == 1 && G == C;
        // ONNX OIHW -> XNNPACK: dense/grouped [O][KH][KW][Ig]; depthwise [1][KH][KW][O].
        std::vector<float> w(O * Ig * KH * KW);
        for (size_t o = 0; o < O; ++o)
            for (size_t i = 0; i < Ig; ++i)
                for (size_t y = 0; y < KH; ++y)
                    for (size_t x = 0; x < KW; ++x)
                        w[((o * KH + y) * KW + x) * Ig + i] =
                            wc->f[((o * Ig + i) * KH + y) * KW + x];
        const std::string out_name = FoldBn(n.output(0), w, KH * KW * Ig, bias);
        if (depthwise) {  // [O][KH][KW] -> [KH][KW][O]
            std::vector<float> wd(w.size());
            for (size_t o = 0; o < O; ++o)
                for (size_t k = 0; k < KH * KW; ++k) wd[k * O + o] = w[o * KH * KW + k];
            w.swap(wd);
        }
        const size_t OH = (in.dims[1] + pd[0] + pd[2] - (dl[0] * (KH - 1) + 1)) / st[0] + 1;
        const size_t OW = (in.dims[2] + pd[1] + pd[3] - (dl[1] * (KW - 1) + 1)) / st[1] + 1;
        const uint32_t wid = Static(
            depthwise ? std::vector<size_t>{1, KH, KW, O} : std::vector<size_t>{O, KH, KW, Ig},
            std::move(w));
        const uint32_t bid = Static({O}, std::move(bias));
        const uint32_t oid = Output(out_name, {in.dims[0], OH, OW, O});
        if (depthwise) {
            XnnCheck(xnn_define_depthwise_convolution_2d(
                         sg, pd[0], pd[3], pd[2], pd[1], U32(KH, "kernel"), U32(KW, "kernel"),
                         st[0], st[1], dl[0], dl[1], U32(O / C, "multiplier"), C, -kInf, kInf,
                         in.id, wid, bid, oid, 0),
                     "depthwise conv " + n.output(0));
        } else {
            if (Ig * G != C) throw std::runtime_error("Conv: channel mismatch at " + n.output(0));
            XnnCheck(xnn_define_convolution_2d(sg, pd[0], pd[3], pd[2], pd[1], U32(KH, "kernel"),
                                               U32(KW, "kernel"), st[0], st[1], dl[0], dl[1],
                                               U32(G, "groups"), Ig, O / G, -kInf, kInf, in.id, wid,
                                               bid, oid, 0),
                     "conv " + n.output(0));
        }
    }

    void FullyConnected(const onnx::NodeProto& n, bool gemm) {
        const Value in = GetValue(n.input(0));
        const Const* bc = GetConst(n.input(1));
        if (!bc || bc->dims.size() != 2)
            throw std::runtime_error("MatMul/Gemm needs a 2-D constant B");
        if (gemm && AttrInt(n, "transA", 0) != 0)
            throw std::runtime_error("Gemm transA unsupported");
        const bool transB = gemm && AttrInt(n, "transB", 0) != 0;
        const float alpha = gemm ? AttrFloat(n, "alpha", 1.f) : 1.f;
        const float beta = gemm ? AttrFloat(n, "beta", 1.f) : 1.f;
        const size_t K = transB ? bc->dims[1] : bc->dims[0];
        const size_t N = transB ? bc->dims[0] : bc->dims[1];
        std::vector<float> w(N * K);  // XNNPACK filter [N][K]
        for (size_t k = 0; k < K; ++k)
            for (size_t j = 0; j < N; ++j)
                w[j * K + k] = alpha * (transB ? bc->f[j * K + k] : bc->f[k * N + j]);
        std::vector<float> bias(N, 0.f);
        if (gemm && n.input_size() > 2 && !n.input(2).empty()) {
            const Const* cc = GetConst(n.input(2));
            if (!cc || (cc->f.size() != N && cc->f.size() != 1))
                throw std::runtime_error("Gemm C must be [N]");
            for (size_t j = 0; j < N; ++j) bias[j] = beta * cc->f[cc->f.size() == 1 ? 0 : j];
        }
        size_t numel = 1;
        for (size_t d : in.dims) numel *= d;
        if (in.dims.back() != K) throw std::runtime_error("MatMul: K mismatch at " + n.output(0));
        const std::string out_name = FoldBn(n.output(0), w, K, bias);
        const uint32_t wid = Static({N, K}, std::move(w));
        const uint32_t bid = Static({N}, std::move(bias));
        const uint32_t oid = Output(out_name, {numel / K, N});
        XnnCheck(xnn_define_fully_connected(sg, -kInf, kInf, in.id, wid, bid, oid, 0),
                 "fully connected " + n.output(0));
    }

    // Constant operand of Add/Mul in XNNPACK order: scalar or per-channel [1,C,1,1]/[C,1,1].
    uint32_t BroadcastConst(const Const& c, const std::vector<size_t>& other) {
        if (c.numel() == 1) return Static({1}, c.f);
        const size_t C = other.back();
        const bool per_channel = other.size() == 4 && c.numel() == C &&
                                 (c.dims.size() == 4 || c.dims.size() == 3) &&
                                 c.dims[c.dims.size() - 3] == static_cast<int64_t>(C);
        if (per_channel) return Static({1, 1, 1, C}, c.f);
        if (other.size() == 2 && c.numel() == C) return Static({1, C}, c.f);
        throw std::runtime_error("Add/Mul: unsupported constant broadcast");
    }

    void Binary(const onnx::NodeProto& n) {
        const bool add = n.op_type() == "Add";
        uint32_t ids[2];
        std::vector<size_t> dims[2];
        for (int k = 0; k < 2; ++k) {
            if (!GetConst(n.input(k))) {
                ids[k] = GetValue(n.input(k)).id;
                dims[k] = GetValue(n.input(k)).dims;
            }
        }
        for (int k = 0; k < 2; ++k) {
            if (const Const* c = GetConst(n.input(k))) {
                if (dims[1 - k].empty()) throw std::runtime_error("Add/Mul of two constants");
                ids[k] = BroadcastConst(*c, dims[1 - k]);
                dims[k] = {1};
            }
        }
        // Numpy broadcast (right-aligned) of the two shapes.
        const size_t r = std::max(dims[0].size(), dims[1].size());
        std::vector<size_t> od(r);
        for (size_t i = 0; i < r; ++i) {
            const size_t a = i < r - dims[0].size() ? 1 : dims[0][i - (r - dims[0].size())];
            const size_t b = i < r - dims[1].size() ? 1 : dims[1][i - (r - dims[1].size())];
            od[i] = std::max(a, b);
        }
        const uint32_t oid = Output(n.output(0), od);
        if (add) {
            XnnCheck(xnn_define_add2(sg, -kInf, kInf, ids[0], ids[1], oid, 0),
                     "add " + n.output(0));
        } else {
            XnnCheck(xnn_define_multiply2(sg, -kInf, kInf, ids[0], ids[1], oid, 0),
                     "mul " + n.output(0));
        }
    }

    void Prelu(const onnx::NodeProto& n) {
        const Value in = GetValue(n.input(0));
        const Const* sc = GetConst(n.input(1));
        if (!sc) throw std::runtime_error("PRelu slope must be constant");
        const size_t C = in.dims.back();
        std::vector<float> slope = sc->f;
        if (slope.size() == 1) slope.assign(C, slope[0]);
        if (slope.size() != C) throw std::runtime_error("PRelu: slope must be per-channel");
        const uint32_t sid = Static({C}, std::move(slope));
        const uint32_t oid = Output(n.output(0), in.dims);
        XnnCheck(xnn_define_prelu(sg, in.id, sid, oid, 0), "prelu " + n.output(0));
    }

    void Clamp(const onnx::NodeProto& n, float lo, float hi) {
        const Value in = GetValue(n.input(0));
        const uint32_t oid = Output(n.output(0), in.dims);
        XnnCheck(xnn_define_clamp(sg, lo, hi, in.id, oid, 0), "clamp " + n.output(0));
    }

    void Sigmoid(const onnx::NodeProto& n) {
        const Value in = GetValue(n.input(0));
        const uint32_t oid = Output(n.output(0), in.dims);
        XnnCheck(xnn_define_sigmoid(sg, in.id, oid, 0), "sigmoid " + n.output(0));
    }

    void GlobalAvgPool(const onnx::NodeProto& n) {
        const Value in = GetValue(n.input(0));
        const uint32_t oid = Output(n.output(0), {in.dims[0], 1, 1, in.dims[3]});
        XnnCheck(xnn_define_global_average_pooling_2d(sg, -kInf, kInf, in.id, oid, 0),
                 "gap " + n.output(0));
    }

    void MaxPool(const onnx::NodeProto& n) {
        const Value in = GetValue(n.input(0));
        if (AttrInt(n, "ceil_mode", 0) != 0 || AttrString(n, "auto_pad", "NOTSET") != "NOTSET")
            throw std::runtime_error("MaxPool: ceil_mode/auto_pad unsupported");
        const auto k = AttrU32(n, "kernel_shape", {}, 2);
        const auto st = AttrU32(n, "strides", {1, 1}, 2);
        const auto pd = AttrU32(n, "pads", {0, 0, 0, 0}, 4);
        if (st[0] == 0 || st[1] == 0) throw std::runtime_error("MaxPool: zero stride");
        const size_t OH = (in.dims[1] + pd[0] + pd[2] - k[0]) / st[0] + 1;
        const size_t OW = (in.dims[2] + pd[1] + pd[3] - k[1]) / st[1] + 1;
        const uint32_t oid = Output(n.output(0), {in.dims[0], OH, OW, in.dims[3]});
        XnnCheck(xnn_define_max_pooling_2d(sg, pd[0], pd[3], pd[2], pd[1], k[0], k[1], st[0], st[1],
                                           1, 1, -kInf, kInf, in.id, oid, 0),
                 "maxpool " + n.output(0));
    }

    void Pad(const onnx::NodeProto& n) {
        const Value in = GetValue(n.input(0));
        if (AttrString(n, "mode", "constant") != "constant")
            throw std::runtime_error("Pad: constant mode only");
        std::vector<int64_t> p = AttrInts(n, "pads", {});
        float value = AttrFloat(n, "value", 0.f);
        if (p.empty() && n.input_size() > 1) {  // opset >= 11
            p = GetConst(n.input(1))->i;
            if (n.input_size() > 2 && !n.input(2).empty()) value = GetConst(n.input(2))->f.at(0);
        }
        if (p.size() != 8 || in.dims.size() != 4) throw std::runtime_error("Pad: 4-D only");
        // NCHW begin/end -> NHWC.
        const size_t pre[4] = {size_t(p[0]), size_t(p[2]), size_t(p[3]), size_t(p[1])};
        const size_t post[4] = {size_t(p[4]), size_t(p[6]), size_t(p[7]), size_t(p[5])};
        std::vector<size_t> od(4);
        for (int i = 0; i < 4; ++i) od[i] = in.dims[i] + pre[i] + post[i];
        const uint32_t oid = Output(n.output(0), od);
        XnnCheck(xnn_define_static_constant_pad(sg, pre, post, value, in.id, oid, 0),
                 "pad " + n.output(0));
    }

    void Reshape(const onnx::NodeProto& n) {
        const Value in = GetValue(n.input(0));
        size_t numel = 1;
        for (size_t d : in.dims) numel *= d;
        std::vector<int64_t> shape;
        if (n.op_type() == "Flatten") {
            if (AttrInt(n, "axis", 1) != 1) throw std::runtime_error("Flatten: axis 1 only");
            shape = {static_cast<int64_t>(in.dims[0]), -1};
        } else {
            const Const* sc = GetConst(n.input(1));
            if (!sc) throw std::runtime_error("Reshape: shape must be constant");
            shape = sc->i;
        }
        // ONNX dims of the input, to resolve 0 entries.
        std::vector<size_t> onnx_in(in.dims);
        if (onnx_in.size() == 4) onnx_in = {in.dims[0], in.dims[3], in.dims[1], in.dims[2]};
        int64_t known = 1, neg = -1;
        for (size_t i = 0; i < shape.size(); ++i) {
            if (shape[i] == 0) shape[i] = static_cast<int64_t>(onnx_in.at(i));
            if (shape[i] == -1)
                neg = static_cast<int64_t>(i);
            else
                known *= shape[i];
        }
        if (neg >= 0) shape[neg] = static_cast<int64_t>(numel) / known;
        // Only layouts where NCHW and NHWC element orders coincide.
        auto agrees = [](const std::vector<size_t>& nhwc) {
            return nhwc.size() != 4 || (nhwc[1] == 1 && nhwc[2] == 1) || nhwc[3] == 1;
        };
        const std::vector<size_t> od = ToNhwc(shape);
        if (!agrees(in.dims) || !agrees(od))
            throw std::runtime_error("Reshape: would need an NHWC->NCHW transpose at " +
                                     n.output(0));
        const uint32_t oid = Output(n.output(0), od);
        XnnCheck(xnn_define_static_reshape(sg, od.size(), od.data(), in.id, oid, 0),
                 "reshape " + n.output(0));
    }
};

void XnnNet::Build(const std::vector<std::uint8_t>& onnx, const XnnNetShape& shape) {
    impl_ = std::make_unique<Impl>();
    Impl& m = *impl_;
    if (onnx.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
        !m.model.ParseFromArray(onnx.data(), static_cast<int>(onnx.size()))) {
        throw std::runtime_error("not an ONNX model");
    }
    XnnCheck(xnn_initialize(nullptr), "xnn_initialize");
    const auto& g = m.model.graph();
    for (const auto& t : g.initializer()) m.consts[t.name()] = FromTensor(t);
    for (const auto& n : g.node())
        for (const auto& i : n.input()) ++m.uses[i];

    std::vector<std::string> out_names = shape.outputs;
    if (out_names.empty()) {
        for (const auto& o : g.output()) out_names.push_back(o.name());
    }
    if (out_names.empty()) throw std::runtime_error("no graph output");
    std::set<std::string> out_set(out_names.begin(), out_names.end());

    // Schedule BatchNormalization folding into a single-use MatMul/Gemm/Conv producer.
    std::map<std::string, const onnx::NodeProto*> producer;
    for (const auto& n : g.node())
        for (const auto& o : n.output()) producer[o] = &n;
    for (const auto& n : g.node()) {
        if (n.op_type() != "BatchNormalization") continue;
        auto it = producer.find(n.input(0));
        if (it == producer.end()) continue;
        const std::string& op = it->second->op_type();
        if ((op == "MatMul" || op == "Gemm" || op == "Conv") && m.uses[n.input(0)] == 1 &&
            !out_set.count(n.input(0)))
            m.bn_after[n.input(0)] = &n;
    }

    // Graph input (exactly one non-initializer input, NCHW).
    const onnx::ValueInfoProto* gin = nullptr;
    for (const auto& i : g.input())
        if (!m.consts.count(i.name())) gin = &i;
    if (!gin) throw std::runtime_error("no graph input");
    std::vector<int64_t> idims;
    for (const auto& d : gin->type().tensor_type().shape().dim())
        idims.push_back(d.dim_value() ? d.dim_value() : 1);
    input_dims_ = ToNhwc(idims);
    if (shape.input_hw.size() == 2 && input_dims_.size() == 4) {
        input_dims_[1] = shape.input_hw[0];
        input_dims_[2] = shape.input_hw[1];
    }

    XnnCheck(xnn_create_subgraph(1 + U32(out_names.size(), "outputs"), 0, &m.sg),
             "create subgraph");
    uint32_t in_id;
    XnnCheck(
        xnn_define_tensor_value(m.sg, xnn_datatype_fp32, input_dims_.size(), input_dims_.data(),
                                nullptr, 0, XNN_VALUE_FLAG_EXTERNAL_INPUT, &in_id),
        "define input");
    m.values[gin->name()] = {in_id, input_dims_};
    for (size_t k = 0; k < out_names.size(); ++k) {
        m.external_outputs[out_names[k]] = 1 + U32(k, "outputs");
    }

    // Only the nodes the wanted outputs depend on (lets a caller cut a graph's tail).
    std::set<const onnx::NodeProto*> needed;
    {
        std::vector<std::string> stack(out_names.begin(), out_names.end());
        while (!stack.empty()) {
            const std::string t = stack.back();
            stack.pop_back();
            auto it = producer.find(t);
            if (it == producer.end() || !needed.insert(it->second).second) continue;
            for (const auto& i : it->second->input()) stack.push_back(i);
        }
    }
    std::set<std::string> pending(out_set);
    try {
        for (const auto& n : g.node()) {
            if (!needed.count(&n)) continue;
            const std::string& op = n.op_type();
            if (op == "Constant") {
                m.consts[n.output(0)] = FromTensor(FindAttr(n, "value")->t());
                continue;
            }
            if (m.values.count(n.output(0))) {  // already produced by a fold
                pending.erase(n.output(0));
                continue;
            }
            if (op == "Conv")
                m.Conv(n);
            else if (op == "MatMul")
                m.FullyConnected(n, false);
            else if (op == "Gemm")
                m.FullyConnected(n, true);
            else if (op == "Add" || op == "Mul")
                m.Binary(n);
            else if (op == "PRelu")
                m.Prelu(n);
            else if (op == "Relu")
                m.Clamp(n, 0.f, kInf);
            else if (op == "Clip") {
                float lo = AttrFloat(n, "min", -kInf), hi = AttrFloat(n, "max", kInf);
                if (n.input_size() > 1 && !n.input(1).empty()) lo = m.GetConst(n.input(1))->f.at(0);
                if (n.input_size() > 2 && !n.input(2).empty()) hi = m.GetConst(n.input(2))->f.at(0);
                m.Clamp(n, lo, hi);
            } else if (op == "Sigmoid")
                m.Sigmoid(n);
            else if (op == "GlobalAveragePool")
                m.GlobalAvgPool(n);
            else if (op == "MaxPool")
                m.MaxPool(n);
            else if (op == "Pad")
                m.Pad(n);
            else if (op == "Reshape" || op == "Flatten")
                m.Reshape(n);
            else if (op == "BatchNormalization") {  // unfolded: x * s + t, per channel (last dim)
                const Value in = m.GetValue(n.input(0));
                std::vector<float> s, t;
                Impl::BnScaleShift(m, n, s, t);
                std::vector<size_t> cd(in.dims.size(), 1);
                cd.back() = s.size();
                const uint32_t sid = m.Static(cd, std::move(s)), tid = m.Static(cd, std::move(t));
                uint32_t mid;
                XnnCheck(
                    xnn_define_tensor_value(m.sg, xnn_datatype_fp32, in.dims.size(), in.dims.data(),
                                            nullptr, XNN_INVALID_VALUE_ID, 0, &mid),
                    "bn tmp");
                XnnCheck(xnn_define_multiply2(m.sg, -kInf, kInf, in.id, sid, mid, 0), "bn mul");
                const uint32_t oid = m.Output(n.output(0), in.dims);
                XnnCheck(xnn_define_add2(m.sg, -kInf, kInf, mid, tid, oid, 0), "bn add");
            } else {
                throw std::runtime_error("unsupported ONNX op " + op + " (" + n.name() + ")");
            }
            for (const auto& o : n.output()) pending.erase(o);
            if (auto it = m.bn_after.find(n.output(0)); it != m.bn_after.end()) {
                pending.erase(it->second->output(0));
            }
        }
        if (!pending.empty()) throw std::runtime_error("outputs not produced: " + *pending.begin());
        XnnCheck(xnn_create_runtime_v2(m.sg, /*threadpool=*/nullptr, 0, &runtime_),
                 "create runtime");
    } catch (...) {
        xnn_delete_subgraph(m.sg);
        m.sg = nullptr;
        throw;
    }
    xnn_delete_subgraph(m.sg);
    m.sg = nullptr;

    std::size_t in_numel = 1;
    for (std::size_t d : input_dims_) in_numel *= d;
    input_.assign(in_numel + XNN_EXTRA_BYTES / sizeof(float), 0.f);
    std::vector<xnn_external_value> ext{{0, input_.data()}};
    for (std::size_t k = 0; k < out_names.size(); ++k) {
        Output o;
        o.dims = m.GetValue(out_names[k]).dims;
        o.size = 1;
        for (std::size_t d : o.dims) o.size *= d;
        o.data.assign(o.size + XNN_EXTRA_BYTES / sizeof(float), 0.f);
        outputs_.push_back(std::move(o));
    }
    for (std::size_t k = 0; k < outputs_.size(); ++k) {
        ext.push_back({1 + U32(k, "outputs"), outputs_[k].data.data()});
    }
    XnnCheck(xnn_setup_runtime(runtime_, ext.size(), ext.data()), "setup runtime");
    // The runtime keeps what it needs; the parsed model is no longer read.
    m.model.Clear();
    m.consts.clear();
}

Expected<std::unique_ptr<XnnNet>> XnnNet::FromOnnx(const std::vector<std::uint8_t>& onnx,
                                                   const std::string& what,
                                                   const XnnNetShape& shape) {
    std::unique_ptr<XnnNet> net(new XnnNet());
    try {
        net->Build(onnx, shape);
    } catch (const std::exception& e) {
        return MakeError(ErrorCode::ModelCorrupt,
                         what + " cannot run on XNNPACK: " + std::string(e.what()));
    }
    return net;
}

XnnNet::~XnnNet() {
    if (runtime_ != nullptr) xnn_delete_runtime(runtime_);
}

std::span<const float> XnnNet::RunImage(const cv::Mat& bgr, double scale, bool swap_rb) {
    if (input_dims_.size() != 4 || input_dims_[0] != 1 || input_dims_[3] != 3 ||
        bgr.type() != CV_8UC3 || static_cast<std::size_t>(bgr.rows) != input_dims_[1] ||
        static_cast<std::size_t>(bgr.cols) != input_dims_[2]) {
        throw std::runtime_error("XNNPACK: the image does not match the network's input");
    }
    // A header over the input buffer: convertTo writes into it without allocating.
    cv::Mat input(bgr.rows, bgr.cols, CV_32FC3, input_.data());
    const cv::Mat* source = &bgr;
    if (swap_rb) {
        cv::cvtColor(bgr, rgb_, cv::COLOR_BGR2RGB);
        source = &rgb_;
    }
    source->convertTo(input, CV_32FC3, scale);
    XnnCheck(xnn_invoke_runtime(runtime_), "invoke runtime");
    return output(0);
}

std::span<const float> XnnNet::Run(std::span<const float> input_nhwc) {
    const std::size_t n = input_.size() - XNN_EXTRA_BYTES / sizeof(float);
    if (input_nhwc.size() != n) throw std::runtime_error("XNNPACK: input size mismatch");
    std::copy(input_nhwc.begin(), input_nhwc.end(), input_.begin());
    XnnCheck(xnn_invoke_runtime(runtime_), "invoke runtime");
    return output(0);
}

}  // namespace liveproof::vision
