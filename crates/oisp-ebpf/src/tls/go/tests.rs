use super::testbin::go_client;
use super::*;
use std::path::PathBuf;

/// Both builds of the Go client: located by symbol (unstripped) and through `.gopclntab`
/// (stripped), at the same functions, with the same returns; `.symtab` and the table agree.
#[test]
fn go_client_builds_are_located() {
    let Some(b) = go_client() else {
        return;
    };
    let mut located = Vec::new();
    for (path, how) in [(&b.plain, "by symbol"), (&b.stripped, "by .gopclntab")] {
        let mut elf = Elf::open(path).expect("ELF");
        assert!(GoTls.is_linked_into(path, &mut elf), "{}", path.display());
        assert_eq!(
            elf.static_symbol(WRITE).is_some(),
            how == "by symbol",
            "{how}"
        );
        let groups = GoTls.locate(&mut elf, Linkage::LinkedIn).expect("located");
        assert_eq!(groups.len(), 4, "{groups:#?}");
        let hooks: Vec<&Hook> = groups.iter().flat_map(|g| &g.alternatives[0]).collect();
        for h in &hooks {
            assert!(
                h.label.contains(how) && h.label.contains("go1."),
                "{}",
                h.label
            );
            assert!(
                h.exit.is_none() && h.session.is_none(),
                "no return probes: {h:?}"
            );
        }
        let write = &groups[0].alternatives[0];
        let read = &groups[1].alternatives[0];
        assert_eq!(write[0].enter, "go_write_enter");
        assert_eq!(read[0].enter, "go_read_enter");
        assert!(write.len() >= 2 && read.len() >= 2, "returns found");
        assert!(write[1..]
            .iter()
            .chain(&read[1..])
            .all(|h| h.enter == "go_tls_ret"));
        assert_eq!(groups[2].alternatives[0][0].enter, "go_close_enter");
        let sni = &groups[3].alternatives[0];
        assert_eq!(sni[0].enter, "go_hello_enter");
        assert!(sni.len() >= 2 && sni[1..].iter().all(|h| h.enter == "go_sni_ret"));
        assert!(groups[2..]
            .iter()
            .flat_map(|g| &g.alternatives[0])
            .all(|h| !h.data));
        // Each return probe sits on a `ret` (0xc3) inside the function.
        let mut f = std::fs::read(path).unwrap();
        for h in write[1..].iter().chain(&read[1..]).chain(&sni[1..]) {
            assert_eq!(f[h.offset as usize], 0xc3, "{}", h.label);
        }
        f.clear();
        eprintln!(
            "{}: {how}: Write entry 0x{:x} + {} returns, Read entry 0x{:x} + {} returns",
            path.display(),
            write[0].offset,
            write.len() - 1,
            read[0].offset,
            read.len() - 1
        );
        located.push(
            hooks
                .iter()
                .map(|h| (h.offset, h.enter))
                .collect::<Vec<_>>(),
        );
    }
    // Stripping removes symbols, not code: the same functions at the same places.
    assert_eq!(located[0], located[1]);
}

/// The table of a real Go executable parses, and every check on it holds: the functions found
/// through it are the `.symtab` ones, start and end.
#[test]
fn pclntab_matches_symtab() {
    let Some(b) = go_client() else {
        return;
    };
    let mut elf = Elf::open(&b.plain).unwrap();
    let (bytes, text) = pclntab_bytes(&mut elf).expect(".gopclntab");
    let table = Pclntab::parse(&bytes, text).expect("parses");
    let magic = u32::from_le_bytes(bytes[..4].try_into().unwrap());
    assert!(matches!(magic, pclntab::MAGIC_118 | pclntab::MAGIC_120));
    assert_eq!(
        Some(table.text_start),
        elf.section(".text").map(|s| s.vaddr)
    );
    for name in [
        WRITE,
        READ,
        CLOSE,
        "main.main",
        "net/http.(*Transport).RoundTrip",
    ] {
        let f = table.find(name).expect(name);
        let sym = elf.static_symbol(name).expect(name);
        assert_eq!(f.start, sym.vaddr, "{name}");
        // The table's end includes the alignment padding after the function.
        assert!(f.end >= sym.vaddr + sym.size && f.end - (sym.vaddr + sym.size) < 32);
    }
    let version = buildinfo::version_string(&mut elf).expect("version");
    assert!(
        buildinfo::parse(&version).is_some_and(|v| v >= (1, 17)),
        "{version}"
    );
}

/// Executables that are not Go, or not x86-64 Go with crypto/tls, are not claimed.
#[test]
fn other_executables_are_not_go() {
    for p in ["/bin/ls", "/usr/bin/wget"] {
        let Some(mut elf) = Elf::open(Path::new(p)) else {
            eprintln!("skipped: no {p}");
            continue;
        };
        assert!(!GoTls.is_linked_into(Path::new(p), &mut elf), "{p}");
    }
}

/// A copy of `path` beside it, changed by `edit`; removed when dropped.
struct EditedCopy(PathBuf);

impl EditedCopy {
    fn new(path: &Path, name: &str, edit: impl FnOnce(&mut Vec<u8>)) -> EditedCopy {
        let mut bytes = std::fs::read(path).unwrap();
        edit(&mut bytes);
        let out = path.with_file_name(format!("{name}-{}", std::process::id()));
        std::fs::write(&out, bytes).unwrap();
        EditedCopy(out)
    }
}

impl Drop for EditedCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A stripped position-independent build (the table in `.data.rel.ro.gopclntab`), and a stripped
/// build without section headers (the table and the build information found by their headers
/// in the data segments): located, at the same functions as the plain build.
#[test]
fn pie_and_section_less_builds_are_located() {
    let Some(b) = go_client() else {
        return;
    };
    let hooks = |path: &Path| -> Vec<(u64, &'static str)> {
        let mut elf = Elf::open(path).expect("ELF");
        assert!(GoTls.is_linked_into(path, &mut elf), "{}", path.display());
        let groups = GoTls.locate(&mut elf, Linkage::LinkedIn).expect("located");
        groups
            .iter()
            .flat_map(|g| &g.alternatives[0])
            .inspect(|h| assert!(h.label.contains("by .gopclntab"), "{}", h.label))
            .map(|h| (h.offset, h.enter))
            .collect()
    };
    let pie = hooks(&b.pie);
    assert!(pie.iter().filter(|h| h.1 == "go_tls_ret").count() >= 4);
    let copy = EditedCopy::new(&b.stripped, "go-client-no-sections", |f| {
        f[0x28..0x30].fill(0); // e_shoff
        f[0x3c..0x40].fill(0); // e_shnum, e_shstrndx
    });
    let elf = Elf::open(&copy.0).unwrap();
    assert!(!elf.has_sections());
    assert_eq!(hooks(&copy.0), hooks(&b.stripped));
}

/// A table that disagrees with itself is refused, with the reason: here `Write`'s entry in
/// the function table no longer matches its `_func`.
#[test]
fn inconsistent_table_is_refused() {
    let Some(b) = go_client() else {
        return;
    };
    let mut elf = Elf::open(&b.stripped).unwrap();
    let sec = elf.section(".gopclntab").expect(".gopclntab").clone();
    let (bytes, text) = pclntab_bytes(&mut elf).unwrap();
    let table = Pclntab::parse(&bytes, text).unwrap();
    let write = table.find(WRITE).unwrap();
    let entry_off = ((write.start - table.text_start) as u32).to_le_bytes();
    let functab = u64::from_le_bytes(bytes[64..72].try_into().unwrap()) as usize;
    // The function table entry of Write: (entryOff, funcOff) pairs after `functab`.
    let at = (functab..bytes.len() - 8)
        .step_by(8)
        .find(|a| bytes[*a..*a + 4] == entry_off)
        .expect("Write's table entry");
    let bad = EditedCopy::new(&b.stripped, "go-client-bad-table", |f| {
        f[sec.offset as usize + at] ^= 0x01;
    });
    let mut elf = Elf::open(&bad.0).unwrap();
    let why = GoTls.locate(&mut elf, Linkage::LinkedIn).unwrap_err();
    assert!(
        why.starts_with("Go crypto/tls found but not located safely:") && why.contains("_func"),
        "{why}"
    );
}
