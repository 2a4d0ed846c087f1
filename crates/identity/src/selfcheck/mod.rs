//! The security self-check: the running installation checks itself (the secret key, TLS, the database
//! role's privileges, webhook protection, admins' email, demo accounts), keeps each run's results and
//! tells the admins when a check fails. Run daily by a schedule, on demand by an admin
//! (`POST /v1/admin/security-checks`) and from the command line (`backline security-check`).

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
