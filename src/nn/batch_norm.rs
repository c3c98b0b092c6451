//! Batch normalisation folded into the layer before it, once, when weights are loaded:
//! no batch-norm kernel runs per frame.

use crate::error::Result;
use crate::nn::layer::check_len;

/// Eval-mode BatchNorm statistics of one layer (PyTorch's `BatchNorm2d` / `1d`).
pub struct BatchNorm<'a> {
    pub weight: &'a [f32],
    pub bias: &'a [f32],
    pub running_mean: &'a [f32],
    pub running_var: &'a [f32],
    /// PyTorch's default, 1e-5, in every MiniFASNet layer.
    pub eps: f64,
}

/// Folds `bn` into a convolution or linear layer with `out` output channels whose
/// weights are laid out output-major (`[out][...]`):
/// `BN(W x + b) = (W * g) x + (b - mean) * g + beta` with `g = weight / sqrt(var + eps)`.
/// Computed in f64, returned as f32 (weights, bias).
pub fn fold_batch_norm(weights: &[f32], bias: Option<&[f32]>, out: usize, bn: &BatchNorm<'_>) -> Result<(Vec<f32>, Vec<f32>)> {
    for (name, values) in [("bn weight", bn.weight), ("bn bias", bn.bias), ("bn running_mean", bn.running_mean), ("bn running_var", bn.running_var)] {
        check_len("fold_batch_norm", name, values.len(), out)?;
    }
    if let Some(bias) = bias {
        check_len("fold_batch_norm", "bias", bias.len(), out)?;
    }
    let per_output = weights.len().checked_div(out).unwrap_or(0);
    check_len("fold_batch_norm", "weights", weights.len(), per_output * out)?;
    let mut folded_weights = Vec::with_capacity(weights.len());
    let mut folded_bias = Vec::with_capacity(out);
    for o in 0..out {
        let gain = bn.weight[o] as f64 / (bn.running_var[o] as f64 + bn.eps).sqrt();
        let b = bias.map_or(0.0, |b| b[o] as f64);
        folded_bias.push(((b - bn.running_mean[o] as f64) * gain + bn.bias[o] as f64) as f32);
        folded_weights.extend(weights[o * per_output..(o + 1) * per_output].iter().map(|w| (*w as f64 * gain) as f32));
    }
    Ok((folded_weights, folded_bias))
}
