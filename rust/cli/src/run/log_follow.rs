//! Following Envoy's log while it runs: new lines copied to stderr, filtered and shortened.

use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Copies new lines of Envoy's log to stderr while it runs: module lines (`dynamic_modules`),
/// warnings and errors, or everything with `--verbose`.
pub(super) struct LogFollower {
    done: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl LogFollower {
    pub(super) fn start(path: &Path, verbose: bool) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let finished = done.clone();
        // Opened and positioned here, before "ready" is printed: a thread that did it later
        // would skip the lines of requests sent as soon as "ready" appears.
        let file = std::fs::File::open(path).map(|mut file| {
            // Startup lines are skipped unless verbose: they were there before "ready".
            if !verbose {
                let _ = file.seek(SeekFrom::End(0));
            }
            file
        });
        let thread = std::thread::spawn(move || {
            let Ok(file) = file else { return };
            let mut reader = BufReader::new(file);
            let mut line = String::new();
            loop {
                // A partial line stays in `line` until its newline arrives.
                match reader.read_line(&mut line) {
                    Ok(n) if n > 0 && line.ends_with('\n') => {
                        if verbose || is_interesting(&line) {
                            eprint!("envoy| {}", strip_timestamp(&line));
                        }
                        line.clear();
                    }
                    Ok(_) => {
                        if finished.load(Ordering::SeqCst) {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    Err(_) => return,
                }
            }
        });
        Self { done, thread }
    }

    /// Copies what is left and stops.
    pub(super) fn finish(self) {
        self.done.store(true, Ordering::SeqCst);
        let _ = self.thread.join();
    }
}

fn is_interesting(line: &str) -> bool {
    ["][dynamic_modules]", "][warning]", "][error]", "][critical]"].iter().any(|tag| line.contains(tag))
}

/// `[2026-01-01 10:00:00.000][123][info][dynamic_modules] ...` without the time and thread.
fn strip_timestamp(line: &str) -> &str {
    let mut rest = line;
    for _ in 0..2 {
        match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
            Some((_, after)) => rest = after,
            None => return line,
        }
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_lose_time_and_thread() {
        assert_eq!(
            strip_timestamp("[2026-01-01 10:00:00.000][12][info][dynamic_modules] [envoyx:1] hi\n"),
            "[info][dynamic_modules] [envoyx:1] hi\n"
        );
        assert_eq!(strip_timestamp("plain\n"), "plain\n");
    }
}
