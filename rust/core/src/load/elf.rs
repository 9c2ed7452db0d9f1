//! What EnvoyX reads of a module file before loading it: the ELF header (so that common mistakes
//! get a precise message instead of dlopen's), that everything the dynamic loader will map lies
//! inside the file (a file cut short — copied or written in place while it was read — would
//! otherwise be mapped past its end, and the first touch of the missing bytes kills the whole
//! process with SIGBUS), and the GNU build id (so that log lines can say which build a file is).

use crate::error::LoadError;
use std::path::Path;

/// Reads the file at `load_from` (what the dynamic loader will open: the file, or EnvoyX's
/// private copy of it) and checks it ([`check_bytes`]); errors name `path`, the configured file.
/// Returns the bytes, for the build id.
pub(crate) fn read_checked(path: &Path, load_from: &Path) -> Result<Vec<u8>, LoadError> {
    let bytes = std::fs::read(load_from)
        .map_err(|e| LoadError::Unreadable { path: path.into(), reason: e.to_string() })?;
    check_bytes(path, &bytes)?;
    Ok(bytes)
}

/// Checks a module file's bytes: an ELF shared object for this host, whole ([`check_layout`]).
pub(crate) fn check_bytes(path: &Path, bytes: &[u8]) -> Result<(), LoadError> {
    check_header(path, bytes)?;
    check_layout(path, bytes)
}

/// Checks the ELF header so that the common mistakes get a precise message instead of dlopen's.
fn check_header(path: &Path, bytes: &[u8]) -> Result<(), LoadError> {
    let header: [u8; 20] = match bytes.get(..20) {
        Some(header) => header.try_into().unwrap_or([0; 20]),
        None => [0; 20],
    };
    let not_so = |reason: String| LoadError::NotSharedObject { path: path.into(), reason };
    if &header[..4] != b"\x7fELF" {
        return Err(not_so("not an ELF file (no ELF magic number)".into()));
    }
    let (class, expected_class) = (header[4], if cfg!(target_pointer_width = "64") { 2 } else { 1 });
    let little_endian = header[5] == 1;
    let read_u16 = |at: usize| {
        let b = [header[at], header[at + 1]];
        if little_endian { u16::from_le_bytes(b) } else { u16::from_be_bytes(b) }
    };
    let (elf_type, machine) = (read_u16(16), read_u16(18));
    if class != expected_class || machine != HOST_ELF_MACHINE {
        return Err(LoadError::WrongArchitecture {
            path: path.into(),
            found: describe_machine(class, machine),
            expected: describe_machine(expected_class, HOST_ELF_MACHINE),
        });
    }
    const ET_DYN: u16 = 3;
    if elf_type != ET_DYN {
        let kind = match elf_type {
            1 => "a relocatable object (.o)",
            2 => "an executable",
            4 => "a core dump",
            _ => "not a shared object",
        };
        return Err(not_so(format!("the ELF file is {kind}; build the module as a cdylib / -shared")));
    }
    Ok(())
}

/// Checks that every part of the file the dynamic loader reads or maps lies inside it: the ELF
/// header, the program headers, every segment they describe (its bytes in the file: what
/// `PT_LOAD` maps, the dynamic section, notes), and the section headers, which the linker writes
/// last (so a file cut anywhere fails here). The header was checked ([`check_header`]).
fn check_layout(path: &Path, bytes: &[u8]) -> Result<(), LoadError> {
    let actual = bytes.len() as u64;
    let truncated = |part: String, end: u64| LoadError::Truncated { path: path.into(), part, end, actual };
    let malformed = |reason: String| LoadError::NotSharedObject { path: path.into(), reason };
    let is_64 = bytes[4] == 2;
    let header_size: u64 = if is_64 { 64 } else { 52 };
    if actual < header_size {
        return Err(truncated("ELF header".into(), header_size));
    }
    // In bounds: every read below is of the header, or of a table checked to lie in the file.
    let fields = Fields::of(bytes);
    let field = |at: u64, size: usize| fields.get(at as usize, size).unwrap_or(0);
    let (phoff, shoff, phentsize, phnum, shentsize, shnum) = if is_64 {
        (field(32, 8), field(40, 8), field(54, 2), field(56, 2), field(58, 2), field(60, 2))
    } else {
        (field(28, 4), field(32, 4), field(42, 2), field(44, 2), field(46, 2), field(48, 2))
    };
    let expected_phentsize = if is_64 { 56 } else { 32 };
    if phnum == 0 || phentsize != expected_phentsize {
        return Err(malformed(format!(
            "its program header table ({phnum} entries of {phentsize} bytes) is not one a shared object has"
        )));
    }
    let table_end = |offset: u64, count: u64, size: u64| offset.saturating_add(count * size);
    let phdrs_end = table_end(phoff, phnum, phentsize);
    if phdrs_end > actual {
        return Err(truncated("program header table".into(), phdrs_end));
    }
    for index in 0..phnum {
        let at = phoff + index * phentsize;
        let kind = field(at, 4);
        let (offset, file_size) =
            if is_64 { (field(at + 8, 8), field(at + 32, 8)) } else { (field(at + 4, 4), field(at + 16, 4)) };
        let end = offset.saturating_add(file_size);
        if file_size > 0 && end > actual {
            return Err(truncated(format!("segment {index} ({})", segment_kind(kind)), end));
        }
    }
    if shoff != 0 && shnum != 0 {
        let shdrs_end = table_end(shoff, shnum, shentsize);
        if shdrs_end > actual {
            return Err(truncated("section header table".into(), shdrs_end));
        }
    }
    Ok(())
}

/// Reads the fixed-width integers of an ELF file in its byte order (`e_ident[EI_DATA]`).
struct Fields<'a> {
    bytes: &'a [u8],
    little: bool,
}

impl<'a> Fields<'a> {
    fn of(bytes: &'a [u8]) -> Self {
        Self { bytes, little: bytes.get(5) == Some(&1) }
    }

    /// The `size`-byte integer at `at`; None past the end.
    fn get(&self, at: usize, size: usize) -> Option<u64> {
        let raw = self.bytes.get(at..at.checked_add(size)?)?;
        let fold = |value: u64, byte: &u8| value << 8 | u64::from(*byte);
        Some(if self.little { raw.iter().rev().fold(0, fold) } else { raw.iter().fold(0, fold) })
    }
}

/// A program header's type, as `readelf -l` names it.
fn segment_kind(kind: u64) -> String {
    match kind {
        1 => "LOAD".into(),
        2 => "DYNAMIC".into(),
        3 => "INTERP".into(),
        4 => "NOTE".into(),
        7 => "TLS".into(),
        0x6474e550 => "GNU_EH_FRAME".into(),
        0x6474e552 => "GNU_RELRO".into(),
        0x6474e553 => "GNU_PROPERTY".into(),
        other => format!("type {other:#x}"),
    }
}

#[cfg(target_arch = "x86_64")]
const HOST_ELF_MACHINE: u16 = 62;
#[cfg(target_arch = "aarch64")]
const HOST_ELF_MACHINE: u16 = 183;

fn describe_machine(class: u8, machine: u16) -> String {
    let name = match machine {
        3 => "x86 (i386)",
        40 => "ARM",
        62 => "x86-64",
        183 => "AArch64",
        243 => "RISC-V",
        other => return format!("ELF machine {other}, {}-bit", if class == 2 { 64 } else { 32 }),
    };
    format!("{name}, {}-bit", if class == 2 { 64 } else { 32 })
}

/// The GNU build id (`.note.gnu.build-id`, what `readelf -n` and `file` show) of a module
/// file's bytes, in hex, if the linker wrote one. Any malformation yields None (the file's other
/// checks report it).
pub(crate) fn build_id(bytes: &[u8]) -> Option<String> {
    const NT_GNU_BUILD_ID: u64 = 3;
    let id = note(bytes, b"GNU\0", NT_GNU_BUILD_ID)?;
    Some(id.iter().map(|b| format!("{b:02x}")).collect())
}

/// The Go build id (`.note.go.buildid`) of a file the Go linker made, such as a Go `c-shared`
/// module: the way to know, before loading it, that loading it starts a Go runtime.
pub(crate) fn go_build_id(path: &Path) -> Option<String> {
    const NT_GO_BUILD_ID: u64 = 4;
    let id = note(&std::fs::read(path).ok()?, b"Go\0\0", NT_GO_BUILD_ID)?;
    Some(String::from_utf8_lossy(&id).into_owned())
}

/// The build ids of the module file at `path`: the GNU one (any linker), and the Go one (a Go
/// `c-shared` module), for `envoyx push` to record.
pub fn build_ids(path: &Path) -> (Option<String>, Option<String>) {
    let bytes = std::fs::read(path).unwrap_or_default();
    (build_id(&bytes), go_build_id(path))
}

/// The descriptor of the first ELF note named `name` (NUL-padded to 4 bytes) of type `kind`, from
/// the note segments the program headers list.
fn note(bytes: &[u8], name: &[u8; 4], kind: u64) -> Option<Vec<u8>> {
    let fields = Fields::of(bytes);
    let field = |at: usize, size: usize| fields.get(at, size);
    let is_64 = *bytes.get(4)? == 2;
    let (phoff, phentsize, phnum) = if is_64 {
        (field(32, 8)?, field(54, 2)?, field(56, 2)?)
    } else {
        (field(28, 4)?, field(42, 2)?, field(44, 2)?)
    };
    const PT_NOTE: u64 = 4;
    for index in 0..phnum {
        let header = usize::try_from(phoff + index * phentsize).ok()?;
        if field(header, 4)? != PT_NOTE {
            continue;
        }
        let (offset, size) = if is_64 {
            (field(header + 8, 8)?, field(header + 32, 8)?)
        } else {
            (field(header + 4, 4)?, field(header + 16, 4)?)
        };
        let (mut at, end) = (usize::try_from(offset).ok()?, usize::try_from(offset + size).ok()?);
        // Notes: namesz, descsz, type (4 bytes each), then name and desc, each 4-aligned.
        while at + 12 <= end {
            let (name_size, desc_size, note_kind) = (field(at, 4)?, field(at + 4, 4)?, field(at + 8, 4)?);
            let name_at = at + 12;
            let desc_at = name_at + usize::try_from(name_size.div_ceil(4) * 4).ok()?;
            let next = desc_at + usize::try_from(desc_size.div_ceil(4) * 4).ok()?;
            if note_kind == kind && bytes.get(name_at..name_at + 4)? == name {
                return Some(bytes.get(desc_at..desc_at + usize::try_from(desc_size).ok()?)?.to_vec());
            }
            at = next;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elf_checks_name_the_problem() {
        let dir = std::env::temp_dir().join(format!("envoyx-elf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = dir.join("text.so");
        std::fs::write(&text, "hello, I am not a library").unwrap();
        let check = |path: &Path| read_checked(path, path);
        let err = check(&text).unwrap_err();
        assert!(err.to_string().contains("text.so: not a shared object: not an ELF file"), "{err}");

        // The running test binary: an executable (ET_DYN if PIE, so patch the type to be sure).
        let mut exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        exe.truncate(64);
        exe[16] = 2;
        let exe_path = dir.join("exe.so");
        std::fs::write(&exe_path, &exe).unwrap();
        let err = check(&exe_path).unwrap_err();
        assert!(err.to_string().contains("is an executable"), "{err}");

        // Same header, claiming AArch64 (or x86-64 on an AArch64 host).
        exe[16] = 3;
        let other: u16 = if HOST_ELF_MACHINE == 62 { 183 } else { 62 };
        exe[18..20].copy_from_slice(&other.to_le_bytes());
        let arm = dir.join("arm.so");
        std::fs::write(&arm, &exe).unwrap();
        let err = check(&arm).unwrap_err();
        assert!(matches!(err, LoadError::WrongArchitecture { .. }), "{err}");
        assert!(err.to_string().contains("arm.so: wrong architecture"), "{err}");

        // check_file adds the file checks in front of the ELF checks, with load's errors.
        assert!(matches!(crate::check_file(&dir.join("absent.so")), Err(LoadError::FileMissing { .. })));
        let err = crate::check_file(&dir).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        assert!(matches!(crate::check_file(&arm), Err(LoadError::WrongArchitecture { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_cut_anywhere_is_refused_naming_the_part_and_both_sizes() {
        let dir = std::env::temp_dir().join(format!("envoyx-cut-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let c = dir.join("m.c");
        // Some code and data, so the file has several segments and pages.
        std::fs::write(&c, "static char table[20000] = {1};\nint f(int i) { return table[i]; }\n").unwrap();
        let module = dir.join("whole.so");
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
        let status = std::process::Command::new(&cc)
            .args(["-shared", "-fPIC", "-o"])
            .arg(&module)
            .arg(&c)
            .status()
            .unwrap();
        assert!(status.success());
        let whole = std::fs::read(&module).unwrap();
        assert!(check_bytes(&module, &whole).is_ok(), "the whole file passes");
        let mut cuts: Vec<usize> = (20..whole.len()).step_by(512).collect();
        cuts.extend([whole.len() - 1, 4096, 8192, 12288].into_iter().filter(|&cut| cut < whole.len()));
        for cut in cuts {
            let err = check_bytes(&module, &whole[..cut]).expect_err("a cut file is refused");
            match &err {
                LoadError::Truncated { end, actual, .. } => {
                    assert_eq!(*actual, cut as u64);
                    assert!(*end > *actual, "cut at {cut}: {err}");
                }
                other => panic!("cut at {cut}: not refused as cut short: {other}"),
            }
            let text = err.to_string();
            assert!(
                text.contains("whole.so: the file is cut short")
                    && text.contains(&format!("the file has {cut} bytes")),
                "{text}"
            );
        }
        // A segment that claims one byte past the end, in a file otherwise whole.
        let phoff = u64::from_le_bytes(whole[32..40].try_into().unwrap()) as usize;
        let mut stretched = whole.clone();
        let filesz_at = phoff + 32; // the first program header's p_filesz
        let filesz = u64::from_le_bytes(stretched[filesz_at..filesz_at + 8].try_into().unwrap());
        let offset = u64::from_le_bytes(stretched[phoff + 8..phoff + 16].try_into().unwrap());
        let past = whole.len() as u64 + 1 - offset;
        assert!(past > filesz);
        stretched[filesz_at..filesz_at + 8].copy_from_slice(&past.to_le_bytes());
        let err = check_bytes(&module, &stretched).unwrap_err();
        assert!(err.to_string().contains(&format!("ends at byte {}", whole.len() + 1)), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn build_id_matches_the_linkers() {
        // A C shared object linked with an explicit build id, read back.
        let dir = std::env::temp_dir().join(format!("envoyx-buildid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let c = dir.join("m.c");
        std::fs::write(&c, "int f(void) { return 1; }\n").unwrap();
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
        let build = |out: &str, flag: &str| {
            let status = std::process::Command::new(&cc)
                .args(["-shared", "-fPIC", flag, "-o"])
                .arg(dir.join(out))
                .arg(&c)
                .status()
                .unwrap();
            assert!(status.success());
            dir.join(out)
        };
        let with = build("with.so", "-Wl,--build-id=0x0123456789abcdef");
        let read = |path: &Path| std::fs::read(path).unwrap();
        assert_eq!(build_id(&read(&with)).as_deref(), Some("0123456789abcdef"));
        assert_eq!(go_build_id(&with), None, "a C module is not a Go module");
        let without = build("without.so", "-Wl,--build-id=none");
        assert_eq!(build_id(&read(&without)), None);
        std::fs::write(dir.join("junk.so"), b"\x7fELF\x02\x01 truncated").unwrap();
        assert_eq!(build_id(&read(&dir.join("junk.so"))), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
