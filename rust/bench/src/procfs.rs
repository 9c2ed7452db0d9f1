//! What the benchmark reads about a process from `/proc`: its CPU time (utime + stime in
//! `/proc/<pid>/stat`), its peak resident set (`VmHWM` in `/proc/<pid>/status`) and its threads'
//! context switches (`/proc/<pid>/task/<tid>/status`).

use std::io;

/// CPU time a process used so far, in clock ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuTicks {
    pub utime: u64,
    pub stime: u64,
}

impl CpuTicks {
    pub fn total(self) -> u64 {
        self.utime + self.stime
    }
}

/// Parses the content of `/proc/<pid>/stat`. The command name (field 2) is in parentheses and
/// may itself hold spaces and parentheses, so fields are counted from the last `)`: utime and
/// stime are fields 14 and 15 of the line.
pub fn parse_stat(text: &str) -> Result<CpuTicks, String> {
    let close = text.rfind(')').ok_or_else(|| format!("no `)` in /proc stat line {text:?}"))?;
    // After `)`: field 3 (state) is the first.
    let fields: Vec<&str> = text[close + 1..].split_whitespace().collect();
    let field = |n: usize| -> Result<u64, String> {
        let value = fields.get(n - 3).ok_or_else(|| format!("/proc stat line has no field {n}: {text:?}"))?;
        value.parse().map_err(|_| format!("/proc stat field {n} is not a number: {value:?}"))
    };
    Ok(CpuTicks { utime: field(14)?, stime: field(15)? })
}

/// Parses `VmHWM` (peak resident set, in KiB) out of the content of `/proc/<pid>/status`.
pub fn parse_vm_hwm_kib(status: &str) -> Result<u64, String> {
    parse_status_kib(status, "VmHWM")
}

/// Parses the KiB figure `field` (`VmHWM`, `VmRSS`, ...) out of `/proc/<pid>/status`.
fn parse_status_kib(status: &str, field: &str) -> Result<u64, String> {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .ok_or_else(|| format!("no {field} line in /proc status"))?;
    let mut words = line.split_whitespace();
    let (Some(number), Some("kB")) = (words.next(), words.next()) else {
        return Err(format!("{field} line not in kB: {line:?}"));
    };
    number.parse().map_err(|_| format!("{field} is not a number: {number:?}"))
}

/// The resident set of process `pid` now, in KiB.
pub fn vm_rss_kib(pid: u32) -> io::Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_status_kib(&text, "VmRSS").map_err(io::Error::other)
}

/// The CPU time of process `pid` so far.
pub fn cpu_ticks(pid: u32) -> io::Result<CpuTicks> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat(&text).map_err(io::Error::other)
}

/// The peak resident set of process `pid`, in KiB.
pub fn vm_hwm_kib(pid: u32) -> io::Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_vm_hwm_kib(&text).map_err(io::Error::other)
}

/// Parses a thread's context switches, voluntary plus not, out of its `/proc/.../status`.
pub fn parse_context_switches(status: &str) -> Result<u64, String> {
    let field = |name: &str| -> Result<u64, String> {
        let value = status
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .ok_or_else(|| format!("no {name} line in /proc status"))?;
        value.trim().parse().map_err(|_| format!("{name} is not a number: {value:?}"))
    };
    Ok(field("voluntary_ctxt_switches")? + field("nonvoluntary_ctxt_switches")?)
}

/// The context switches of every thread of process `pid` so far (a thread that ended meanwhile is
/// skipped: the count is of the threads alive now, which for Envoy are all it starts).
pub fn context_switches(pid: u32) -> io::Result<u64> {
    let mut total = 0;
    for tid in threads(pid)? {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")) else { continue };
        total += parse_context_switches(&text).map_err(io::Error::other)?;
    }
    Ok(total)
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), the unit of [`CpuTicks`].
pub fn ticks_per_second() -> u64 {
    // Safety: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as u64 } else { 100 }
}

/// The thread ids of process `pid`.
pub fn threads(pid: u32) -> io::Result<Vec<i32>> {
    let mut tids = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        if let Some(tid) = entry?.file_name().to_str().and_then(|s| s.parse().ok()) {
            tids.push(tid);
        }
    }
    Ok(tids)
}

/// Pins thread `tid` (0: the calling thread) to `cpu`.
pub fn pin_thread(tid: i32, cpu: usize) -> io::Result<()> {
    // Safety: cpu_set_t is plain data, zeroed is the empty set; CPU_SET writes inside it
    // (cpu is checked against the set's size first).
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    if cpu >= 8 * size_of::<libc::cpu_set_t>() {
        return Err(io::Error::other(format!("cpu {cpu} out of range")));
    }
    // Safety: see above.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // Safety: `set` is a valid cpu_set_t of the size passed.
    let result = unsafe { libc::sched_setaffinity(tid, size_of::<libc::cpu_set_t>(), &set) };
    if result == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// Pins every thread of process `pid` to `cpu` (threads it starts later inherit it).
pub fn pin_process(pid: u32, cpu: usize) -> io::Result<()> {
    for tid in threads(pid)? {
        pin_thread(tid, cpu)?;
    }
    Ok(())
}

/// The CPUs this process may run on.
pub fn allowed_cpus() -> Vec<usize> {
    // Safety: zeroed cpu_set_t is valid; sched_getaffinity fills it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // Safety: `set` is a valid cpu_set_t of the size passed.
    if unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) } != 0 {
        return Vec::new();
    }
    // Safety: CPU_ISSET reads inside `set` for cpu < the set's bit size.
    (0..8 * size_of::<libc::cpu_set_t>()).filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utime_and_stime_after_a_command_with_spaces_and_parens() {
        let line = "4242 (envoy (worker) 0) S 1 4242 4242 0 -1 4194560 1200 0 0 0 731 95 0 0 20 0 9 0 \
                    123456 123456789 4321 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 0 0 0 0 0 0";
        assert_eq!(parse_stat(line), Ok(CpuTicks { utime: 731, stime: 95 }));
        assert_eq!(parse_stat(line).unwrap().total(), 826);
    }

    #[test]
    fn adds_voluntary_and_involuntary_context_switches() {
        let status = "Name:\tenvoy\nvoluntary_ctxt_switches:\t120\nnonvoluntary_ctxt_switches:\t7\n";
        assert_eq!(parse_context_switches(status), Ok(127));
        assert!(parse_context_switches("Name:\tenvoy\n").unwrap_err().contains("voluntary_ctxt_switches"));
        // This process's own threads have switched at least once.
        assert!(context_switches(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn refuses_a_truncated_or_garbled_stat_line() {
        assert!(parse_stat("12 (x) S 1 2").unwrap_err().contains("field 14"));
        assert!(parse_stat("no parens at all").is_err());
        let garbled = "1 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 5";
        assert!(parse_stat(garbled).unwrap_err().contains("\"abc\""));
    }

    #[test]
    fn reads_vm_hwm_in_kib() {
        let status = "Name:\tenvoy\nVmPeak:\t  2345678 kB\nVmHWM:\t    54321 kB\nVmRSS:\t    50000 kB\n";
        assert_eq!(parse_vm_hwm_kib(status), Ok(54321));
        assert!(parse_vm_hwm_kib("Name: x\n").is_err());
        assert!(parse_vm_hwm_kib("VmHWM: 12 MB\n").is_err());
    }

    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        let before = cpu_ticks(me).unwrap();
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < std::time::Duration::from_millis(60) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        assert!(cpu_ticks(me).unwrap().total() > before.total(), "60 ms of spinning used no CPU ticks");
        assert!(vm_hwm_kib(me).unwrap() > 0);
        assert!(threads(me).unwrap().contains(&(me as i32)));
    }
}
