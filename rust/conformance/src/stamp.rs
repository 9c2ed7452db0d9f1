//! Builds of the conformance module that differ only in their version stamp, for the hot-reload
//! tests: the module answers the `version` cases with the stamp (`x-envoyx-version`), and a
//! stamp starting with `refuse` makes it refuse every configuration (a broken replacement).

use std::io;
use std::path::Path;

/// The marker in front of the stamp's bytes in the module file.
const MARKER: &[u8] = b"envoyx-stamp:";
/// The stamp's room after the marker (`_` pads).
const ROOM: usize = 11;

/// The conformance module file `module` with its version stamp set to `version` (at most 11
/// bytes).
pub fn stamp_version(module: &[u8], version: &str) -> io::Result<Vec<u8>> {
    if version.len() > ROOM || version.contains('_') {
        return Err(io::Error::other(format!("version stamp `{version}`: at most {ROOM} bytes, no `_`")));
    }
    let at = module
        .windows(MARKER.len())
        .position(|window| window == MARKER)
        .ok_or_else(|| io::Error::other("no `envoyx-stamp:` marker: not the conformance module"))?
        + MARKER.len();
    let mut stamped = module.to_vec();
    let mut stamp = [b'_'; ROOM];
    stamp[..version.len()].copy_from_slice(version.as_bytes());
    stamped[at..at + ROOM].copy_from_slice(&stamp);
    Ok(stamped)
}

/// Installs the conformance module `built`, stamped `version`, at `to` the way deploy tools
/// replace a file: written next to it, then renamed over it (a new inode).
pub fn install_stamped(built: &Path, version: &str, to: &Path) -> io::Result<()> {
    install(&stamp_version(&std::fs::read(built)?, version)?, to)
}

/// Writes `bytes` next to `to`, then renames the file over it.
pub fn install(bytes: &[u8], to: &Path) -> io::Result<()> {
    let mut temporary = to.as_os_str().to_owned();
    temporary.push(".new");
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_replaces_the_bytes_after_the_marker_only() {
        let file = b"head envoyx-stamp:v0_________ tail".to_vec();
        let stamped = stamp_version(&file, "v12").unwrap();
        assert_eq!(stamped, b"head envoyx-stamp:v12________ tail");
        assert!(stamp_version(&file, "much-too-long").is_err());
        assert!(stamp_version(b"no marker here", "v1").is_err());
    }
}
