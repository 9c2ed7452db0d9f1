//! A real OCI registry for tests: Debian's `docker-registry` (the CNCF distribution registry) on
//! 127.0.0.1 with a fresh port, its storage in a temporary folder, TLS from a CA made for it
//! (`openssl`), and optionally htpasswd (bcrypt, `htpasswd` from apache2-utils) logins. Stopped
//! by PID when dropped. The packages are installed on first use where this runs as root with
//! apt-get ([`ensure_debian_packages`]), as CI does.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to start the registry.
#[derive(Clone, Debug, Default)]
pub struct RegistryOptions {
    /// Plain HTTP instead of TLS.
    pub plain_http: bool,
    /// Logins (user, password) the registry accepts; none: anyone may pull and push.
    pub logins: Vec<(String, String)>,
}

/// A running registry.
pub struct Registry {
    pub port: u16,
    /// `127.0.0.1:<port>`, as references name it.
    pub host: String,
    /// The CA that signed the registry's certificate (PEM); `None` with plain HTTP.
    pub ca_file: Option<PathBuf>,
    /// Where the registry keeps its blobs and where the test may put files of its own.
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Registry {
    /// Starts a registry and waits until it answers on its port.
    pub fn start(options: &RegistryOptions) -> io::Result<Self> {
        let mut packages = vec![("docker-registry", "docker-registry"), ("openssl", "openssl")];
        if !options.logins.is_empty() {
            packages.push(("htpasswd", "apache2-utils"));
        }
        ensure_debian_packages(&packages)?;
        let dir = tempfile::Builder::new().prefix("envoyx-registry-").tempdir()?;
        let port = crate::free_port()?;
        let host = format!("127.0.0.1:{port}");
        let d = dir.path();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
            d.join("data").display()
        );
        let ca_file = if options.plain_http {
            None
        } else {
            make_certificates(d)?;
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                d.join("server.pem").display(),
                d.join("server.key").display()
            ));
            Some(d.join("ca.pem"))
        };
        if !options.logins.is_empty() {
            let mut lines = String::new();
            for (user, password) in &options.logins {
                let out = run(Command::new("htpasswd").args(["-Bbn", user, password]))?;
                lines.push_str(out.trim());
                lines.push('\n');
            }
            std::fs::write(d.join("htpasswd"), lines)?;
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: envoyx-test\n    path: {}\n",
                d.join("htpasswd").display()
            ));
        }
        std::fs::write(d.join("config.yml"), config)?;
        let log = std::fs::File::create(d.join("registry.log"))?;
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(d.join("config.yml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let mut registry = Self { port, host, ca_file, dir, child };
        registry.wait_ready(Duration::from_secs(20))?;
        Ok(registry)
    }

    /// The PID, for a test that stops the registry (a cache hit with the registry down).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the registry (by PID) and waits for it.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// What the registry logged: warnings and an access log line per request.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    fn wait_ready(&mut self, timeout: Duration) -> io::Result<()> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Some(status) = self.child.try_wait()? {
                return Err(io::Error::other(format!("docker-registry exited ({status}): {}", self.log())));
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(io::Error::other(format!("docker-registry did not listen within {timeout:?}: {}", self.log())))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A CA, and a certificate for 127.0.0.1 and localhost it signed, into `dir` (`ca.pem`,
/// `server.pem`, `server.key`).
fn make_certificates(dir: &Path) -> io::Result<()> {
    let p = |name: &str| dir.join(name).display().to_string();
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    run(Command::new("openssl").args(["req", "-x509"]).args(ec).args([
        "-keyout",
        &p("ca.key"),
        "-out",
        &p("ca.pem"),
        "-days",
        "2",
        "-subj",
        "/CN=EnvoyX test CA",
    ]))?;
    run(Command::new("openssl").args(["req"]).args(ec).args([
        "-keyout",
        &p("server.key"),
        "-out",
        &p("server.csr"),
        "-subj",
        "/CN=127.0.0.1",
    ]))?;
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )?;
    run(Command::new("openssl").args([
        "x509",
        "-req",
        "-in",
        &p("server.csr"),
        "-CA",
        &p("ca.pem"),
        "-CAkey",
        &p("ca.key"),
        "-CAcreateserial",
        "-out",
        &p("server.pem"),
        "-days",
        "2",
        "-extfile",
        &p("server.ext"),
    ]))?;
    Ok(())
}

/// Runs `command`; its stdout, or an error with its stderr.
fn run(command: &mut Command) -> io::Result<String> {
    let out = command.output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{:?} failed ({}): {}",
            command,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Makes sure each `(command, Debian package)` is on PATH: missing ones are installed with
/// apt-get when this runs as root (CI does), else the error says what to install.
pub fn ensure_debian_packages(needed: &[(&str, &str)]) -> io::Result<()> {
    let on_path = |command: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {command}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let missing: Vec<&str> = needed.iter().filter(|(c, _)| !on_path(c)).map(|(_, p)| *p).collect();
    if missing.is_empty() {
        return Ok(());
    }
    // Safety: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root || !on_path("apt-get") {
        return Err(io::Error::other(format!(
            "needs the Debian packages {}: install them (apt-get install {})",
            missing.join(", "),
            missing.join(" ")
        )));
    }
    // One install at a time in this process (tests run in parallel); apt-get waits for another
    // process's dpkg lock.
    static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = INSTALLING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let missing: Vec<&str> = needed.iter().filter(|(c, _)| !on_path(c)).map(|(_, p)| *p).collect();
    if missing.is_empty() {
        return Ok(()); // another thread installed them meanwhile
    }
    let list = missing.join(" ");
    let apt = "apt-get -o DPkg::Lock::Timeout=300 -y -q --no-install-recommends";
    let install = format!(
        "export DEBIAN_FRONTEND=noninteractive; {apt} install {list} >/dev/null 2>&1 || \
         (apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null 2>&1 && {apt} install {list} >/dev/null)"
    );
    let status = Command::new("sh").args(["-c", &install]).status()?;
    if !status.success() {
        return Err(io::Error::other(format!("apt-get could not install {list}")));
    }
    Ok(())
}
