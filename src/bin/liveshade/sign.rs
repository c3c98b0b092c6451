//! `liveshade keygen` and `liveshade verify`, and the `--sign KEY.sec --nonce HEX` options
//! of `check` and `session` (the format: src/signing.rs).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use liveshade::signing::{self, Nonce, PublicKey, SecretKey};
use zeroize::Zeroizing;

/// Signing a result for a server.
#[derive(Args, Clone, Debug)]
pub struct SignArgs {
    /// Sign the result with this secret key (from `liveshade keygen`); prints one signed
    /// JSON document per result.
    #[arg(long, value_name = "KEY.sec", requires = "nonce")]
    pub sign: Option<PathBuf>,
    /// The server's nonce for this result, 32 to 128 hex digits.
    #[arg(long, value_name = "HEX", requires = "sign")]
    pub nonce: Option<String>,
}

impl SignArgs {
    /// The key and nonce to sign with, when asked to.
    pub fn signer(&self) -> Result<Option<(SecretKey, Nonce)>, liveshade::Error> {
        let (Some(path), Some(nonce)) = (&self.sign, &self.nonce) else { return Ok(None) };
        let text = Zeroizing::new(read(path)?);
        Ok(Some((SecretKey::from_text(&text)?, Nonce::from_hex(nonce)?)))
    }
}

fn read(path: &Path) -> Result<String, liveshade::Error> {
    std::fs::read_to_string(path).map_err(|e| liveshade::Error::Signature { reason: format!("cannot read {}: {e}", path.display()) })
}

/// Writes a new file, refusing to replace one; the secret key's is readable by its owner only.
fn write_new(path: &Path, text: &str, owner_only: bool) -> Result<(), liveshade::Error> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if owner_only { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = owner_only;
    let fail = |e: std::io::Error| liveshade::Error::Signature { reason: format!("cannot write {}: {e} (keygen never replaces a key file)", path.display()) };
    options.open(path).and_then(|mut file| file.write_all(text.as_bytes())).map_err(fail)
}

/// `liveshade keygen --secret KEY.sec --public KEY.pub`.
pub fn keygen(secret: &Path, public: &Path) -> Result<bool, liveshade::Error> {
    let key = SecretKey::generate()?;
    write_new(secret, &key.to_text(), true)?;
    write_new(public, &key.public_key().to_text(), false)?;
    println!(
        "{}: secret key (keep it on the terminal); {}: public key {} (give it to the server)",
        secret.display(),
        public.display(),
        key.public_key().to_hex()
    );
    Ok(true)
}

/// `liveshade verify --public KEY.pub --nonce HEX RESULT.json`: prints the signed payload
/// and succeeds only if the signature is valid, by that key, over that nonce.
pub fn verify(public: &Path, nonce: &str, result: &Path) -> Result<bool, liveshade::Error> {
    let key = PublicKey::from_text(&read(public)?)?;
    let nonce = Nonce::from_hex(nonce)?;
    let document = if result == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).map_err(|e| liveshade::Error::Signature { reason: format!("cannot read the result from stdin: {e}") })?
    } else {
        read(result)?
    };
    match signing::verify(&document, &key, &nonce) {
        Ok(verified) => {
            println!("{}", verified.payload);
            eprintln!("liveshade: valid: a {} result, {}, signed by {}", verified.kind, verified.verdict, key.to_hex());
            Ok(true)
        }
        Err(error) => {
            eprintln!("liveshade: not valid: {error}");
            Ok(false)
        }
    }
}
