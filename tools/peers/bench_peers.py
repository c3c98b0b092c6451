#!/usr/bin/env python3
"""The same three networks on the standard CPU runtimes, timed per frame like `liveshade bench`:
TFLite (ai-edge-litert, XNNPACK) for BlazeFace and Face Mesh, onnxruntime for MiniFASNetV2 and
V1SE, with the same preprocessing (OpenCV warpPerspective letterbox, a rotated Face Mesh crop,
the two MiniFASNet crops resized by cv2.resize). Decoding is reduced to the best anchor (the
part the engine does on the GPU is a few microseconds of numpy here either way).

Usage: bench_peers.py MODELS_DIR IMAGE [--frames N] [--threads T]   (prints one JSON object)
"""
import argparse
import json
import math
import os
import statistics
import time

import cv2
import numpy as np
import onnxruntime
from ai_edge_litert.interpreter import Interpreter


def anchors():
    out = []
    for grid, per_cell in ((16, 2), (8, 6)):
        for y in range(grid):
            for x in range(grid):
                out.extend([((x + 0.5) / grid, (y + 0.5) / grid)] * per_cell)
    return np.array(out, np.float32)


ANCHORS = anchors()


def tflite(path, threads):
    interpreter = Interpreter(model_path=path, num_threads=threads)
    interpreter.allocate_tensors()
    return interpreter


def run_tflite(interpreter, x):
    interpreter.set_tensor(interpreter.get_input_details()[0]['index'], x)
    interpreter.invoke()
    return [interpreter.get_tensor(o['index']) for o in interpreter.get_output_details()]


def warp(image, centre, side, rotation, size, border):
    c, s = math.cos(rotation), math.sin(rotation)
    src = np.array([centre[0] + (u - 0.5) * side * c - (v - 0.5) * side * s for u, v in ((0, 1), (0, 0), (1, 0))], np.float32)
    srcy = np.array([centre[1] + (u - 0.5) * side * s + (v - 0.5) * side * c for u, v in ((0, 1), (0, 0), (1, 0))], np.float32)
    m = cv2.getAffineTransform(np.stack([src, srcy], 1), np.array([[0, size], [0, 0], [size, 0]], np.float32))
    return cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=border)


def frame(image, blazeface, facemesh, v2, v1se, timings):
    h, w = image.shape[:2]
    t0 = time.perf_counter()
    side = max(w, h)
    x = warp(image, (w / 2, h / 2), side, 0.0, 128, cv2.BORDER_CONSTANT).astype(np.float32) * (2 / 255) - 1
    regressors, scores = sorted(run_tflite(blazeface, x[None]), key=lambda t: t.shape[-1], reverse=True)
    best = int(np.argmax(scores.reshape(-1)))
    r = regressors.reshape(-1, 16)[best] / 128
    a = ANCHORS[best]
    cx, cy, bw = (r[0] + a[0]) * side - (side - w) / 2, (r[1] + a[1]) * side - (side - h) / 2, r[2] * side
    eyes = [((r[4 + 2 * k] + a[0]) * side - (side - w) / 2, (r[5 + 2 * k] + a[1]) * side - (side - h) / 2) for k in (0, 1)]
    t1 = time.perf_counter()
    rotation = math.atan2(eyes[1][1] - eyes[0][1], eyes[1][0] - eyes[0][0])
    crop = warp(image, (cx, cy), 1.5 * bw, rotation, 192, cv2.BORDER_REPLICATE).astype(np.float32) / 255
    run_tflite(facemesh, crop[None])
    t2 = time.perf_counter()
    bgr = image[:, :, ::-1]
    for scale, session in ((2.7, v2), (4.0, v1se)):
        half = min(bw * scale, w - 1, h - 1) / 2
        l, t = int(max(0, min(cx - half, w - 1 - 2 * half))), int(max(0, min(cy - half, h - 1 - 2 * half)))
        patch = cv2.resize(bgr[t:t + int(2 * half) + 1, l:l + int(2 * half) + 1], (80, 80)).transpose(2, 0, 1)[None].astype(np.float32)
        session.run(None, {session.get_inputs()[0].name: patch})
    t3 = time.perf_counter()
    timings['blazeface'].append((t1 - t0) * 1e3)
    timings['facemesh'].append((t2 - t1) * 1e3)
    timings['minifasnet'].append((t3 - t2) * 1e3)
    timings['end_to_end'].append((t3 - t0) * 1e3)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('models')
    parser.add_argument('image')
    parser.add_argument('--frames', type=int, default=50)
    parser.add_argument('--threads', type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    blazeface = tflite(os.path.join(args.models, 'face_detection_short_range.tflite'), args.threads)
    facemesh = tflite(os.path.join(args.models, 'face_landmark.tflite'), args.threads)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = args.threads
    onnx = lambda name: onnxruntime.InferenceSession(os.path.join(args.models, 'onnx', name), options, providers=['CPUExecutionProvider'])
    v2, v1se = onnx('minifasnet_v2_2.7_80x80.onnx'), onnx('minifasnet_v1se_4.0_80x80.onnx')
    image = cv2.cvtColor(cv2.imread(args.image, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    timings = {k: [] for k in ('blazeface', 'facemesh', 'minifasnet', 'end_to_end')}
    for _ in range(5):
        frame(image, blazeface, facemesh, v2, v1se, {k: [] for k in timings})
    for _ in range(args.frames):
        frame(image, blazeface, facemesh, v2, v1se, timings)
    p99 = lambda v: sorted(v)[min(len(v) - 1, int(round(0.99 * (len(v) - 1))))]
    print(json.dumps({
        'runtime': 'ai-edge-litert %s (XNNPACK) + onnxruntime %s, %d threads' % ('2.3.0', onnxruntime.__version__, args.threads),
        'frames': args.frames,
        'end_to_end_ms': {'median': statistics.median(timings['end_to_end']), 'p99': p99(timings['end_to_end'])},
        'stages': {k: {'median': statistics.median(v), 'p99': p99(v)} for k, v in timings.items() if k != 'end_to_end'},
    }))


if __name__ == '__main__':
    main()
