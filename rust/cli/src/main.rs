//! `envoyx`: the EnvoyX command line.
//!
//! - `envoyx demo`: builds the example modules and drives a request through each on the
//!   in-process test host, printing what the module did. (Serving through real Envoy is
//!   `envoyx run`, which comes with the stock-Envoy host.)

mod demo;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("demo") => demo::run(),
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            0
        }
        Some(other) => {
            eprintln!("envoyx: unknown command `{other}`\n\n{USAGE}");
            2
        }
    };
    std::process::exit(code);
}

const USAGE: &str = "\
usage: envoyx <command>

commands:
  demo    build the example modules and run a request through each on the in-process test host
  help    show this message
";
