//! A `kapok serve` process for the tests, and a small blocking HTTP client (std only).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::util::root;

/// A running `kapok serve`, stopped when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT/`
    pub url: String,
    /// `127.0.0.1:PORT`
    pub addr: String,
    /// What it printed on standard error before listening.
    pub stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    /// Starts `kapok serve FRAMEWORK --port 0 EXTRA…` from the repository root and waits
    /// (at most 120 s) for the address it prints.
    pub fn start(framework: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kapok"))
            .args(["serve", framework, "--port", "0"])
            .args(extra)
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kapok serve starts");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(out).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(l) if l.starts_with("http://") => l,
            other => {
                let _ = child.kill();
                panic!(
                    "kapok serve printed no address ({other:?}); stderr: {}",
                    stderr.lock().unwrap()
                )
            }
        };
        let url = line.trim().to_string();
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        Server {
            child,
            url,
            addr,
            stderr,
        }
    }

    /// Whether the server's standard error says `needle` within `wait`: standard error is read
    /// by its own thread, which may not have caught up with standard output yet.
    pub fn says(&self, needle: &str, wait: Duration) -> bool {
        let until = std::time::Instant::now() + wait;
        loop {
            if self.stderr.lock().unwrap().contains(needle) {
                return true;
            }
            if std::time::Instant::now() > until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `GET path` (e.g. `/api/score?w.safety=2`) with `Host: <addr>`.
    pub fn get(&self, path: &str) -> Response {
        get(&self.addr, path, &self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// A header's value (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path` from `addr` with the given `Host` header, on a new connection
/// (`Connection: close`; the body is read to the end).
pub fn get(addr: &str, path: &str, host: &str) -> Response {
    let mut s = TcpStream::connect(addr).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("reads the response");
    parse(&raw)
}

/// Parses a whole HTTP/1.1 response (`Content-Length` or chunked body).
pub fn parse(raw: &[u8]) -> Response {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let (status, headers) = parse_head(&raw[..end]);
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

/// The status and headers of a response's head (without the blank line).
fn parse_head(head: &[u8]) -> (u16, Vec<(String, String)>) {
    let head = String::from_utf8_lossy(head).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    (status, headers)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let nl = b.windows(2).position(|w| w == b"\r\n").expect("chunk size");
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&b[..nl])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .expect("hex chunk size");
        b = &b[nl + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

/// One keep-alive connection: requests are sent one after another on the same socket, each
/// answer read by its `Content-Length` (or chunks).
pub struct Client {
    stream: BufReader<TcpStream>,
    host: String,
}

impl Client {
    /// Connects to `addr` (`127.0.0.1:PORT`), sending `Host: <addr>`.
    pub fn connect(addr: &str) -> std::io::Result<Client> {
        let s = TcpStream::connect(addr)?;
        s.set_read_timeout(Some(Duration::from_secs(120)))?;
        s.set_nodelay(true)?;
        Ok(Client {
            stream: BufReader::new(s),
            host: addr.to_string(),
        })
    }

    /// `GET path` on this connection; `Err` if the connection fails or closes before a whole
    /// answer is read.
    pub fn get(&mut self, path: &str) -> std::io::Result<Response> {
        write!(
            self.stream.get_mut(),
            "GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n",
            self.host
        )?;
        read_response(&mut self.stream)
    }
}

/// Reads one HTTP/1.1 response (head, then a `Content-Length` or chunked body) from `r`.
pub fn read_response(r: &mut impl BufRead) -> std::io::Result<Response> {
    let eof = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed");
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        if r.read_until(b'\n', &mut line)? == 0 {
            return Err(eof());
        }
        if line == b"\r\n" {
            break;
        }
        head.extend_from_slice(&line);
    }
    let (status, headers) = parse_head(head.strip_suffix(b"\r\n").unwrap_or(&head));
    let mut res = Response {
        status,
        headers,
        body: Vec::new(),
    };
    let length = res
        .header("content-length")
        .map(|v| v.parse::<usize>().expect("a numeric Content-Length"));
    let chunked = res
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if let Some(n) = length {
        res.body = vec![0; n];
        r.read_exact(&mut res.body)?;
    } else if chunked {
        loop {
            let mut size = String::new();
            if r.read_line(&mut size)? == 0 {
                return Err(eof());
            }
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                .expect("hex chunk size");
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            res.body.extend_from_slice(&chunk[..n]);
        }
    }
    Ok(res)
}
