//! Checks that `src/lib.rs` and `x/abi.h` describe the same ABI, and that the header compiles on
//! its own as C and as C++.
//!
//! The C compiler is the judge: a probe program includes the header and prints every constant,
//! struct size and field offset; the Rust side computes the same figures and the two lists must
//! be equal. Names are checked both ways: every `#define ENVOYX_*`, host-table field and module
//! export in the header must be in the Rust list below, and vice versa.

use envoyx_abi::*;
use std::collections::BTreeMap;
use std::mem::{offset_of, size_of};
use std::path::{Path, PathBuf};
use std::process::Command;

fn header_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../x/abi.h").canonicalize().unwrap()
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every figure the Rust side claims, keyed by the C expression that must produce it.
fn rust_figures() -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: u64| {
        m.insert(k.to_string(), v);
    };
    macro_rules! consts { ($($c:ident),* $(,)?) => { $( put(stringify!($c), $c as u64); )* } }
    consts!(
        ENVOYX_ABI_VERSION_MAJOR,
        ENVOYX_ABI_VERSION_MINOR,
        ENVOYX_HEADERS_CONTINUE,
        ENVOYX_HEADERS_STOP_ITERATION,
        ENVOYX_HEADERS_CONTINUE_AND_DONT_END_STREAM,
        ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_BUFFER,
        ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_WATERMARK,
        ENVOYX_BODY_CONTINUE,
        ENVOYX_BODY_STOP_ITERATION_AND_BUFFER,
        ENVOYX_BODY_STOP_ITERATION_AND_WATERMARK,
        ENVOYX_BODY_STOP_ITERATION_NO_BUFFER,
        ENVOYX_TRAILERS_CONTINUE,
        ENVOYX_TRAILERS_STOP_ITERATION,
        ENVOYX_REQUEST_HEADERS,
        ENVOYX_REQUEST_TRAILERS,
        ENVOYX_RESPONSE_HEADERS,
        ENVOYX_RESPONSE_TRAILERS,
        ENVOYX_BODY_REQUEST_RECEIVED,
        ENVOYX_BODY_REQUEST_BUFFERED,
        ENVOYX_BODY_RESPONSE_RECEIVED,
        ENVOYX_BODY_RESPONSE_BUFFERED,
        ENVOYX_DIRECTION_REQUEST,
        ENVOYX_DIRECTION_RESPONSE,
        ENVOYX_CALLOUT_RESPONSE,
        ENVOYX_CALLOUT_NO_CLUSTER,
        ENVOYX_CALLOUT_UNAVAILABLE,
        ENVOYX_CALLOUT_RESET,
        ENVOYX_CALLOUT_TOO_LARGE,
        ENVOYX_RESET_LOCAL,
        ENVOYX_RESET_REFUSED,
        ENVOYX_LOCAL_REPLY_CONTINUE,
        ENVOYX_LOCAL_REPLY_RESET,
        ENVOYX_CALLOUT_EVENT_HEADERS,
        ENVOYX_CALLOUT_EVENT_DATA,
        ENVOYX_CALLOUT_EVENT_TRAILERS,
        ENVOYX_CALLOUT_EVENT_COMPLETE,
        ENVOYX_CALLOUT_EVENT_FAILED,
        ENVOYX_METRIC_COUNTER,
        ENVOYX_METRIC_GAUGE,
        ENVOYX_METRIC_HISTOGRAM,
        ENVOYX_METRIC_ADD,
        ENVOYX_METRIC_SUBTRACT,
        ENVOYX_METRIC_SET,
        ENVOYX_METRIC_RECORD,
        ENVOYX_METRIC_LABEL_LIMIT,
        ENVOYX_METADATA_DYNAMIC,
        ENVOYX_METADATA_ROUTE,
        ENVOYX_METADATA_CLUSTER,
        ENVOYX_METADATA_HOST,
        ENVOYX_METADATA_HOST_LOCALITY,
        ENVOYX_VALUE_STRING,
        ENVOYX_VALUE_NUMBER,
        ENVOYX_VALUE_BOOL,
        ENVOYX_ATTRIBUTE_SOURCE_ADDRESS,
        ENVOYX_ATTRIBUTE_SOURCE_PORT,
        ENVOYX_ATTRIBUTE_DESTINATION_ADDRESS,
        ENVOYX_ATTRIBUTE_DESTINATION_PORT,
        ENVOYX_ATTRIBUTE_REQUEST_ID,
        ENVOYX_ATTRIBUTE_PROTOCOL,
        ENVOYX_ATTRIBUTE_ROUTE_NAME,
        ENVOYX_ATTRIBUTE_CLUSTER_NAME,
        ENVOYX_ATTRIBUTE_UPSTREAM_ADDRESS,
        ENVOYX_ATTRIBUTE_RESPONSE_CODE,
        ENVOYX_ATTRIBUTE_CONNECTION_ID,
        ENVOYX_ATTRIBUTE_TLS_VERSION,
        ENVOYX_ATTRIBUTE_TLS_PEER_SUBJECT,
        ENVOYX_ATTRIBUTE_TLS_PEER_DNS_SAN,
        ENVOYX_ATTRIBUTE_TLS_PEER_URI_SAN,
        ENVOYX_ATTRIBUTE_TLS_PEER_SHA256,
        ENVOYX_ATTRIBUTE_REQUEST_PATH,
        ENVOYX_ATTRIBUTE_REQUEST_URL_PATH,
        ENVOYX_ATTRIBUTE_REQUEST_HOST,
        ENVOYX_ATTRIBUTE_REQUEST_SCHEME,
        ENVOYX_ATTRIBUTE_REQUEST_METHOD,
        ENVOYX_ATTRIBUTE_REQUEST_REFERER,
        ENVOYX_ATTRIBUTE_REQUEST_USER_AGENT,
        ENVOYX_ATTRIBUTE_REQUEST_QUERY,
        ENVOYX_ATTRIBUTE_REQUEST_SIZE,
        ENVOYX_ATTRIBUTE_REQUEST_TOTAL_SIZE,
        ENVOYX_ATTRIBUTE_RESPONSE_CODE_DETAILS,
        ENVOYX_ATTRIBUTE_RESPONSE_FLAGS,
        ENVOYX_ATTRIBUTE_RESPONSE_GRPC_STATUS,
        ENVOYX_ATTRIBUTE_RESPONSE_SIZE,
        ENVOYX_ATTRIBUTE_RESPONSE_TOTAL_SIZE,
        ENVOYX_ATTRIBUTE_CONNECTION_MTLS,
        ENVOYX_ATTRIBUTE_CONNECTION_SNI,
        ENVOYX_ATTRIBUTE_TLS_LOCAL_SUBJECT,
        ENVOYX_ATTRIBUTE_TLS_LOCAL_DNS_SAN,
        ENVOYX_ATTRIBUTE_TLS_LOCAL_URI_SAN,
        ENVOYX_ATTRIBUTE_CONNECTION_TRANSPORT_FAILURE,
        ENVOYX_ATTRIBUTE_CONNECTION_TERMINATION_DETAILS,
        ENVOYX_ATTRIBUTE_UPSTREAM_PORT,
        ENVOYX_ATTRIBUTE_UPSTREAM_TLS_VERSION,
        ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_SUBJECT,
        ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_SUBJECT,
        ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_DNS_SAN,
        ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_DNS_SAN,
        ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_URI_SAN,
        ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_URI_SAN,
        ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_SHA256,
        ENVOYX_ATTRIBUTE_UPSTREAM_LOCAL_ADDRESS,
        ENVOYX_ATTRIBUTE_UPSTREAM_TRANSPORT_FAILURE,
        ENVOYX_ATTRIBUTE_UPSTREAM_ATTEMPTS,
        ENVOYX_ATTRIBUTE_LISTENER_DIRECTION,
        ENVOYX_ATTRIBUTE_VIRTUAL_HOST_NAME,
        ENVOYX_ATTRIBUTE_FILTER_CHAIN_NAME,
        ENVOYX_ATTRIBUTE_HEALTH_CHECK,
        ENVOYX_TIMING_START_UNIX,
        ENVOYX_TIMING_DOWNSTREAM_CONNECTION_BEGIN,
        ENVOYX_TIMING_DOWNSTREAM_HANDSHAKE_START,
        ENVOYX_TIMING_DOWNSTREAM_HANDSHAKE_COMPLETE,
        ENVOYX_TIMING_LAST_DOWNSTREAM_HEADER_RX,
        ENVOYX_TIMING_LAST_DOWNSTREAM_RX,
        ENVOYX_TIMING_UPSTREAM_CONNECT_START,
        ENVOYX_TIMING_UPSTREAM_CONNECT_COMPLETE,
        ENVOYX_TIMING_UPSTREAM_HANDSHAKE_COMPLETE,
        ENVOYX_TIMING_FIRST_UPSTREAM_TX,
        ENVOYX_TIMING_LAST_UPSTREAM_TX,
        ENVOYX_TIMING_FIRST_UPSTREAM_RX,
        ENVOYX_TIMING_FIRST_UPSTREAM_RX_BODY,
        ENVOYX_TIMING_LAST_UPSTREAM_RX,
        ENVOYX_TIMING_FIRST_DOWNSTREAM_TX,
        ENVOYX_TIMING_LAST_DOWNSTREAM_TX,
        ENVOYX_TIMING_LAST_DOWNSTREAM_ACK,
        ENVOYX_TIMING_REQUEST_COMPLETE,
        ENVOYX_TIMING_DOWNSTREAM_CONNECTION_END,
        ENVOYX_LOG_TRACE,
        ENVOYX_LOG_DEBUG,
        ENVOYX_LOG_INFO,
        ENVOYX_LOG_WARN,
        ENVOYX_LOG_ERROR,
        ENVOYX_LOG_CRITICAL,
        ENVOYX_SHARED_OK,
        ENVOYX_SHARED_ABSENT,
        ENVOYX_SHARED_TOO_SMALL,
        ENVOYX_SHARED_CAS_MISMATCH,
        ENVOYX_SHARED_REFUSED,
        ENVOYX_SHARED_CAS_ANY,
        ENVOYX_SHARED_CAS_ABSENT,
        ENVOYX_SHARED_MAX_VALUE,
        ENVOYX_SHARED_MAX_TOTAL,
        ENVOYX_SHARED_MAX_KEYS,
    );
    macro_rules! layout {
        ($t:ident { $($f:ident),* $(,)? }) => {
            put(&format!("sizeof({})", stringify!($t)), size_of::<$t>() as u64);
            put(&format!("_Alignof({})", stringify!($t)), std::mem::align_of::<$t>() as u64);
            $( put(&format!("offsetof({}, {})", stringify!($t), stringify!($f)), offset_of!($t, $f) as u64); )*
        };
    }
    layout!(envoyx_abi_version { major, minor });
    layout!(envoyx_bytes { ptr, len });
    layout!(envoyx_slice { ptr, len });
    layout!(envoyx_header { key, value });
    layout!(envoyx_value { kind, string, number, boolean });
    layout!(envoyx_host_api { size, version });
    // The functions, from the one list of the table (`for_each_host_function!`).
    macro_rules! functions {
        ($($name:ident $minor:literal),* $(,)?) => {
            $( put(&format!("offsetof(envoyx_host_api, {})", stringify!($name)), offset_of!(envoyx_host_api, $name) as u64); )*
        };
    }
    envoyx_abi::for_each_host_function!(functions);
    macro_rules! scalar { ($($t:ident),*) => { $( put(&format!("sizeof({})", stringify!($t)), size_of::<$t>() as u64); )* } }
    scalar!(
        envoyx_headers_status,
        envoyx_body_status,
        envoyx_trailers_status,
        envoyx_header_map,
        envoyx_body_kind,
        envoyx_direction,
        envoyx_callout_status,
        envoyx_callout_event,
        envoyx_metric_kind,
        envoyx_metric_op,
        envoyx_metadata_source,
        envoyx_value_kind,
        envoyx_attribute,
        envoyx_log_level,
        envoyx_shared_status,
        envoyx_function
    );
    m
}

/// Names the header declares: constants, host-table fields and module exports.
fn header_names(header: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut defines = Vec::new();
    let mut fields = Vec::new();
    let mut exports = Vec::new();
    let mut in_table = false;
    for line in header.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("#define ENVOYX_") {
            let name = format!("ENVOYX_{}", rest.split_whitespace().next().unwrap());
            // Constants only: a function-like macro (`ENVOYX_DECLARE_HOST_API_SIZE()`) has none.
            if name != "ENVOYX_ABI_H" && !name.contains('(') {
                defines.push(name);
            }
        }
        if t.starts_with("typedef struct envoyx_host_api {") {
            in_table = true;
        } else if in_table && t.starts_with('}') {
            in_table = false;
        } else if in_table && line.starts_with("  ") && !line.starts_with("   ") && !t.starts_with("/*") {
            // A field starts at the table's indentation; deeper lines continue a declaration.
            if let Some(start) = t.find("(*") {
                let end = t[start..].find(')').unwrap() + start;
                fields.push(t[start + 2..end].to_string());
            } else if let Some(name) = t.strip_suffix(';').and_then(|d| d.split_whitespace().last()) {
                fields.push(name.to_string());
            }
        }
        // A module export is a declaration at column 0 whose name starts with `envoyx_`, e.g.
        // `envoyx_abi_version envoyx_module_abi_version(void);`.
        let top_level = !line.starts_with(' ') && !line.starts_with("typedef") && !line.starts_with('#');
        if let Some(paren) = line.find('(').filter(|_| top_level)
            && let Some(name) = line[..paren].split_whitespace().last()
        {
            let name = name.trim_start_matches('*');
            if name.starts_with("envoyx_") {
                exports.push(name.to_string());
            }
        }
    }
    (defines, fields, exports)
}

#[test]
fn names_in_header_and_rust_agree() {
    let header = std::fs::read_to_string(header_path()).unwrap();
    let (defines, fields, exports) = header_names(&header);
    let figures = rust_figures();
    for d in &defines {
        assert!(figures.contains_key(d), "x/abi.h defines {d}, the Rust mirror does not");
    }
    let rust_defines: Vec<_> = figures.keys().filter(|k| k.starts_with("ENVOYX_")).cloned().collect();
    for d in &rust_defines {
        assert!(defines.contains(d), "the Rust mirror has {d}, x/abi.h does not");
    }
    let rust_fields: Vec<String> = figures
        .keys()
        .filter_map(|k| {
            k.strip_prefix("offsetof(envoyx_host_api, ").map(|f| f.trim_end_matches(')').to_string())
        })
        .collect();
    let mut sorted_fields = fields.clone();
    sorted_fields.sort();
    assert_eq!(sorted_fields, rust_fields, "envoyx_host_api fields differ");
    let rust_exports: Vec<&str> =
        MODULE_SYMBOLS.iter().copied().chain(OPTIONAL_MODULE_SYMBOLS.iter().map(|(name, _)| *name)).collect();
    assert_eq!(exports, rust_exports, "module exports differ (names or order)");
}

#[test]
fn layouts_and_values_match_the_c_compiler() {
    let figures = rust_figures();
    let dir = scratch_dir("abi-probe");
    let mut probe =
        String::from("#include <stdio.h>\n#include <stddef.h>\n#include \"abi.h\"\nint main(void) {\n");
    for expr in figures.keys() {
        probe.push_str(&format!("  printf(\"%s=%llu\\n\", \"{expr}\", (unsigned long long)({expr}));\n"));
    }
    probe.push_str("  return 0;\n}\n");
    let src = dir.join("probe.c");
    std::fs::write(&src, probe).unwrap();
    let exe = dir.join("probe");
    let include = header_path().parent().unwrap().to_path_buf();
    let out = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Werror", "-I"])
        .arg(&include)
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("run cc");
    assert!(out.status.success(), "probe failed to compile:\n{}", String::from_utf8_lossy(&out.stderr));
    let run = Command::new(&exe).output().unwrap();
    let c_figures: BTreeMap<String, u64> = String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.rsplit_once('=').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect();
    assert_eq!(c_figures.len(), figures.len());
    for (k, rust) in &figures {
        assert_eq!(c_figures[k], *rust, "{k}: C says {}, Rust says {rust}", c_figures[k]);
    }
}

fn compile_header_alone(compiler: &str, lang: &str, std: &str) {
    let dir = scratch_dir(&format!("abi-alone-{lang}"));
    let obj = dir.join("abi.o");
    let out = Command::new(compiler)
        .args(["-x", lang, std, "-Wall", "-Wextra", "-pedantic", "-Werror", "-c"])
        .arg(header_path())
        .arg("-o")
        .arg(&obj)
        .output()
        .unwrap_or_else(|e| panic!("run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "x/abi.h does not compile alone as {lang}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn header_compiles_alone_as_c() {
    compile_header_alone("cc", "c", "-std=c11");
}

#[test]
fn header_compiles_alone_as_cpp() {
    compile_header_alone("c++", "c++", "-std=c++17");
}

/// The released 1.0 header, frozen in `x/compat/1.0/abi.h`: every table field and module export
/// it has must still be in this ABI, at the same offset, so a module built against it reads the
/// same table (a host at 1.N runs modules of 1.(N-1); x/abi.h "Versioning").
#[test]
fn the_frozen_1_0_header_is_a_prefix_of_this_abi() {
    let frozen_dir = header_path().parent().unwrap().join("compat/1.0");
    let frozen = std::fs::read_to_string(frozen_dir.join("abi.h")).unwrap();
    let (_, fields, exports) = header_names(&frozen);
    assert_eq!(exports, MODULE_SYMBOLS.to_vec(), "the required exports are the 1.0 ones");
    let figures = rust_figures();
    let dir = scratch_dir("abi-1.0-probe");
    let mut probe =
        String::from("#include <stdio.h>\n#include <stddef.h>\n#include \"abi.h\"\nint main(void) {\n");
    probe.push_str("  printf(\"minor=%u\\n\", (unsigned)ENVOYX_ABI_VERSION_MINOR);\n");
    for field in &fields {
        probe.push_str(&format!("  printf(\"{field}=%zu\\n\", offsetof(envoyx_host_api, {field}));\n"));
    }
    probe.push_str("  return 0;\n}\n");
    let src = dir.join("probe.c");
    std::fs::write(&src, probe).unwrap();
    let exe = dir.join("probe");
    let out = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Werror", "-I"])
        .arg(&frozen_dir)
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("run cc");
    assert!(out.status.success(), "1.0 probe failed to compile:\n{}", String::from_utf8_lossy(&out.stderr));
    let run = String::from_utf8(Command::new(&exe).output().unwrap().stdout).unwrap();
    let mut lines = run.lines();
    assert_eq!(lines.next(), Some("minor=0"), "the frozen header is 1.0");
    let mut checked = 0;
    for line in lines {
        let (field, offset) = line.rsplit_once('=').unwrap();
        let now = figures[&format!("offsetof(envoyx_host_api, {field})")];
        assert_eq!(offset.parse::<u64>().unwrap(), now, "{field} moved since 1.0");
        checked += 1;
    }
    assert_eq!(checked, fields.len());
    assert!(fields.iter().any(|f| f == "stream_handle_release"), "the whole 1.0 table was read: {fields:?}");
}

/// The host table's functions as a header declares them, in order.
fn table_functions(header: &str) -> Vec<String> {
    let (_, fields, _) = header_names(header);
    fields.into_iter().filter(|f| f != "size" && f != "version").collect()
}

/// Checks the one list of the table (`HOST_FUNCTIONS`, from `for_each_host_function!`) against
/// `x/abi.h` and every frozen header in `x/compat/`: the current header's table must be the whole
/// list, in order; a frozen 1.N header's, exactly the entries of minors up to N; no entry may
/// name a minor later than the header's. The error names the header and the entry.
fn check_table_list(
    current: &str,
    frozen: &[(u32, String)],
    list: &[HostFunction],
    current_minor: u32,
) -> Result<(), String> {
    let names: Vec<&str> = list.iter().map(|f| f.name).collect();
    let header = table_functions(current);
    if header != names {
        let missing: Vec<&String> = header.iter().filter(|h| !names.contains(&h.as_str())).collect();
        let extra: Vec<&&str> = names.iter().filter(|n| !header.iter().any(|h| h == *n)).collect();
        return Err(format!(
            "x/abi.h's envoyx_host_api and for_each_host_function! differ: in the header only {missing:?}, \
             in the list only {extra:?}, or the order differs"
        ));
    }
    if let Some(late) = list.iter().find(|f| f.minor > current_minor) {
        return Err(format!(
            "{} is marked ABI 1.{}, later than x/abi.h's 1.{current_minor}",
            late.name, late.minor
        ));
    }
    for (minor, text) in frozen {
        let expected: Vec<&str> = list.iter().filter(|f| f.minor <= *minor).map(|f| f.name).collect();
        let got = table_functions(text);
        if got != expected {
            let first =
                expected.iter().zip(&got).position(|(e, g)| e != g).unwrap_or(expected.len().min(got.len()));
            return Err(format!(
                "x/compat/1.{minor}/abi.h's table is {} functions, the list's entries of ABI 1.{minor} or \
                 earlier are {}; first difference at function {first}: {:?} in the frozen header, {:?} in \
                 the list (an append needs a new minor)",
                got.len(),
                expected.len(),
                got.get(first),
                expected.get(first)
            ));
        }
    }
    Ok(())
}

/// The frozen headers, `x/compat/1.N/abi.h`, with their minors.
fn frozen_headers() -> Vec<(u32, String)> {
    let compat = header_path().parent().unwrap().join("compat");
    let mut frozen: Vec<(u32, String)> = std::fs::read_dir(&compat)
        .unwrap()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let minor = entry.file_name().to_str()?.strip_prefix("1.")?.parse().ok()?;
            Some((minor, std::fs::read_to_string(entry.path().join("abi.h")).ok()?))
        })
        .collect();
    frozen.sort();
    frozen
}

#[test]
fn the_table_list_matches_the_header_and_every_frozen_header() {
    let current = std::fs::read_to_string(header_path()).unwrap();
    let frozen = frozen_headers();
    assert!(!frozen.is_empty(), "x/compat holds the released headers");
    check_table_list(&current, &frozen, HOST_FUNCTIONS, ENVOYX_ABI_VERSION_MINOR).unwrap();
    assert_eq!(
        host_api_size_of_minor(ENVOYX_ABI_VERSION_MINOR),
        size_of::<envoyx_host_api>(),
        "the current minor's table is the whole table"
    );
}

#[test]
fn the_table_check_catches_hand_edited_lists() {
    let current = std::fs::read_to_string(header_path()).unwrap();
    let frozen = frozen_headers();
    // A function appended to the header but not to the list.
    let appended = current
        .replace("} envoyx_host_api;", "  bool (*future_call)(envoyx_stream* stream);\n} envoyx_host_api;");
    let err = check_table_list(&appended, &frozen, HOST_FUNCTIONS, ENVOYX_ABI_VERSION_MINOR).unwrap_err();
    assert!(err.contains("in the header only [\"future_call\"]"), "{err}");
    // A list missing an entry.
    let mut list = HOST_FUNCTIONS.to_vec();
    let removed = list.remove(20);
    let err = check_table_list(&current, &frozen, &list, ENVOYX_ABI_VERSION_MINOR).unwrap_err();
    assert!(err.contains(&format!("in the header only [{:?}]", removed.name)), "{err}");
    // A function of a later minor marked with a released one: the frozen header disagrees.
    let mut list = HOST_FUNCTIONS.to_vec();
    let late = list.iter_mut().find(|f| f.minor == 1).unwrap();
    late.minor = 0;
    let err = check_table_list(&current, &frozen, &list, ENVOYX_ABI_VERSION_MINOR).unwrap_err();
    assert!(
        err.contains("x/compat/1.0/abi.h's table is 19 functions")
            && err.contains("an append needs a new minor"),
        "{err}"
    );
    // An entry marked later than the header's minor.
    let mut list = HOST_FUNCTIONS.to_vec();
    list.last_mut().unwrap().minor = ENVOYX_ABI_VERSION_MINOR + 1;
    let err = check_table_list(&current, &frozen, &list, ENVOYX_ABI_VERSION_MINOR).unwrap_err();
    assert!(err.contains("later than x/abi.h's"), "{err}");
}
