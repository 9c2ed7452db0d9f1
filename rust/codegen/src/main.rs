//! `cargo run -p envoyx-codegen`: rewrites the generated lists of the host table (see the
//! library's comment); `--check` only reports the files that differ and fails.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(root) = checkout() else {
        eprintln!(
            "envoyx-codegen: run it inside an EnvoyX checkout (no x/abi.h above {:?})",
            std::env::current_dir()
        );
        return ExitCode::FAILURE;
    };
    let check = std::env::args().any(|a| a == "--check");
    let result = if check { check_only(&root) } else { write(&root) };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("envoyx-codegen: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The checkout the command runs in: the nearest folder above the working directory with
/// `x/abi.h` and `rust/codegen`. Not the folder this binary was built from: checkouts sharing a
/// target directory share `target/debug/envoyx-codegen` too.
fn checkout() -> Option<PathBuf> {
    let here = std::env::current_dir().ok()?;
    here.ancestors()
        .find(|dir| dir.join("x/abi.h").is_file() && dir.join("rust/codegen").is_dir())
        .map(PathBuf::from)
}

fn check_only(root: &std::path::Path) -> Result<(), String> {
    let stale = envoyx_codegen::stale(root)?;
    if stale.is_empty() {
        println!("every generated file is current");
        return Ok(());
    }
    Err(format!("stale (run `cargo run -p envoyx-codegen`):\n  {}", stale.join("\n  ")))
}

fn write(root: &std::path::Path) -> Result<(), String> {
    for output in envoyx_codegen::outputs(root)? {
        let path = root.join(&output.path);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(output.content.as_str()) {
            continue;
        }
        std::fs::write(&path, &output.content).map_err(|e| format!("{}: {e}", output.path))?;
        println!("wrote {}", output.path);
    }
    Ok(())
}
