//! wgpu's pipeline cache kept in a file, for an integrator who names a directory
//! ([`GpuOptions::pipeline_cache_dir`](crate::GpuOptions)); off by default, since the
//! library writes no files otherwise.
//!
//! What the file holds is the driver's compiled pipelines (`vkGetPipelineCacheData`),
//! nothing else: it is written once, at the end of `Engine::new` (after the warm-up on a
//! blank frame, before the caller can hand in a frame), and never again by that engine.
//!
//! A compiled pipeline is code the GPU runs, so where it comes from matters. Our wrapper
//! (magic, length, SHA-256 of the driver's bytes) proves only that a file is whole: it
//! turns a truncated or corrupted file into a cold start instead of handing the driver
//! bytes it never wrote. Who could have written it rests on permissions, checked before
//! any byte is read (on Unix): the directory and the file must belong to this process's
//! user (or root) and be writable by nobody else, and the file must be a regular file,
//! opened without following a link and read no further than [`MAX_FILE_BYTES`] (a FIFO or
//! a link to /dev/zero is refused, not waited on or read forever). wgpu then checks its own
//! header (adapter, driver version) and starts empty where that does not match.
//!
//! Nothing about the file but a missing directory stops an engine: a file that cannot be
//! trusted, read or written is a cold start, and [`PipelineCacheReport`] says why.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The first bytes of every file this module writes, with the format's version.
const MAGIC: &[u8; 20] = b"liveshade pipelines1";
/// Magic, body length (u64, little-endian), SHA-256 of the body.
const HEADER_BYTES: usize = MAGIC.len() + 8 + 32;
/// A file larger than this is not one of ours (lavapipe's and NVIDIA's caches for the
/// four networks are far smaller): it is ignored rather than read into memory.
const MAX_FILE_BYTES: u64 = 256 << 20;

/// What became of the pipeline cache file at an engine's start
/// ([`Engine::pipeline_cache_file`](crate::Engine::pipeline_cache_file)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipelineCacheReport {
    /// The file, in the directory the integrator named.
    pub path: PathBuf,
    /// Bytes of compiled pipelines handed to the driver at start; 0 is a cold start. They
    /// passed our checks and wgpu's header check (adapter, wgpu's format, the driver's
    /// validation key); the driver itself may still discard what it does not take, which
    /// makes the start cold without saying so.
    pub offered_bytes: usize,
    /// Why nothing was offered from the file: damaged, refused (owner, permissions, not a
    /// regular file; or the directory's own owner or permissions, with or without a file),
    /// unreadable, or rejected by wgpu. None with a cold start: there was no file yet.
    pub not_read: Option<String>,
    /// Why the cache was not written at the end of `Engine::new`, where it was not:
    /// an untrusted directory, a full disk, no permission. The engine runs all the same.
    pub not_written: Option<String>,
}

/// A wgpu pipeline cache and the file it was loaded from and is saved to.
pub(crate) struct PipelineFile {
    path: PathBuf,
    cache: wgpu::PipelineCache,
    /// SHA-256 of the driver's bytes as loaded, so that an unchanged cache is not rewritten.
    loaded: Option<[u8; 32]>,
    offered_bytes: usize,
    not_read: Option<String>,
    /// Set where the directory cannot be trusted: nothing is read from it or written to it.
    untrusted_dir: Option<String>,
    not_written: Mutex<Option<String>>,
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

    /// Opens `dir/name` on a device created with [`wgpu::Features::PIPELINE_CACHE`]; `dir`
    /// has passed [`check_dir`]. Whatever is wrong with the file, this is a cold start.
    pub(crate) fn open(device: &wgpu::Device, dir: &Path, name: &str) -> PipelineFile {
        let path = dir.join(name);
        let untrusted_dir = fs::metadata(dir)
            .map_err(|e| format!("cannot inspect the directory: {e}"))
            .and_then(|meta| trusted(&meta, "the directory"))
            .err();
        let contents = match &untrusted_dir {
            Some(reason) => Err(reason.clone()),
            None => read_trusted(&path),
        };
        let (body, mut not_read) = match &contents {
            Ok(None) => (None, None),
            Ok(Some(contents)) => match unwrap(contents) {
                Some(body) => (Some(body), None),
                None => (None, Some("not an intact liveshade pipeline cache (damaged or foreign)".to_string())),
            },
            Err(reason) => (None, Some(reason.clone())),
        };
        let mut offered = body;
        let mut cache = create(device, body);
        if let (Some(_), Err((_, error))) = (body, &cache) {
            // wgpu reports data saved on another device even with `fallback` (DeviceMismatch).
            not_read = Some(format!("wgpu rejected it: {error}"));
            offered = None;
            cache = create(device, None);
        }
        PipelineFile {
            path,
            // An empty cache cannot fail validation; if it did, the engine's device check reports it.
            cache: cache.unwrap_or_else(|(cache, _)| cache),
            loaded: offered.map(digest),
            offered_bytes: offered.map_or(0, <[u8]>::len),
            not_read,
            untrusted_dir,
            not_written: Mutex::new(None),
        }
    }

    pub(crate) fn cache(&self) -> &wgpu::PipelineCache {
        &self.cache
    }

    pub(crate) fn report(&self) -> PipelineCacheReport {
        PipelineCacheReport {
            path: self.path.clone(),
            offered_bytes: self.offered_bytes,
            not_read: self.not_read.clone(),
            not_written: self.not_written.lock().map_or_else(|e| e.into_inner().clone(), |n| n.clone()),
        }
    }

    /// Writes the cache's current contents where they differ from what was loaded:
    /// to a temporary file beside it (owner-only), then renamed over it, so that a reader
    /// never sees half a file and a crash leaves the old one. A failure is kept for the
    /// report, never returned: the engine runs without a saved cache.
    pub(crate) fn save(&self) {
        let problem = match &self.untrusted_dir {
            Some(reason) => Some(reason.clone()),
            None => self.write().err().map(|e| format!("cannot write it: {e}")),
        };
        if let Ok(mut not_written) = self.not_written.lock() {
            *not_written = problem;
        }
    }

    fn write(&self) -> std::io::Result<()> {
        let Some(body) = self.cache.get_data() else { return Ok(()) };
        if self.loaded == Some(digest(&body)) {
            return Ok(());
        }
        // Per process and per save: two engines of one process never share a temporary.
        static SAVES: AtomicU64 = AtomicU64::new(0);
        let suffix = format!("tmp{}-{}", std::process::id(), SAVES.fetch_add(1, Ordering::Relaxed));
        let temporary = self.path.with_extension(suffix);
        let written = write_owner_only(&temporary, &wrap(&body)).and_then(|()| fs::rename(&temporary, &self.path));
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written
    }
}

/// Fails unless `dir`, the directory an integrator named, exists: checked on every adapter,
/// with or without a pipeline cache, so that a wrong path fails on every machine alike.
pub(crate) fn check_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(Error::PipelineCache { path: dir.display().to_string(), reason: "not an existing directory".to_string() })
    }
}

/// A pipeline cache with `data`, and the error wgpu or the driver raised, if any, with the
/// cache it made. With data there is no `fallback`: every rejection of wgpu's header
/// (another device, an older wgpu or driver, a wrong length) is an error here, so that the
/// report never counts data wgpu dropped as offered; the caller then makes an empty cache.
/// Out of memory and internal errors are caught too: a file must never stop the engine.
fn create(device: &wgpu::Device, data: Option<&[u8]>) -> std::result::Result<wgpu::PipelineCache, (wgpu::PipelineCache, wgpu::Error)> {
    let scopes = [wgpu::ErrorFilter::Validation, wgpu::ErrorFilter::OutOfMemory, wgpu::ErrorFilter::Internal].map(|filter| device.push_error_scope(filter));
    // SAFETY: wgpu asks that the data came from `PipelineCache::get_data` of this adapter.
    // It passed `read_trusted` (a regular file of this user's, in a directory of this
    // user's, writable by nobody else: what is in it was written by this user, which
    // `save` does from `get_data`), and `unwrap` (intact: the length and SHA-256 that
    // `save` wrote). wgpu validates its own header within it (adapter, driver version),
    // and the driver the rest.
    let cache = unsafe {
        device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor { label: Some("liveshade pipelines"), data, fallback: data.is_none() })
    };
    // Scopes pop innermost first.
    let mut first_error = None;
    for scope in scopes.into_iter().rev() {
        if let Some(error) = pollster::block_on(scope.pop()) {
            first_error.get_or_insert(error);
        }
    }
    match first_error {
        None => Ok(cache),
        Some(error) => Err((cache, error)),
    }
}

/// The file's contents, None where there is no file, or why it was not read.
fn read_trusted(path: &Path) -> std::result::Result<Option<Vec<u8>>, String> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    // No link followed (a link to /dev/zero or to another user's file), and no wait on a
    // FIFO planted under the name: its open returns at once and the type check refuses it.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW | libc::O_NONBLOCK);
    #[cfg(not(unix))]
    if fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink()) {
        return Err("a link, not a regular file".to_string());
    }
    let file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err("a link, not a regular file".to_string()),
        Err(e) => return Err(format!("cannot open it: {e}")),
    };
    let meta = file.metadata().map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".to_string());
    }
    trusted(&meta, "the file")?;
    let mut contents = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut contents).map_err(|e| format!("cannot read it: {e}"))?;
    if contents.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes"));
    }
    Ok(Some(contents))
}

/// Fails where someone other than this process's user (or root) could have written what
/// `meta` describes: owned by another user, or writable by its group or by others.
#[cfg(unix)]
fn trusted(meta: &fs::Metadata, what: &str) -> std::result::Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail (POSIX).
    let user = unsafe { libc::geteuid() };
    if meta.uid() != user && meta.uid() != 0 {
        return Err(format!("{what} belongs to another user (uid {})", meta.uid()));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!("{what} is writable by its group or by others (mode {:o})", meta.mode() & 0o777));
    }
    Ok(())
}

/// Windows keeps permissions in ACLs, which this does not read: the directory's are the
/// integrator's to set.
#[cfg(not(unix))]
fn trusted(_meta: &fs::Metadata, _what: &str) -> std::result::Result<(), String> {
    Ok(())
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
