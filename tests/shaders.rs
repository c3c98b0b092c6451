//! Every WGSL file parses and validates (naga, the front end wgpu uses), so a shader error
//! fails `cargo test` on any machine, GPU or not; and every entry of the two kernel tables
//! (src/nn/kernels.rs, src/engine/kernels.rs) is held against naga's reflection of its
//! module: the entry point exists, its workgroup size, the bindings the launcher binds
//! (declared in group 0 with the same access) and the size of the parameter struct.

use liveshade::gpu::{Kernel, Shader, Slot};
use liveshade::internals::{ENGINE_KERNELS, ENGINE_SHADERS};
use liveshade::nn::kernels;

fn shaders() -> Vec<&'static Shader> {
    kernels::SHADERS.iter().chain(ENGINE_SHADERS).copied().collect()
}

fn all_kernels() -> Vec<Kernel> {
    kernels::KERNELS.iter().chain(ENGINE_KERNELS).copied().collect()
}

fn parse(file: &str, source: &str) -> naga::Module {
    let module = naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{file}: {}", e.emit_to_string(source)));
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{file}: {}", e.emit_to_string(source)));
    module
}

#[test]
fn every_wgsl_file_parses_and_validates() {
    let shaders = shaders();
    let mut modules: Vec<(&str, String)> = shaders.iter().map(|s| (s.file, s.source.to_string())).collect();
    modules.push(("preview.wgsl", liveshade::preview::shader_source()));
    for (file, source) in &modules {
        parse(file, source);
    }
    // Every file under shaders/ is a module of its own or prepended to one (common.wgsl,
    // frame.wgsl): none is left unvalidated.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "wgsl") {
            files += 1;
            let name = path.file_name().unwrap().to_str().unwrap();
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(modules.iter().any(|(file, source)| *file == name || source.contains(&text)), "{name} is in no validated module");
        }
    }
    assert_eq!(files, 15, "shaders/ has {files} files");
}

#[test]
fn every_kernel_entry_matches_its_wgsl() {
    for kernel in all_kernels() {
        let module = parse(kernel.shader.file, kernel.shader.source);
        let name = kernel.name;
        let entry = module
            .entry_points
            .iter()
            .find(|e| e.name == kernel.entry_point)
            .unwrap_or_else(|| panic!("{name}: no entry point {} in {}", kernel.entry_point, kernel.shader.file));
        assert_eq!(entry.stage, naga::ShaderStage::Compute, "{name}");
        assert_eq!(entry.workgroup_size, kernel.workgroup_size, "{name}: workgroup size in the table vs the WGSL");
        for (binding, slot) in kernel.bindings {
            let (_, var) = module
                .global_variables
                .iter()
                .find(|(_, v)| v.binding.as_ref().is_some_and(|b| b.group == 0 && b.binding == *binding))
                .unwrap_or_else(|| panic!("{name}: binding {binding} is bound by the launcher but not declared"));
            let declared = match var.space {
                naga::AddressSpace::Uniform => Slot::Uniform,
                naga::AddressSpace::Storage { access } if access.contains(naga::StorageAccess::STORE) => Slot::ReadWrite,
                naga::AddressSpace::Storage { .. } => Slot::Read,
                other => panic!("{name}: binding {binding} is {other:?}"),
            };
            assert_eq!(declared, *slot, "{name}: binding {binding} ({:?})", var.name);
            if *binding == 0 {
                let bytes = module.types[var.ty].inner.size(module.to_ctx());
                assert_eq!(bytes as u64, kernel.params_bytes, "{name}: parameter struct {:?} is {bytes} bytes in WGSL", var.name);
            }
        }
    }
}

#[test]
fn kernel_names_are_unique_and_constants_are_declared_overrides() {
    let kernels = all_kernels();
    for (i, a) in kernels.iter().enumerate() {
        assert!(kernels[i + 1..].iter().all(|b| b.name != a.name), "{} twice", a.name);
        let module = parse(a.shader.file, a.shader.source);
        for (constant, _) in a.constants {
            assert!(module.overrides.iter().any(|(_, o)| o.name.as_deref() == Some(*constant)), "{}: no override {constant}", a.name);
        }
    }
}
