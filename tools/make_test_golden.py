#!/usr/bin/env python3
"""Copy the golden tensors the tests read from shared/golden/cases into tests/golden/.

Tensors are copied unchanged (names, dtypes, shapes and values of the originals); only the
ones the tests read are kept. Usage (tools/.venv from tools/convert_weights.sh):
    tools/.venv/bin/python tools/make_test_golden.py ../shared/golden tests/golden
"""
import json
import os
import re
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from convert_weights import save_safetensors  # noqa: E402

CASES = ['image_F1', 'image_F2', 'image_T1', 'astronaut']
KEEP = [
    r'blazeface\.input\.nhwc', r'blazeface\.out\.(regressors|classificators)',
    r'facemesh\.input\.nhwc', r'facemesh\.out\.(landmarks|face_flag)',
    r'minifas\.(retinaface|blazeface)\.(v2|v1se)\.(input\.nchw|logits|softmax)',
    r'blazeface\.act\..*', r'facemesh\.act\..*', r'minifas\.retinaface\.(v2|v1se)\.act\..*',
    # end to end (the single-frame engine)
    r'image\.rgb_u8', r'blazeface\.detections\.(score|box_px_xyxy|keypoints_px)', r'facemesh\.roi_px',
    r'facemesh\.landmarks_px', r'minifas\.(retinaface|blazeface)\.(bbox_xywh|(v2|v1se)\.crop_box_ltrb)',
]
NUMPY = {'F32': '<f4', 'F16': '<f2', 'U8': 'u1', 'I32': '<i4'}


def load(path):
    data = open(path, 'rb').read()
    (size,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + size])
    meta = header.pop('__metadata__', {})
    base = 8 + size
    tensors = {}
    for name, info in header.items():
        start, end = info['data_offsets']
        tensors[name] = np.frombuffer(data[base + start:base + end], dtype=NUMPY[info['dtype']]).reshape(info['shape'])
    return tensors, meta


def main():
    golden, out = sys.argv[1:3]
    os.makedirs(out, exist_ok=True)
    for case in CASES:
        tensors, meta = load(os.path.join(golden, 'cases', case + '.safetensors'))
        kept = {n: t for n, t in tensors.items() if any(re.fullmatch(p, n) for p in KEEP)}
        meta = {'source': 'shared/golden/cases/%s.safetensors (tensors copied unchanged, subset)' % case}
        save_safetensors(os.path.join(out, case + '.safetensors'), kept, meta)
        print(case, len(kept), 'tensors', sum(t.nbytes for t in kept.values()), 'bytes')


if __name__ == '__main__':
    main()
