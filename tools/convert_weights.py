#!/usr/bin/env python3
"""Rebuild weights/ from the original published model files.

Sources (sha256-checked; NOTICE has the licences):
  * face_detection_short_range.tflite and face_landmark.tflite from the PyPI wheel
    mediapipe==0.10.14 (or the identical copies given with --tflite-dir);
  * 2.7_80x80_MiniFASNetV2.pth and 4_0_0_80x80_MiniFASNetV1SE.pth from
    Silent-Face-Anti-Spoofing commit b6d5f04 (shared/models).

What it writes (names and layouts: shared/golden/ARCHITECTURES.md; src/models/ reads them):
  * blazeface_short_range.safetensors, face_landmark.safetensors: the TFLite float16
    constants kept as float16 (bit-exact: TFLite itself dequantises them to f32), conv OIHW,
    depthwise C,1,KH,KW, PReLU alpha C, bias C;
  * minifasnet_v2_2.7_80x80.safetensors, minifasnet_v1se_4.0_80x80.safetensors: every
    BatchNorm folded into the preceding bias-free conv / linear in float64, stored float32
    (float16 moves MiniFASNet's logits past the golden tolerance; see weights/README.md).

The safetensors files are written by this script with sorted header keys, so a rebuild is
byte-identical (`--check` verifies that against weights/). The .pth files are read without
PyTorch: they are zip archives of a pickle plus raw storages, decoded here.

Adapted from shared/golden/scripts/convert_weights.py (same name maps and folding rule).
"""
import argparse
import hashlib
import io
import json
import os
import pickle
import struct
import sys
import zipfile
from collections import OrderedDict

import numpy as np
import tflite
from tflite.BuiltinOperator import BuiltinOperator

SHA256 = {
    'face_detection_short_range.tflite': 'bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8',
    'face_landmark.tflite': '1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814',
    '2.7_80x80_MiniFASNetV2.pth': 'a5eb02e1843f19b5386b953cc4c9f011c3f985d0ee2bb9819eea9a142099bec0',
    '4_0_0_80x80_MiniFASNetV1SE.pth': '84ee1d37d96894d5e82de5a57df044ef80a58be2b218b5ed7cdfd875ec2f5990',
}
WHEEL_PATHS = {
    'face_detection_short_range.tflite': 'mediapipe/modules/face_detection/face_detection_short_range.tflite',
    'face_landmark.tflite': 'mediapipe/modules/face_landmark/face_landmark.tflite',
}
OPERATOR = {v: k for k, v in BuiltinOperator.__dict__.items() if not k.startswith('_')}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def checked(name, data):
    digest = sha256(data)
    if digest != SHA256[name]:
        sys.exit('%s: sha256 %s, expected %s (not the published file)' % (name, digest, SHA256[name]))
    return data


# ---------------------------------------------------------------- safetensors writer
DTYPES = {np.dtype('<f2'): 'F16', np.dtype('<f4'): 'F32', np.dtype('u1'): 'U8', np.dtype('<i4'): 'I32'}


def save_safetensors(path, tensors, metadata):
    """Deterministic safetensors: tensors and header keys sorted by name."""
    header = OrderedDict([('__metadata__', OrderedDict(sorted(metadata.items())))])
    offset = 0
    blobs = []
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        data = array.tobytes()
        header[name] = OrderedDict([('dtype', DTYPES[array.dtype]), ('shape', list(array.shape)),
                                    ('data_offsets', [offset, offset + len(data)])])
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


# ---------------------------------------------------------------- TFLite
def tflite_constants(data):
    """{tflite tensor name: (float16 array, consuming op, input slot)} for every float16
    constant (each feeds a DEQUANTIZE op)."""
    model = tflite.Model.GetRootAsModel(data, 0)
    graph = model.Subgraphs(0)

    def op_name(op):
        code = model.OperatorCodes(op.OpcodeIndex())
        return OPERATOR[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]

    dequantized_from = {}
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        if op_name(op) == 'DEQUANTIZE':
            dequantized_from[int(op.Outputs(0))] = int(op.Inputs(0))
    found = {}
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        name = op_name(op)
        if name == 'DEQUANTIZE':
            continue
        for slot, tensor in enumerate(op.InputsAsNumpy()):
            source = dequantized_from.get(int(tensor))
            if source is None:
                continue
            t = graph.Tensors(source)
            assert t.Type() == 1, 'expected a FLOAT16 constant'
            raw = model.Buffers(t.Buffer()).DataAsNumpy().tobytes()
            array = np.frombuffer(raw, dtype='<f2').reshape(list(t.ShapeAsNumpy()))
            found[t.Name().decode()] = (array, name, slot)
    return found


def tflite_layout(array, op, slot):
    if op == 'CONV_2D' and slot == 1:
        return array.transpose(0, 3, 1, 2)           # OHWI -> OIHW
    if op == 'DEPTHWISE_CONV_2D' and slot == 1:
        return array.transpose(3, 0, 1, 2)           # 1,H,W,C -> C,1,H,W
    if (op == 'PRELU' and slot == 1) or slot == 2:
        return array.reshape(-1)                     # alpha 1,1,C / bias C -> C
    raise ValueError((op, slot, array.shape))


def blazeface_names():
    names = OrderedDict([('conv2d', 'backbone.stem')])
    for k in range(1, 17):
        names['depthwise_conv2d' if k == 1 else 'depthwise_conv2d_%d' % (k - 1)] = 'backbone.block%02d.dw' % k
        names['conv2d_%d' % k] = 'backbone.block%02d.pw' % k
    for head in ('classificator_8', 'classificator_16', 'regressor_8', 'regressor_16'):
        kind, stride = head.split('_')
        names[head] = 'head.%s_s%s' % ('classifier' if kind == 'classificator' else 'regressor', stride)
    return names


def facemesh_names():
    names = OrderedDict([('conv2d_1', 'backbone.stem.conv'), ('p_re_lu_1', 'backbone.stem.prelu')])
    for k in range(1, 15):
        names['depthwise_conv2d_%d' % k] = 'backbone.block%02d.dw' % k
        names['conv2d_%d' % (k + 1)] = 'backbone.block%02d.pw' % k
        names['p_re_lu_%d' % (k + 1)] = 'backbone.block%02d.prelu' % k
    for j, k in enumerate(range(15, 18), start=1):
        names['depthwise_conv2d_%d' % k] = 'landmarks.block%d.dw' % j
        names['conv2d_%d' % (k + 1)] = 'landmarks.block%d.pw' % j
        names['p_re_lu_%d' % (k + 1)] = 'landmarks.block%d.prelu' % j
    names.update([
        ('conv2d_19', 'landmarks.reduce.conv'), ('p_re_lu_19', 'landmarks.reduce.prelu'),
        ('depthwise_conv2d_18', 'landmarks.block4.dw'), ('conv2d_20', 'landmarks.block4.pw'),
        ('p_re_lu_20', 'landmarks.block4.prelu'), ('conv2d_21', 'landmarks.out'),
        ('depthwise_conv2d_23', 'face_flag.block1.dw'), ('conv2d_28', 'face_flag.block1.pw'),
        ('p_re_lu_26', 'face_flag.block1.prelu'), ('conv2d_29', 'face_flag.reduce.conv'),
        ('p_re_lu_27', 'face_flag.reduce.prelu'), ('depthwise_conv2d_24', 'face_flag.block2.dw'),
        ('conv2d_30', 'face_flag.block2.pw'), ('p_re_lu_28', 'face_flag.block2.prelu'),
        ('conv2d_31', 'face_flag.out'),
    ])
    return names


def convert_tflite(name, data, names, network):
    constants = tflite_constants(data)
    tensors = {}
    used = set()
    for prefix, ours in names.items():
        for suffix, our_suffix in (('Kernel', 'weight'), ('Bias', 'bias'), ('Alpha', 'alpha')):
            key = '%s/%s' % (prefix, suffix)
            if key in constants:
                array, op, slot = constants[key]
                tensors['%s.%s' % (ours, our_suffix)] = tflite_layout(array, op, slot)
                used.add(key)
    missing = set(constants) - used
    assert not missing, 'unmapped TFLite constants: %s' % sorted(missing)
    meta = {'network': network, 'source': name, 'source_sha256': sha256(data),
            'dtype': 'F16: the TFLite float16 constants, unchanged',
            'layout': 'conv OIHW; depthwise C,1,KH,KW; prelu alpha C; bias C'}
    return tensors, meta


# ---------------------------------------------------------------- PyTorch .pth without torch
class _Storage:
    def __init__(self, key, dtype):
        self.key, self.dtype = key, dtype


def _rebuild_tensor(storage, offset, size, stride, *_):
    return ('tensor', storage, offset, tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module == 'torch._utils' and name == '_rebuild_tensor_v2':
            return _rebuild_tensor
        if module == 'collections' and name == 'OrderedDict':
            return OrderedDict
        if module == 'torch' and name == 'FloatStorage':
            return 'float32'
        if module == 'torch' and name == 'LongStorage':
            return 'int64'
        raise pickle.UnpicklingError('unexpected class %s.%s in a state dict' % (module, name))

    def persistent_load(self, pid):
        kind, storage_type, key = pid[0], pid[1], pid[2]
        assert kind == 'storage'
        return _Storage(key, storage_type)


NUMPY_DTYPE = {'float32': '<f4', 'int64': '<i8'}


def _tensor_from(raw, offset, size, stride):
    count = int(np.prod(size)) if size else 1
    if count == 0:
        return raw[:0].reshape(size)
    view = np.lib.stride_tricks.as_strided(raw[offset:], shape=size, strides=[s * raw.itemsize for s in stride])
    return np.array(view, copy=True)


def load_state_dict(data):
    """A PyTorch state dict of float32 / int64 tensors, from either serialisation format:
    the zip archive (torch >= 1.6) or the legacy stream (magic, protocol, sys info, the
    pickle, the storage keys, then each storage as int64 count + raw bytes)."""
    if data[:2] == b'PK':
        archive = zipfile.ZipFile(io.BytesIO(data))
        pickle_name = next(n for n in archive.namelist() if n.endswith('data.pkl'))
        root = pickle_name[:-len('data.pkl')]
        entries = _Unpickler(io.BytesIO(archive.read(pickle_name))).load()
        storages = {}
        for _, storage, *_ in entries.values():
            storages[storage.key] = np.frombuffer(archive.read(root + 'data/' + storage.key), dtype=NUMPY_DTYPE[storage.dtype])
    else:
        stream = io.BytesIO(data)
        magic = pickle.load(stream)
        assert magic == 0x1950a86a20f9469cfc6c, 'not a PyTorch file'
        pickle.load(stream)                        # protocol version
        pickle.load(stream)                        # sys info
        entries = _Unpickler(stream).load()
        keys = pickle.load(stream)
        dtypes = {storage.key: storage.dtype for _, storage, *_ in entries.values()}
        storages = {}
        for key in keys:
            dtype = np.dtype(NUMPY_DTYPE[dtypes[key]])
            (count,) = struct.unpack('<q', stream.read(8))
            storages[key] = np.frombuffer(stream.read(count * dtype.itemsize), dtype=dtype)
    state = OrderedDict()
    for key, (_, storage, offset, size, stride) in entries.items():
        state[key[7:] if key.startswith('module.') else key] = _tensor_from(storages[storage.key], offset, size, stride)
    return state


def fold_batch_norm(state, eps=1e-5):
    """Folds each BatchNorm into the bias-free conv / linear before it (float64 math)."""
    folded = OrderedDict()
    done = set()
    for prefix in sorted(k[:-len('.running_mean')] for k in state if k.endswith('.running_mean')):
        gamma, beta, mean, var = (state[prefix + s].astype(np.float64) for s in ('.weight', '.bias', '.running_mean', '.running_var'))
        gain = gamma / np.sqrt(var + eps)
        if prefix == 'bn':
            weight_key = 'linear.weight'
        elif prefix.endswith('.bn1') or prefix.endswith('.bn2'):
            weight_key = prefix[:-4] + ('.fc1' if prefix.endswith('1') else '.fc2') + '.weight'
        elif prefix.endswith('.bn'):
            weight_key = prefix[:-3] + '.conv.weight'
        else:
            raise ValueError(prefix)
        weight = state[weight_key].astype(np.float64)
        base = weight_key[:-len('.weight')]
        folded[base + '.weight'] = (weight * gain.reshape((-1,) + (1,) * (weight.ndim - 1))).astype('<f4')
        folded[base + '.bias'] = (beta - mean * gain).astype('<f4')
        done.update([weight_key] + [prefix + s for s in ('.weight', '.bias', '.running_mean', '.running_var', '.num_batches_tracked')])
    for key, value in state.items():
        if key not in done and not key.endswith('num_batches_tracked'):
            folded[key] = value.astype('<f4')
    return folded


def convert_pth(name, data, network):
    tensors = fold_batch_norm(load_state_dict(data))
    meta = {'network': network, 'source': name, 'source_sha256': sha256(data),
            'dtype': 'F32: BatchNorm folded in float64, stored float32',
            'layout': "PyTorch: conv OIHW (depthwise C,1,KH,KW); linear (out,in); PReLU weight C; "
                      "'module.' prefix removed; every BatchNorm (eps 1e-5) folded into the preceding conv/linear "
                      "as W*g and beta - mean*g, g = gamma/sqrt(var+eps)"}
    return tensors, meta


# ---------------------------------------------------------------- main
def read_sources(args):
    sources = {}
    if args.tflite_dir:
        for name in WHEEL_PATHS:
            with open(os.path.join(args.tflite_dir, name), 'rb') as f:
                sources[name] = checked(name, f.read())
    else:
        with zipfile.ZipFile(args.wheel) as wheel:
            for name, path in WHEEL_PATHS.items():
                sources[name] = checked(name, wheel.read(path))
    for name in ('2.7_80x80_MiniFASNetV2.pth', '4_0_0_80x80_MiniFASNetV1SE.pth'):
        with open(os.path.join(args.pth_dir, name), 'rb') as f:
            sources[name] = checked(name, f.read())
    return sources


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--wheel', help='mediapipe-0.10.14 wheel (.whl) holding the .tflite files')
    parser.add_argument('--tflite-dir', help='a folder with the two .tflite files instead of the wheel')
    parser.add_argument('--pth-dir', required=True, help='folder with the two MiniFASNet .pth files')
    parser.add_argument('--out', required=True, help='output folder (weights/)')
    args = parser.parse_args()
    if not (args.wheel or args.tflite_dir):
        parser.error('give --wheel or --tflite-dir')
    sources = read_sources(args)
    os.makedirs(args.out, exist_ok=True)
    outputs = [
        ('blazeface_short_range.safetensors', convert_tflite('face_detection_short_range.tflite', sources['face_detection_short_range.tflite'], blazeface_names(),
                                                             'BlazeFace short range (MediaPipe 0.10.14)')),
        ('face_landmark.safetensors', convert_tflite('face_landmark.tflite', sources['face_landmark.tflite'], facemesh_names(),
                                                     'Face Mesh (MediaPipe 0.10.14)')),
        ('minifasnet_v2_2.7_80x80.safetensors', convert_pth('2.7_80x80_MiniFASNetV2.pth', sources['2.7_80x80_MiniFASNetV2.pth'],
                                                            'MiniFASNetV2, crop scale 2.7, 80x80 (Silent-Face-Anti-Spoofing b6d5f04)')),
        ('minifasnet_v1se_4.0_80x80.safetensors', convert_pth('4_0_0_80x80_MiniFASNetV1SE.pth', sources['4_0_0_80x80_MiniFASNetV1SE.pth'],
                                                              'MiniFASNetV1SE, crop scale 4.0, 80x80 (Silent-Face-Anti-Spoofing b6d5f04)')),
    ]
    for file_name, (tensors, meta) in outputs:
        save_safetensors(os.path.join(args.out, file_name), tensors, meta)
        params = sum(int(np.prod(t.shape)) for t in tensors.values())
        print('%-40s %4d tensors %8d parameters' % (file_name, len(tensors), params))


if __name__ == '__main__':
    main()
