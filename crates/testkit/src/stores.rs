//! Real servers standing in for a store's inbox in tests, started on loopback ports with throw-away
//! keys and stopped when dropped: an SFTP server (Debian's OpenSSH `sshd`) and an S3 server (moto's server
//! mode, from PyPI, read and written in tests with boto3, AWS's own client). `.ci/run` installs both.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}

fn wait_for(port: u16, what: &str, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited ({status}): {}", std::fs::read_to_string(log).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not listen on {port}: {}", std::fs::read_to_string(log).unwrap_or_default());
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "backline-test", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen runs (install Debian's openssh-client)");
    assert!(status.success(), "ssh-keygen failed");
}

/// An OpenSSH server offering only SFTP, to the current user, with one client key.
pub struct SftpServer {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
    pub user: String,
    /// The client's private key (OpenSSH format).
    pub client_key: String,
    /// The server's public key line, to pin.
    pub host_key: String,
}

impl SftpServer {
    pub fn start() -> Self {
        let dir = tempfile::Builder::new().prefix("sftp-").tempdir().expect("a temporary directory");
        let d = dir.path();
        keygen(&d.join("host_key"));
        keygen(&d.join("client_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).expect("authorized_keys");
        std::fs::create_dir_all(d.join("inbox")).expect("the inbox");
        // sshd wants its privilege separation directory.
        let _ = std::fs::create_dir_all("/run/sshd");
        let user = String::from_utf8(Command::new("id").arg("-un").output().expect("id").stdout)
            .expect("a user name")
            .trim()
            .to_owned();
        let port = free_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n\
             AllowUsers {user}\nSubsystem sftp internal-sftp\nForceCommand internal-sftp\nLogLevel ERROR\n",
            d = d.display()
        );
        std::fs::write(d.join("sshd_config"), config).expect("the config");
        let log = d.join("sshd.log");
        let sshd = ["/usr/sbin/sshd", "/usr/bin/sshd"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("sshd is installed (Debian's openssh-server)");
        let mut child = Command::new(sshd)
            .arg("-D")
            .arg("-f")
            .arg(d.join("sshd_config"))
            .arg("-E")
            .arg(&log)
            .stdin(Stdio::null())
            .spawn()
            .expect("sshd starts");
        wait_for(port, "sshd", &mut child, &log);
        let client_key = std::fs::read_to_string(d.join("client_key")).expect("the client key");
        let host_key = std::fs::read_to_string(d.join("host_key.pub")).expect("the host key").trim().to_owned();
        Self { child, dir, port, user, client_key, host_key }
    }

    /// The absolute folder the tests deliver into.
    pub fn inbox(&self) -> PathBuf {
        self.dir.path().join("inbox")
    }
}

impl Drop for SftpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// moto's S3-compatible server, with one bucket.
pub struct S3Server {
    child: Child,
    _dir: tempfile::TempDir,
    pub port: u16,
    pub bucket: String,
}

impl S3Server {
    pub fn start(bucket: &str) -> Self {
        let dir = tempfile::Builder::new().prefix("s3-").tempdir().expect("a temporary directory");
        let log = dir.path().join("moto.log");
        let port = free_port();
        // As a module, so that it runs wherever pip put moto (a user's site-packages has no script on PATH).
        let mut child = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).expect("a log"))
            .stderr(std::fs::File::create(dir.path().join("moto.err")).expect("a log"))
            .spawn()
            .expect("python3 runs moto's server (pip install 'moto[server]')");
        wait_for(port, "moto_server", &mut child, &log);
        let server = Self { child, _dir: dir, port, bucket: bucket.to_owned() };
        let out = server.boto3("s3.create_bucket(Bucket=bucket)", &[], None);
        assert!(out.status.success(), "bucket creation: {}", String::from_utf8_lossy(&out.stderr));
        server
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs a boto3 snippet (AWS's own S3 client, independent of the code under test) with `s3` bound
    /// to a client of this server and `bucket` to the bucket's name.
    fn boto3(&self, script: &str, args: &[&str], input: Option<&[u8]>) -> std::process::Output {
        let program = format!(
            "import sys, boto3\ns3 = boto3.client('s3', endpoint_url='{}', region_name='us-east-1', \
             aws_access_key_id='testing', aws_secret_access_key='testing')\nbucket = '{}'\n{script}",
            self.endpoint(),
            self.bucket
        );
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 with boto3 runs (pip install 'moto[server]')");
        if let Some(bytes) = input {
            std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), bytes).expect("write");
        }
        drop(child.stdin.take());
        child.wait_with_output().expect("boto3 finishes")
    }

    /// An object's bytes, if it exists.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let out = self.boto3(
            "try:\n    sys.stdout.buffer.write(s3.get_object(Bucket=bucket, Key=sys.argv[1])['Body'].read())\n\
             except s3.exceptions.NoSuchKey:\n    sys.exit(3)",
            &[key],
            None,
        );
        out.status.success().then_some(out.stdout)
    }

    /// Writes an object (as a store writes its acknowledgement).
    pub fn put(&self, key: &str, bytes: &[u8]) {
        let out = self.boto3(
            "s3.put_object(Bucket=bucket, Key=sys.argv[1], Body=sys.stdin.buffer.read())",
            &[key],
            Some(bytes),
        );
        assert!(out.status.success(), "put {key}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// The keys under `prefix`.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        let out = self.boto3(
            "for o in s3.list_objects_v2(Bucket=bucket, Prefix=sys.argv[1]).get('Contents', []):\n    print(o['Key'])",
            &[prefix],
            None,
        );
        assert!(out.status.success(), "list: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
