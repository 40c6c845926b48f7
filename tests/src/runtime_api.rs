//! A Lambda runtime API of its own, small enough to time a function's start and to hand
//! it events one at a time: what `cargo lambda watch` does, without the watcher's own
//! start, build checks and logging inside the measure.
//!
//! The function is started with `AWS_LAMBDA_RUNTIME_API` pointing here and
//! `AWS_ENDPOINT_URL` pointing at a second listener, the trap, unless the caller points
//! it elsewhere (moto): a cold start that made any AWS call before asking for its first
//! event would be caught there.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";

/// One request the function made: method, path, body.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub body: Vec<u8>,
}

/// A function process behind this runtime API; killed when dropped.
pub struct Function {
    child: Child,
    requests: mpsc::Receiver<(Request, mpsc::Sender<Vec<u8>>)>,
    trap: TcpListener,
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// From spawning the process to its first request for an event.
    pub cold_start: Duration,
    pending: Option<mpsc::Sender<Vec<u8>>>,
}

/// The environment every Lambda function finds (lambda_runtime refuses to start without).
pub fn lambda_env(name: &str) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_FUNCTION_NAME", name),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_LAMBDA_LOG_LEVEL", "error"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

impl Function {
    /// Start `binary` with `env` (applied over [`lambda_env`]) and wait for its first poll.
    pub fn start(binary: &std::path::Path, env: &[(String, String)]) -> Result<Function> {
        let api = TcpListener::bind("127.0.0.1:0")?;
        let trap = TcpListener::bind("127.0.0.1:0")?;
        trap.set_nonblocking(true)?;
        let (tx, requests) = mpsc::channel();
        let port = api.local_addr()?.port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            for stream in api.incoming().flatten() {
                // Woken by `drop` to let the listener go (a bench starts thousands).
                if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let tx = tx.clone();
                std::thread::spawn(move || serve(stream, &tx));
            }
        });
        let name = binary
            .file_name()
            .map_or("function".into(), |n| n.to_string_lossy().into_owned());
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .envs(lambda_env(&name))
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .env(
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", trap.local_addr()?.port()),
            )
            .envs(env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let started = Instant::now();
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut f = Function {
            child,
            requests,
            trap,
            port,
            stop,
            cold_start: Duration::ZERO,
            pending: None,
        };
        let first = f.next_request(Duration::from_secs(30))?;
        f.cold_start = started.elapsed();
        if first.method != "GET" || first.path != NEXT {
            bail!(
                "first request {} {}, not the poll for an event",
                first.method,
                first.path
            );
        }
        Ok(f)
    }

    fn next_request(&mut self, within: Duration) -> Result<Request> {
        match self.requests.recv_timeout(within) {
            Ok((req, reply)) => {
                self.pending = Some(reply);
                Ok(req)
            }
            Err(_) => {
                let status = self.child.try_wait()?;
                bail!("no request from the function within {within:?} (exited: {status:?})")
            }
        }
    }

    /// Whether anything connected to the trap (an AWS call to the default endpoint).
    pub fn called_aws(&self) -> bool {
        self.trap.accept().is_ok()
    }

    /// Hand the waiting poll `event` and return what the function answered (the path says
    /// whether it was a response or an error).
    pub fn invoke(
        &mut self,
        request_id: &str,
        event: &[u8],
        function_arn: &str,
    ) -> Result<Request> {
        let reply = self
            .pending
            .take()
            .context("the function is not waiting for an event")?;
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
            + 60_000;
        let mut head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {request_id}\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\nLambda-Runtime-Invoked-Function-Arn: {function_arn}\r\nLambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0\r\nContent-Length: {}\r\n\r\n",
            event.len()
        )
        .into_bytes();
        head.extend_from_slice(event);
        let _ = reply.send(head);
        let answer = self.next_request(Duration::from_secs(60))?;
        // Acknowledge the answer, then wait for the next poll: the event is done.
        if let Some(ack) = self.pending.take() {
            let _ = ack.send(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}".to_vec());
        }
        let next = self.next_request(Duration::from_secs(60))?;
        if next.path != NEXT {
            bail!("after the event: {} {}", next.method, next.path);
        }
        Ok(answer)
    }

    /// The process's peak resident memory so far (VmHWM), in bytes.
    pub fn peak_rss(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let line = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .context("no VmHWM in /proc/PID/status")?;
        let kb: u64 = line
            .trim_start_matches("VmHWM:")
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()?;
        Ok(kb * 1024)
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One connection: each request is passed on with a channel for its raw answer.
fn serve(stream: TcpStream, tx: &mpsc::Sender<(Request, mpsc::Sender<Vec<u8>>)>) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Ok(Some(req)) = read_request(&mut reader) {
        let (reply_tx, reply_rx) = mpsc::channel();
        if tx.send((req, reply_tx)).is_err() {
            return;
        }
        // No answer (the test ended): the connection closes with the thread.
        let Ok(answer) = reply_rx.recv() else { return };
        if out.write_all(&answer).is_err() {
            return;
        }
    }
}

fn read_request(r: &mut impl BufRead) -> Result<Option<Request>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let (mut length, mut chunked) = (0usize, false);
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse()?;
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body)?;
    if chunked {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim(), 16)?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Ok(Some(Request { method, path, body }))
}
