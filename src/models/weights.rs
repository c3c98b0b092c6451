//! Loading a network's weights from weights/*.safetensors, with an error that names the
//! file and the tensor for anything missing, truncated, mislabelled or non-finite.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use crate::error::{Error, Result};

/// The four weight files of weights/, built into the library so that it runs from anywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    BlazeFace,
    FaceMesh,
    MiniFasNetV2,
    MiniFasNetV1Se,
}

impl Network {
    /// The four networks.
    pub const ALL: [Network; 4] = [Network::BlazeFace, Network::FaceMesh, Network::MiniFasNetV2, Network::MiniFasNetV1Se];

    pub fn file_name(self) -> &'static str {
        match self {
            Network::BlazeFace => "blazeface_short_range.safetensors",
            Network::FaceMesh => "face_landmark.safetensors",
            Network::MiniFasNetV2 => "minifasnet_v2_2.7_80x80.safetensors",
            Network::MiniFasNetV1Se => "minifasnet_v1se_4.0_80x80.safetensors",
        }
    }

    fn bundled_bytes(self) -> &'static [u8] {
        match self {
            Network::BlazeFace => include_bytes!("../../weights/blazeface_short_range.safetensors"),
            Network::FaceMesh => include_bytes!("../../weights/face_landmark.safetensors"),
            Network::MiniFasNetV2 => include_bytes!("../../weights/minifasnet_v2_2.7_80x80.safetensors"),
            Network::MiniFasNetV1Se => include_bytes!("../../weights/minifasnet_v1se_4.0_80x80.safetensors"),
        }
    }
}

/// The SHA-256 of each weights file built into the library, (file name, lowercase hex): the
/// identity of the models a result came from (`liveshade_version` in the C ABI).
pub fn weights_sha256() -> Vec<(&'static str, String)> {
    use sha2::{Digest, Sha256};
    Network::ALL.iter().map(|n| (n.file_name(), Sha256::digest(n.bundled_bytes()).iter().map(|b| format!("{b:02x}")).collect())).collect()
}

/// One safetensors file of f16 or f32 tensors.
pub struct Weights {
    file: String,
    bytes: Cow<'static, [u8]>,
    /// Names read so far, to find tensors no layer uses (a mislabelled or stale file).
    read: Mutex<BTreeSet<String>>,
}

impl Weights {
    /// The copy of weights/ built into the library.
    pub fn bundled(network: Network) -> Result<Self> {
        Weights::from_bytes(network.file_name(), Cow::Borrowed(network.bundled_bytes()))
    }

    /// A weights file on disk.
    pub fn open(path: &Path) -> Result<Self> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path)
            .map_err(|e| Error::Weights { file: file.clone(), tensor: None, reason: e.to_string() })?;
        Weights::from_bytes(&file, Cow::Owned(bytes))
    }

    /// Validates the container (header, offsets, length) of `bytes`.
    pub fn from_bytes(file: &str, bytes: Cow<'static, [u8]>) -> Result<Self> {
        SafeTensors::deserialize(&bytes).map_err(|e| Error::Weights {
            file: file.to_string(),
            tensor: None,
            reason: format!("not a valid safetensors file ({e}); truncated or corrupt?"),
        })?;
        Ok(Weights { file: file.to_string(), bytes, read: Mutex::new(BTreeSet::new()) })
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    fn error(&self, tensor: &str, reason: String) -> Error {
        Error::Weights { file: self.file.clone(), tensor: Some(tensor.to_string()), reason }
    }

    /// Tensor `name` as f32, checked to have exactly `shape` and finite values.
    pub fn tensor(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let tensors = SafeTensors::deserialize(&self.bytes).map_err(|e| self.error(name, e.to_string()))?;
        let view = tensors.tensor(name).map_err(|_| self.error(name, "missing".to_string()))?;
        if let Ok(mut read) = self.read.lock() {
            read.insert(name.to_string());
        }
        if view.shape() != shape {
            return Err(self.error(name, format!("shape {:?}, expected {shape:?}", view.shape())));
        }
        let values: Vec<f32> = match view.dtype() {
            Dtype::F32 => view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            Dtype::F16 => view.data().chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
            other => return Err(self.error(name, format!("dtype {other:?}, expected F16 or F32"))),
        };
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(self.error(name, format!("non-finite value {} at index {index}", values[index])));
        }
        Ok(values)
    }

    /// Shape of tensor `name` (to size layers whose widths the file defines).
    pub fn shape(&self, name: &str) -> Result<Vec<usize>> {
        let tensors = SafeTensors::deserialize(&self.bytes).map_err(|e| self.error(name, e.to_string()))?;
        let view = tensors.tensor(name).map_err(|_| self.error(name, "missing".to_string()))?;
        Ok(view.shape().to_vec())
    }

    /// Tensors of the file that no layer has read (empty once a network is built from a
    /// file that holds exactly that network).
    pub fn unused(&self) -> Result<Vec<String>> {
        let tensors = SafeTensors::deserialize(&self.bytes).map_err(|e| self.error("*", e.to_string()))?;
        let read = self.read.lock().map_err(|_| self.error("*", "lock poisoned".to_string()))?;
        let mut unused: Vec<String> = tensors.names().into_iter().filter(|n| !read.contains(*n)).map(str::to_string).collect();
        unused.sort();
        Ok(unused)
    }
}
