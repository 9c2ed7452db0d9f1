//! `envoyx new` — being built (issue 3).

pub fn run(_args: &[String]) -> i32 {
    eprintln!("envoyx new: not implemented yet");
    1
}
