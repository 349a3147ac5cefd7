//! A TCP proxy between the server and PostgreSQL that counts what the server sends, message by
//! message, so a test can count the statements a request costs instead of guessing them.
//!
//! It reads the frontend's side of the wire protocol (v3): a connection opens with untyped messages
//! (4-byte length, then a code: the StartupMessage, or an SSLRequest answered before it), and every
//! later message is one type byte and a 4-byte big-endian length that counts itself but not the type
//! byte. The server must connect with `sslmode=disable`: past a TLS handshake the bytes are unreadable.

use std::{
    collections::BTreeMap,
    fmt,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinHandle,
};

/// The code an SSLRequest carries where a StartupMessage carries its protocol version.
const SSL_REQUEST_CODE: u32 = 80_877_103;

/// One kind of frontend message, as the proxy tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Message {
    /// The StartupMessage: one per new connection.
    Startup,
    SslRequest,
    /// A message after the startup, by its type byte: `Q` simple query, `P` parse (prepare),
    /// `B` bind, `E` execute, `D` describe, `S` sync, `C` close, `H` flush, `X` terminate, `p` password.
    Typed(u8),
}

impl Message {
    pub const QUERY: Self = Self::Typed(b'Q');
    pub const PARSE: Self = Self::Typed(b'P');
    pub const EXECUTE: Self = Self::Typed(b'E');
    pub const SYNC: Self = Self::Typed(b'S');
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Startup => f.write_str("StartupMessage"),
            Self::SslRequest => f.write_str("SSLRequest"),
            Self::Typed(byte) => write!(f, "{} '{}'", type_name(*byte), char::from(*byte)),
        }
    }
}

fn type_name(byte: u8) -> &'static str {
    match byte {
        b'Q' => "Query",
        b'P' => "Parse",
        b'B' => "Bind",
        b'E' => "Execute",
        b'D' => "Describe",
        b'S' => "Sync",
        b'C' => "Close",
        b'H' => "Flush",
        b'X' => "Terminate",
        b'p' => "Password",
        _ => "other",
    }
}

/// How many messages of each kind went through since the last reset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageCounts(BTreeMap<Message, u64>);

impl MessageCounts {
    pub fn of(&self, message: Message) -> u64 {
        self.0.get(&message).copied().unwrap_or(0)
    }

    fn add(&mut self, message: Message) {
        *self.0.entry(message).or_default() += 1;
    }
}

impl fmt::Display for MessageCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self.0.iter().map(|(m, n)| format!("{m}: {n}")).collect();
        write!(f, "{{{}}}", shown.join(", "))
    }
}

/// Splits one connection's frontend bytes into messages, whatever the chunks they arrive in.
#[derive(Debug, Default)]
struct FrontendParser {
    pending: Vec<u8>,
    started: bool,
}

impl FrontendParser {
    /// Takes the next chunk and counts every message it completes.
    fn feed(&mut self, bytes: &[u8], counts: &mut MessageCounts) {
        self.pending.extend_from_slice(bytes);
        while let Some((message, length)) = self.next_message() {
            counts.add(message);
            self.pending.drain(..length);
        }
    }

    /// The first complete message in `pending` and its length on the wire, if it is all there.
    fn next_message(&mut self) -> Option<(Message, usize)> {
        let type_bytes = usize::from(self.started);
        let length_bytes = self.pending.get(type_bytes..type_bytes + 4)?;
        let length = u32::from_be_bytes(length_bytes.try_into().expect("four bytes")) as usize;
        // The length counts its own four bytes: anything less is not the PostgreSQL protocol (a TLS
        // handshake, say), and would never consume a byte.
        assert!(
            length >= 4,
            "not a PostgreSQL frontend message: {:?}",
            self.pending
        );
        let total = type_bytes + length;
        if self.pending.len() < total {
            return None;
        }
        if self.started {
            return Some((Message::Typed(self.pending[0]), total));
        }
        let code = u32::from_be_bytes(self.pending.get(4..8)?.try_into().expect("four bytes"));
        if code == SSL_REQUEST_CODE {
            // Answered with one byte; a StartupMessage (or a TLS handshake) comes next.
            return Some((Message::SslRequest, total));
        }
        self.started = true;
        Some((Message::Startup, total))
    }
}

/// A listener on a spare loopback port that forwards every connection to `upstream` and counts
/// the messages sent upstream, over all connections together.
pub struct CountingProxy {
    address: SocketAddr,
    counts: Arc<Mutex<MessageCounts>>,
    /// Whether what the server sends is passed on (see [`CountingProxy::stall`]).
    flowing: watch::Sender<bool>,
    accepting: JoinHandle<()>,
}

impl CountingProxy {
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind an ephemeral port");
        let address = listener.local_addr().expect("listener has an address");
        let counts = Arc::new(Mutex::new(MessageCounts::default()));
        let (flowing, gate) = watch::channel(true);
        let shared = Arc::clone(&counts);
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let link = Link {
                    upstream: upstream.clone(),
                    counts: Arc::clone(&shared),
                    gate: gate.clone(),
                };
                tokio::spawn(forward(client, link));
            }
        });
        Self {
            address,
            counts,
            flowing,
            accepting,
        }
    }

    /// Holds back everything the server sends from now on, as a database that stopped answering
    /// would look to it; [`CountingProxy::resume`] sends what was held, in order.
    pub fn stall(&self) {
        self.flowing.send_replace(false);
    }

    pub fn resume(&self) {
        self.flowing.send_replace(true);
    }

    /// `host:port` to put in a URL in place of the real service's.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn counts(&self) -> MessageCounts {
        self.counts.lock().expect("counts lock").clone()
    }

    /// Forgets what was counted so far: what follows is counted from zero.
    pub fn reset(&self) {
        *self.counts.lock().expect("counts lock") = MessageCounts::default();
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        // Connections already forwarded end when the server closes them.
        self.accepting.abort();
    }
}

/// What each forwarded connection shares with the proxy.
struct Link {
    upstream: String,
    counts: Arc<Mutex<MessageCounts>>,
    gate: watch::Receiver<bool>,
}

/// Copies one connection both ways; the server's side is counted on its way upstream.
async fn forward(mut client: TcpStream, link: Link) {
    let Link {
        upstream,
        counts,
        mut gate,
    } = link;
    let Ok(mut service) = TcpStream::connect(&upstream).await else {
        // The server sees its connection refused, as it would without the proxy.
        return;
    };
    let (mut client_reads, mut client_writes) = client.split();
    let (mut service_reads, mut service_writes) = service.split();
    let upstream = async {
        let mut parser = FrontendParser::default();
        let mut buffer = vec![0_u8; 16 * 1024];
        loop {
            let read = client_reads.read(&mut buffer).await?;
            if read == 0 {
                return service_writes.shutdown().await;
            }
            // Counted before it is forwarded, so a reply never arrives before its request is counted.
            parser.feed(&buffer[..read], &mut counts.lock().expect("counts lock"));
            if gate.wait_for(|flowing| *flowing).await.is_err() {
                // The proxy is gone: so is the connection.
                return Ok(());
            }
            service_writes.write_all(&buffer[..read]).await?;
        }
    };
    let downstream = tokio::io::copy(&mut service_reads, &mut client_writes);
    let _ = tokio::try_join!(upstream, downstream);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut message = vec![kind];
        message.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        message.extend_from_slice(body);
        message
    }

    fn untyped(code: u32, body: &[u8]) -> Vec<u8> {
        let mut message = (body.len() as u32 + 8).to_be_bytes().to_vec();
        message.extend_from_slice(&code.to_be_bytes());
        message.extend_from_slice(body);
        message
    }

    #[test]
    fn messages_are_counted_by_type_whatever_the_chunks_they_arrive_in() {
        // Arrange: an SSLRequest, a startup, then parse, bind, execute, sync and a simple query.
        let mut wire = untyped(SSL_REQUEST_CODE, b"");
        wire.extend(untyped(196_608, b"user\0postgres\0\0"));
        wire.extend(typed(b'P', b"\0SELECT 1\0\0\0"));
        wire.extend(typed(b'B', b"\0\0\0\0\0\0\0\0"));
        wire.extend(typed(b'E', b"\0\0\0\0\0"));
        wire.extend(typed(b'S', b""));
        wire.extend(typed(b'Q', b"SELECT 1\0"));

        for chunk in [1, 3, 7, wire.len()] {
            // Act
            let mut parser = FrontendParser::default();
            let mut counts = MessageCounts::default();
            wire.chunks(chunk).for_each(|c| parser.feed(c, &mut counts));

            // Assert
            let expected = [
                Message::SslRequest,
                Message::Startup,
                Message::PARSE,
                Message::Typed(b'B'),
                Message::EXECUTE,
                Message::SYNC,
                Message::QUERY,
            ];
            let mut wanted = MessageCounts::default();
            expected.into_iter().for_each(|m| wanted.add(m));
            assert_eq!(counts, wanted, "in chunks of {chunk}: {counts}");
            assert!(parser.pending.is_empty(), "in chunks of {chunk}");
        }
    }
}
