//! Compiles the BPF programs under `bpf/` with clang (CO-RE) and generates the libbpf-rs
//! skeleton. `bpf/oisp.bpf.c` is the one translation unit: it includes each program family's
//! file, so every family shares one set of maps and one skeleton. The build reruns when anything
//! under `bpf/` changes.
//!
//! `vmlinux.h` is generated here, at build time, from the build machine's kernel BTF with
//! `bpftool btf dump file /sys/kernel/btf/vmlinux format c` (override the BTF file with
//! `OISP_VMLINUX_BTF`). CO-RE relocations make the object portable across kernels, so the header
//! only has to name the types and fields the programs use; generating it keeps a 3 MB generated
//! file out of the repository.
//!
//! Targets other than Linux get nothing (the crate is empty there); the BPF side builds on a
//! Linux host only (libbpf-cargo is a Linux-host build dependency).

use std::path::PathBuf;

const SRC: &str = "bpf/oisp.bpf.c";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    build_bpf();
}

#[cfg(not(target_os = "linux"))]
fn build_bpf() {
    panic!("oisp-ebpf: the BPF programs are built on a Linux host (cross-building to Linux from another OS is not supported)");
}

#[cfg(target_os = "linux")]
fn build_bpf() {
    use libbpf_cargo::SkeletonBuilder;
    use std::process::Command;

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let btf =
        std::env::var("OISP_VMLINUX_BTF").unwrap_or_else(|_| "/sys/kernel/btf/vmlinux".into());
    println!("cargo:rerun-if-env-changed=OISP_VMLINUX_BTF");
    // A directory: cargo rescans every file under it.
    println!("cargo:rerun-if-changed=bpf");

    let vmlinux = out.join("vmlinux.h");
    let dump = Command::new("bpftool")
        .args(["btf", "dump", "file", &btf, "format", "c"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "oisp-ebpf: cannot run bpftool ({e}); install it (Debian/Ubuntu: \
                 apt-get install bpftool, or run scripts/install-deps.sh)"
            )
        });
    if !dump.status.success() {
        panic!(
            "oisp-ebpf: `bpftool btf dump file {btf} format c` failed: {}\nThe build needs kernel \
             BTF (CONFIG_DEBUG_INFO_BTF) or OISP_VMLINUX_BTF pointing to a BTF file.",
            String::from_utf8_lossy(&dump.stderr)
        );
    }
    std::fs::write(&vmlinux, &dump.stdout).expect("write vmlinux.h");

    let arch = match std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("x86_64") => "x86",
        Ok("aarch64") => "arm64",
        Ok(other) => panic!("oisp-ebpf: unsupported target architecture {other}"),
        Err(_) => "x86",
    };
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("manifest dir"));
    SkeletonBuilder::new()
        .source(manifest.join(SRC))
        .clang_args([
            format!("-I{}", out.display()),
            format!("-I{}", manifest.join("bpf").display()),
            format!("-D__TARGET_ARCH_{arch}"),
            "-mcpu=v3".to_string(),
            "-Wall".to_string(),
        ])
        .build_and_generate(out.join("oisp.skel.rs"))
        .unwrap_or_else(|e| {
            panic!(
                "oisp-ebpf: compiling {SRC} failed: {e:#}\n(needs clang: apt-get install clang llvm, \
                 or run scripts/install-deps.sh)"
            )
        });
}
