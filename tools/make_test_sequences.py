#!/usr/bin/env python3
"""Copy the reference per-frame results of the shared sequences into tests/sequences/, as
safetensors (tensors the session tests read), and the frames of three sequences.

Source: shared/golden/sequences/<name>.json (the golden pipeline over every frame of
shared/faces/sequences/<name>/: TFLite BlazeFace + Face Mesh, PyTorch MiniFASNet with the
BlazeFace box). Usage: tools/.venv/bin/python tools/make_test_sequences.py ../shared tests/sequences
"""
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from convert_weights import save_safetensors  # noqa: E402

FRAMES = ['bbaf2n', 'example_2blinks', 'silentface_demo_live_replay_print']


def main():
    shared, out = sys.argv[1:3]
    os.makedirs(out, exist_ok=True)
    folder = os.path.join(shared, 'golden', 'sequences')
    for file in sorted(os.listdir(folder)):
        name = file[:-5]
        data = json.load(open(os.path.join(folder, file)))
        frames = data['frames']
        n = len(frames)
        t = {
            'size': np.zeros((n, 2), '<i4'), 'faces': np.zeros(n, '<i4'), 'box': np.zeros((n, 4), '<f4'),
            'score': np.zeros(n, '<f4'), 'second_score': np.zeros(n, '<f4'), 'presence': np.zeros(n, '<f4'),
            'landmarks': np.zeros((n, 468, 3), '<f4'), 'v2': np.zeros((n, 3), '<f4'), 'v1se': np.zeros((n, 3), '<f4'),
        }
        for i, f in enumerate(frames):
            t['size'][i] = (f['width'], f['height'])
            dets = f['blazeface']['detections']
            t['faces'][i] = len(dets)
            if not dets:
                continue
            t['box'][i] = dets[0]['box_px_xyxy']
            t['score'][i] = dets[0]['score']
            t['second_score'][i] = dets[1]['score'] if len(dets) > 1 else 0.0
            t['presence'][i] = f['facemesh']['presence']
            t['landmarks'][i] = f['facemesh']['landmarks_px']
            t['v2'][i] = f['minifasnet']['blazeface']['v2']['softmax']
            t['v1se'][i] = f['minifasnet']['blazeface']['v1se']['softmax']
        meta = {'source': 'shared/golden/sequences/%s.json (frames in order; BlazeFace-box MiniFASNet softmaxes)' % name}
        save_safetensors(os.path.join(out, name + '.safetensors'), t, meta)
        if name in FRAMES:
            shutil.copytree(os.path.join(shared, 'faces', 'sequences', name), os.path.join(out, name), dirs_exist_ok=True)
        print(name, n, 'frames')


if __name__ == '__main__':
    main()
