//! Every WGSL family parses and validates (naga, the front end wgpu uses), so a shader
//! error fails `cargo test` on any machine, GPU or not.

use liveshade::gpu::{Family, Kernel};

#[test]
fn every_shader_family_parses_and_validates() {
    for family in Family::ALL {
        let source = family.source();
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{}: {}", family.file_name(), e.emit_to_string(&source)));
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}: {}", family.file_name(), e.emit_to_string(&source)));
        for kernel in Kernel::ALL.iter().filter(|k| k.family() == family) {
            assert!(
                module.entry_points.iter().any(|e| e.name == kernel.entry_point()),
                "{} has no entry point {}",
                family.file_name(),
                kernel.entry_point()
            );
        }
    }
}

#[test]
fn every_kernel_declares_the_bindings_its_launcher_binds() {
    for kernel in Kernel::ALL {
        let source = kernel.family().source();
        let module = naga::front::wgsl::parse_str(&source).unwrap();
        for (binding, _) in kernel.slots() {
            assert!(
                module.global_variables.iter().any(|(_, v)| v.binding.as_ref().is_some_and(|b| b.group == 0 && b.binding == *binding)),
                "{}: binding {binding} is bound by the launcher but not declared",
                kernel.entry_point()
            );
        }
    }
}
