//! What EnvoyX reads of a module file before loading it: the ELF header (so that common mistakes
//! get a precise message instead of dlopen's) and the GNU build id (so that log lines can say
//! which build a file is).

use crate::error::LoadError;
use std::path::Path;

/// Checks the ELF header so that the common mistakes get a precise message instead of dlopen's.
pub(crate) fn check_elf(path: &Path) -> Result<(), LoadError> {
    use std::io::Read;
    let mut header = [0u8; 20];
    let mut file = std::fs::File::open(path)
        .map_err(|e| LoadError::Unreadable { path: path.into(), reason: e.to_string() })?;
    let read = file
        .read(&mut header)
        .map_err(|e| LoadError::Unreadable { path: path.into(), reason: e.to_string() })?;
    let not_so = |reason: String| LoadError::NotSharedObject { path: path.into(), reason };
    if read < header.len() || &header[..4] != b"\x7fELF" {
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

/// The file's GNU build id (`.note.gnu.build-id`, what `readelf -n` and `file` show) in hex, if
/// the linker wrote one. Any malformation yields None (the file's other checks report it).
pub(crate) fn build_id(path: &Path) -> Option<String> {
    const NT_GNU_BUILD_ID: u64 = 3;
    let id = note(&std::fs::read(path).ok()?, b"GNU\0", NT_GNU_BUILD_ID)?;
    Some(id.iter().map(|b| format!("{b:02x}")).collect())
}

/// The Go build id (`.note.go.buildid`) of a file the Go linker made, such as a Go `c-shared`
/// module: the way to know, before loading it, that loading it starts a Go runtime.
pub(crate) fn go_build_id(path: &Path) -> Option<String> {
    const NT_GO_BUILD_ID: u64 = 4;
    let id = note(&std::fs::read(path).ok()?, b"Go\0\0", NT_GO_BUILD_ID)?;
    Some(String::from_utf8_lossy(&id).into_owned())
}

/// The descriptor of the first ELF note named `name` (NUL-padded to 4 bytes) of type `kind`, from
/// the note segments the program headers list.
fn note(bytes: &[u8], name: &[u8; 4], kind: u64) -> Option<Vec<u8>> {
    let field = |at: usize, size: usize| -> Option<u64> {
        let raw = bytes.get(at..at.checked_add(size)?)?;
        let little = *bytes.get(5)? == 1;
        let mut value = 0u64;
        for i in 0..size {
            let byte = if little { raw[size - 1 - i] } else { raw[i] };
            value = value << 8 | u64::from(byte);
        }
        Some(value)
    };
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
        let err = check_elf(&text).unwrap_err();
        assert!(err.to_string().contains("text.so: not a shared object: not an ELF file"), "{err}");

        // The running test binary: an executable (ET_DYN if PIE, so patch the type to be sure).
        let mut exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        exe.truncate(64);
        exe[16] = 2;
        let exe_path = dir.join("exe.so");
        std::fs::write(&exe_path, &exe).unwrap();
        let err = check_elf(&exe_path).unwrap_err();
        assert!(err.to_string().contains("is an executable"), "{err}");

        // Same header, claiming AArch64 (or x86-64 on an AArch64 host).
        exe[16] = 3;
        let other: u16 = if HOST_ELF_MACHINE == 62 { 183 } else { 62 };
        exe[18..20].copy_from_slice(&other.to_le_bytes());
        let arm = dir.join("arm.so");
        std::fs::write(&arm, &exe).unwrap();
        let err = check_elf(&arm).unwrap_err();
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
        assert_eq!(build_id(&with).as_deref(), Some("0123456789abcdef"));
        assert_eq!(go_build_id(&with), None, "a C module is not a Go module");
        let without = build("without.so", "-Wl,--build-id=none");
        assert_eq!(build_id(&without), None);
        std::fs::write(dir.join("junk.so"), b"\x7fELF\x02\x01 truncated").unwrap();
        assert_eq!(build_id(&dir.join("junk.so")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
