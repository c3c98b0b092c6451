//! The three networks, each built from weights/ as a list of bound dispatches.

pub mod blazeface;
pub mod facemesh;
mod graph;
pub mod minifasnet;
pub mod weights;

pub use blazeface::BlazeFace;
pub use facemesh::FaceMesh;
pub use graph::{BuildOptions, Graph};
pub use minifasnet::{MiniFasNet, Variant};
pub use weights::{Network, Weights, weights_sha256};
