//! Generated regions inside hand-written files, and rustfmt for the Rust ones.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const BEGIN: &str = "@generated begin";
const END: &str = "@generated end";

/// `text` with the lines between its `@generated begin` and `@generated end` lines replaced by
/// `render(indent)`, where `indent` is the begin line's indentation.
pub fn region(text: &str, render: impl Fn(&str) -> String) -> Result<String, String> {
    let begin = text.find(BEGIN).ok_or(format!("no `{BEGIN}` line"))?;
    let begin_line_start = text[..begin].rfind('\n').map_or(0, |i| i + 1);
    let indent: String = text[begin_line_start..].chars().take_while(|c| *c == ' ').collect();
    let body_start = begin + text[begin..].find('\n').ok_or(format!("`{BEGIN}` ends the file"))? + 1;
    let end = body_start + text[body_start..].find(END).ok_or(format!("no `{END}` line after `{BEGIN}`"))?;
    let end_line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
    if text[end + END.len()..].contains(BEGIN) {
        return Err(format!("more than one `{BEGIN}` region"));
    }
    Ok(format!("{}{}{}", &text[..body_start], render(&indent), &text[end_line_start..]))
}

/// `source` as `cargo fmt` formats it (the repository's rustfmt.toml, edition 2024).
pub fn rustfmt(root: &Path, source: &str) -> Result<String, String> {
    let mut child = Command::new(std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into()))
        .args(["--edition", "2024", "--config-path"])
        .arg(root.join("rustfmt.toml"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("rustfmt: {e} (install it: rustup component add rustfmt)"))?;
    child.stdin.take().unwrap().write_all(source.as_bytes()).map_err(|e| format!("rustfmt: {e}"))?;
    let output = child.wait_with_output().map_err(|e| format!("rustfmt: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "rustfmt refused the generated code: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("rustfmt: {e}"))
}
