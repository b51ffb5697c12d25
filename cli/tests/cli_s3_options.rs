//! `s3://` stores as a new user meets them: an endpoint without a scheme is
//! a usage error, `AWS_ENDPOINT_URL=http://...` works as it reads, missing
//! credentials are said plainly, and the read-only commands (`backup
//! list`, `verify`, `restore`) send no write. A small fake S3 server on
//! 127.0.0.1 answers and records every request, so these run everywhere
//! (moto, which `.ci/run` starts, is for `cli_backup.rs`'s whole cycle).
#![cfg(feature = "s3")]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::thread;

/// An S3 server that holds no object: listings are empty, reads and heads
/// miss, writes succeed. It records `METHOD PATH` of every request.
struct FakeS3 {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeS3 {
    fn start() -> FakeS3 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = Arc::clone(&seen);
                thread::spawn(move || serve(stream, &seen));
            }
        });
        FakeS3 { url, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    fn writes(&self) -> Vec<String> {
        self.requests().into_iter().filter(|r| !r.starts_with("GET ") && !r.starts_with("HEAD ")).collect()
    }
}

/// Answers requests on one keep-alive connection until the client closes it.
fn serve(stream: TcpStream, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut content_length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header == "\r\n" {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
        seen.lock().unwrap().push(format!("{method} {target}"));
        let (status, body) = respond(method, target);
        let head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nETag: \"0\"\r\n\r\n", body.len());
        if stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes())).is_err() {
            return;
        }
    }
}

fn respond(method: &str, target: &str) -> (&'static str, String) {
    match method {
        "GET" if target.contains("list-type=2") => (
            "200 OK",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult \
             xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bucket</Name><KeyCount>0</KeyCount>\
             <MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>"
                .to_owned(),
        ),
        "GET" if target.starts_with("/latest/") => ("403 Forbidden", String::new()),
        "PUT" if target.starts_with("/latest/") => ("403 Forbidden", String::new()),
        "GET" | "HEAD" => {
            ("404 Not Found", "<Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>".to_owned())
        }
        "DELETE" => ("204 No Content", String::new()),
        _ => ("200 OK", String::new()),
    }
}

/// `cairn` with no AWS variables but those given.
fn cairn(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
    command.args(args).env_remove("RUST_LOG");
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(|n| n.starts_with("AWS_")) {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied()).output().expect("run cairn")
}

const KEYS: [(&str, &str); 3] =
    [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_REGION", "us-east-1")];

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_endpoint_without_a_scheme_is_a_usage_error_not_a_panic() {
    let out = cairn(&["backup", "list", "s3://bucket/bk", "--endpoint", "127.0.0.1:9000"], &KEYS);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("is not a URL") && stderr(&out).contains("http://"), "{}", stderr(&out));
    // From the environment it is the library that refuses it: one line, status 1.
    let env = [KEYS[0], KEYS[1], KEYS[2], ("AWS_ENDPOINT_URL", "127.0.0.1:9000")];
    let out = cairn(&["backup", "list", "s3://bucket/bk"], &env);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("\"127.0.0.1:9000\" is not a URL"), "{}", stderr(&out));
}

#[test]
fn an_http_endpoint_from_the_environment_is_used_as_it_reads() {
    let s3 = FakeS3::start();
    let env = [KEYS[0], KEYS[1], KEYS[2], ("AWS_ENDPOINT_URL", s3.url.as_str())];
    let out = cairn(&["backup", "list", "s3://bucket/bk"], &env);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "no backups in s3://bucket/bk\n");
    assert!(s3.requests().iter().any(|r| r.starts_with("GET /bucket?list-type=2")), "{:?}", s3.requests());
}

#[test]
fn read_only_commands_send_no_write() {
    let s3 = FakeS3::start();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("restored");
    let endpoint = ["--endpoint", s3.url.as_str()];
    let list = [&["backup", "list", "s3://bucket/bk"][..], &endpoint].concat();
    let out = cairn(&list, &KEYS);
    assert!(out.status.success(), "{}", stderr(&out));
    let target = target.to_str().unwrap();
    for args in
        [vec!["backup", "verify", "s3://bucket/bk", "1"], vec!["backup", "restore", "s3://bucket/bk", "1", target]]
    {
        let out = cairn(&[&args[..], &endpoint].concat(), &KEYS);
        assert_eq!(out.status.code(), Some(1), "{args:?}: there is no backup 1: {}", stderr(&out));
    }
    assert!(!s3.requests().is_empty());
    assert_eq!(s3.writes(), Vec::<String>::new(), "reading a store writes nothing");
    // A backup writes, and probes for create-only writes first: this fake
    // overwrites, so the backup is refused before anything is committed.
    let db = dir.path().join("db");
    let out = cairn(&["put", db.to_str().unwrap(), "k", "v", "--create"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cairn(&[&["backup", "create", db.to_str().unwrap(), "s3://bucket/bk"][..], &endpoint].concat(), &KEYS);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not honour create-only writes"), "{}", stderr(&out));
    let puts: Vec<String> = s3.writes().into_iter().filter(|w| w.starts_with("PUT ")).collect();
    assert!(puts.len() == 2 && puts.iter().all(|w| w.contains("/bk/probe/")), "only the probe wrote: {puts:?}");
}

#[test]
fn missing_credentials_are_said_plainly() {
    let s3 = FakeS3::start();
    // A custom endpoint: refused before any request.
    let out = cairn(&["backup", "list", "s3://bucket/bk", "--endpoint", &s3.url], &[("AWS_REGION", "us-east-1")]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("no credentials found for s3://bucket"), "{}", stderr(&out));
    assert!(stderr(&out).contains("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"), "{}", stderr(&out));
    assert_eq!(s3.requests(), Vec::<String>::new());
    // AWS itself: the instance metadata is asked (here the fake, which
    // refuses as a machine outside AWS does), and its refusal is explained.
    let env = [("AWS_REGION", "us-east-1"), ("AWS_METADATA_ENDPOINT", s3.url.as_str())];
    let out = cairn(&["backup", "list", "s3://bucket/bk"], &env);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no credentials found for s3://bucket/bk"), "{}", stderr(&out));
    assert!(stderr(&out).contains("set AWS_ACCESS_KEY_ID"), "{}", stderr(&out));
    assert!(s3.requests().iter().all(|r| r.contains("/latest/")), "only the metadata was asked: {:?}", s3.requests());
}
