//! `envoyx check <module.so> [--filter-config STR]`: tells, in plain words, whether this EnvoyX
//! can run a module file, and if not, why.
//!
//! The checks, in order:
//! - file: exists, is an ELF shared object for this architecture (the core's own pre-`dlopen`
//!   checks, [`envoyx_core::check_file`]);
//! - symbols: read from the ELF dynamic symbol table without loading the file: every symbol of
//!   `x/abi.h` present, and no `envoyx_*` symbol the ABI does not define;
//! - abi: the version the module reports, against this EnvoyX's policy ([`envoyx_core::accepts`]);
//! - init: program init through the core, as a host would run it;
//! - config (with `--filter-config`): one filter config created and destroyed.
//!
//! Everything that runs module code (loading runs its initialisers, then the ABI-version and init
//! exports, then the config hooks) happens in a child process, `envoyx check __init-child`, so a
//! module that crashes, aborts, exits or hangs is reported instead of taking the checker down.
//! The child reports each step on stdout as a line starting with [`CHILD_TAG`].
//!
//! Exit status: 0 when every check passes, 1 on any problem, 2 on a usage error.

use envoyx_abi::{MODULE_SYMBOLS, OPTIONAL_MODULE_SYMBOLS, envoyx_abi_version};
use envoyx_core::LoadError;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: envoyx check <module.so> [--filter-config STR]";

/// The hidden subcommand (`envoyx check __init-child ...`) that runs module code.
const CHILD_COMMAND: &str = "__init-child";

/// Starts every line of the child's report, so the module's own output on stdout is ignored.
const CHILD_TAG: &str = "@envoyx-check@ ";

/// How long the child may take to load, initialise and configure the module.
const CHILD_TIMEOUT: Duration = Duration::from_secs(30);

/// Width of the label column (`module   `, `symbols  `, ...).
const LABEL_WIDTH: usize = 9;

pub fn run(args: &[String]) -> i32 {
    if args.first().map(String::as_str) == Some(CHILD_COMMAND) {
        return child::run(&args[1..]);
    }
    let options = match Options::parse(args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}\n\n{HELP}");
            return 0;
        }
        Err(message) => {
            eprintln!("envoyx check: {message}\n{USAGE}");
            return 2;
        }
    };
    let problems = check(&options);
    report_result(problems);
    i32::from(problems > 0)
}

/// The report's last line.
fn report_result(problems: usize) {
    if problems == 0 {
        line("result", "ok: this EnvoyX can run the module");
    } else {
        line("result", &format!("{problems} problem{} found", if problems == 1 { "" } else { "s" }));
    }
}

const HELP: &str = "\
Checks that this EnvoyX can run a module: the file (ELF shared object for this architecture), the
exported symbols against x/abi.h, the module's ABI version, and its program init (run in a child
process, so a crashing module is reported, not fatal). With --filter-config, also creates one
filter config with STR as its filter_config. Exits 0 when all is well, 1 on any problem.";

struct Options {
    module: PathBuf,
    filter_config: Option<String>,
}

impl Options {
    /// `Ok(None)` asks for help.
    fn parse(args: &[String]) -> Result<Option<Self>, String> {
        let mut module = None;
        let mut filter_config = None;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "-h" | "--help" => return Ok(None),
                "--filter-config" => {
                    let value = args.next().ok_or("--filter-config needs a value")?;
                    filter_config = Some(value.clone());
                }
                flag if flag.starts_with("--filter-config=") => {
                    filter_config = Some(flag["--filter-config=".len()..].to_string());
                }
                flag if flag.starts_with('-') && flag.len() > 1 => {
                    return Err(format!("unknown option `{flag}`"));
                }
                path if module.is_none() => module = Some(PathBuf::from(path)),
                extra => return Err(format!("one module at a time (unexpected `{extra}`)")),
            }
        }
        let module = module.ok_or("which module? give the path of its .so")?;
        Ok(Some(Self { module, filter_config }))
    }
}

/// Prints one line of the report: a label column, then the text (continuation lines indented).
fn line(label: &str, text: &str) {
    let indent = " ".repeat(LABEL_WIDTH);
    let mut lines = text.lines();
    println!("{label:<LABEL_WIDTH$}{}", lines.next().unwrap_or(""));
    for more in lines {
        println!("{indent}{more}");
    }
}

/// Runs every check on `module` and prints the report, as `envoyx check` does: the module's ABI
/// version (`major.minor`) when all is well, else the number of problems.
pub(crate) fn checked_abi(module: &Path) -> Result<String, usize> {
    let mut abi = None;
    let problems = check_reporting(&Options { module: module.to_path_buf(), filter_config: None }, &mut abi);
    report_result(problems);
    match abi {
        Some(v) if problems == 0 => Ok(format!("{}.{}", v.major, v.minor)),
        _ => Err(problems.max(1)),
    }
}

/// Runs every check and prints the report; returns the number of problems.
fn check(options: &Options) -> usize {
    check_reporting(options, &mut None)
}

/// [`check`], also handing back the ABI version the module stated.
fn check_reporting(options: &Options, abi: &mut Option<envoyx_abi_version>) -> usize {
    let path = &options.module;
    line("module", &path.display().to_string());

    // 1. The file, with the core's own checks: if these fail, nothing else can be checked.
    if let Err(e) = envoyx_core::check_file(path) {
        line("file", &format!("{}: problem", file_problem(&e)));
        return 1;
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            line("file", &format!("cannot be read: {e}: problem"));
            return 1;
        }
    };
    let elf = match object::File::parse(bytes.as_slice()) {
        Ok(elf) => elf,
        Err(e) => {
            line("file", &format!("the ELF file cannot be parsed: {e}: problem"));
            return 1;
        }
    };
    line("file", &format!("{}: ok", describe_elf(&elf)));

    let mut problems = 0;

    // 2. Symbols, read from the file (nothing is loaded for this).
    let symbols = Symbols::of(&elf);
    let symbols_ok = symbols.missing.is_empty() && symbols.unknown.is_empty();
    problems += usize::from(!symbols_ok);

    // 3-5. Everything that runs module code, in the child.
    let child = run_child(path, options.filter_config.as_deref(), symbols.missing.is_empty());

    *abi = child.abi;
    problems += report_abi(&child);
    report_symbols(&symbols);
    problems += report_init(&child, &symbols);
    if let Some(config) = &options.filter_config {
        problems += report_config(&child, config);
    }
    if symbols.missing.is_empty() {
        report_unload(&symbols);
    }
    if problems > 0 && !child.stderr_tail.is_empty() && child.ended_abnormally() {
        line("output", &format!("the module's last output (stderr):\n{}", child.stderr_tail));
    }
    problems
}

/// The reason of a failed file check, without the "EnvoyX module <path>:" prefix the core puts
/// in front (the report already names the file).
fn file_problem(error: &LoadError) -> String {
    match error {
        LoadError::FileMissing { .. } => "not found".to_string(),
        LoadError::Unreadable { reason, .. } => format!("cannot be read: {reason}"),
        LoadError::NotSharedObject { reason, .. } => format!("not a shared object: {reason}"),
        LoadError::WrongArchitecture { found, expected, .. } => {
            format!("wrong architecture: built for {found}, this EnvoyX runs on {expected}")
        }
        other => other.to_string(),
    }
}

fn describe_elf(elf: &object::File) -> String {
    use object::Object;
    let bits = if elf.is_64() { 64 } else { 32 };
    let architecture = format!("{:?}", elf.architecture()).to_lowercase();
    format!("ELF {bits}-bit shared object, {architecture}")
}

/// What the module exports, compared with `MODULE_SYMBOLS` and `OPTIONAL_MODULE_SYMBOLS`.
struct Symbols {
    present: usize,
    missing: Vec<&'static str>,
    /// The optional exports it has (the capabilities of later minors it uses), with the minor
    /// that added each.
    optional: Vec<(&'static str, u32)>,
    /// Exported `envoyx_*` symbols that the ABI does not define.
    unknown: Vec<String>,
}

impl Symbols {
    fn of(elf: &object::File) -> Self {
        use object::{Object, ObjectSymbol};
        // Defined, globally visible dynamic symbols: what dlsym can find.
        let exported: BTreeSet<String> = elf
            .dynamic_symbols()
            .filter(|s| !s.is_undefined() && s.is_global())
            .filter_map(|s| s.name().ok().map(str::to_string))
            .collect();
        let missing: Vec<&'static str> =
            MODULE_SYMBOLS.iter().copied().filter(|name| !exported.contains(*name)).collect();
        let optional: Vec<(&'static str, u32)> =
            OPTIONAL_MODULE_SYMBOLS.iter().copied().filter(|(name, _)| exported.contains(*name)).collect();
        let known = |name: &str| {
            MODULE_SYMBOLS.contains(&name)
                || OPTIONAL_MODULE_SYMBOLS.iter().any(|(optional, _)| *optional == name)
        };
        let unknown =
            exported.iter().filter(|name| name.starts_with("envoyx_") && !known(name)).cloned().collect();
        Self { present: MODULE_SYMBOLS.len() - missing.len(), missing, optional, unknown }
    }
}

fn report_symbols(symbols: &Symbols) {
    let required = MODULE_SYMBOLS.len();
    let optional = if symbols.optional.is_empty() {
        "no optional exports".to_string()
    } else {
        let names: Vec<String> =
            symbols.optional.iter().map(|(name, minor)| format!("{name} (ABI 1.{minor})")).collect();
        format!("optional: {}", names.join(", "))
    };
    if symbols.missing.is_empty() && symbols.unknown.is_empty() {
        line(
            "symbols",
            &format!(
                "{required} of {required} required present; {optional}; no unknown envoyx_* symbols: ok"
            ),
        );
        return;
    }
    let mut text = format!("{} of {required} required present; {optional}: problem", symbols.present);
    for name in &symbols.missing {
        text.push_str(&format!("\nmissing {name} (every module must export it; see x/abi.h)"));
    }
    for name in &symbols.unknown {
        let hint = match closest_required(name) {
            Some(required) => format!("a misspelt {required}?"),
            None => "the envoyx_ prefix is reserved for x/abi.h".to_string(),
        };
        let version = envoyx_abi_version::CURRENT;
        text.push_str(&format!(
            "\nunknown {name} (not part of EnvoyX ABI {}.{}; {hint})",
            version.major, version.minor
        ));
    }
    line("symbols", &text);
}

/// Whether the proxy may unmap the module once nothing of it is left (x/abi.h,
/// `envoyx_on_program_unload`): not a problem either way, but what an operator planning hot
/// reloads wants to know, since a module kept mapped costs its memory per reload.
fn report_unload(symbols: &Symbols) {
    let unload = "envoyx_on_program_unload";
    let text = if symbols.optional.iter().any(|(name, _)| *name == unload) {
        format!(
            "may be unmapped once nothing of it is left, when its {unload} agrees (its own threads \
             finished): ok"
        )
    } else {
        format!(
            "never unmapped: it does not export {unload} (built with an SDK or header older than \
             ABI 1.1's), so the proxy keeps it mapped after its last configuration, as with \
             do_not_dlclose; each hot reload of it keeps one more copy: ok"
        )
    };
    line("unload", &text);
}

/// The required symbol `name` is probably a typo of: at most two single-character edits away.
fn closest_required(name: &str) -> Option<&'static str> {
    MODULE_SYMBOLS.iter().copied().find(|required| edit_distance(name, required) <= 2)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// "1.0", the way the report writes versions.
fn version_text(v: envoyx_abi_version) -> String {
    format!("{}.{}", v.major, v.minor)
}

/// The versions this EnvoyX accepts, by its own policy: the candidates are every minor of its
/// major up to its own.
fn accepted_versions() -> String {
    let host = envoyx_abi_version::CURRENT;
    let accepted: Vec<String> = (0..=host.minor)
        .map(|minor| envoyx_abi_version { major: host.major, minor })
        .filter(|v| envoyx_core::accepts(host, *v))
        .map(version_text)
        .collect();
    match accepted.as_slice() {
        [] => "none".to_string(),
        [only] => only.clone(),
        [first, .., last] => format!("{first} to {last}"),
    }
}

fn report_abi(child: &ChildReport) -> usize {
    let host = envoyx_abi_version::CURRENT;
    let speaks = format!("this EnvoyX speaks {}, accepts {}", version_text(host), accepted_versions());
    if let Some(reason) = &child.open_failed {
        line("abi", &format!("not read: the module cannot be loaded: {reason}: problem"));
        return 1;
    }
    if !child.saw("loaded") {
        line("abi", &format!("not read: loading the module (its initialisers) {}: problem", child.ending()));
        return 1;
    }
    if child.saw("no-abi-fn") {
        line("abi", "not read: the module does not export envoyx_module_abi_version: problem");
        return 1;
    }
    let Some(version) = child.abi else {
        line("abi", &format!("not read: envoyx_module_abi_version {}: problem", child.ending()));
        return 1;
    };
    if envoyx_core::accepts(host, version) {
        line("abi", &format!("{} ({speaks}): ok", version_text(version)));
        0
    } else {
        line(
            "abi",
            &format!(
                "{} ({speaks}): problem: not accepted; rebuild the module with an SDK for ABI {}",
                version_text(version),
                version_text(host)
            ),
        );
        1
    }
}

/// Reports program init; returns 1 on a problem. A step that could not be tried because of an
/// earlier problem is not counted again.
fn report_init(child: &ChildReport, symbols: &Symbols) -> usize {
    if !child.saw("init-start") {
        let why = if !symbols.missing.is_empty() {
            "not tried: the core refuses a module with missing symbols"
        } else if child.abi.is_some_and(|v| !envoyx_core::accepts(envoyx_abi_version::CURRENT, v)) {
            "not tried: the core refuses a module with an ABI version it does not accept"
        } else {
            "not tried: the module could not be loaded"
        };
        line("init", why);
        return 0;
    }
    if child.saw("init-ok") {
        line("init", "envoyx_on_program_init succeeded (in a child process): ok");
        return 0;
    }
    match &child.init_failed {
        Some(reason) => line("init", &format!("envoyx_on_program_init failed: {reason}: problem")),
        None => line("init", &format!("program init {} (in a child process): problem", child.ending())),
    }
    1
}

fn report_config(child: &ChildReport, config: &str) -> usize {
    if !child.saw("config-start") {
        line("config", "not tried: program init did not succeed");
        return 0;
    }
    if child.saw("config-ok") {
        let metrics = match child.metrics.as_slice() {
            [] => String::new(),
            defined => format!(" (metrics defined: {})", defined.join(", ")),
        };
        line("config", &format!("filter config {config:?} created and destroyed{metrics}: ok"));
        return 0;
    }
    match &child.config_failed {
        Some(reason) => line("config", &format!("filter config {config:?} rejected: {reason}: problem")),
        None if child.saw("config-created") => line(
            "config",
            &format!("destroying filter config {config:?} {} (in a child process): problem", child.ending()),
        ),
        None => line(
            "config",
            &format!("creating filter config {config:?} {} (in a child process): problem", child.ending()),
        ),
    }
    1
}

/// What the child reported, and how it ended.
#[derive(Default)]
struct ChildReport {
    /// Every step word the child printed, in order (`loaded`, `init-start`, ...).
    steps: Vec<String>,
    abi: Option<envoyx_abi_version>,
    open_failed: Option<String>,
    init_failed: Option<String>,
    config_failed: Option<String>,
    /// The metrics the configuration defined, as `name{label,...}`.
    metrics: Vec<String>,
    /// How the child ended when it did not finish its report; `None` when it did.
    abnormal_end: Option<String>,
    /// The last lines the child (the module) wrote to stderr.
    stderr_tail: String,
}

impl ChildReport {
    fn saw(&self, step: &str) -> bool {
        self.steps.iter().any(|s| s == step)
    }

    fn ended_abnormally(&self) -> bool {
        self.abnormal_end.is_some()
    }

    /// How the last step ended, e.g. "crashed with SIGSEGV".
    fn ending(&self) -> String {
        self.abnormal_end.clone().unwrap_or_else(|| "did not finish".to_string())
    }

    fn record(&mut self, line: &str) {
        let (step, rest) = line.split_once(' ').unwrap_or((line, ""));
        match step {
            "abi" => {
                let mut numbers = rest.split(' ').map(str::parse::<u32>);
                if let (Some(Ok(major)), Some(Ok(minor))) = (numbers.next(), numbers.next()) {
                    self.abi = Some(envoyx_abi_version { major, minor });
                }
            }
            "open-failed" => self.open_failed = Some(rest.to_string()),
            "init-failed" => self.init_failed = Some(rest.to_string()),
            "config-failed" => self.config_failed = Some(rest.to_string()),
            "metric" => self.metrics.push(rest.to_string()),
            _ => {}
        }
        self.steps.push(step.to_string());
    }
}

/// Runs the child on `path` and collects its report. Never fails: a child that cannot be
/// started is reported like one that crashed at once.
fn run_child(path: &Path, filter_config: Option<&str>, may_init: bool) -> ChildReport {
    let mut report = ChildReport::default();
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            report.abnormal_end = Some(format!("could not be checked (cannot find the envoyx binary: {e})"));
            return report;
        }
    };
    // The child may run in another directory one day; an absolute path means the same file.
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut command = Command::new(exe);
    command.arg("check").arg(CHILD_COMMAND).arg(&path);
    if !may_init {
        command.arg("--abi-only");
    }
    if let Some(config) = filter_config {
        command.arg("--filter-config").arg(config);
    }
    let mut child = match command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(e) => {
            report.abnormal_end = Some(format!("could not be checked (cannot start a child process: {e})"));
            return report;
        }
    };
    // Both pipes are drained on their own threads so a chatty module cannot block on a full pipe.
    let stdout = child.stdout.take().map(|out| {
        std::thread::spawn(move || {
            BufReader::new(out)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| l.strip_prefix(CHILD_TAG).map(str::to_string))
                .collect::<Vec<String>>()
        })
    });
    let stderr = child.stderr.take().map(|mut err| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = err.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    });

    let deadline = Instant::now() + CHILD_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                // Our own child, by its handle: never another process.
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Err(_) => break None,
        }
    };
    for step in stdout.and_then(|t| t.join().ok()).unwrap_or_default() {
        report.record(&step);
    }
    let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
    let lines: Vec<&str> = stderr.lines().collect();
    report.stderr_tail = lines[lines.len().saturating_sub(10)..].join("\n");
    if !report.saw("done") {
        report.abnormal_end = Some(match status {
            Some(status) => describe_exit(status),
            None => format!("did not finish within {} s (the child was killed)", CHILD_TIMEOUT.as_secs()),
        });
    }
    report
}

fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(signal) = status.signal() {
        format!("crashed with {}", signal_name(signal))
    } else {
        match status.code() {
            Some(code) => format!("ended the process with exit status {code}"),
            None => format!("ended the process ({status})"),
        }
    }
}

fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGSYS => "SIGSYS",
        libc::SIGPIPE => "SIGPIPE",
        _ => return format!("signal {signal}"),
    };
    name.to_string()
}

/// The child: loads the module and runs its code, reporting each step before taking it, so the
/// parent knows which step a crash happened in.
mod child {
    use super::CHILD_TAG;
    use envoyx_abi::{envoyx_abi_version, envoyx_module_abi_version_fn};
    use envoyx_core::{ConfigHost, Error, FilterConfig, LoadError, MetricDef, ModuleRegistry};
    use std::io::Write;
    use std::path::Path;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// What stands for the proxy while the configuration is created: it takes the metrics the
    /// module defines (telling each), as a proxy would, so that a module with metrics is checked
    /// like any other; it runs no callouts and serves no secrets.
    #[derive(Default)]
    struct CheckHost {
        metrics: AtomicU64,
    }

    impl ConfigHost for CheckHost {
        fn wake(&self) {}

        fn define_metric(&self, def: &MetricDef) -> Result<u64, String> {
            // EnvoyX's own (the label-overflow counter) are not the module's to report.
            if !def.name.starts_with("envoyx_") {
                let labels = def.label_names.join(",");
                say(
                    "metric",
                    &if labels.is_empty() { def.name.clone() } else { format!("{}{{{labels}}}", def.name) },
                );
            }
            Ok(self.metrics.fetch_add(1, Ordering::Relaxed) + 1)
        }
    }

    fn say(step: &str, detail: &str) {
        // One line per step: newlines inside a message would split it.
        let detail = detail.replace('\n', " / ");
        let mut out = std::io::stdout().lock();
        let _ = if detail.is_empty() {
            writeln!(out, "{CHILD_TAG}{step}")
        } else {
            writeln!(out, "{CHILD_TAG}{step} {detail}")
        };
        // Flushed now: the next step may kill the process.
        let _ = out.flush();
    }

    pub fn run(args: &[String]) -> i32 {
        let Some(path) = args.first().map(Path::new) else {
            eprintln!("envoyx check {}: which module?", super::CHILD_COMMAND);
            return 2;
        };
        let abi_only = args.iter().any(|a| a == "--abi-only");
        let filter_config =
            args.iter().position(|a| a == "--filter-config").and_then(|i| args.get(i + 1)).cloned();
        no_core_dumps();
        check(path, abi_only, filter_config.as_deref());
        say("done", "");
        0
    }

    fn no_core_dumps() {
        // A module crashing on purpose is an expected outcome here, not worth a core file.
        let limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // Safety: setrlimit reads the struct during the call only; RLIMIT_CORE affects this
        // process alone.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &limit) };
    }

    fn check(path: &Path, abi_only: bool, filter_config: Option<&str>) {
        use libloading::os::unix::{Library, RTLD_LAZY, RTLD_LOCAL};
        // The same flags the core uses: this load runs the module's initialisers, as the core's
        // would; the core's own load below then shares this handle.
        // Safety: running the module's code is the point of this child process.
        let library = match unsafe { Library::open(Some(path), RTLD_LAZY | RTLD_LOCAL) } {
            Ok(library) => library,
            Err(e) => {
                // libloading's own message is just "dlopen failed"; the loader's reason is its source.
                let reason = std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
                return say("open-failed", &format!("dlopen failed: {reason}"));
            }
        };
        say("loaded", "");
        // Safety: the symbol is declared in x/abi.h with exactly this type.
        let abi_fn =
            match unsafe { library.get::<envoyx_module_abi_version_fn>(b"envoyx_module_abi_version\0") } {
                Ok(symbol) => *symbol,
                Err(_) => return say("no-abi-fn", ""),
            };
        // Safety: the export takes nothing and, per x/abi.h, does not call the host.
        let version = unsafe { abi_fn() };
        say("abi", &format!("{} {}", version.major, version.minor));
        if abi_only || !envoyx_core::accepts(envoyx_abi_version::CURRENT, version) {
            return;
        }

        say("init-start", "");
        let module = match ModuleRegistry::global().load(path, false) {
            Ok(module) => module,
            Err(LoadError::ProgramInitFailed { reason, .. }) => return say("init-failed", &reason),
            Err(other) => return say("init-failed", &other.to_string()),
        };
        say("init-ok", "");

        let Some(config) = filter_config else { return };
        say("config-start", "");
        let host: Arc<dyn ConfigHost> = Arc::new(CheckHost::default());
        match FilterConfig::with_module(module, "envoyx-check", config.as_bytes(), Some(host)) {
            Ok(config) => {
                say("config-created", "");
                // The last reference: this runs the module's config-destroy hook.
                drop(config);
                say("config-ok", "");
            }
            Err(Error::ConfigRejected { reason, .. }) => say("config-failed", &reason),
            Err(other) => say("config-failed", &other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_of_required_symbols_are_recognised() {
        assert_eq!(closest_required("envoyx_on_stream_destory"), Some("envoyx_on_stream_destroy"));
        assert_eq!(closest_required("envoyx_on_request_header"), Some("envoyx_on_request_headers"));
        assert_eq!(closest_required("envoyx_helper"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn accepted_versions_follow_the_core_policy() {
        let current = envoyx_abi_version::CURRENT;
        let expected = if current.minor == 0 {
            version_text(current)
        } else {
            format!("{}.0 to {}", current.major, version_text(current))
        };
        assert_eq!(accepted_versions(), expected);
        assert!(envoyx_core::accepts(current, envoyx_abi_version { major: current.major, minor: 0 }));
    }
}
