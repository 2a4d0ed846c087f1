//! Validation of DDEX messages against the official schemas (`fixtures/ddex`), with libxml2's
//! `xmllint`: an implementation independent of the code that wrote the message.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

/// The folder of the ERN 4.3 schema files.
pub fn ern43_schema() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/ddex/ern43/release-notification.xsd")
}

/// Validates an ERN 4.3 message against the official XSD; the error is xmllint's report.
///
/// Panics when `xmllint` is not installed (Debian's `libxml2-utils`; `.ci/run` installs it): a test that
/// cannot validate must not pass.
pub fn validate_ern43(xml: &str) -> Result<(), String> {
    let mut file = tempfile::Builder::new().suffix(".xml").tempfile().expect("a temporary file");
    file.write_all(xml.as_bytes()).expect("write the message");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(ern43_schema())
        .arg(file.path())
        .output()
        .expect("xmllint runs (install Debian's libxml2-utils)");
    if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).into_owned()) }
}
