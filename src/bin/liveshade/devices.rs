//! `liveshade devices`: the GPU adapters of every backend and the cameras.

use liveshade::{Backend, list_adapters};

/// Prints the adapters and cameras.
pub fn run(backend: &str) -> Result<(), liveshade::Error> {
    let backend: Backend = backend.parse()?;
    println!("GPU adapters:");
    let adapters: Vec<_> = list_adapters().into_iter().filter(|a| backend == Backend::Auto || a.backend == backend).collect();
    if adapters.is_empty() {
        println!("  none found. On Linux without a GPU, install Mesa's software drivers: apt-get install mesa-vulkan-drivers");
    }
    for (index, adapter) in adapters.iter().enumerate() {
        println!("  [{index}] {adapter}");
    }
    for b in Backend::ALL {
        if !b.is_built() {
            println!("  ({b}: not available on this platform)");
        }
    }
    print_cameras();
    Ok(())
}

#[cfg(feature = "camera")]
fn print_cameras() {
    println!("Cameras:");
    match liveshade::camera::list_cameras() {
        Ok(cameras) if cameras.is_empty() => println!("  none found (no video device on this machine)"),
        Ok(cameras) => {
            for camera in cameras {
                let kind = camera.virtual_camera.map(|rule| format!("; VIRTUAL: {rule}")).unwrap_or_default();
                println!("  [{}] {} (driver {:?}, bus {:?}{kind})", camera.index, camera.name, camera.driver, camera.bus);
                for (w, h, format, fps) in camera.modes {
                    println!("      {w}x{h} {format} {fps} fps");
                }
            }
        }
        Err(error) => println!("  could not list cameras: {error}"),
    }
}

#[cfg(not(feature = "camera"))]
fn print_cameras() {
    println!("Cameras: this build has no camera support (built without the `camera` feature)");
}
