//! The core's `HostStream` trait (`rust/core/src/stream/host.rs`) read as data, and what the C++
//! hosts need of each of its plain primitives written from it: the cxx bridge entry
//! (`loader/src/lib.rs`), the Rust forwarding (`loader/src/host.rs`), the C++ virtual with its
//! default (`loader/include/envoyx/loader.h`) and the custom build's override declaration
//! (`envoy/envoyx_stream_host.h`).
//!
//! A primitive is *plain* when its arguments are bytes, text, integers, booleans or the map and
//! body kinds, it returns `bool`, `usize`, `u64` or nothing, and it is either required or has a trivial
//! default (`false`, `0`, nothing). The others (views handed back, callouts, metadata values, a
//! default that does real work) are written by hand in those files; [`hand_written`] lists them
//! and the check makes sure the loader forwards each.

/// A parameter or return type a plain primitive may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlainType {
    /// `&[u8]`
    Bytes,
    /// `&str` (UTF-8 checked by the core; bytes to C++)
    Text,
    Bool,
    U32,
    U64,
    Usize,
    HeaderMapKind,
    BodyKind,
}

impl PlainType {
    fn parse(rust: &str) -> Option<PlainType> {
        Some(match rust {
            "&[u8]" => PlainType::Bytes,
            "&str" => PlainType::Text,
            "bool" => PlainType::Bool,
            "u32" => PlainType::U32,
            "u64" => PlainType::U64,
            "usize" => PlainType::Usize,
            "HeaderMapKind" => PlainType::HeaderMapKind,
            "BodyKind" => PlainType::BodyKind,
            _ => return None,
        })
    }

    fn rust(self) -> &'static str {
        match self {
            PlainType::Bytes => "&[u8]",
            PlainType::Text => "&str",
            PlainType::Bool => "bool",
            PlainType::U32 => "u32",
            PlainType::U64 => "u64",
            PlainType::Usize => "usize",
            PlainType::HeaderMapKind => "HeaderMapKind",
            PlainType::BodyKind => "BodyKind",
        }
    }

    /// The type on the bridge (text crosses as bytes; the kinds are the bridge's shared enums).
    fn bridge(self) -> &'static str {
        match self {
            PlainType::Text => "&[u8]",
            other => other.rust(),
        }
    }

    /// The C++ type, `ns` prefixing the loader's own types (`""` inside `namespace envoyx`).
    fn cpp(self, ns: &str) -> String {
        match self {
            PlainType::Bytes | PlainType::Text => format!("{ns}Bytes"),
            PlainType::Bool => "bool".into(),
            PlainType::U32 => "std::uint32_t".into(),
            PlainType::U64 => "std::uint64_t".into(),
            PlainType::Usize => "std::size_t".into(),
            PlainType::HeaderMapKind => format!("{ns}HeaderMapKind"),
            PlainType::BodyKind => format!("{ns}BodyKind"),
        }
    }

    /// The Rust expression handing the argument `name` to the bridge.
    fn to_bridge(self, name: &str) -> String {
        match self {
            PlainType::Text => format!("{name}.as_bytes()"),
            PlainType::HeaderMapKind | PlainType::BodyKind => format!("{name}.into()"),
            _ => name.to_string(),
        }
    }
}

/// What a primitive returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlainReturn {
    Nothing,
    Bool,
    Usize,
    U64,
}

/// One method of `HostStream`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Primitive {
    pub name: String,
    /// Its `///` lines, without the slashes.
    pub docs: Vec<String>,
    /// The whole signature as written (whitespace collapsed), for messages.
    pub signature: String,
    /// `Some` when plain (see the module's comment).
    pub plain: Option<Plain>,
}

/// A plain primitive's shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plain {
    pub params: Vec<(String, PlainType)>,
    pub returns: PlainReturn,
    /// Whether the trait gives a default (then trivial: the C++ virtual gets the same one).
    pub has_default: bool,
}

/// The methods of `pub trait HostStream` in `source` (the text of `host.rs`), in order.
pub fn primitives(source: &str) -> Result<Vec<Primitive>, String> {
    let start = source.find("pub trait HostStream {").ok_or("no `pub trait HostStream {`")?;
    let body_start = start + source[start..].find('{').unwrap() + 1;
    let body_len =
        matching_brace(&source[body_start..]).ok_or("the HostStream trait has no closing brace")?;
    let body = &source[body_start..body_start + body_len];
    let mut out = Vec::new();
    let mut docs = Vec::new();
    let mut rest = body;
    while let Some(line_end) = rest.find('\n').or((!rest.is_empty()).then_some(rest.len())) {
        let line = rest[..line_end].trim();
        if let Some(doc) = line.strip_prefix("///") {
            docs.push(doc.strip_prefix(' ').unwrap_or(doc).to_string());
            rest = &rest[(line_end + 1).min(rest.len())..];
            continue;
        }
        if line.starts_with("fn ") {
            let offset = rest.find("fn ").unwrap();
            let (primitive, used) = method(&rest[offset..], std::mem::take(&mut docs))?;
            out.push(primitive);
            rest = &rest[offset + used..];
            continue;
        }
        if !line.is_empty() && !line.starts_with("//") {
            docs.clear();
        }
        rest = &rest[(line_end + 1).min(rest.len())..];
    }
    Ok(out)
}

/// The byte length up to (not including) the `}` closing an already opened brace.
fn matching_brace(text: &str) -> Option<usize> {
    let mut depth = 1usize;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// One method starting at `fn `: the primitive and how many bytes it spans.
fn method(text: &str, docs: Vec<String>) -> Result<(Primitive, usize), String> {
    let end_sig = text.find([';', '{']).ok_or("a HostStream method without `;` or body")?;
    let signature = text[..end_sig].split_whitespace().collect::<Vec<_>>().join(" ");
    let name: String =
        signature[3..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let (used, body) = if text[end_sig..].starts_with(';') {
        (end_sig + 1, None)
    } else {
        let len = matching_brace(&text[end_sig + 1..]).ok_or_else(|| format!("{name}: no closing brace"))?;
        (end_sig + 1 + len + 1, Some(text[end_sig + 1..end_sig + 1 + len].to_string()))
    };
    let plain = plain(&signature, body.as_deref());
    Ok((Primitive { name, docs, signature, plain }, used))
}

fn plain(signature: &str, body: Option<&str>) -> Option<Plain> {
    let open = signature.find('(')?;
    let close = signature.rfind(')')?;
    let returns = match signature[close + 1..].trim() {
        "" => PlainReturn::Nothing,
        "-> bool" => PlainReturn::Bool,
        "-> usize" => PlainReturn::Usize,
        "-> u64" => PlainReturn::U64,
        _ => return None,
    };
    let mut args = split_top_level(&signature[open + 1..close]);
    if args.first().map(String::as_str) != Some("&mut self") {
        return None;
    }
    args.remove(0);
    let mut params = Vec::new();
    for arg in args {
        let (pname, ty) = arg.split_once(':')?;
        params.push((pname.trim().to_string(), PlainType::parse(ty.trim())?));
    }
    let has_default = match body {
        None => false,
        Some(body) if trivial_default(body, returns) => true,
        Some(_) => return None,
    };
    Some(Plain { params, returns, has_default })
}

/// Arguments split at top-level commas (not inside `<>`, `()`, `[]`).
fn split_top_level(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut current = String::new();
    for c in args.chars() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

/// A body that only silences its arguments (`let _ = …;`) and returns false, 0 or nothing.
fn trivial_default(body: &str, returns: PlainReturn) -> bool {
    let mut rest = body.trim();
    while let Some(after) = rest.strip_prefix("let _ =") {
        let Some(end) = after.find(';') else { return false };
        rest = after[end + 1..].trim();
    }
    match returns {
        PlainReturn::Nothing => rest.is_empty(),
        PlainReturn::Bool => rest == "false",
        PlainReturn::Usize | PlainReturn::U64 => rest == "0",
    }
}

/// The primitives the C++ hosts' files have written by hand (not plain).
pub fn hand_written(primitives: &[Primitive]) -> Vec<&Primitive> {
    primitives.iter().filter(|p| p.plain.is_none()).collect()
}

fn plain_ones(primitives: &[Primitive]) -> impl Iterator<Item = (&Primitive, &Plain)> {
    primitives.iter().filter_map(|p| p.plain.as_ref().map(|plain| (p, plain)))
}

/// The bridge entries (inside `unsafe extern "C++"` of `loader/src/lib.rs`).
pub fn render_bridge(primitives: &[Primitive]) -> String {
    let mut out = String::new();
    for (p, plain) in plain_ones(primitives) {
        let mut args = vec!["self: Pin<&mut StreamHost>".to_string()];
        args.extend(plain.params.iter().map(|(n, t)| format!("{n}: {}", t.bridge())));
        out.push_str(&format!("fn {}({}){};\n", p.name, args.join(", "), rust_return(plain.returns)));
    }
    out
}

/// The forwarding methods (inside `impl HostStream for CxxHost` of `loader/src/host.rs`).
pub fn render_forwarding(primitives: &[Primitive]) -> String {
    let mut out = String::new();
    for (p, plain) in plain_ones(primitives) {
        let mut args = vec!["&mut self".to_string()];
        args.extend(plain.params.iter().map(|(n, t)| format!("{n}: {}", t.rust())));
        let call: Vec<String> = plain.params.iter().map(|(n, t)| t.to_bridge(n)).collect();
        out.push_str(&format!(
            "fn {}({}){} {{\n    self.host().{}({})\n}}\n",
            p.name,
            args.join(", "),
            rust_return(plain.returns),
            p.name,
            call.join(", ")
        ));
    }
    out
}

fn rust_return(returns: PlainReturn) -> &'static str {
    match returns {
        PlainReturn::Nothing => "",
        PlainReturn::Bool => " -> bool",
        PlainReturn::Usize => " -> usize",
        PlainReturn::U64 => " -> u64",
    }
}

fn cpp_return(returns: PlainReturn) -> &'static str {
    match returns {
        PlainReturn::Nothing => "void",
        PlainReturn::Bool => "bool",
        PlainReturn::Usize => "std::size_t",
        PlainReturn::U64 => "std::uint64_t",
    }
}

fn cpp_params(plain: &Plain, ns: &str) -> String {
    plain.params.iter().map(|(n, t)| format!("{} {n}", t.cpp(ns))).collect::<Vec<_>>().join(", ")
}

/// The C++ virtuals of `class StreamHost` (`loader/include/envoyx/loader.h`), indented by
/// `indent`: each with the trait's comment, pure when the trait requires it, else with the
/// trait's trivial default.
pub fn render_virtuals(primitives: &[Primitive], indent: &str) -> String {
    let mut out = String::new();
    for (p, plain) in plain_ones(primitives) {
        for doc in &p.docs {
            let doc = doc.replace("[`", "`").replace("`]", "`");
            out.push_str(&format!("{indent}//{}{doc}\n", if doc.is_empty() { "" } else { " " }));
        }
        let head =
            format!("{indent}virtual {} {}({})", cpp_return(plain.returns), p.name, cpp_params(plain, ""));
        if !plain.has_default {
            out.push_str(&format!("{head} = 0;\n"));
            continue;
        }
        let mut body = Vec::new();
        if !plain.params.is_empty() {
            let silenced: Vec<String> = plain.params.iter().map(|(n, _)| format!("(void){n}")).collect();
            body.push(format!("{};", silenced.join(", ")));
        }
        match plain.returns {
            PlainReturn::Nothing => {}
            PlainReturn::Bool => body.push("return false;".into()),
            PlainReturn::Usize | PlainReturn::U64 => body.push("return 0;".into()),
        }
        if body.is_empty() {
            out.push_str(&format!("{head} {{}}\n"));
        } else if body.len() == 1 && head.len() + body[0].len() < 96 {
            out.push_str(&format!("{head} {{ {} }}\n", body[0]));
        } else {
            out.push_str(&format!("{head} {{\n"));
            for line in body {
                out.push_str(&format!("{indent}  {line}\n"));
            }
            out.push_str(&format!("{indent}}}\n"));
        }
    }
    out
}

/// The override declarations of the custom build's `EnvoyStreamHost`
/// (`envoy/envoyx_stream_host.h`), indented by `indent`.
pub fn render_overrides(primitives: &[Primitive], indent: &str) -> String {
    plain_ones(primitives)
        .map(|(p, plain)| {
            format!(
                "{indent}{} {}({}) override;\n",
                cpp_return(plain.returns),
                p.name,
                cpp_params(plain, "envoyx::")
            )
        })
        .collect()
}
