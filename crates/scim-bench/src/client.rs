//! A lean HTTP/1.1 client: one keep-alive connection, one request at a
//! time, buffers reused between requests. The load generator runs on one
//! core against a server on the other, so every microsecond the client
//! spends is a microsecond of load it cannot generate; a general-purpose
//! client (pools, header maps, body streams) would be measured instead of
//! the server.

use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Most response headers parsed; the server sends fewer than ten.
const MAX_HEADERS: usize = 32;

/// A request method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// A failure below HTTP: connect, read or write errors, or a response that
/// is not HTTP. Counted as socket errors by the load runner.
#[derive(Debug)]
pub struct SocketError(pub String);

impl std::fmt::Display for SocketError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One connection to the server, reconnected after an error or a
/// `Connection: close`.
pub struct Conn {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    /// `Host` and `Authorization` lines, rendered once.
    fixed_headers: String,
    out: Vec<u8>,
    /// Bytes read; the body of the last response is `buf[body]`.
    buf: Vec<u8>,
    body: std::ops::Range<usize>,
}

impl Conn {
    pub fn new(addr: SocketAddr, token: Option<&str>) -> Conn {
        let mut fixed_headers = format!("Host: {addr}\r\nAccept: application/scim+json\r\n");
        if let Some(t) = token {
            fixed_headers.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        Conn {
            addr,
            stream: None,
            fixed_headers,
            out: Vec::with_capacity(4096),
            buf: Vec::with_capacity(64 * 1024),
            body: 0..0,
        }
    }

    /// The body of the last response.
    pub fn body(&self) -> &[u8] {
        &self.buf[self.body.clone()]
    }

    /// Sends one request and reads the whole response; returns its status.
    pub async fn request(&mut self, method: Method, path: &str, body: Option<&[u8]>) -> Result<u16, SocketError> {
        let outcome = self.exchange(method, path, body).await;
        if outcome.is_err() {
            // The connection's state is unknown: start over next time.
            self.stream = None;
        }
        outcome
    }

    async fn exchange(&mut self, method: Method, path: &str, body: Option<&[u8]>) -> Result<u16, SocketError> {
        self.out.clear();
        self.out.extend_from_slice(method.as_str().as_bytes());
        self.out.push(b' ');
        self.out.extend_from_slice(path.as_bytes());
        self.out.extend_from_slice(b" HTTP/1.1\r\n");
        self.out.extend_from_slice(self.fixed_headers.as_bytes());
        if let Some(b) = body {
            self.out
                .extend_from_slice(b"Content-Type: application/scim+json\r\nContent-Length: ");
            self.out.extend_from_slice(b.len().to_string().as_bytes());
            self.out.extend_from_slice(b"\r\n\r\n");
            self.out.extend_from_slice(b);
        } else {
            self.out.extend_from_slice(b"\r\n");
        }
        if self.stream.is_none() {
            let s = TcpStream::connect(self.addr)
                .await
                .map_err(|e| SocketError(format!("connect {}: {e}", self.addr)))?;
            s.set_nodelay(true)
                .map_err(|e| SocketError(format!("TCP_NODELAY: {e}")))?;
            self.stream = Some(s);
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(SocketError("no connection".into()));
        };
        stream
            .write_all(&self.out)
            .await
            .map_err(|e| SocketError(format!("write: {e}")))?;
        self.buf.clear();
        let (status, head_len, framing, close) = loop {
            read_more(stream, &mut self.buf).await?;
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&self.buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let (framing, close) = framing(resp.headers)?;
                    break (resp.code.unwrap_or(0), n, framing, close);
                }
                Ok(httparse::Status::Partial) => continue,
                Err(e) => return Err(SocketError(format!("malformed response: {e}"))),
            }
        };
        // 1xx, 204 and 304 carry no body whatever the headers say.
        let framing = if status < 200 || status == 204 || status == 304 {
            Framing::Length(0)
        } else {
            framing
        };
        match framing {
            Framing::Length(n) => {
                while self.buf.len() < head_len + n {
                    read_more(stream, &mut self.buf).await?;
                }
                self.body = head_len..head_len + n;
            }
            Framing::Chunked => {
                let end = read_chunked(stream, &mut self.buf, head_len).await?;
                self.body = head_len..end;
            }
        }
        if close {
            self.stream = None;
        }
        Ok(status)
    }
}

enum Framing {
    Length(usize),
    Chunked,
}

fn framing(headers: &[httparse::Header<'_>]) -> Result<(Framing, bool), SocketError> {
    let mut framing = None;
    let mut close = false;
    for h in headers {
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| SocketError("bad Content-Length".into()))?;
            framing = Some(Framing::Length(n));
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") && h.value.eq_ignore_ascii_case(b"chunked") {
            framing = Some(Framing::Chunked);
        } else if h.name.eq_ignore_ascii_case("connection") && h.value.eq_ignore_ascii_case(b"close") {
            close = true;
        }
    }
    match framing {
        Some(f) => Ok((f, close)),
        // Neither: the body runs to the end of the connection, which a
        // keep-alive client cannot wait for; drop the connection instead.
        None => Ok((Framing::Length(0), true)),
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), SocketError> {
    let len = buf.len();
    if buf.capacity() - len < 16 * 1024 {
        buf.reserve(64 * 1024);
    }
    let n = stream
        .read_buf(buf)
        .await
        .map_err(|e| SocketError(format!("read: {e}")))?;
    if n == 0 {
        return Err(SocketError("connection closed by the server".into()));
    }
    Ok(())
}

/// Decodes a chunked body in place after the head; returns its end.
async fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>, start: usize) -> Result<usize, SocketError> {
    let mut body_end = start;
    let mut pos = start;
    loop {
        // The chunk-size line.
        let line_end = loop {
            if let Some(i) = buf[pos..].windows(2).position(|w| w == b"\r\n") {
                break pos + i;
            }
            read_more(stream, buf).await?;
        };
        let size_text = std::str::from_utf8(&buf[pos..line_end]).unwrap_or("");
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| SocketError("bad chunk size".into()))?;
        let data = line_end + 2;
        while buf.len() < data + size + 2 {
            read_more(stream, buf).await?;
        }
        if size == 0 {
            // No trailers are sent by the server: the final CRLF follows.
            return Ok(body_end);
        }
        buf.copy_within(data..data + size, body_end);
        body_end += size;
        pos = data + size + 2;
    }
}
