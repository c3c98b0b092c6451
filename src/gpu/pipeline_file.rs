//! wgpu's pipeline cache kept in a file, for an integrator who names a directory
//! ([`GpuOptions::pipeline_cache_dir`](crate::GpuOptions)); off by default, since the
//! library writes no files otherwise.
//!
//! What the file holds is the driver's compiled pipelines (`vkGetPipelineCacheData`),
//! nothing else: it is written once, at the end of `Engine::new` (after the warm-up on a
//! blank frame, before the caller can hand in a frame), and never again by that engine.
//! A compiled pipeline is code the GPU runs, so the directory must be writable only by
//! the terminal's own account; the file is created owner-only. Our wrapper (magic,
//! length, SHA-256 of the driver's bytes) turns a truncated or corrupted file into a cold
//! start instead of handing the driver bytes it never wrote; wgpu then checks its own
//! header (adapter, driver version) and starts empty where that does not match.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The first bytes of every file this module writes, with the format's version.
const MAGIC: &[u8; 20] = b"liveshade pipelines1";
/// Magic, body length (u64, little-endian), SHA-256 of the body.
const HEADER_BYTES: usize = MAGIC.len() + 8 + 32;
/// A file larger than this is not one of ours (lavapipe's and NVIDIA's caches for the
/// four networks are far smaller): it is ignored rather than read into memory.
const MAX_FILE_BYTES: u64 = 256 << 20;

/// A wgpu pipeline cache and the file it was loaded from and is saved to.
pub(crate) struct PipelineFile {
    path: PathBuf,
    cache: wgpu::PipelineCache,
    /// SHA-256 of the driver's bytes as loaded, so that an unchanged cache is not rewritten.
    loaded: Option<[u8; 32]>,
    loaded_bytes: usize,
}

impl PipelineFile {
    /// The file's name for this adapter (wgpu's key: API, vendor and device), or None where
    /// the adapter keeps no application-managed cache (every backend but Vulkan in wgpu 30).
    pub(crate) fn name_for(adapter: &wgpu::Adapter) -> Option<String> {
        if !adapter.features().contains(wgpu::Features::PIPELINE_CACHE) {
            return None;
        }
        wgpu::util::pipeline_cache_key(&adapter.get_info()).map(|key| format!("liveshade_{key}.bin"))
    }

    /// Opens `dir/name` (a missing or unusable file is a cold start) on a device created
    /// with [`wgpu::Features::PIPELINE_CACHE`]. `dir` has passed [`check_dir`].
    pub(crate) fn open(device: &wgpu::Device, dir: &Path, name: &str) -> Result<PipelineFile> {
        let path = dir.join(name);
        let contents = match fs::metadata(&path) {
            Ok(meta) if meta.len() > MAX_FILE_BYTES => None,
            Ok(_) => Some(fs::read(&path).map_err(|e| file_error(&path, &format!("cannot read it: {e}")))?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(file_error(&path, &format!("cannot read it: {e}"))),
        };
        let body = contents.as_deref().and_then(unwrap);
        // SAFETY: wgpu asks that the data came from `PipelineCache::get_data`. The body is
        // what `save` wrote from `get_data`, checked here by its length and SHA-256; wgpu
        // validates its own header within it (adapter, driver version) and, with
        // `fallback`, creates an empty cache where the driver rejects it.
        let cache = unsafe {
            device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor { label: Some("liveshade pipelines"), data: body, fallback: true })
        };
        Ok(PipelineFile { path, cache, loaded: body.map(digest), loaded_bytes: body.map_or(0, <[u8]>::len) })
    }

    pub(crate) fn cache(&self) -> &wgpu::PipelineCache {
        &self.cache
    }

    /// The file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of driver data loaded at start (0: a cold start).
    pub(crate) fn loaded_bytes(&self) -> usize {
        self.loaded_bytes
    }

    /// Writes the cache's current contents where they differ from what was loaded:
    /// to a temporary file beside it (owner-only), then renamed over it, so that a reader
    /// never sees half a file and a crash leaves the old one.
    pub(crate) fn save(&self) -> Result<()> {
        let Some(body) = self.cache.get_data() else { return Ok(()) };
        if self.loaded == Some(digest(&body)) {
            return Ok(());
        }
        let temporary = self.path.with_extension(format!("tmp{}", std::process::id()));
        let written = write_owner_only(&temporary, &wrap(&body)).and_then(|()| fs::rename(&temporary, &self.path));
        written.map_err(|e| {
            let _ = fs::remove_file(&temporary);
            file_error(&self.path, &format!("cannot write it: {e}"))
        })
    }
}

/// Fails unless `dir`, the directory an integrator named, exists: checked on every adapter,
/// with or without a pipeline cache, so that a wrong path fails on every machine alike.
pub(crate) fn check_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() { Ok(()) } else { Err(file_error(dir, "not an existing directory")) }
}

/// The driver's bytes as one of our files: magic, length, SHA-256, the bytes.
fn wrap(body: &[u8]) -> Vec<u8> {
    let mut contents = Vec::with_capacity(HEADER_BYTES + body.len());
    contents.extend_from_slice(MAGIC);
    contents.extend_from_slice(&(body.len() as u64).to_le_bytes());
    contents.extend_from_slice(&digest(body));
    contents.extend_from_slice(body);
    contents
}

/// The driver's bytes inside one of our files, or None if it is not one or is damaged.
fn unwrap(contents: &[u8]) -> Option<&[u8]> {
    let rest = contents.strip_prefix(MAGIC.as_slice())?;
    let (length, rest) = rest.split_first_chunk::<8>()?;
    let (hash, body) = rest.split_first_chunk::<32>()?;
    (u64::from_le_bytes(*length) == body.len() as u64 && digest(body) == *hash).then_some(body)
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Creates `path` anew (never through a file or link already there: one left by a crash is
/// removed first, and a name someone plants between the two calls makes the open fail).
fn write_owner_only(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let _ = fs::remove_file(path);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

fn file_error(path: &Path, reason: &str) -> Error {
    Error::PipelineCache { path: path.display().to_string(), reason: reason.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwrap_takes_only_an_intact_file() {
        let body = b"driver bytes of some length";
        let good = wrap(body);
        assert_eq!(unwrap(&good), Some(body.as_slice()));
        assert_eq!(unwrap(&wrap(b"")), Some(b"".as_slice()));
        // Truncated anywhere: inside the magic, the header or the body.
        for length in [0, 5, MAGIC.len(), MAGIC.len() + 7, HEADER_BYTES, good.len() - 1] {
            assert_eq!(unwrap(&good[..length]), None, "truncated to {length}");
        }
        // One bit flipped anywhere.
        for position in 0..good.len() {
            let mut bad = good.clone();
            bad[position] ^= 0x10;
            assert_eq!(unwrap(&bad), None, "bit flipped at {position}");
        }
        // Extra bytes after the body.
        let mut longer = good.clone();
        longer.push(0);
        assert_eq!(unwrap(&longer), None);
    }
}
