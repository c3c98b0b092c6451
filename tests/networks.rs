//! The three networks against the reference frameworks' own outputs (tests/golden, copied
//! from shared/golden): fed the stored input tensors, every output and every stored block
//! output must match within the tolerances of shared/golden/README.md, section 7.1.

mod common;

use std::borrow::Cow;

use common::{Golden, assert_within as check, gpu, run, tuning};
use liveshade::Error;
use liveshade::gpu::{BufferArena, Tensor, record_all};
use liveshade::models::{BlazeFace, BuildOptions, FaceMesh, MiniFasNet, Network, Variant, Weights, blazeface};
use liveshade::tensor::HostTensor;
use safetensors::SafeTensors;

const CASES: [&str; 4] = ["image_F1", "image_F2", "image_T1", "astronaut"];

/// Taps: 1e-4 x the tensor's largest magnitude (shared/golden/README.md 7.1).
fn check_tap(what: &str, got: &HostTensor, want: &HostTensor) -> f32 {
    assert_eq!(got.shape, want.shape, "{what}: shapes differ");
    let magnitude = want.data.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    check(what, &got.data, &want.data, 1e-4 * magnitude) / magnitude
}

fn submit(graph: &liveshade::models::Graph) {
    let gpu = gpu();
    let mut encoder = gpu.encoder("network");
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
        graph.record(&mut pass);
    }
    gpu.submit_and_wait(encoder).unwrap();
}

fn read(tensor: &Tensor) -> HostTensor {
    gpu().read_tensor(tensor).unwrap()
}

#[test]
fn blazeface_matches_tflite_on_every_case() {
    blazeface_matches_tflite(BuildOptions { tuning: tuning().with_fused_blocks(true), keep_taps: true });
}

#[test]
fn blazeface_unfused_matches_tflite_on_every_case() {
    // Unfused and without taps: how the engine builds it on CPU adapters (pooled buffers).
    blazeface_matches_tflite(BuildOptions { tuning: tuning().with_fused_blocks(false), keep_taps: false });
}

fn blazeface_matches_tflite(options: BuildOptions) {
    let gpu = gpu();
    let weights = Weights::bundled(Network::BlazeFace).unwrap();
    let mut arena = BufferArena::new();
    let net = BlazeFace::with_options(gpu, &weights, &mut arena, options).unwrap();
    let (mut boxes_max, mut scores_max, mut taps_max) = (0.0f32, 0.0f32, 0.0f32);
    for case in CASES {
        let golden = Golden::load(case);
        gpu.write_tensor(net.input(), &golden.nhwc("blazeface.input.nhwc")).unwrap();
        submit(net.graph());
        let heads = net.heads().clone().map(|t| read(&t));
        let (boxes, scores) = blazeface::assemble_outputs(&heads);
        boxes_max = boxes_max.max(check(&format!("{case} regressors"), &boxes, &golden.get("blazeface.out.regressors").1, 2e-3));
        scores_max = scores_max.max(check(&format!("{case} classificators"), &scores, &golden.get("blazeface.out.classificators").1, 5e-3));
        if case == "image_T1" && options.keep_taps {
            for tap in ["stem", "block07", "block08", "block11", "block16"] {
                let got = read(net.graph().tap(tap).unwrap());
                taps_max = taps_max.max(check_tap(&format!("blazeface {tap}"), &got, &golden.nhwc(&format!("blazeface.act.{tap}.nhwc"))));
            }
        }
    }
    eprintln!(
        "blazeface {options:?}: regressors max |diff| {boxes_max:.3e}, classificators {scores_max:.3e}, taps {taps_max:.3e} of max, {} dispatches",
        net.graph().dispatch_count()
    );
}

#[test]
fn facemesh_matches_tflite_on_every_case() {
    facemesh_matches_tflite(BuildOptions { tuning: tuning().with_fused_blocks(true), keep_taps: true });
}

#[test]
fn facemesh_unfused_matches_tflite_on_every_case() {
    // Unfused and without taps: how the engine builds it on CPU adapters (pooled buffers).
    facemesh_matches_tflite(BuildOptions { tuning: tuning().with_fused_blocks(false), keep_taps: false });
}

fn facemesh_matches_tflite(options: BuildOptions) {
    let gpu = gpu();
    let weights = Weights::bundled(Network::FaceMesh).unwrap();
    let mut arena = BufferArena::new();
    let net = FaceMesh::with_options(gpu, &weights, &mut arena, options).unwrap();
    let (mut landmarks_max, mut flag_max, mut taps_max) = (0.0f32, 0.0f32, 0.0f32);
    for case in CASES {
        let golden = Golden::load(case);
        gpu.write_tensor(net.input(), &golden.nhwc("facemesh.input.nhwc")).unwrap();
        submit(net.graph());
        landmarks_max = landmarks_max.max(check(&format!("{case} landmarks"), &read(net.landmarks()).data, &golden.get("facemesh.out.landmarks").1, 1e-3));
        flag_max = flag_max.max(check(&format!("{case} face flag"), &read(net.face_flag()).data, &golden.get("facemesh.out.face_flag").1, 2e-4));
        if case == "image_T1" && options.keep_taps {
            for tap in ["stem", "block08", "block09", "block14", "landmarks.block4", "face_flag.block2"] {
                let got = read(net.graph().tap(tap).unwrap());
                taps_max = taps_max.max(check_tap(&format!("facemesh {tap}"), &got, &golden.nhwc(&format!("facemesh.act.{tap}.nhwc"))));
            }
        }
    }
    eprintln!(
        "facemesh {options:?}: landmarks max |diff| {landmarks_max:.3e}, face flag {flag_max:.3e}, taps {taps_max:.3e} of max, {} dispatches",
        net.graph().dispatch_count()
    );
}

/// Both MiniFASNets over a batch of 7 crops (every golden case's two crops, less one: an odd
/// batch), fused and unfused: each crop's logits and softmax are its golden ones, as a batch
/// of 1 gives them (the engine judges every face in one batch).
#[test]
fn minifasnet_batched_gives_each_crop_its_golden_result() {
    let gpu = gpu();
    for (variant, network, key) in [(Variant::V2, Network::MiniFasNetV2, "v2"), (Variant::V1Se, Network::MiniFasNetV1Se, "v1se")] {
        let weights = Weights::bundled(network).unwrap();
        let prefixes: Vec<(String, String)> =
            CASES.iter().flat_map(|case| ["retinaface", "blazeface"].map(|source| (case.to_string(), format!("minifas.{source}.{key}")))).take(7).collect();
        for fuse_blocks in [false, true] {
            let mut arena = BufferArena::new();
            let options = BuildOptions { tuning: tuning().with_fused_blocks(fuse_blocks), keep_taps: false };
            let net = MiniFasNet::batched(gpu, variant, &weights, &mut arena, options, prefixes.len() as u32).unwrap();
            let mut input = Vec::new();
            for (case, prefix) in &prefixes {
                input.extend(Golden::load(case).nchw(&format!("{prefix}.input.nchw")).data);
            }
            gpu.write_tensor(net.input(), &HostTensor::new(net.input().shape(), input).unwrap()).unwrap();
            submit(net.graph());
            let (logits, softmax) = (read(net.logits()), read(net.softmax()));
            let (mut logits_max, mut softmax_max) = (0.0f32, 0.0f32);
            for (i, (case, prefix)) in prefixes.iter().enumerate() {
                let golden = Golden::load(case);
                let what = format!("batch item {i} ({case} {prefix}), fused {fuse_blocks}");
                logits_max = logits_max.max(check(&format!("{what} logits"), &logits.data[i * 3..i * 3 + 3], &golden.get(&format!("{prefix}.logits")).1, 5e-5));
                softmax_max =
                    softmax_max.max(check(&format!("{what} softmax"), &softmax.data[i * 3..i * 3 + 3], &golden.get(&format!("{prefix}.softmax")).1, 1e-5));
            }
            eprintln!("minifasnet {key} batch {}, fused {fuse_blocks}: logits max |diff| {logits_max:.3e}, softmax {softmax_max:.3e}", prefixes.len());
        }
    }
}

fn minifasnet_matches_pytorch(variant: Variant, network: Network, key: &str) {
    // Unfused with taps; unfused and fused (separable.wgsl) without (pooled buffers, as the
    // engine builds it).
    for (fuse_blocks, keep_taps) in [(false, true), (false, false), (true, false)] {
        minifasnet_matches_pytorch_with(variant, network, key, BuildOptions { tuning: tuning().with_fused_blocks(fuse_blocks), keep_taps });
    }
}

fn minifasnet_matches_pytorch_with(variant: Variant, network: Network, key: &str, options: BuildOptions) {
    let gpu = gpu();
    let weights = Weights::bundled(network).unwrap();
    let mut arena = BufferArena::new();
    let net = MiniFasNet::with_options(gpu, variant, &weights, &mut arena, options).unwrap();
    let (mut logits_max, mut softmax_max, mut taps_max) = (0.0f32, 0.0f32, 0.0f32);
    for case in CASES {
        let golden = Golden::load(case);
        for source in ["retinaface", "blazeface"] {
            let prefix = format!("minifas.{source}.{key}");
            gpu.write_tensor(net.input(), &golden.nchw(&format!("{prefix}.input.nchw"))).unwrap();
            submit(net.graph());
            logits_max = logits_max.max(check(&format!("{case} {prefix} logits"), &read(net.logits()).data, &golden.get(&format!("{prefix}.logits")).1, 5e-5));
            softmax_max =
                softmax_max.max(check(&format!("{case} {prefix} softmax"), &read(net.softmax()).data, &golden.get(&format!("{prefix}.softmax")).1, 1e-5));
            if case == "image_T1" && source == "retinaface" && options.keep_taps {
                for tap in ["conv1", "conv_3", "conv_34", "conv_6_dw"] {
                    let got = read(net.graph().tap(tap).unwrap());
                    taps_max = taps_max.max(check_tap(&format!("{key} {tap}"), &got, &golden.nchw(&format!("{prefix}.act.{tap}.nchw"))));
                }
                let got = read(net.graph().tap("bn").unwrap());
                taps_max = taps_max.max(check_tap(&format!("{key} bn"), &got, &golden.nchw(&format!("{prefix}.act.bn.nc"))));
            }
        }
    }
    eprintln!(
        "minifasnet {key} {options:?}: logits max |diff| {logits_max:.3e}, softmax {softmax_max:.3e}, taps {taps_max:.3e} of max, {} dispatches",
        net.graph().dispatch_count()
    );
}

#[test]
fn minifasnet_v2_matches_pytorch_on_every_case() {
    minifasnet_matches_pytorch(Variant::V2, Network::MiniFasNetV2, "v2");
}

#[test]
fn minifasnet_v1se_matches_pytorch_on_every_case() {
    minifasnet_matches_pytorch(Variant::V1Se, Network::MiniFasNetV1Se, "v1se");
}

#[test]
fn every_tensor_in_weights_has_the_name_and_shape_the_models_expect() {
    let gpu = gpu();
    let mut arena = BufferArena::new();
    let check_unused = |weights: &Weights| assert_eq!(weights.unused().unwrap(), Vec::<String>::new(), "{}: tensors no layer reads", weights.file());
    let w = Weights::bundled(Network::BlazeFace).unwrap();
    BlazeFace::new(gpu, &w, &mut arena).unwrap();
    check_unused(&w);
    let w = Weights::bundled(Network::FaceMesh).unwrap();
    FaceMesh::new(gpu, &w, &mut arena).unwrap();
    check_unused(&w);
    for (variant, network) in [(Variant::V2, Network::MiniFasNetV2), (Variant::V1Se, Network::MiniFasNetV1Se)] {
        let w = Weights::bundled(network).unwrap();
        MiniFasNet::new(gpu, variant, &w, &mut arena).unwrap();
        check_unused(&w);
    }
    // The files on disk are the bundled ones.
    for network in [Network::BlazeFace, Network::FaceMesh, Network::MiniFasNetV2, Network::MiniFasNetV1Se] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("weights").join(network.file_name());
        Weights::open(&path).unwrap();
    }
}

fn weights_error(result: Result<impl Sized, Error>) -> (String, Option<String>, String) {
    match result {
        Err(Error::Weights { file, tensor, reason }) => (file, tensor, reason),
        Err(other) => panic!("expected a weights error, got {other}"),
        Ok(_) => panic!("bad weights were accepted"),
    }
}

#[test]
fn bad_weights_files_give_errors_naming_file_and_tensor() {
    let gpu = gpu();
    let mut arena = BufferArena::new();
    // Missing file.
    let (file, _, _) = weights_error(Weights::open(std::path::Path::new("/nonexistent/blazeface.safetensors")));
    assert!(file.contains("nonexistent"));
    // Truncated file.
    let bytes = Network::FaceMesh.file_name();
    let full = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("weights").join(bytes)).unwrap();
    let (_, tensor, reason) = weights_error(Weights::from_bytes("truncated.safetensors", Cow::Owned(full[..full.len() / 2].to_vec())));
    assert!(tensor.is_none() && reason.contains("truncated"), "{reason}");
    // Not a safetensors file at all.
    weights_error(Weights::from_bytes("garbage.safetensors", Cow::Owned(vec![0xFF; 64])));
    // Mislabelled: V2 weights given to the V1SE graph -> a shape or missing-tensor error with the name.
    let v2 = Weights::bundled(Network::MiniFasNetV2).unwrap();
    let (file, tensor, reason) = weights_error(MiniFasNet::new(gpu, Variant::V1Se, &v2, &mut arena));
    assert_eq!(file, Network::MiniFasNetV2.file_name());
    assert!(tensor.is_some(), "the error names the tensor ({reason})");
    // BlazeFace weights given to Face Mesh: missing tensors.
    let blazeface = Weights::bundled(Network::BlazeFace).unwrap();
    let (_, tensor, reason) = weights_error(FaceMesh::new(gpu, &blazeface, &mut arena));
    assert_eq!(tensor.as_deref(), Some("backbone.stem.prelu.alpha"));
    assert_eq!(reason, "missing");
    // A non-finite value.
    let nan: Vec<u8> = [1.0f32, f32::NAN, 0.5].iter().flat_map(|v| v.to_le_bytes()).collect();
    let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![3], &nan).unwrap();
    let bytes = safetensors::serialize([("prob.weight", view)], None).unwrap();
    let weights = Weights::from_bytes("nan.safetensors", Cow::Owned(bytes)).unwrap();
    let (_, tensor, reason) = weights_error(weights.tensor("prob.weight", &[3]));
    assert_eq!(tensor.as_deref(), Some("prob.weight"));
    assert!(reason.contains("non-finite"), "{reason}");
    let (_, _, reason) = weights_error(weights.tensor("prob.weight", &[1, 3]));
    assert!(reason.contains("shape"), "{reason}");
}

#[test]
fn the_three_networks_record_into_one_submission() {
    let gpu = gpu();
    let mut arena = BufferArena::new();
    let blazeface = BlazeFace::new(gpu, &Weights::bundled(Network::BlazeFace).unwrap(), &mut arena).unwrap();
    let facemesh = FaceMesh::new(gpu, &Weights::bundled(Network::FaceMesh).unwrap(), &mut arena).unwrap();
    let v2 = MiniFasNet::new(gpu, Variant::V2, &Weights::bundled(Network::MiniFasNetV2).unwrap(), &mut arena).unwrap();
    let golden = Golden::load("image_T1");
    gpu.write_tensor(v2.input(), &golden.nchw("minifas.retinaface.v2.input.nchw")).unwrap();
    let mut encoder = gpu.encoder("all");
    record_all(&mut encoder, blazeface.graph().dispatches_iter().chain(facemesh.graph().dispatches_iter()).chain(v2.graph().dispatches_iter()));
    gpu.submit_and_wait(encoder).unwrap();
    check("v2 softmax in a shared submission", &read(v2.softmax()).data, &golden.get("minifas.retinaface.v2.softmax").1, 1e-5);
    let _ = run;
}

/// weights/ keeps MiniFASNet in f32 (BlazeFace and Face Mesh are TFLite's own f16
/// constants, exact). This is the measurement behind that choice: the same weights
/// rounded to f16 move the logits past the 5e-5 golden tolerance.
#[test]
fn minifasnet_weights_rounded_to_f16_leave_the_golden_tolerance() {
    let gpu = gpu();
    let f32_weights = Weights::bundled(Network::MiniFasNetV1Se).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("weights").join(Network::MiniFasNetV1Se.file_name());
    let bytes = std::fs::read(path).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let halves: Vec<(String, Vec<usize>, Vec<u8>)> = file
        .tensors()
        .into_iter()
        .map(|(name, _)| {
            let shape = f32_weights.shape(&name).unwrap();
            let values = f32_weights.tensor(&name, &shape).unwrap();
            (name, shape, values.iter().flat_map(|v| half::f16::from_f32(*v).to_le_bytes()).collect())
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = halves
        .iter()
        .map(|(name, shape, data)| (name.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F16, shape.clone(), data).unwrap()))
        .collect();
    let f16_weights = Weights::from_bytes("v1se as f16", Cow::Owned(safetensors::serialize(views, None).unwrap())).unwrap();
    let mut arena = BufferArena::new();
    let net = MiniFasNet::new(gpu, Variant::V1Se, &f16_weights, &mut arena).unwrap();
    let (mut logits_max, mut softmax_max) = (0.0f32, 0.0f32);
    for case in CASES {
        let golden = Golden::load(case);
        gpu.write_tensor(net.input(), &golden.nchw("minifas.retinaface.v1se.input.nchw")).unwrap();
        submit(net.graph());
        let difference = |got: &[f32], want: &[f32]| got.iter().zip(want).fold(0.0f32, |m, (g, w)| m.max((g - w).abs()));
        logits_max = logits_max.max(difference(&read(net.logits()).data, &golden.get("minifas.retinaface.v1se.logits").1));
        softmax_max = softmax_max.max(difference(&read(net.softmax()).data, &golden.get("minifas.retinaface.v1se.softmax").1));
    }
    eprintln!("minifasnet v1se with f16 weights: logits max |diff| {logits_max:.3e}, softmax {softmax_max:.3e}");
    assert!(logits_max > 5e-5, "f16 MiniFASNet weights stay inside the tolerance ({logits_max:.3e}): store them as f16");
}
