//! Documents in conversations: which file types an organisation accepts and how large, and
//! the type of a file as its content shows it (the `infer` crate's magic-number matchers),
//! never as its name or the sender claims.

use serde::{Deserialize, Serialize};

/// The types an organisation may accept: the configuration's name, the MIME type served, the
/// label people read, and the file name endings that fit it.
const KNOWN: &[(&str, &str, &str, &[&str])] = &[
    ("pdf", "application/pdf", "PDF", &["pdf"]),
    ("png", "image/png", "PNG", &["png"]),
    ("jpeg", "image/jpeg", "JPEG", &["jpg", "jpeg"]),
    ("heic", "image/heif", "HEIC", &["heic", "heif"]),
    ("webp", "image/webp", "WebP", &["webp"]),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Word",
        &["docx"],
    ),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel",
        &["xlsx"],
    ),
    ("doc", "application/msword", "Word 97–2003", &["doc"]),
    ("xls", "application/vnd.ms-excel", "Excel 97–2003", &["xls"]),
    (
        "odt",
        "application/vnd.oasis.opendocument.text",
        "OpenDocument text",
        &["odt"],
    ),
    (
        "ods",
        "application/vnd.oasis.opendocument.spreadsheet",
        "OpenDocument spreadsheet",
        &["ods"],
    ),
];

/// The configuration's name of the type `infer` found.
fn known_name(found: &infer::Type) -> Option<&'static str> {
    let name = match found.extension() {
        "jpg" => "jpeg",
        "heif" => "heic",
        other => other,
    };
    KNOWN.iter().map(|k| k.0).find(|k| *k == name)
}

fn default_max_bytes() -> u64 {
    10 * 1024 * 1024
}

fn default_types() -> Vec<String> {
    ["pdf", "png", "jpeg", "heic", "docx", "xlsx", "odt", "ods"]
        .map(String::from)
        .to_vec()
}

/// Largest `max_bytes` a configuration may set: a document is held in memory while it is
/// checked and stored.
pub const MAX_BYTES_LIMIT: u64 = 50 * 1024 * 1024;

/// What documents the organisation accepts, in the services that take them (`[attachments]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentPolicy {
    /// Largest document, in bytes (default 10 MiB).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Accepted types: `pdf`, `png`, `jpeg`, `heic`, `webp`, `docx`, `xlsx`, `doc`, `xls`,
    /// `odt`, `ods`.
    #[serde(default = "default_types")]
    pub types: Vec<String>,
}

impl Default for DocumentPolicy {
    fn default() -> Self {
        DocumentPolicy {
            max_bytes: default_max_bytes(),
            types: default_types(),
        }
    }
}

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {} and documents of up to {} are accepted", human(*size), human(*max))]
    TooLarge { size: u64, max: u64 },
    #[error("this type of file is not accepted: accepted are {accepted} (checked from the file's content, not its name)")]
    Unsupported { accepted: String },
}

impl Refusal {
    /// Its outcome in `luukku_documents_total`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Refusal::Empty => "empty",
            Refusal::TooLarge { .. } => "too_large",
            Refusal::Unsupported { .. } => "unsupported_type",
        }
    }
}

/// A document's type as found in its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentType {
    /// MIME type.
    pub mime: &'static str,
    /// File name endings that fit it; the first is added to a name without one of them.
    pub endings: &'static [&'static str],
}

impl DocumentPolicy {
    /// Refuses a configuration naming an unknown type, no type, or a size out of bounds.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(t) = self
            .types
            .iter()
            .find(|t| !KNOWN.iter().any(|k| k.0 == t.as_str()))
        {
            return Err(format!(
                "attachments.types: unknown type {t:?} (known: {})",
                KNOWN.iter().map(|k| k.0).collect::<Vec<_>>().join(", ")
            ));
        }
        if self.types.is_empty() {
            return Err("attachments.types: name at least one type".into());
        }
        if !(1..=MAX_BYTES_LIMIT).contains(&self.max_bytes) {
            return Err(format!(
                "attachments.max_bytes must be 1 to {MAX_BYTES_LIMIT} (50 MiB)"
            ));
        }
        Ok(())
    }

    fn accepted(
        &self,
    ) -> impl Iterator<
        Item = &'static (
            &'static str,
            &'static str,
            &'static str,
            &'static [&'static str],
        ),
    > + '_ {
        KNOWN.iter().filter(|k| self.types.iter().any(|t| t == k.0))
    }

    /// The MIME types accepted, for clients (a file picker's `accept`).
    pub fn mime_types(&self) -> Vec<&'static str> {
        self.accepted().map(|k| k.1).collect()
    }

    /// The accepted types as people read them: "PDF, PNG, JPEG".
    pub fn labels(&self) -> String {
        self.accepted().map(|k| k.2).collect::<Vec<_>>().join(", ")
    }

    /// Checks `size` alone (before the body is read, from its declared length).
    pub fn check_size(&self, size: u64) -> Result<(), Refusal> {
        if size > self.max_bytes {
            return Err(Refusal::TooLarge {
                size,
                max: self.max_bytes,
            });
        }
        Ok(())
    }

    /// The type of `bytes` when the organisation accepts it and it is within the size limit.
    pub fn check(&self, bytes: &[u8]) -> Result<DocumentType, Refusal> {
        if bytes.is_empty() {
            return Err(Refusal::Empty);
        }
        self.check_size(bytes.len() as u64)?;
        let unsupported = || Refusal::Unsupported {
            accepted: self.labels(),
        };
        let found = infer::get(bytes).ok_or_else(unsupported)?;
        let name = known_name(&found).ok_or_else(unsupported)?;
        self.accepted()
            .find(|k| k.0 == name)
            .map(|k| DocumentType {
                mime: k.1,
                endings: k.3,
            })
            .ok_or_else(unsupported)
    }
}

/// Longest file name kept, in characters.
const MAX_NAME_CHARS: usize = 120;

/// The name a document is stored and offered under: the last part of `given` (no directory),
/// without control characters or quotes, at most [`MAX_NAME_CHARS`] characters, ending in one
/// of the type's endings (`scan.html` of a PDF becomes `scan.html.pdf`, so a saved file opens
/// as what it is).
pub fn file_name(given: &str, kind: DocumentType) -> String {
    let last = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut name: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | '*' | '?' | '|' | ':'))
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .chars()
        .take(MAX_NAME_CHARS)
        .collect();
    if name.is_empty() {
        name = "document".to_owned();
    }
    let lower = name.to_lowercase();
    let fits = kind
        .endings
        .iter()
        .any(|e| lower.ends_with(&format!(".{e}")));
    if !fits {
        name.push('.');
        name.push_str(kind.endings[0]);
    }
    name
}

/// A size as people read it, in the binary units file managers show: "240 kB", "12.5 MB",
/// "10 MB" for 10 MiB.
pub fn human(bytes: u64) -> String {
    const KIB: u64 = 1024;
    match bytes {
        b if b < KIB => format!("{b} bytes"),
        b if b < KIB * KIB => format!("{} kB", (b + KIB / 2) / KIB),
        b => {
            let mb = format!("{:.1}", b as f64 / (KIB * KIB) as f64);
            format!("{} MB", mb.strip_suffix(".0").unwrap_or(&mb))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest PDF a reader opens.
    pub(crate) const PDF: &[u8] =
        b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
    const PNG: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R',
    ];

    #[test]
    fn the_type_comes_from_the_content_not_the_name() {
        let policy = DocumentPolicy::default();
        assert_eq!(policy.check(PDF).map(|t| t.mime), Ok("application/pdf"));
        assert_eq!(policy.check(PNG).map(|t| t.mime), Ok("image/png"));
        let html = b"<!DOCTYPE html><script>alert(1)</script>";
        assert!(matches!(
            policy.check(html),
            Err(Refusal::Unsupported { ref accepted }) if accepted.starts_with("PDF, PNG, JPEG")
        ));
        // An executable is recognised, and refused: not a type the organisation accepts.
        let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";
        assert!(matches!(
            policy.check(exe),
            Err(Refusal::Unsupported { .. })
        ));
        assert_eq!(policy.check(b""), Err(Refusal::Empty));
    }

    #[test]
    fn limits_are_the_organisation_s() {
        let only_pdf = DocumentPolicy {
            max_bytes: 50,
            types: vec!["pdf".into()],
        };
        assert!(matches!(
            only_pdf.check(PNG),
            Err(Refusal::Unsupported { ref accepted }) if accepted == "PDF"
        ));
        let refusal = only_pdf.check(PDF).expect_err("over 50 bytes");
        assert_eq!(
            refusal.to_string(),
            format!(
                "the file is {} bytes and documents of up to 50 bytes are accepted",
                PDF.len()
            )
        );
        assert!(DocumentPolicy {
            max_bytes: 10,
            types: vec!["exe".into()]
        }
        .validate()
        .is_err_and(|e| e.contains("unknown type \"exe\"")));
        assert!(DocumentPolicy {
            max_bytes: MAX_BYTES_LIMIT + 1,
            types: vec!["pdf".into()]
        }
        .validate()
        .is_err());
        assert!(DocumentPolicy::default().validate().is_ok());
    }

    #[test]
    fn names_are_cleaned_and_end_as_what_they_are() {
        let pdf = DocumentPolicy::default().check(PDF).expect("pdf");
        assert_eq!(file_name("lab results.PDF", pdf), "lab results.PDF");
        assert_eq!(file_name("C:\\Users\\x\\scan.html", pdf), "scan.html.pdf");
        assert_eq!(file_name("../../etc/passwd", pdf), "passwd.pdf");
        assert_eq!(file_name("a\"b\r\n.pdf", pdf), "ab.pdf");
        assert_eq!(file_name("", pdf), "document.pdf");
        assert_eq!(file_name(".hidden", pdf), "hidden.pdf");
        let long = "x".repeat(500);
        assert_eq!(file_name(&long, pdf).chars().count(), MAX_NAME_CHARS + 4);
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human(999), "999 bytes");
        assert_eq!(human(240 * 1024), "240 kB");
        assert_eq!(human(10 * 1024 * 1024), "10 MB");
        assert_eq!(human(13_000_000), "12.4 MB");
    }
}
