//! The command line: `check` over the bundled samples, the JSON contract, and a bad file
//! among good ones (an error line, the others still run, a non-zero exit status).

use std::process::Command;

fn liveshade(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_liveshade")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("run liveshade")
}

#[test]
fn check_prints_one_json_object_per_image_with_the_documented_fields() {
    let out = liveshade(&["check", "--json", "--landmarks", "samples/live_T1.jpg", "samples/spoof_print_F1.jpg"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    let live = &lines[0];
    assert_eq!(live["image"], "samples/live_T1.jpg");
    assert_eq!(live["verdict"], "live");
    let face = &live["faces"][0];
    assert_eq!(face["box"].as_array().unwrap().len(), 4);
    assert_eq!(face["keypoints"].as_array().unwrap().len(), 6);
    assert_eq!(face["landmarks"].as_array().unwrap().len(), 468);
    assert_eq!(face["liveness"]["label"], "live");
    assert_eq!(face["liveness"]["models"]["minifasnet_v2"].as_array().unwrap().len(), 3);
    assert!(live["timing_ms"]["total"].as_f64().unwrap() > 0.0);
    assert_eq!(lines[1]["verdict"], "spoof");
    assert!(lines[1]["faces"][0].get("landmarks").is_none() || lines[1]["faces"][0]["landmarks"].as_array().unwrap().len() == 468);
}

#[test]
fn a_bad_file_gives_an_error_line_and_the_others_still_run() {
    let out = liveshade(&["check", "--json", "Cargo.toml", "samples/live_T1.jpg", "no/such/file.jpg"]);
    assert_eq!(out.status.code(), Some(1), "some files failed");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "the good image still reports");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("Cargo.toml") && stderr.contains("no/such/file.jpg"), "{stderr}");
}

#[test]
fn devices_lists_adapters_and_an_unknown_backend_is_an_error() {
    let out = liveshade(&["devices"]);
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout).unwrap().contains("GPU adapters:"));
    let out = liveshade(&["check", "--backend", "directx9", "samples/live_T1.jpg"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn session_gives_one_verdict_for_a_folder_of_frames() {
    let out = liveshade(&["session", "--json", "tests/sequences/bbaf2n"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "live");
    assert!(v["frames"]["accepted"].as_u64().unwrap() >= 8);
    assert!(!v["reasons"].as_array().unwrap().is_empty());
    let out = liveshade(&["session", "no/such/folder"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn watch_without_a_camera_is_a_clear_error_and_runs_over_a_folder() {
    let out = liveshade(&["devices"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("Cameras:"), "{stdout}");
    let out = liveshade(&["watch", "--consent"]);
    if stdout.contains("none found") {
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("no camera"), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let out = liveshade(&["watch", "--json", "--frames", "tests/sequences/example_2blinks"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let verdicts: Vec<serde_json::Value> = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!verdicts.is_empty());
}

#[test]
fn bench_reports_the_documented_fields_per_adapter() {
    let out = liveshade(&["bench", "--json", "--frames", "2", "--backend", "vulkan"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!rows.is_empty());
    for row in rows {
        assert_eq!(row["backend"], "vulkan");
        assert_eq!(row["timer"], "wall");
        assert!(row["stage_timer"] == "gpu" || row["stage_timer"] == "wall");
        assert!(row["end_to_end_ms"]["median"].as_f64().unwrap() > 0.0);
        assert!(row["dispatches_per_frame"].as_u64().unwrap() > 100);
        assert!(row["fps_pipelined"].as_f64().unwrap() > 0.0);
        let (cpu, host) = (row["cpu_ms_per_frame"].as_f64().unwrap(), row["host_ms_per_frame"].as_f64().unwrap());
        assert!(cpu > 0.0 && host >= cpu, "record+submit {cpu} within host time {host}");
        let (weights, total) = (row["weights_memory_mib"].as_f64().unwrap(), row["gpu_memory_mib"].as_f64().unwrap());
        assert!(weights > 1.0 && total > weights, "weights {weights} MiB of {total}");
        for stage in ["detection", "landmarks", "liveness"] {
            let (median, p99) = (row["stages"][stage]["median"].as_f64().unwrap(), row["stages"][stage]["p99"].as_f64().unwrap());
            assert!(median > 0.0 && p99 >= median, "{stage}");
        }
    }
}
