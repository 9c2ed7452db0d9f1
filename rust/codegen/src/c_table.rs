//! `x/abi.h`'s host table (`struct envoyx_host_api`) read as data, and the Rust mirror
//! (`rust/abi/src/host_api.rs`) written from it.
//!
//! The header is the contract C authors read, so it stays hand-written; this reads it with a
//! parser for exactly the forms the table uses (`TYPE (*name)(PARAMS);` fields, `/* -- Section --
//! */` comments) and refuses anything else by name, so a new form is noticed, not mistranslated.

/// One function of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableFunction {
    pub name: String,
    /// The C return type, `void` when none.
    pub returns: String,
    /// `(name, C type)` per parameter.
    pub params: Vec<(String, String)>,
    /// The minor ABI version that appended it: the first frozen header (`x/compat/1.N/abi.h`)
    /// that has it, else the header's own minor.
    pub minor: u32,
    /// The section comment that opens it (`-- Logging (any thread) --` without the dashes).
    pub section: Option<String>,
}

/// The table of `header` (the text of an `abi.h`): its functions in order, each with the section
/// it opens if any. Minors are left 0 ([`with_minors`] sets them).
pub fn table_functions(header: &str) -> Result<Vec<TableFunction>, String> {
    let start = header
        .find("typedef struct envoyx_host_api {")
        .ok_or("no `typedef struct envoyx_host_api {` in the header")?;
    let body = &header[start..];
    let body = &body[body.find('{').unwrap() + 1..];
    let end = body.find("} envoyx_host_api;").ok_or("no `} envoyx_host_api;` closing the table")?;
    let mut functions = Vec::new();
    let mut section = None;
    for item in declarations(&body[..end]) {
        match item {
            Item::Comment(text) => {
                let text = text.trim();
                if let Some(title) = text.strip_prefix("-- ") {
                    let title = title.split(" --").next().unwrap_or(title).trim();
                    section = Some(title.to_string());
                }
            }
            Item::Declaration(decl) => {
                if matches!(decl.as_str(), "uint32_t size" | "envoyx_abi_version version") {
                    continue;
                }
                let mut function = function_pointer(&decl)?;
                function.section = section.take();
                functions.push(function);
            }
        }
    }
    Ok(functions)
}

/// The value of `#define name N` in `header`.
pub fn define(header: &str, name: &str) -> Result<u32, String> {
    header
        .lines()
        .find_map(|l| l.trim().strip_prefix("#define ")?.strip_prefix(name)?.trim().parse().ok())
        .ok_or_else(|| format!("no `#define {name} <number>` in the header"))
}

/// Sets each function's minor: the lowest frozen header's minor that has it, else `current`.
/// `frozen` holds `(minor, header text)`.
pub fn with_minors(
    mut functions: Vec<TableFunction>,
    current: u32,
    frozen: &[(u32, String)],
) -> Result<Vec<TableFunction>, String> {
    let mut frozen_names = Vec::new();
    for (minor, text) in frozen {
        let names: Vec<String> = table_functions(text)
            .map_err(|e| format!("x/compat/1.{minor}/abi.h: {e}"))?
            .into_iter()
            .map(|f| f.name)
            .collect();
        frozen_names.push((*minor, names));
    }
    frozen_names.sort();
    for function in &mut functions {
        function.minor = frozen_names
            .iter()
            .find(|(_, names)| names.contains(&function.name))
            .map_or(current, |(minor, _)| *minor);
    }
    Ok(functions)
}

enum Item {
    Comment(String),
    Declaration(String),
}

/// The struct body as comments and `;`-ended declarations (whitespace collapsed), in order.
fn declarations(body: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut rest = body;
    let mut pending = String::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("/*") {
            let end = after.find("*/").unwrap_or(after.len());
            items.push(Item::Comment(after[..end].to_string()));
            rest = after.get(end + 2..).unwrap_or("");
        } else if let Some(after) = rest.strip_prefix("//") {
            let end = after.find('\n').unwrap_or(after.len());
            items.push(Item::Comment(after[..end].to_string()));
            rest = &after[end..];
        } else {
            let c = rest.chars().next().unwrap();
            rest = &rest[c.len_utf8()..];
            if c == ';' {
                items.push(Item::Declaration(collapse(&pending)));
                pending.clear();
            } else {
                pending.push(c);
            }
        }
    }
    items
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").replace("( ", "(").replace(" )", ")")
}

/// `RET (*name)(TYPE a, TYPE b)` as a [`TableFunction`].
fn function_pointer(decl: &str) -> Result<TableFunction, String> {
    let refused = || format!("the table field `{decl}` is not of the form `TYPE (*name)(TYPE a, ...)`");
    let open = decl.find("(*").ok_or_else(refused)?;
    let returns = decl[..open].trim().to_string();
    let after = &decl[open + 2..];
    let close = after.find(')').ok_or_else(refused)?;
    let name = after[..close].trim().to_string();
    let params = after[close + 1..].trim();
    let params = params.strip_prefix('(').and_then(|p| p.strip_suffix(')')).ok_or_else(refused)?;
    let mut parsed = Vec::new();
    if !matches!(params.trim(), "" | "void") {
        for param in params.split(',') {
            let param = param.trim();
            let split = param.rfind([' ', '*']).ok_or_else(refused)?;
            let (ty, pname) = param.split_at(split + 1);
            if pname.is_empty() || !pname.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(refused());
            }
            parsed.push((pname.to_string(), ty.trim().to_string()));
        }
    }
    if name.is_empty() || returns.is_empty() {
        return Err(refused());
    }
    Ok(TableFunction { name, returns, params: parsed, minor: 0, section: None })
}

/// The Rust type of the C type `c` as the table uses it (`const T*` is `*const T`, `T*` is
/// `*mut T`); an unknown C type is refused, naming it.
pub fn rust_type(c: &str) -> Result<String, String> {
    let c = c.trim();
    if let Some(pointee) = c.strip_suffix('*') {
        return Ok(match pointee.trim().strip_prefix("const ") {
            Some(inner) => format!("*const {}", rust_type(inner)?),
            None => format!("*mut {}", rust_type(pointee)?),
        });
    }
    Ok(match c {
        "bool" => "bool".into(),
        "size_t" => "usize".into(),
        "uint32_t" => "u32".into(),
        "uint64_t" => "u64".into(),
        "int32_t" => "i32".into(),
        "int64_t" => "i64".into(),
        "double" => "f64".into(),
        "void" => "c_void".into(),
        other
            if other.starts_with("envoyx_")
                && other.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            other.into()
        }
        other => return Err(format!("no Rust type for the C type `{other}` (add it to c_table::rust_type)")),
    })
}

/// The Rust mirror of the table: `rust/abi/src/host_api.rs` (before rustfmt).
pub fn render_rust(functions: &[TableFunction], minor: u32) -> Result<String, String> {
    let mut out = String::new();
    out.push_str(GENERATED_RUST_HEADER);
    let uses_void = functions.iter().any(|f| {
        f.params.iter().any(|(_, ty)| ty.starts_with("void") || ty.starts_with("const void"))
            || f.returns.starts_with("void*")
            || f.returns.starts_with("const void")
    });
    if uses_void {
        out.push_str("use std::ffi::c_void;\n");
    }
    out.push_str(&format!(
        "\n/// `ENVOYX_ABI_VERSION_MINOR`.\npub const ENVOYX_ABI_VERSION_MINOR: u32 = {minor};\n\n"
    ));
    out.push_str(FOR_EACH_DOC);
    out.push_str("#[macro_export]\nmacro_rules! for_each_host_function {\n    ($callback:ident) => {\n        $callback! {\n");
    for f in functions {
        out.push_str(&format!("            {} {},\n", f.name, f.minor));
    }
    out.push_str("        }\n    };\n}\n\n");
    out.push_str("/// `envoyx_host_api`: the table of host functions a module receives at program init. Each\n/// field's comment in `x/abi.h` says its thread, its hook and the owner and lifetime of every\n/// pointer.\n#[repr(C)]\n#[derive(Clone, Copy)]\npub struct envoyx_host_api {\n    pub size: u32,\n    pub version: envoyx_abi_version,\n");
    for f in functions {
        if let Some(section) = &f.section {
            out.push_str(&format!("    // {section}\n"));
        }
        let mut params = Vec::new();
        for (name, ty) in &f.params {
            let ty = rust_type(ty).map_err(|e| format!("{}: parameter `{name}`: {e}", f.name))?;
            params.push(format!("{name}: {ty}"));
        }
        let returns = match f.returns.as_str() {
            "void" => String::new(),
            c => format!(" -> {}", rust_type(c).map_err(|e| format!("{}: return: {e}", f.name))?),
        };
        out.push_str(&format!(
            "    pub {}: unsafe extern \"C\" fn({}){returns},\n",
            f.name,
            params.join(", ")
        ));
    }
    out.push_str("}\n");
    Ok(out)
}

const GENERATED_RUST_HEADER: &str = "\
// @generated by `cargo run -p envoyx-codegen` from x/abi.h (its `envoyx_host_api` struct and
// `ENVOYX_ABI_VERSION_MINOR`) and the frozen headers in x/compat/ (which minor appended each
// function). Do not edit: change x/abi.h and run the command (docs/adding-an-abi-call.md).

use crate::*;
";

const FOR_EACH_DOC: &str = "\
/// Calls the macro `$callback` with every function of [`envoyx_host_api`], in table order, each
/// with the minor ABI version that appended it: the one list every other Rust list of host
/// functions is made from ([`HOST_FUNCTIONS`], the SDK's table check, the header test's layout
/// figures). `tests/header_matches.rs` checks it against `x/abi.h`'s struct, and each frozen
/// header in `x/compat/` against the entries of its minor.
";
