//! `envoyx run` — being built (issue 3).

pub fn run(_args: &[String]) -> i32 {
    eprintln!("envoyx run: not implemented yet");
    1
}
