//! Talking to a store's inbox: an SFTP server (over SSH, the server's host key pinned), an S3 bucket (at
//! AWS or any S3-compatible endpoint) or a folder on this server's disk (under the drops directory). Files are written as streams; folders are made as needed. Used by
//! deliveries (writing batches) and by the acknowledgement poll (reading and removing the store's
//! answers). Never called inside a database transaction.

use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::{ObjectStore, PutPayload, WriteMultipart, path::Path as ObjectPath};
use tokio::io::AsyncWriteExt;

/// How to reach a store, with its credentials opened.
#[derive(Clone)]
pub enum Endpoint {
    Sftp {
        host: String,
        port: u16,
        username: String,
        /// An OpenSSH private key, or a password.
        private_key: Option<String>,
        password: Option<String>,
        /// The server's public key as OpenSSH writes it (`ssh-ed25519 AAAA...`): anything else is refused.
        host_key: String,
    },
    S3 {
        bucket: String,
        region: String,
        endpoint: Option<String>,
        access_key_id: String,
        secret_access_key: String,
    },
    /// A folder on this server's own disk; made when first written to.
    Directory {
        root: std::path::PathBuf,
    },
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Credentials never reach a log.
        match self {
            Self::Sftp { host, port, username, .. } => write!(f, "sftp://{username}@{host}:{port}"),
            Self::S3 { bucket, endpoint, .. } => write!(f, "s3://{bucket} ({})", endpoint.as_deref().unwrap_or("AWS")),
            Self::Directory { root } => write!(f, "file://{}", root.display()),
        }
    }
}

/// An open connection to a store's inbox.
pub enum Connection {
    Sftp {
        sftp: russh_sftp::client::SftpSession,
        _session: russh::client::Handle<PinnedHostKey>,
    },
    /// An S3 bucket or a local folder, both through `object_store`.
    Objects(Arc<dyn ObjectStore>),
}

/// Accepts exactly the server key the store was registered with.
pub struct PinnedHostKey {
    expected: russh::keys::PublicKey,
}

impl russh::client::Handler for PinnedHostKey {
    type Error = russh::Error;

    async fn check_server_key(&mut self, offered: &russh::keys::PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        // A certificate is not a registered key: only the pinned key itself is accepted.
        Ok(match offered {
            russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } => key.key_data() == self.expected.key_data(),
            russh::keys::PublicKeyOrCertificate::Certificate(_) => false,
        })
    }
}

/// Joins folder parts with `/`, without empty parts; a first part starting with `/` keeps the path
/// absolute (an SFTP folder outside the login's home).
pub fn join(parts: &[&str]) -> String {
    let body = parts.iter().flat_map(|p| p.split('/')).filter(|p| !p.is_empty()).collect::<Vec<_>>().join("/");
    if parts.first().is_some_and(|p| p.starts_with('/')) { format!("/{body}") } else { body }
}

impl Endpoint {
    pub async fn connect(&self) -> anyhow::Result<Connection> {
        match self {
            Self::Sftp { host, port, username, private_key, password, host_key } => {
                let expected = parse_host_key(host_key)?;
                let config = Arc::new(russh::client::Config {
                    inactivity_timeout: Some(std::time::Duration::from_secs(60)),
                    ..Default::default()
                });
                let mut session = tokio::time::timeout(
                    std::time::Duration::from_secs(20),
                    russh::client::connect(config, (host.as_str(), *port), PinnedHostKey { expected }),
                )
                .await
                .map_err(|_| anyhow!("no answer from {host}:{port} within 20 s"))?
                .with_context(|| {
                    format!("connecting to {host}:{port} (a host key other than the registered one is refused)")
                })?;
                let authenticated = match (private_key, password) {
                    (Some(pem), _) => {
                        let key = russh::keys::decode_secret_key(pem, None).context("reading the private key")?;
                        let hash = session.best_supported_rsa_hash().await?.flatten();
                        let key = russh::keys::PrivateKeyWithHashAlg::new(Arc::new(key), hash);
                        session.authenticate_publickey(username, key).await?.success()
                    }
                    (None, Some(password)) => session.authenticate_password(username, password).await?.success(),
                    (None, None) => bail!("the store has no credentials"),
                };
                if !authenticated {
                    bail!("{host} refused the credentials of {username}");
                }
                let channel = session.channel_open_session().await?;
                channel.request_subsystem(true, "sftp").await?;
                let sftp = russh_sftp::client::SftpSession::new(channel.into_stream()).await?;
                Ok(Connection::Sftp { sftp, _session: session })
            }
            Self::S3 { bucket, region, endpoint, access_key_id, secret_access_key } => {
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(secret_access_key);
                if let Some(endpoint) = endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"))
                        .with_virtual_hosted_style_request(false);
                }
                Ok(Connection::Objects(Arc::new(builder.build()?)))
            }
            Self::Directory { root } => {
                std::fs::create_dir_all(root).with_context(|| format!("making the folder {}", root.display()))?;
                let store = object_store::local::LocalFileSystem::new_with_prefix(root)?;
                Ok(Connection::Objects(Arc::new(store)))
            }
        }
    }
}

/// Reads an OpenSSH public key line (`type base64 [comment]`).
pub fn parse_host_key(line: &str) -> anyhow::Result<russh::keys::PublicKey> {
    let base64 = line.split_whitespace().nth(1).ok_or_else(|| anyhow!("a host key is `type base64`"))?;
    russh::keys::parse_public_key_base64(base64).map_err(|e| anyhow!("the host key cannot be read: {e}"))
}

impl Connection {
    /// Writes a file from a stream of chunks (folders made as needed).
    pub async fn put_stream(
        &mut self,
        path: &str,
        mut stream: BoxStream<'static, object_store::Result<Bytes>>,
    ) -> anyhow::Result<()> {
        match self {
            Self::Sftp { sftp, .. } => {
                make_dirs(sftp, path).await?;
                let mut file = sftp.create(path).await.with_context(|| format!("creating {path}"))?;
                while let Some(chunk) = stream.next().await {
                    file.write_all(&chunk?).await.with_context(|| format!("writing {path}"))?;
                }
                file.shutdown().await.with_context(|| format!("closing {path}"))?;
                Ok(())
            }
            Self::Objects(store) => {
                let upload = store.put_multipart(&ObjectPath::from(path.trim_start_matches('/'))).await?;
                let mut writer = WriteMultipart::new_with_chunk_size(upload, 8 * 1024 * 1024);
                while let Some(chunk) = stream.next().await {
                    writer.wait_for_capacity(2).await?;
                    writer.write(&chunk?);
                }
                writer.finish().await?;
                Ok(())
            }
        }
    }

    pub async fn put_bytes(&mut self, path: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        match self {
            Self::Sftp { .. } => {
                let stream = futures_util::stream::once(async move { Ok(Bytes::from(bytes)) }).boxed();
                self.put_stream(path, stream).await
            }
            Self::Objects(store) => {
                store.put(&ObjectPath::from(path.trim_start_matches('/')), PutPayload::from(bytes)).await?;
                Ok(())
            }
        }
    }

    /// The names of the files directly in `dir` (none when it does not exist).
    pub async fn list(&mut self, dir: &str) -> anyhow::Result<Vec<String>> {
        match self {
            Self::Sftp { sftp, .. } => {
                if !sftp.try_exists(dir).await? {
                    return Ok(Vec::new());
                }
                let mut names: Vec<String> = sftp
                    .read_dir(dir)
                    .await?
                    .filter(|e| !e.file_type().is_dir())
                    .map(|e| e.file_name())
                    .filter(|n| n != "." && n != "..")
                    .collect();
                names.sort();
                Ok(names)
            }
            Self::Objects(store) => {
                let prefix = ObjectPath::from(dir.trim_start_matches('/'));
                let listed = store.list_with_delimiter(Some(&prefix)).await?;
                let mut names: Vec<String> =
                    listed.objects.into_iter().filter_map(|o| o.location.filename().map(str::to_owned)).collect();
                names.sort();
                Ok(names)
            }
        }
    }

    /// A small file's bytes (an acknowledgement), at most 1 MB.
    pub async fn read(&mut self, path: &str) -> anyhow::Result<Vec<u8>> {
        let bytes = match self {
            Self::Sftp { sftp, .. } => sftp.read(path).await?,
            Self::Objects(store) => {
                store.get(&ObjectPath::from(path.trim_start_matches('/'))).await?.bytes().await?.to_vec()
            }
        };
        if bytes.len() > 1_000_000 {
            bail!("{path} is larger than 1 MB");
        }
        Ok(bytes)
    }

    /// A file of any size as a stream of its bytes (never held whole in memory), with its size.
    pub async fn read_stream(
        &mut self,
        path: &str,
    ) -> anyhow::Result<(u64, BoxStream<'static, std::io::Result<Bytes>>)> {
        match self {
            Self::Sftp { sftp, .. } => {
                let size = sftp.metadata(path).await.with_context(|| format!("reading {path}"))?.size.unwrap_or(0);
                let file = sftp.open(path).await.with_context(|| format!("opening {path}"))?;
                let stream = futures_util::stream::unfold(Some(file), |file| async move {
                    let mut file = file?;
                    let mut buf = vec![0u8; 256 * 1024];
                    match tokio::io::AsyncReadExt::read(&mut file, &mut buf).await {
                        Ok(0) => None,
                        Ok(n) => {
                            buf.truncate(n);
                            Some((Ok(Bytes::from(buf)), Some(file)))
                        }
                        Err(e) => Some((Err(e), None)),
                    }
                });
                Ok((size, stream.boxed()))
            }
            Self::Objects(store) => {
                let got = store.get(&ObjectPath::from(path.trim_start_matches('/'))).await?;
                let size = got.meta.size;
                Ok((size, got.into_stream().map(|r| r.map_err(std::io::Error::other)).boxed()))
            }
        }
    }

    pub async fn remove(&mut self, path: &str) -> anyhow::Result<()> {
        match self {
            Self::Sftp { sftp, .. } => sftp.remove_file(path).await?,
            Self::Objects(store) => store.delete(&ObjectPath::from(path.trim_start_matches('/'))).await?,
        }
        Ok(())
    }
}

/// Makes the folders above `path` on an SFTP server, one level at a time.
async fn make_dirs(sftp: &russh_sftp::client::SftpSession, path: &str) -> anyhow::Result<()> {
    let absolute = path.starts_with('/');
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let mut current = String::new();
    for part in &parts[..parts.len().saturating_sub(1)] {
        if absolute || !current.is_empty() {
            current.push('/');
        }
        current.push_str(part);
        if !sftp.try_exists(current.as_str()).await? {
            sftp.create_dir(current.as_str()).await.with_context(|| format!("making the folder {current}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_join_without_empty_parts() {
        assert_eq!(super::join(&["/srv/inbox/", "", "20261202", "x.xml"]), "/srv/inbox/20261202/x.xml");
        assert_eq!(super::join(&["inbox", "a/b"]), "inbox/a/b");
        assert_eq!(super::join(&["", "a"]), "a");
    }
}
