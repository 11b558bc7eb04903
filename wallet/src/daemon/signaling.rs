//! The daemon's client of the signaling server: JSON-RPC calls over plain HTTP/1.1 (one
//! connection per call, `Connection: close`), each with a timeout and a response size cap.
//! Only `http://` URLs: the signaling server runs next to the dApp's users or on localhost.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use walletwire::direct::Error as DirectError;
use walletwire::direct::signaling::{MAX_BODY_LEN, read_response, request_body};

/// Time one call may take, connect to last byte.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Not an `http://host:port/path` URL.
    #[error("signaling URL must be http://host[:port][/path]")]
    BadUrl,
    /// Connect, write or read failed.
    #[error("signaling server unreachable: {0}")]
    Unreachable(std::io::Error),
    /// No complete answer in time.
    #[error("signaling server did not answer in time")]
    Timeout,
    /// Not an HTTP 200 with a JSON-RPC body.
    #[error("signaling server sent a bad response: {0}")]
    BadResponse(&'static str),
    /// A JSON-RPC error or a malformed result.
    #[error("{0}")]
    Rpc(DirectError),
}

/// A signaling server endpoint and the bearer token of one login.
#[derive(Debug, Clone)]
pub struct SignalingClient {
    host: String,
    port: u16,
    path: String,
    token: String,
}

impl SignalingClient {
    /// A client for `url` acting with `token`.
    pub fn new(url: &str, token: &str) -> Result<Self, CallError> {
        let rest = url.strip_prefix("http://").ok_or(CallError::BadUrl)?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => {
                (host, port.parse().map_err(|_| CallError::BadUrl)?)
            }
            _ => (authority, 80),
        };
        if host.is_empty() || token.contains(['\r', '\n']) {
            return Err(CallError::BadUrl);
        }
        Ok(Self {
            host: host.trim_matches(['[', ']']).to_owned(),
            port,
            path: path.to_owned(),
            token: token.to_owned(),
        })
    }

    /// Calls `method` and returns its result.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, CallError> {
        let body = request_body(1, method, params);
        let response = tokio::time::timeout(CALL_TIMEOUT, self.exchange(&body))
            .await
            .map_err(|_| CallError::Timeout)??;
        read_response(&response, 1).map_err(CallError::Rpc)
    }

    async fn exchange(&self, body: &str) -> Result<String, CallError> {
        let mut stream = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(CallError::Unreachable)?;
        let _ = stream.set_nodelay(true);
        let request = format!(
            "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\n\
             Authorization: Bearer {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.path,
            self.host,
            self.port,
            self.token,
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(CallError::Unreachable)?;
        let mut response = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let n = stream
                .read(&mut chunk)
                .await
                .map_err(CallError::Unreachable)?;
            if n == 0 {
                break;
            }
            response.extend_from_slice(&chunk[..n]);
            if response.len() > MAX_BODY_LEN + 4096 {
                return Err(CallError::BadResponse("response too large"));
            }
        }
        parse_http(&response)
    }
}

/// The body of an HTTP/1.1 200 response read to the end (plain or chunked).
fn parse_http(response: &[u8]) -> Result<String, CallError> {
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(CallError::BadResponse("no HTTP header"))?;
    let head = std::str::from_utf8(&response[..split])
        .map_err(|_| CallError::BadResponse("header not UTF-8"))?;
    let body = &response[split + 4..];
    if head.get(9..12) != Some("200") {
        return Err(CallError::BadResponse("HTTP status is not 200"));
    }
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body).ok_or(CallError::BadResponse("broken chunked body"))?
    } else {
        body.to_vec()
    };
    String::from_utf8(body).map_err(|_| CallError::BadResponse("body not UTF-8"))
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_bodies() {
        let c = SignalingClient::new("http://127.0.0.1:9100", "t").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.path.as_str()),
            ("127.0.0.1", 9100, "/")
        );
        let c = SignalingClient::new("http://[::1]:9/json_rpc", "t").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.path.as_str()),
            ("::1", 9, "/json_rpc")
        );
        assert!(SignalingClient::new("https://x", "t").is_err());
        assert!(SignalingClient::new("http://x:y", "t").is_err());
        assert!(SignalingClient::new("http://x", "a\r\nb").is_err());
        let plain = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi";
        assert_eq!(parse_http(plain).unwrap(), "hi");
        let chunked =
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n1\r\n!\r\n0\r\n\r\n";
        assert_eq!(parse_http(chunked).unwrap(), "hi!");
        assert!(parse_http(b"HTTP/1.1 500 X\r\n\r\n").is_err());
        assert!(parse_http(b"junk").is_err());
    }
}
