//! Reading a store's acknowledgement (DDEX's FtpAcknowledgementMessage, as stores write it into their
//! outbox): which message it answers and whether the store took it. Read leniently, as stores write these
//! by hand-made templates: element names are matched without their namespace prefix; the answered
//! message is named by its id or by the file name of the message in its batch.

/// What an acknowledgement says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    /// Message ids it names (`MessageId` of the acknowledged message, or any element whose name ends in
    /// `MessageId`), and the file names it names (`FileName`).
    pub names: Vec<String>,
    /// The store took the message.
    pub ok: bool,
    /// The store's status value (`FileOK`, `FileCorrupt`, ...).
    pub status: String,
    /// The store's reason, when it refused.
    pub reason: Option<String>,
}

/// The text of every element named `name` (any namespace prefix), in order.
fn texts(xml: &str, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let Some(end) = rest.find('>') else { break };
        let tag = &rest[..end];
        if tag.starts_with('/') || tag.starts_with('?') || tag.starts_with('!') || tag.ends_with('/') {
            continue;
        }
        let element = tag.split_whitespace().next().unwrap_or_default();
        let local = element.rsplit(':').next().unwrap_or(element);
        if local == name || (name == "*MessageId" && local.ends_with("MessageId")) {
            let body = &rest[end + 1..];
            if let Some(close) = body.find("</") {
                let text = body[..close].trim();
                if !text.is_empty() && !text.contains('<') {
                    out.push(unescape(text));
                }
            }
        }
        rest = &rest[end + 1..];
    }
    out
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// Statuses that mean the store took the message.
const SUCCESS: &[&str] = &["FileOK", "SuccessfullyIngestedByReleaseRecipient", "SuccessfullyIngested", "Success", "OK"];

/// Reads an acknowledgement; `None` when it names no status at all (not an acknowledgement).
pub fn read(xml: &str) -> Option<Acknowledgement> {
    let status =
        texts(xml, "FileStatus").into_iter().chain(texts(xml, "MessageStatus")).chain(texts(xml, "Status")).next()?;
    let ok = SUCCESS.iter().any(|s| s.eq_ignore_ascii_case(&status));
    let reason = ["ErrorText", "ErrorMessage", "ErrorDescription", "Description"]
        .iter()
        .flat_map(|name| texts(xml, name))
        .next();
    let mut names = texts(xml, "*MessageId");
    names.extend(texts(xml, "FileName"));
    Some(Acknowledgement { names, ok, reason: if ok { None } else { reason.or(Some(status.clone())) }, status })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_success_names_the_message_it_answers() {
        let xml = r#"<?xml version="1.0"?>
            <ack:FtpAcknowledgementMessage xmlns:ack="http://ddex.net/xml/ftpack">
              <MessageHeader><MessageId>STORE-1</MessageId></MessageHeader>
              <AcknowledgedFile><FileName>20261202100000000/036000291452/036000291452.xml</FileName></AcknowledgedFile>
              <AcknowledgedMessageId>0196f0a1b2c3</AcknowledgedMessageId>
              <FileStatus>FileOK</FileStatus>
            </ack:FtpAcknowledgementMessage>"#;
        let ack = read(xml).unwrap();
        assert!(ack.ok);
        assert_eq!(ack.reason, None);
        assert!(ack.names.contains(&"0196f0a1b2c3".to_owned()));
        assert!(ack.names.iter().any(|n| n.ends_with("036000291452.xml")));
    }

    #[test]
    fn a_refusal_carries_the_store_s_reason() {
        let xml = "<FtpAcknowledgementMessage><MessageId>x</MessageId><FileStatus>FileCorrupt</FileStatus>\
                   <ErrorText>Audio for A1 is not 44.1 kHz &amp; stereo</ErrorText></FtpAcknowledgementMessage>";
        let ack = read(xml).unwrap();
        assert!(!ack.ok);
        assert_eq!(ack.status, "FileCorrupt");
        assert_eq!(ack.reason.as_deref(), Some("Audio for A1 is not 44.1 kHz & stereo"));
        assert_eq!(read("<Hello>there</Hello>"), None);
    }
}
