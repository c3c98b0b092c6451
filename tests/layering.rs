//! The modules of src/ depend on one another in one direction, the data flow's:
//! error -> tensor -> frame -> gpu -> nn -> models -> engine -> liveness -> json -> source ->
//! watch -> camera -> preview (each may use those before it, never those after). This reads every
//! `crate::` path of the library's code (comments aside) and fails on the first that points
//! the wrong way, so a cycle cannot come back unnoticed.

const LAYERS: [&str; 14] = ["error", "tensor", "frame", "gpu", "nn", "models", "engine", "liveness", "json", "signing", "source", "watch", "camera", "preview"];

/// The top-level module of a file under src/ (None for lib.rs and the CLI).
fn module_of(path: &std::path::Path, src: &std::path::Path) -> Option<String> {
    let relative = path.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    match first {
        "lib.rs" | "bin" => None,
        name => Some(name.trim_end_matches(".rs").to_string()),
    }
}

/// The modules a line's `crate::` paths name, `use crate::{a::x, b}` groups included.
fn named_modules(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in line.match_indices("crate::") {
        let rest = &line[at + "crate::".len()..];
        let names: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group.split(['}', ';']).next().unwrap_or("").split(',').map(|p| p.trim()).collect(),
            None => vec![rest],
        };
        for name in names {
            let head: String = name.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            found.push(match head.as_str() {
                // lib.rs re-exports of the error module.
                "Error" | "Result" => "error".to_string(),
                other => other.to_string(),
            });
        }
    }
    found
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn modules_depend_on_each_other_in_data_flow_order() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges = std::collections::BTreeSet::new();
    for file in &files {
        let Some(module) = module_of(file, &src) else { continue };
        let rank = LAYERS.iter().position(|l| *l == module).unwrap_or_else(|| panic!("{}: module {module} is not in LAYERS", file.display()));
        let text = std::fs::read_to_string(file).unwrap();
        for (number, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for used in named_modules(line) {
                if used == module || used == "internal_mod" {
                    continue;
                }
                let used_rank = LAYERS
                    .iter()
                    .position(|l| *l == used)
                    .unwrap_or_else(|| panic!("{}:{}: crate::{used} is not a module in LAYERS", file.display(), number + 1));
                assert!(used_rank < rank, "{}:{}: {module} uses {used}, which comes after it in the data flow", file.display(), number + 1);
                edges.insert((module.clone(), used));
            }
        }
    }
    let graph: Vec<String> = edges.iter().map(|(a, b)| format!("{a} -> {b}")).collect();
    eprintln!("module dependencies: {}", graph.join(", "));
    assert!(edges.contains(&("liveness".to_string(), "engine".to_string())), "the reader found the session's use of the engine");
}

#[test]
fn the_reader_sees_grouped_and_nested_paths() {
    assert_eq!(named_modules("use crate::{engine::Engine, gpu::Gpu};"), ["engine", "gpu"]);
    assert_eq!(named_modules("    let x = crate::nn::Activation::None; crate::Error::NoEngine"), ["nn", "error"]);
    assert!(named_modules("let crater = 1;").is_empty());
}
