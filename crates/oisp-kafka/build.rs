//! Compiles the vendored OISP protos (`vendor/oisp-spec/proto`, unmodified) into a
//! FileDescriptorSet with `protox` (pure Rust: no `protoc` needed on the build machine). The
//! library embeds it and builds `oisp.v1.Event` messages from it at run time.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let proto_dir = manifest.join("../../vendor/oisp-spec/proto");
    let files = ["oisp/v1/common.proto", "oisp/v1/events.proto"];
    for f in &files {
        println!("cargo:rerun-if-changed={}", proto_dir.join(f).display());
    }
    let mut compiler = match protox::Compiler::new([&proto_dir]) {
        Ok(c) => c,
        Err(e) => panic!("oisp-kafka: protos in {}: {e}", proto_dir.display()),
    };
    compiler.include_imports(true).include_source_info(false);
    if let Err(e) = compiler.open_files(files) {
        panic!("oisp-kafka: compiling {}: {e:?}", proto_dir.display());
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("oisp_v1.bin");
    std::fs::write(&out, compiler.encode_file_descriptor_set())
        .unwrap_or_else(|e| panic!("oisp-kafka: writing {}: {e}", out.display()));
}
