//! Computes the reference runtime's fingerprint: the SHA-256 of src/image.rs,
//! which defines the runtime image and its built-ins, so that a dump and a runtime pair
//! exactly when they agree on those layouts.

use sha2::{Digest, Sha256};

const LAYOUT_SOURCES: &[&str] = &["src/image.rs"];

fn main() {
    // The rustc wrapper that links the binaries statically is not part of
    // cargo's fingerprint: a change to it or to the config naming it reruns
    // this script, which rebuilds the package.
    println!("cargo:rerun-if-changed=.cargo/config.toml");
    println!("cargo:rerun-if-changed=.cargo/static-pdmp.sh");
    let mut hash = Sha256::new();
    for path in LAYOUT_SOURCES {
        println!("cargo:rerun-if-changed={path}");
        hash.update(path.as_bytes());
        hash.update(std::fs::read(path).unwrap_or_default());
    }
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("fingerprint.bin"), hash.finalize()).expect("write fingerprint");
}
