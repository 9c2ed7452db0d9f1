//! `envoyx check` — being built (issue 3).

pub fn run(_args: &[String]) -> i32 {
    eprintln!("envoyx check: not implemented yet");
    1
}
