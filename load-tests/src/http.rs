//! A tiny HTTP/1.1 client for the server's JSON endpoints (dev tokens, professionals): one
//! request per connection with `Connection: close`, enough for set-up calls.

use anyhow::{bail, Context, Result};
use serde::{de::DeserializeOwned, Serialize};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::ws::ServerUrl;

/// Set-up calls are small; a server that takes longer is broken for the benchmark anyway.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// `GET path` and parse the JSON reply.
pub async fn get_json<T: DeserializeOwned>(server: &ServerUrl, path: &str) -> Result<T> {
    let body = request(server, "GET", path, None).await?;
    serde_json::from_slice(&body)
        .with_context(|| format!("GET {path}: reply is not the expected JSON"))
}

/// `POST path` with a JSON body and parse the JSON reply.
pub async fn post_json<B: Serialize, T: DeserializeOwned>(
    server: &ServerUrl,
    path: &str,
    body: &B,
) -> Result<T> {
    let body = serde_json::to_vec(body)?;
    let reply = request(server, "POST", path, Some(&body)).await?;
    serde_json::from_slice(&reply)
        .with_context(|| format!("POST {path}: reply is not the expected JSON"))
}

async fn request(
    server: &ServerUrl,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let exchange = async {
        let mut stream = TcpStream::connect(server.addr).await?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nConnection: close\r\n",
            server.authority
        );
        if let Some(body) = body {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        let mut request = head.into_bytes();
        request.extend_from_slice(body.unwrap_or_default());
        stream.write_all(&request).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        anyhow::Ok(raw)
    };
    let raw = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .with_context(|| format!("{method} {path}: timed out"))?
        .with_context(|| format!("{method} {path}"))?;
    let (status, body) = parse_response(&raw).with_context(|| format!("{method} {path}"))?;
    if !(200..300).contains(&status) {
        bail!(
            "{method} {path}: HTTP {status}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(200)
                .collect::<String>()
        );
    }
    Ok(body)
}

/// Splits a complete HTTP/1.1 response into status and (de-chunked) body.
pub fn parse_response(raw: &[u8]) -> Result<(u16, Vec<u8>)> {
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        bail!("incomplete response head");
    };
    let head = std::str::from_utf8(&raw[..split]).context("response head is not UTF-8")?;
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        }
    }
    let body = if chunked {
        dechunk(rest)?
    } else {
        let end = length.unwrap_or(rest.len()).min(rest.len());
        rest[..end].to_vec()
    };
    Ok((status, body))
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
            bail!("truncated chunk size");
        };
        let size_text = std::str::from_utf8(&rest[..eol])?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .with_context(|| format!("bad chunk size {size_text:?}"))?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(body);
        }
        if rest.len() < size {
            bail!("truncated chunk");
        }
        body.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_response_with_length() {
        let raw = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 13\r\n\r\n{\"token\":\"t\"}";
        let (status, body) = parse_response(raw).expect("parses");
        assert_eq!(status, 200);
        assert_eq!(body, b"{\"token\":\"t\"}");
    }

    #[test]
    fn chunked_response_is_reassembled() {
        let raw = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n0\r\n\r\n";
        let (status, body) = parse_response(raw).expect("parses");
        assert_eq!(status, 201);
        assert_eq!(body, b"{\"a\":1}");
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(parse_response(b"nonsense\r\n\r\n").is_err());
    }
}
