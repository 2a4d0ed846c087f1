//! The embedded PostgreSQL cluster: with no `DATABASE_URL`, Backline runs a private cluster of its own from
//! the machine's PostgreSQL server binaries, under its data directory.
//!
//! What this module guarantees:
//! - the cluster is initialised once (`initdb` into a staging directory, renamed into place when complete,
//!   so an interrupted first start never leaves a half-made cluster) and reused on every later start;
//! - it listens only on a Unix socket in a private (0700) directory, never on a network address;
//! - run as root, it runs PostgreSQL as an unprivileged user (PostgreSQL refuses root) that owns the files;
//! - one Backline process at a time uses a data directory (an advisory lock, released by the kernel if the
//!   process dies), and a second one is refused with a clear message;
//! - the postmaster never outlives Backline: it is spawned from a supervisor thread that lives as long as
//!   the cluster, with `PR_SET_PDEATHSIG` so that the kernel asks it to shut down even if Backline is
//!   killed with SIGKILL. It runs in its own process group, so a Ctrl-C at the terminal reaches only
//!   Backline, which drains its requests first and then stops the cluster;
//! - a postmaster that dies on its own once the cluster was ready (the kernel's OOM killer, say) is started
//!   again at once (PostgreSQL's crash recovery makes the data consistent), up to five times in a row; if
//!   it cannot be, [`EmbeddedPostgres::lost`] says why, so that the service exits for its supervisor.
#![allow(unsafe_code)] // getpwnam_r, prctl and kill have no safe wrapper in std; each use says why it is sound.

use std::ffi::{CString, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;

/// The cluster's superuser; with trust authentication on a private socket, no password is needed.
pub const SUPERUSER: &str = "backline";
const PORT: u16 = 5432;
/// Longest Unix socket path the kernel accepts, less a margin.
const MAX_SOCKET_PATH: usize = 100;

#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// Backline's data directory; the cluster lives in `pgdata/` below it.
    pub data_dir: PathBuf,
    /// Where `initdb` and `postgres` are; found automatically when `None`.
    pub bin_dir: Option<PathBuf>,
    /// The unprivileged user to run PostgreSQL as when Backline runs as root (default `postgres`, then `nobody`).
    pub run_as: Option<String>,
    /// Trade durability for speed (no fsync): for throw-away test clusters only.
    pub ephemeral: bool,
    /// Most connections the cluster accepts.
    pub max_connections: u32,
    /// More server settings (`name=value`), such as `shared_preload_libraries=pg_stat_statements`.
    pub settings: Vec<String>,
}

impl EmbeddedConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            bin_dir: None,
            run_as: None,
            ephemeral: false,
            max_connections: 100,
            settings: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "no PostgreSQL server binaries (initdb, postgres) were found; searched: {searched}.\n\
         Install them (Debian/Ubuntu: `apt-get install postgresql`), set BACKLINE_PG_BINDIR to the directory \
         that holds them, or set DATABASE_URL to use a PostgreSQL server you run yourself"
    )]
    BinariesNotFound { searched: String },
    #[error("BACKLINE_PG_BINDIR is {0}, but that directory does not hold both `initdb` and `postgres`")]
    BadBinDir(PathBuf),
    #[error(
        "the data directory {dir} is in use by another backline process{holder}; stop that process or \
         choose another BACKLINE_DATA_DIR"
    )]
    InUse { dir: PathBuf, holder: String },
    #[error(
        "Backline runs as root, so it runs PostgreSQL as the unprivileged user `{0}`, which does not exist; \
         create it or set BACKLINE_PG_USER to an existing unprivileged user"
    )]
    NoSuchUser(String),
    #[error(
        "PostgreSQL runs as user `{user}`, who cannot enter {path} (mode {mode:o}); choose a BACKLINE_DATA_DIR \
         outside it (for example under /var/lib or /tmp), or let that user traverse it (chmod o+x)"
    )]
    NotTraversable { user: String, path: PathBuf, mode: u32 },
    #[error("initdb failed ({status}):\n{output}")]
    Initdb { status: String, output: String },
    #[error("PostgreSQL did not start: {reason}\n--- last lines of {log} ---\n{tail}")]
    StartFailed { reason: String, log: PathBuf, tail: String },
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
}

fn io_ctx(context: impl Into<String>) -> impl FnOnce(io::Error) -> EmbeddedError {
    let context = context.into();
    move |source| EmbeddedError::Io { context, source }
}

/// A running cluster. Stop it with [`EmbeddedPostgres::stop`]; dropping it stops it too.
pub struct EmbeddedPostgres {
    data_dir: PathBuf,
    socket_dir: PathBuf,
    socket_dir_is_temporary: bool,
    pid: u32,
    stop_tx: Option<mpsc::Sender<()>>,
    supervisor: Option<JoinHandle<Option<ExitStatus>>>,
    lost: Lost,
    _lock: File,
}

/// Why the cluster stopped for good (its postmaster died and could not be started again); `None`
/// while it runs.
#[derive(Debug, Clone, Default)]
pub struct Lost(Arc<Mutex<Option<String>>>);

impl Lost {
    pub fn reason(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    fn set(&self, reason: String) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reason);
    }
}

impl std::fmt::Debug for EmbeddedPostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedPostgres").field("data_dir", &self.data_dir).field("pid", &self.pid).finish()
    }
}

/// Who runs the PostgreSQL processes when Backline is root.
#[derive(Debug, Clone)]
struct RunAs {
    name: String,
    uid: u32,
    gid: u32,
}

impl EmbeddedPostgres {
    /// Starts the cluster, creating it on first use, and waits until it accepts connections.
    /// Blocking: call it from a blocking context (`spawn_blocking`) in async code.
    pub fn start(config: &EmbeddedConfig) -> Result<Self, EmbeddedError> {
        let bin_dir = find_bin_dir(config.bin_dir.as_deref())?;
        fs::create_dir_all(&config.data_dir).map_err(io_ctx(format!("creating {}", config.data_dir.display())))?;
        let data_dir =
            config.data_dir.canonicalize().map_err(io_ctx(format!("resolving {}", config.data_dir.display())))?;
        let lock = lock_data_dir(&data_dir)?;

        let run_as = if is_root() { Some(resolve_run_as(config.run_as.as_deref())?) } else { None };
        if let Some(user) = &run_as {
            check_traversable(&data_dir, user)?;
        }

        let pgdata = data_dir.join("pgdata");
        wait_for_previous_postmaster(&pgdata)?;
        if !pgdata.join("PG_VERSION").is_file() {
            initdb(&bin_dir, &data_dir, &pgdata, run_as.as_ref(), config.ephemeral)?;
        } else if let Some(user) = &run_as {
            chown_tree_if_needed(&pgdata, user)?;
        }

        let (socket_dir, socket_dir_is_temporary) = socket_dir_for(&data_dir)?;
        prepare_private_dir(&socket_dir, run_as.as_ref())?;

        let log_path = data_dir.join("postgresql.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io_ctx(format!("opening {}", log_path.display())))?;
        let log_err = log.try_clone().map_err(io_ctx("duplicating the log handle"))?;

        let mut cmd = Command::new(bin_dir.join("postgres"));
        cmd.arg("-D")
            .arg(&pgdata)
            .arg("-c")
            .arg("listen_addresses=")
            .arg("-c")
            .arg(format!("unix_socket_directories={}", socket_dir.display()))
            .arg("-c")
            .arg("unix_socket_permissions=0700")
            .arg("-c")
            .arg(format!("port={PORT}"))
            .arg("-c")
            .arg(format!("max_connections={}", config.max_connections));
        if config.ephemeral {
            for setting in ["fsync=off", "synchronous_commit=off", "full_page_writes=off"] {
                cmd.arg("-c").arg(setting);
            }
        }
        for setting in &config.settings {
            cmd.arg("-c").arg(setting);
        }
        cmd.stdin(Stdio::null()).stdout(log).stderr(log_err).current_dir(&data_dir).process_group(0);
        as_user(&mut cmd, run_as.as_ref());
        // Fast shutdown (SIGINT) when the spawning thread dies: see the module docs.
        die_with_parent(&mut cmd, libc::SIGINT);

        let exited: Arc<Mutex<Option<ExitStatus>>> = Arc::default();
        let ready = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let lost = Lost::default();
        let (pid_tx, pid_rx) = mpsc::channel::<io::Result<u32>>();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let watch = Watch {
            exited: Arc::clone(&exited),
            ready: Arc::clone(&ready),
            lost: lost.clone(),
            pgdata: pgdata.clone(),
        };
        let supervisor = std::thread::Builder::new()
            .name("postgres-supervisor".into())
            .spawn(move || supervise(&mut cmd, &pid_tx, &stop_rx, &watch))
            .map_err(io_ctx("starting the PostgreSQL supervisor thread"))?;
        let pid = match pid_rx.recv() {
            Ok(Ok(pid)) => pid,
            Ok(Err(source)) => return Err(EmbeddedError::Io { context: "starting postgres".into(), source }),
            Err(_) => {
                return Err(EmbeddedError::Io {
                    context: "starting postgres".into(),
                    source: io::Error::other("supervisor ended"),
                });
            }
        };

        let mut cluster = Self {
            data_dir,
            socket_dir,
            socket_dir_is_temporary,
            pid,
            stop_tx: Some(stop_tx),
            supervisor: Some(supervisor),
            lost,
            _lock: lock,
        };
        if let Err(reason) = wait_until_ready(&pgdata, pid, &exited) {
            cluster.stop();
            return Err(EmbeddedError::StartFailed { reason, tail: tail_of(&log_path, 25), log: log_path });
        }
        ready.store(true, std::sync::atomic::Ordering::SeqCst);
        tracing::info!(data_dir = %cluster.data_dir.display(), pid, "embedded PostgreSQL is ready");
        Ok(cluster)
    }

    /// Connection options for one database of this cluster.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .port(PORT)
            .username(SUPERUSER)
            .database(database)
            .application_name("backline")
    }

    /// A URL for this cluster (the socket directory percent-encoded as the host), for `psql` and `DATABASE_URL`.
    pub fn url(&self, database: &str) -> String {
        let host = self.socket_dir.to_string_lossy().replace('%', "%25").replace('/', "%2F");
        format!("postgresql://{SUPERUSER}@{host}:{PORT}/{database}")
    }

    /// The postmaster's process id at start (a restarted postmaster has another: see `postmaster.pid`).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether (and why) the cluster stopped for good.
    pub fn lost(&self) -> Lost {
        self.lost.clone()
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Shuts the cluster down (fast shutdown, escalating if it does not finish) and waits for it.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let stop_tx = self.stop_tx.take()?;
        let _ = stop_tx.send(());
        let status = self.supervisor.take().and_then(|handle| handle.join().ok()).flatten();
        if self.socket_dir_is_temporary {
            let _ = fs::remove_dir_all(&self.socket_dir);
        }
        tracing::info!(data_dir = %self.data_dir.display(), "embedded PostgreSQL stopped");
        status
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the supervisor shares with the cluster's owner.
struct Watch {
    /// Set when the postmaster exited and is not coming back.
    exited: Arc<Mutex<Option<ExitStatus>>>,
    /// Set once the cluster first became ready: only then is a death restarted (a failed start is not).
    ready: Arc<std::sync::atomic::AtomicBool>,
    lost: Lost,
    pgdata: PathBuf,
}

/// Attempts to start a dead cluster again, in a row, before giving up.
const RESTARTS: u32 = 5;

/// Runs on the supervisor thread for the life of the cluster: spawns the postmaster (so that the
/// parent-death signal is tied to this long-lived thread), then waits for a stop request or its exit,
/// starting it again when it dies on its own.
fn supervise(
    cmd: &mut Command,
    pid_tx: &mpsc::Sender<io::Result<u32>>,
    stop_rx: &mpsc::Receiver<()>,
    watch: &Watch,
) -> Option<ExitStatus> {
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(err) => {
            let _ = pid_tx.send(Err(err));
            return None;
        }
    };
    let _ = pid_tx.send(Ok(child.id()));
    loop {
        match stop_rx.recv_timeout(Duration::from_millis(100)) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => return Some(shut_down(&mut child)),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let Ok(Some(status)) = child.try_wait() else { continue };
                if watch.ready.load(std::sync::atomic::Ordering::SeqCst) {
                    tracing::error!(%status, "embedded PostgreSQL exited on its own; starting it again (crash recovery)");
                    match restart(cmd, stop_rx, &watch.pgdata) {
                        Restart::Running(again) => {
                            tracing::info!(pid = again.id(), "embedded PostgreSQL is running again");
                            child = again;
                            continue;
                        }
                        Restart::Stopping => return Some(status),
                        Restart::Failed(reason) => {
                            tracing::error!(%reason, "embedded PostgreSQL could not be started again");
                            watch.lost.set(reason);
                        }
                    }
                } else {
                    tracing::error!(%status, "embedded PostgreSQL exited on its own");
                }
                *watch.exited.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(status);
                // Stay alive until asked to stop, so the owner sees a consistent state.
                let _ = stop_rx.recv();
                return Some(status);
            }
        }
    }
}

enum Restart {
    Running(Child),
    /// The owner asked the cluster to stop meanwhile.
    Stopping,
    Failed(String),
}

/// Starts the postmaster again and waits until it is ready, a few times with growing pauses (its old
/// backends may still hold the shared memory for a moment after it died).
fn restart(cmd: &mut Command, stop_rx: &mpsc::Receiver<()>, pgdata: &Path) -> Restart {
    let mut last = String::new();
    for attempt in 1..=RESTARTS {
        let pause = Duration::from_millis(200 * u64::from(attempt * attempt));
        if !matches!(stop_rx.recv_timeout(pause), Err(mpsc::RecvTimeoutError::Timeout)) {
            return Restart::Stopping;
        }
        let mut child = match cmd.spawn() {
            Ok(child) => child,
            Err(err) => {
                last = format!("cannot start postgres: {err}");
                continue;
            }
        };
        let exited = Mutex::new(None);
        let pid = child.id();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                *exited.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(status);
            }
            match wait_until_ready_once(pgdata, pid, &exited) {
                Some(Ok(())) => return Restart::Running(child),
                Some(Err(reason)) => {
                    last = reason;
                    break;
                }
                None if Instant::now() > deadline => {
                    last = "it was not ready after 60 s".into();
                    let _ = shut_down(&mut child);
                    break;
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
    Restart::Failed(format!("{RESTARTS} attempts failed; the last: {last}"))
}

/// Fast shutdown; immediate shutdown if that takes too long; SIGKILL as the last resort.
fn shut_down(child: &mut Child) -> ExitStatus {
    for (signal, patience) in [(libc::SIGINT, Duration::from_secs(30)), (libc::SIGQUIT, Duration::from_secs(5))] {
        send_signal(child.id(), signal);
        let deadline = Instant::now() + patience;
        while Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(status)) => return status,
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(_) => break,
            }
        }
    }
    let _ = child.kill();
    child.wait().unwrap_or_else(|_| ExitStatus::from_raw_signal(libc::SIGKILL))
}

trait FromRawSignal {
    fn from_raw_signal(signal: i32) -> Self;
}

impl FromRawSignal for ExitStatus {
    fn from_raw_signal(signal: i32) -> Self {
        std::os::unix::process::ExitStatusExt::from_raw(signal)
    }
}

fn send_signal(pid: u32, signal: i32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return };
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is our own child's, not yet reaped.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// Waits for the postmaster of an earlier Backline process to finish shutting down. A Backline that was
/// killed releases the directory's lock at once, but its postmaster, asked by the kernel to shut down,
/// may take a moment; a start meanwhile would fail on PostgreSQL's `postmaster.pid`. A pid file whose
/// process is gone, or is not a postgres of this directory, is PostgreSQL's to deal with.
fn wait_for_previous_postmaster(pgdata: &Path) -> Result<(), EmbeddedError> {
    let Some((pid, name)) = previous_postmaster(pgdata) else { return Ok(()) };
    tracing::info!(pid, "the previous PostgreSQL of this data directory is still shutting down; waiting for it");
    let deadline = Instant::now() + Duration::from_secs(60);
    while still_running(pid, &name) {
        if Instant::now() > deadline {
            return Err(EmbeddedError::StartFailed {
                reason: format!("an earlier postgres (pid {pid}) still runs on this data directory after 60 s"),
                tail: String::new(),
                log: pgdata.join("postmaster.pid"),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// The pid and name of a live process that `postmaster.pid` names and whose arguments name `pgdata`.
fn previous_postmaster(pgdata: &Path) -> Option<(u32, String)> {
    let text = fs::read_to_string(pgdata.join("postmaster.pid")).ok()?;
    let pid: u32 = text.lines().next()?.trim().parse().ok()?;
    let name = live_name(pid)?;
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let dir = pgdata.as_os_str().as_encoded_bytes();
    cmdline.split(|b| *b == 0).any(|arg| arg == dir).then_some((pid, name))
}

/// Whether process `pid` is still `name` and not yet a zombie (a process on its way out has already
/// lost its arguments, so its name is what tells it).
fn still_running(pid: u32, name: &str) -> bool {
    live_name(pid).is_some_and(|n| n == name)
}

/// The name of process `pid`, unless it is gone or a zombie.
fn live_name(pid: u32) -> Option<String> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |key: &str| status.lines().find_map(|l| l.strip_prefix(key)).map(str::trim);
    if field("State:")?.starts_with('Z') {
        return None;
    }
    field("Name:").map(str::to_owned)
}

/// Polls the postmaster's pid file until it reports `ready` for our pid, or the process exits.
fn wait_until_ready(pgdata: &Path, pid: u32, exited: &Mutex<Option<ExitStatus>>) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(done) = wait_until_ready_once(pgdata, pid, exited) {
            return done;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err("it was not ready after 60 s".into())
}

/// One look: ready (`Some(Ok)`), exited (`Some(Err)`), or not yet (`None`).
fn wait_until_ready_once(pgdata: &Path, pid: u32, exited: &Mutex<Option<ExitStatus>>) -> Option<Result<(), String>> {
    if let Some(status) = *exited.lock().unwrap_or_else(std::sync::PoisonError::into_inner) {
        return Some(Err(format!("postgres exited ({status})")));
    }
    let text = fs::read_to_string(pgdata.join("postmaster.pid")).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let ours = lines.first().is_some_and(|l| l.trim() == pid.to_string());
    // A hot standby (a replica) is ready for reads when it says `standby`.
    (ours && lines.get(7).is_some_and(|l| matches!(l.trim(), "ready" | "standby"))).then_some(Ok(()))
}

fn tail_of(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Finds the server binaries: the explicit setting, then `pg_config --bindir`, then the newest
/// `/usr/lib/postgresql/*/bin`, then `PATH`.
pub fn find_bin_dir(explicit: Option<&Path>) -> Result<PathBuf, EmbeddedError> {
    let pg_config = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    discover_bin_dir(explicit, pg_config, Path::new("/usr/lib/postgresql"), std::env::var_os("PATH"))
}

fn has_server_binaries(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("postgres").is_file()
}

/// The search itself, separated from the environment so that every branch can be tested.
pub fn discover_bin_dir(
    explicit: Option<&Path>,
    pg_config_bindir: Option<PathBuf>,
    versions_root: &Path,
    path_var: Option<OsString>,
) -> Result<PathBuf, EmbeddedError> {
    if let Some(dir) = explicit {
        return if has_server_binaries(dir) {
            Ok(dir.to_path_buf())
        } else {
            Err(EmbeddedError::BadBinDir(dir.to_path_buf()))
        };
    }
    let mut searched = Vec::new();
    match pg_config_bindir {
        Some(dir) if has_server_binaries(&dir) => return Ok(dir),
        Some(dir) => searched.push(format!("pg_config --bindir ({})", dir.display())),
        None => searched.push("pg_config (not found)".to_owned()),
    }
    let mut versions: Vec<(Vec<u32>, PathBuf)> = fs::read_dir(versions_root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let version = name.split('.').map(str::parse).collect::<Result<Vec<u32>, _>>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.into_iter().rev().find(|(_, dir)| has_server_binaries(dir)) {
        return Ok(dir);
    }
    searched.push(format!("{}/*/bin", versions_root.display()));
    if let Some(dir) = path_var.and_then(|path| std::env::split_paths(&path).find(|dir| has_server_binaries(dir))) {
        return Ok(dir);
    }
    searched.push("PATH".to_owned());
    Err(EmbeddedError::BinariesNotFound { searched: searched.join(", ") })
}

/// Takes the data directory's lock, or says who holds it.
fn lock_data_dir(data_dir: &Path) -> Result<File, EmbeddedError> {
    let path = data_dir.join("backline.lock");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_ctx(format!("opening {}", path.display())))?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).and_then(|()| file.rewind()).map_err(io_ctx("writing the lock file"))?;
            write!(file, "{}", std::process::id()).map_err(io_ctx("writing the lock file"))?;
            Ok(file)
        }
        Err(fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let holder = if holder.is_empty() { String::new() } else { format!(" (pid {holder})") };
            Err(EmbeddedError::InUse { dir: data_dir.to_path_buf(), holder })
        }
        Err(fs::TryLockError::Error(source)) => {
            Err(EmbeddedError::Io { context: format!("locking {}", path.display()), source })
        }
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

fn resolve_run_as(requested: Option<&str>) -> Result<RunAs, EmbeddedError> {
    let candidates: Vec<&str> = match requested {
        Some(name) => vec![name],
        None => vec!["postgres", "nobody"],
    };
    for name in &candidates {
        if let Some(user) = lookup_user(name) {
            if user.uid == 0 {
                return Err(EmbeddedError::NoSuchUser(format!("{name} (it is root)")));
            }
            return Ok(user);
        }
    }
    Err(EmbeddedError::NoSuchUser(candidates.join("` or `")))
}

fn lookup_user(name: &str) -> Option<RunAs> {
    let c_name = CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: an all-zero passwd is a valid value for an out-parameter of plain C data.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call: the name is NUL-terminated, `buf` outlives the call and
    // its length is passed, `pwd` and `result` are live out-parameters.
    let rc = unsafe { libc::getpwnam_r(c_name.as_ptr(), &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() {
        return None;
    }
    Some(RunAs { name: name.to_owned(), uid: pwd.pw_uid, gid: pwd.pw_gid })
}

/// Every directory from `/` down to `dir` must be enterable by the PostgreSQL user.
fn check_traversable(dir: &Path, user: &RunAs) -> Result<(), EmbeddedError> {
    for ancestor in dir.ancestors() {
        let meta = fs::metadata(ancestor).map_err(io_ctx(format!("reading {}", ancestor.display())))?;
        let mode = meta.permissions().mode();
        let allowed = if meta.uid() == user.uid {
            mode & 0o100 != 0
        } else if meta.gid() == user.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !allowed {
            return Err(EmbeddedError::NotTraversable {
                user: user.name.clone(),
                path: ancestor.to_path_buf(),
                mode: mode & 0o7777,
            });
        }
    }
    Ok(())
}

fn as_user(cmd: &mut Command, user: Option<&RunAs>) {
    if let Some(user) = user {
        // std drops supplementary groups when it changes the uid as root.
        cmd.uid(user.uid).gid(user.gid);
        cmd.env("USER", &user.name).env("LOGNAME", &user.name).env("HOME", "/");
    }
}

/// Asks the kernel to send `signal` to the child when the thread that spawned it dies.
fn die_with_parent(cmd: &mut Command, signal: i32) {
    let parent = std::process::id();
    // SAFETY: the closure runs between fork and exec and calls only async-signal-safe functions (prctl,
    // getppid); it allocates nothing. std runs it after changing the uid, which would clear the setting.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, signal as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if u32::try_from(libc::getppid()).ok() != Some(parent) {
                return Err(io::Error::other("the parent exited during start-up"));
            }
            Ok(())
        });
    }
}

/// The directory for the socket: `<data_dir>/run` when its path is short enough for a Unix socket,
/// else a fresh private directory under the system's temporary directory.
fn socket_dir_for(data_dir: &Path) -> Result<(PathBuf, bool), EmbeddedError> {
    let preferred = data_dir.join("run");
    let socket_len = preferred.join(format!(".s.PGSQL.{PORT}.lock")).as_os_str().len();
    if socket_len <= MAX_SOCKET_PATH {
        return Ok((preferred, false));
    }
    let dir =
        std::env::temp_dir().join(format!("backline-pg-{}-{}", std::process::id(), crate::ids::new_id().simple()));
    Ok((dir, true))
}

/// Creates (or repairs) a directory that only the PostgreSQL user may use.
fn prepare_private_dir(dir: &Path, user: Option<&RunAs>) -> Result<(), EmbeddedError> {
    fs::create_dir_all(dir).map_err(io_ctx(format!("creating {}", dir.display())))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(io_ctx(format!("securing {}", dir.display())))?;
    if let Some(user) = user {
        std::os::unix::fs::chown(dir, Some(user.uid), Some(user.gid))
            .map_err(io_ctx(format!("chown {}", dir.display())))?;
    }
    Ok(())
}

/// Gives the whole cluster to the PostgreSQL user if it belongs to someone else (for example a cluster
/// made by a non-root run, now started as root).
fn chown_tree_if_needed(dir: &Path, user: &RunAs) -> Result<(), EmbeddedError> {
    let meta = fs::metadata(dir).map_err(io_ctx(format!("reading {}", dir.display())))?;
    if meta.uid() == user.uid {
        return Ok(());
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        std::os::unix::fs::lchown(&path, Some(user.uid), Some(user.gid))
            .map_err(io_ctx(format!("chown {}", path.display())))?;
        if fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
            for entry in fs::read_dir(&path).map_err(io_ctx(format!("reading {}", path.display())))? {
                stack.push(entry.map_err(io_ctx("reading a directory entry"))?.path());
            }
        }
    }
    Ok(())
}

/// Creates the cluster in a staging directory and renames it into place once complete.
fn initdb(
    bin_dir: &Path,
    data_dir: &Path,
    pgdata: &Path,
    user: Option<&RunAs>,
    ephemeral: bool,
) -> Result<(), EmbeddedError> {
    let staging = data_dir.join("pgdata.initdb");
    let attempt = |locale_args: &[&str]| -> Result<std::process::Output, EmbeddedError> {
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(io_ctx(format!("removing {}", staging.display())))?;
        }
        prepare_private_dir(&staging, user)?;
        let mut cmd = Command::new(bin_dir.join("initdb"));
        cmd.arg("-D").arg(&staging).args(["-U", SUPERUSER, "--auth=trust", "--encoding=UTF8"]).args(locale_args);
        if ephemeral {
            cmd.arg("--no-sync");
        }
        cmd.stdin(Stdio::null()).current_dir(data_dir).env("LC_MESSAGES", "C");
        as_user(&mut cmd, user);
        die_with_parent(&mut cmd, libc::SIGKILL);
        cmd.output().map_err(io_ctx(format!("running {}", bin_dir.join("initdb").display())))
    };
    tracing::info!(dir = %pgdata.display(), "creating the embedded PostgreSQL cluster");
    // C.UTF-8 gives correct case mapping for non-ASCII text; fall back where the locale is missing.
    let mut output = attempt(&["--locale=C.UTF-8"])?;
    if !output.status.success() {
        output = attempt(&["--no-locale"])?;
    }
    if !output.status.success() {
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        let _ = fs::remove_dir_all(&staging);
        return Err(EmbeddedError::Initdb { status: output.status.to_string(), output: text });
    }
    fs::rename(&staging, pgdata).map_err(io_ctx(format!("moving the new cluster to {}", pgdata.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_bin(dir: &Path) {
        fs::create_dir_all(dir).unwrap();
        for name in ["initdb", "postgres"] {
            fs::write(dir.join(name), "").unwrap();
        }
    }

    #[test]
    fn explicit_setting_wins_and_must_hold_the_binaries() {
        let tmp = tempfile::tempdir().unwrap();
        let good = tmp.path().join("good");
        fake_bin(&good);
        let found = discover_bin_dir(Some(&good), None, tmp.path(), None).unwrap();
        assert_eq!(found, good);
        let err = discover_bin_dir(Some(&tmp.path().join("nope")), Some(good), tmp.path(), None).unwrap_err();
        assert!(matches!(err, EmbeddedError::BadBinDir(_)), "{err}");
        assert!(err.to_string().contains("BACKLINE_PG_BINDIR"));
    }

    #[test]
    fn newest_installed_version_is_chosen_numerically() {
        let tmp = tempfile::tempdir().unwrap();
        for version in ["9.6", "15", "16", "100"] {
            fake_bin(&tmp.path().join(version).join("bin"));
        }
        fs::create_dir_all(tmp.path().join("17/bin")).unwrap(); // no binaries in it
        let found = discover_bin_dir(None, None, tmp.path(), None).unwrap();
        assert_eq!(found, tmp.path().join("100/bin"));
    }

    #[test]
    fn pg_config_comes_before_the_versions_and_path_after() {
        let tmp = tempfile::tempdir().unwrap();
        let from_pg_config = tmp.path().join("pgc");
        let on_path = tmp.path().join("path");
        fake_bin(&from_pg_config);
        fake_bin(&on_path);
        let root = tmp.path().join("versions");
        fake_bin(&root.join("15/bin"));
        assert_eq!(
            discover_bin_dir(None, Some(from_pg_config), &root, None).unwrap(),
            root.parent().unwrap().join("pgc")
        );
        let empty_root = tmp.path().join("none");
        let path = std::env::join_paths([tmp.path().join("x"), on_path.clone()]).unwrap();
        assert_eq!(discover_bin_dir(None, None, &empty_root, Some(path)).unwrap(), on_path);
    }

    #[test]
    fn nothing_found_says_how_to_fix_it() {
        let tmp = tempfile::tempdir().unwrap();
        let err = discover_bin_dir(None, None, &tmp.path().join("none"), Some(OsString::new())).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, EmbeddedError::BinariesNotFound { .. }));
        for hint in ["apt-get install postgresql", "BACKLINE_PG_BINDIR", "DATABASE_URL", "PATH"] {
            assert!(message.contains(hint), "missing {hint:?} in: {message}");
        }
    }

    #[test]
    fn a_second_lock_on_the_same_directory_is_refused_with_the_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let _first = lock_data_dir(tmp.path()).unwrap();
        let err = lock_data_dir(tmp.path()).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("in use by another backline process"), "{message}");
        assert!(message.contains(&format!("pid {}", std::process::id())), "{message}");
    }

    /// A start waits for the postmaster that an earlier, killed process left shutting down, and does not
    /// wait for a process that merely reuses a pid written in a stale pid file.
    #[test]
    fn a_start_waits_for_the_previous_postmaster_of_its_directory_only() {
        let tmp = tempfile::tempdir().unwrap();
        let pgdata = tmp.path().join("pgdata");
        fs::create_dir_all(&pgdata).unwrap();
        // Stands in for a postmaster that is still shutting down: a process whose arguments name the directory.
        let mut previous =
            Command::new("sh").args(["-c", "sleep 2; true", "postgres", "-D"]).arg(&pgdata).spawn().unwrap();
        fs::write(pgdata.join("postmaster.pid"), format!("{}\n{}\n", previous.id(), pgdata.display())).unwrap();
        // Until the child has exec'd, its arguments are still this test's.
        let deadline = Instant::now() + Duration::from_secs(10);
        while previous_postmaster(&pgdata).is_none() {
            assert!(Instant::now() < deadline, "the stand-in postmaster is never recognised");
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(previous_postmaster(&pgdata), Some((previous.id(), "sh".to_owned())));
        wait_for_previous_postmaster(&pgdata).unwrap();
        assert!(previous.try_wait().unwrap().is_some(), "the wait ended only once the previous postmaster had");

        // A stale pid file naming an unrelated live process (this one) is not waited for.
        fs::write(pgdata.join("postmaster.pid"), format!("{}\n", std::process::id())).unwrap();
        assert_eq!(previous_postmaster(&pgdata), None);
        fs::write(pgdata.join("postmaster.pid"), "not a pid\n").unwrap();
        assert_eq!(previous_postmaster(&pgdata), None);
    }

    #[test]
    fn long_data_dirs_get_a_short_socket_dir() {
        let short = socket_dir_for(Path::new("/srv/backline")).unwrap();
        assert_eq!(short, (PathBuf::from("/srv/backline/run"), false));
        let long_dir = PathBuf::from(format!("/srv/{}", "x".repeat(120)));
        let (dir, temporary) = socket_dir_for(&long_dir).unwrap();
        assert!(temporary);
        assert!(dir.join(".s.PGSQL.5432.lock").as_os_str().len() <= MAX_SOCKET_PATH + 20);
    }
}
