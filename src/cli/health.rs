//! `pixfront health [ADDRESS]`: asks a running `pixfront serve` for `/?health` and exits 0 on
//! 200, 1 otherwise. It is the container image's `HEALTHCHECK`: the image has no shell and no
//! curl, so the binary probes itself (plain HTTP/1.0 over loopback, std only).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// host:port of the server; defaults to PIXFRONT_LISTEN (an unspecified address such as
    /// 0.0.0.0 is probed on loopback), else 127.0.0.1:8080.
    #[arg(env = "PIXFRONT_LISTEN")]
    pub address: Option<String>,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 5)]
    pub timeout: u64,
}

/// The address to probe: `listen` with an unspecified IP replaced by loopback.
pub fn probe_address(listen: &str) -> Result<SocketAddr, String> {
    let mut addr = listen
        .to_socket_addrs()
        .map_err(|e| format!("{listen}: {e}"))?
        .next()
        .ok_or_else(|| format!("{listen}: no address"))?;
    if addr.ip().is_unspecified() {
        let loopback = match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        };
        addr.set_ip(loopback);
    }
    Ok(addr)
}

/// The status code of `GET /?health` at `addr`.
pub fn check(addr: SocketAddr, timeout: Duration) -> Result<u16, String> {
    let mut s = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("{addr}: {e}"))?;
    s.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    s.write_all(format!("GET /?health HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .map_err(|e| format!("{addr}: {e}"))?;
    let mut head = [0u8; 32];
    let mut got = 0;
    while got < 12 {
        match s.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(format!("{addr}: {e}")),
        }
    }
    // "HTTP/1.x NNN …"
    let text = String::from_utf8_lossy(&head[..got]);
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("{addr}: not an HTTP answer: {text:?}"))
}

pub fn run(args: &Args) -> i32 {
    let listen = args.address.as_deref().unwrap_or("127.0.0.1:8080");
    let result = probe_address(listen).and_then(|a| check(a, Duration::from_secs(args.timeout)));
    match result {
        Ok(200) => 0,
        Ok(status) => {
            eprintln!("pixfront health: {status}");
            1
        }
        Err(e) => {
            eprintln!("pixfront health: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_listen_addresses_are_probed_on_loopback() {
        assert_eq!(
            probe_address("0.0.0.0:8080").unwrap(),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert_eq!(probe_address("[::]:9000").unwrap(), "[::1]:9000".parse().unwrap());
        assert_eq!(
            probe_address("10.1.2.3:80").unwrap(),
            "10.1.2.3:80".parse().unwrap()
        );
    }

    #[test]
    fn reads_the_status_of_a_live_answer_and_fails_on_no_server() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut buf = [0u8; 256];
            let n = c.read(&mut buf).unwrap();
            assert!(String::from_utf8_lossy(&buf[..n]).starts_with("GET /?health HTTP/1.0\r\n"));
            c.write_all(b"HTTP/1.1 503 Service Unavailable\r\n\r\n").unwrap();
        });
        assert_eq!(check(addr, Duration::from_secs(5)), Ok(503));
        server.join().unwrap();
        // Nothing listens there any more.
        assert!(check(addr, Duration::from_secs(1)).is_err());
    }
}
