#!/usr/bin/env python3
"""The four networks on the GPU runtimes a terminal could run instead of liveshade: ncnn
(PyPI's `ncnn`) on Vulkan (the same adapter liveshade runs on where ncnn picks it: lavapipe
here) and on its CPU path, converted from shared/models/onnx with PyPI's `pnnx`; and ONNX
Runtime's WebGPU provider (`onnxruntime-webgpu`) where it finds an adapter. Each network is first fed the golden inputs (tests/golden/*.safetensors) and its
outputs compared with the golden outputs at shared/golden/README.md 7.1's tolerances: a peer
that computes something else (a wrong conversion, fp16 storage on Vulkan) is reported as such,
and its time is marked, never silently compared. Then each network is timed alone, input to
output, like `liveshade bench`'s per-network figures.

Usage: gpu_peers.py MODELS_DIR GOLDEN_DIR WORK_DIR [--runs N] [--threads T] [--convert-only]
(prints JSON). WORK_DIR keeps the converted models between runs; with them there, neither
pnnx nor MODELS_DIR is needed (tools/gpu_check.sh carries them to a device machine).
"""
import argparse
import glob
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import time

import ncnn
import numpy as np

# name: (ONNX file, pnnx input shape, golden input, input layout, [(golden output, tolerance)])
# Tolerances: shared/golden/README.md 7.1 (as tools/peers/bench_peers.py and tests/networks.rs).
NETWORKS = {
    'blazeface': ('face_detection_short_range.onnx', '[1,128,128,3]', 'blazeface.input.nhwc', 'nhwc',
                  [('blazeface.out.regressors', 2e-3), ('blazeface.out.classificators', 5e-3)]),
    'facemesh': ('face_landmark.onnx', '[1,192,192,3]', 'facemesh.input.nhwc', 'nhwc',
                 [('facemesh.out.landmarks', 1e-3), ('facemesh.out.face_flag', 2e-4)]),
    'minifasnet_v2': ('minifasnet_v2_2.7_80x80.onnx', '[1,3,80,80]', 'minifas.blazeface.v2.input.nchw', 'nchw',
                      [('minifas.blazeface.v2.logits', 5e-5), ('minifas.blazeface.v2.softmax', 1e-5)]),
    'minifasnet_v1se': ('minifasnet_v1se_4.0_80x80.onnx', '[1,3,80,80]', 'minifas.blazeface.v1se.input.nchw', 'nchw',
                        [('minifas.blazeface.v1se.logits', 5e-5), ('minifas.blazeface.v1se.softmax', 1e-5)]),
}


def safetensors(path):
    """{name: float32 array} of a safetensors file (f32 tensors only)."""
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, v in header.items():
        if name == '__metadata__' or v['dtype'] != 'F32':
            continue
        a, b = v['data_offsets']
        out[name] = np.frombuffer(data[a:b], np.float32).reshape(v['shape'])
    return out


def channel_pads_as_concat(src, dst):
    """The tf2onnx graphs of BlazeFace and Face Mesh grow a residual's channels with Pad (pads
    on axis 1 only, constant 0). pnnx keeps those as a `Pad` layer that ncnn does not have
    (BlazeFace fails to run; Face Mesh loads with a wrong result). The same op as a Concat of
    the input with a zero tensor of the missing channels, which ncnn runs."""
    import onnx
    from onnx import helper, numpy_helper
    model = onnx.load(src)
    graph = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    shapes = {}
    inferred = onnx.shape_inference.infer_shapes(model)
    for value in list(inferred.graph.value_info) + list(inferred.graph.input):
        dims = [d.dim_value for d in value.type.tensor_type.shape.dim]
        shapes[value.name] = dims
    rewritten = 0
    nodes = []
    for node in graph.node:
        if node.op_type == 'Pad' and len(node.input) >= 2 and node.input[1] in inits:
            pads = inits[node.input[1]].tolist()
            rank = len(pads) // 2
            shape = shapes.get(node.input[0])
            only_channels = rank == 4 and all(p == 0 for i, p in enumerate(pads) if i % rank != 1) and pads[rank + 1] > 0 and pads[1] == 0
            if only_channels and shape and all(shape):
                zeros = np.zeros([shape[0], pads[rank + 1], shape[2], shape[3]], np.float32)
                name = node.output[0] + '_zeros'
                graph.initializer.append(numpy_helper.from_array(zeros, name))
                nodes.append(helper.make_node('Concat', [node.input[0], name], list(node.output), axis=1))
                rewritten += 1
                continue
        nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, dst)
    return rewritten


def convert(models, work, name):
    """The ncnn .param/.bin of network `name`, converted once into `work`."""
    file, shape = NETWORKS[name][0], NETWORKS[name][1]
    folder = os.path.join(work, name)
    param = os.path.join(folder, 'model.ncnn.param')
    if os.path.exists(param):
        return param, param[:-len('param')] + 'bin'
    os.makedirs(folder, exist_ok=True)
    source = os.path.join(folder, 'model.onnx')
    if name in ('blazeface', 'facemesh'):
        rewritten = channel_pads_as_concat(os.path.join(models, 'onnx', file), source)
        print('%s: %d channel Pads rewritten as Concat' % (name, rewritten), file=sys.stderr)
    else:
        shutil.copy(os.path.join(models, 'onnx', file), source)
    pnnx = os.path.join(os.path.dirname(sys.executable), 'pnnx')
    # fp16=0: pnnx stores ncnn weights as float16 by default (BlazeFace's regressors then
    # miss the goldens by 0.08, MiniFASNet's logits by 0.03-0.05).
    subprocess.run([pnnx, 'model.onnx', 'inputshape=%s' % shape, 'fp16=0'], cwd=folder, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return param, param[:-len('param')] + 'bin'


def as_mat(array, layout):
    x = array[0]
    if layout == 'nhwc->chw':
        x = x.transpose(2, 0, 1)
    return ncnn.Mat(np.ascontiguousarray(x, np.float32))


def run(net, name, x):
    extractor = net.create_extractor()
    extractor.input('in0', x)
    outputs = []
    for k in range(len(NETWORKS[name][4])):
        status, out = extractor.extract('out%d' % k)
        if status != 0:
            raise RuntimeError('%s: ncnn could not compute out%d (status %d)' % (name, k, status))
        outputs.append(np.array(out).reshape(-1))
    return outputs


def webgpu_sessions(models):
    """ONNX Runtime sessions on its WebGPU provider, or why there are none: without a WebGPU
    adapter ONNX Runtime falls back to its CPU provider (Dawn logs the reason on stderr)."""
    try:
        import onnxruntime
    except ImportError:
        return None, 'not measured: no onnxruntime'
    if not os.path.isdir(os.path.join(models, 'onnx')):
        return None, 'not measured: no ONNX models at %s' % models
    sessions = {}
    for name, (file, *_rest) in NETWORKS.items():
        # The NHWC exports as they are: ONNX Runtime takes either layout.
        session = onnxruntime.InferenceSession(os.path.join(models, 'onnx', file), providers=['WebGpuExecutionProvider'])
        if session.get_providers()[0] != 'WebGpuExecutionProvider':
            return None, 'ONNX Runtime %s fell back to %s: no WebGPU adapter' % (onnxruntime.__version__, session.get_providers())
        sessions[name] = session
    return sessions, None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('models')
    parser.add_argument('golden')
    parser.add_argument('work')
    parser.add_argument('--runs', type=int, default=30)
    parser.add_argument('--threads', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--convert-only', action='store_true')
    args = parser.parse_args()
    if args.convert_only:
        for name in NETWORKS:
            print(*convert(args.models, args.work, name))
        return
    goldens = [safetensors(p) for p in sorted(glob.glob(os.path.join(args.golden, '*.safetensors')))]
    vulkan = ncnn.get_gpu_count() > 0
    result = {'runtime': 'ncnn %s (pnnx-converted)' % ncnn.__version__, 'threads': args.threads,
              'vulkan_device': ncnn.get_gpu_info(0).device_name() if vulkan else None, 'networks': {}}
    for name, (_, _, input_name, layout, outputs) in NETWORKS.items():
        param, model = convert(args.models, args.work, name)
        # ncnn's defaults (fp16 storage and arithmetic where the device has them, as on
        # lavapipe), and Vulkan with every fp16 option off: float32 as liveshade computes.
        for device in ['cpu'] + (['vulkan', 'vulkan-fp32'] if vulkan else []):
            net = ncnn.Net()
            net.opt.num_threads = args.threads
            net.opt.use_vulkan_compute = device.startswith('vulkan')
            if device == 'vulkan-fp32' or device == 'cpu':
                net.opt.use_fp16_packed = False
                net.opt.use_fp16_storage = False
                net.opt.use_fp16_arithmetic = False
                net.opt.use_bf16_storage = False
            net.load_param(param)
            net.load_model(model)
            worst = {}
            for golden in goldens:
                got = run(net, name, as_mat(golden[input_name], layout))
                for (output, tolerance), value in zip(outputs, got):
                    want = golden[output].reshape(-1)
                    diff = float(np.max(np.abs(value - want))) if value.size == want.size else float('inf')
                    worst[output] = max(worst.get(output, 0.0), diff)
            exact = all(worst[o] <= t for o, t in outputs)
            x = as_mat(goldens[0][input_name], layout)
            for _ in range(3):
                run(net, name, x)
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                run(net, name, x)
                times.append((time.perf_counter() - start) * 1e3)
            result['networks'].setdefault(name, {})[device] = {
                'median_ms': statistics.median(times),
                'max_abs_diff': worst,
                'within_tolerance': exact,
            }
            del net
    sessions, refused = webgpu_sessions(args.models)
    result['onnxruntime_webgpu'] = refused or 'runs'
    for name, session in (sessions or {}).items():
        _, _, input_name, layout, outputs = NETWORKS[name]
        feed = lambda golden: {session.get_inputs()[0].name: golden[input_name].transpose(0, 3, 1, 2) if name == 'blazeface' and 'nchw' in NETWORKS[name][0] else golden[input_name]}
        worst = {}
        for golden in goldens:
            got = session.run(None, feed(golden))
            for (output, tolerance), value in zip(outputs, got):
                want = golden[output].reshape(-1)
                worst[output] = max(worst.get(output, 0.0), float(np.max(np.abs(value.reshape(-1) - want))))
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            session.run(None, feed(goldens[0]))
            times.append((time.perf_counter() - start) * 1e3)
        result['networks'][name]['onnxruntime-webgpu'] = {
            'median_ms': statistics.median(times),
            'max_abs_diff': worst,
            'within_tolerance': all(worst[o] <= t for o, t in outputs),
        }
    print(json.dumps(result))


if __name__ == '__main__':
    main()
