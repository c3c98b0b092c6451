"""What the Python package adds to a check: the same frame as a numpy array, as a path and
as a file's bytes, interleaved; prints the median and the 10th and 90th percentiles in
milliseconds as JSON (tools/bindings_overhead.sh runs it beside the Rust and C figures).

    python bindings/python/bench/overhead.py [checks] [image]"""

import json
import os
import sys
import time

import liveshade


def percentiles(ms):
    ms = sorted(ms)
    at = lambda q: ms[round((len(ms) - 1) * q)]
    return {"median": at(0.5), "p10": at(0.1), "p90": at(0.9), "checks": len(ms)}


def main():
    checks = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    path = sys.argv[2] if len(sys.argv) > 2 else "samples/live_T1.jpg"
    engine = liveshade.Engine(backend=os.environ.get("WGPU_BACKEND") or "auto")
    array = liveshade.load_image(path)
    encoded = open(path, "rb").read()
    times = {"array": [], "array_to_dict": [], "path": [], "bytes": []}
    for round_ in range(checks + 3):
        for name, run in (
            ("array", lambda: engine.check(array).verdict),
            ("array_to_dict", lambda: engine.check(array).to_dict()),
            ("path", lambda: engine.check(path).verdict),
            ("bytes", lambda: engine.check(encoded).verdict),
        ):
            start = time.perf_counter()
            run()
            if round_ >= 3:
                times[name].append((time.perf_counter() - start) * 1e3)
    print(json.dumps({"adapter": engine.adapter, "image": path, **{k: percentiles(v) for k, v in times.items()}}))


if __name__ == "__main__":
    main()
