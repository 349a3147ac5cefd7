//! One client connection, served as HTTP/1.1 by hyper with the slow-client limits: a request head
//! must arrive within the header timeout, its body within the body timeout, and a connection idle
//! between requests (or a finished response its client will not read) is closed after the
//! keep-alive timeout. HTTP/2 and TLS belong to the reverse proxy in front.
//!
//! A connection upgraded to a WebSocket leaves hyper and these timeouts behind (the socket has
//! its own rules, see `websocket`), but keeps its slot under the connection cap through a
//! [`ConnectionLease`] until it closes.

use std::{
    convert::Infallible,
    future::{Future, poll_fn},
    io,
    net::SocketAddr,
    pin::{Pin, pin},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    task::{Context, Poll, ready},
    time::Duration,
};

use axum::{Router, extract::ConnectInfo, response::Response};
use hyper::{Request, body::Incoming, header::UPGRADE, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    sync::{OwnedSemaphorePermit, watch},
    time::{Instant, Sleep, sleep_until},
};
use tower_service::Service;

use super::body_deadline::BodyDeadline;

/// How long a client may take at each stage (see the module comment).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub header_read: Duration,
    pub body_read: Duration,
    pub keep_alive: Duration,
}

/// What a connection upgraded to a WebSocket keeps of the one it came from: its slot under
/// HTTP_MAX_CONNECTIONS (freed when the last clone drops) and the server's stop signal.
#[derive(Clone)]
pub struct ConnectionLease {
    _slot: Arc<OwnedSemaphorePermit>,
    stop: watch::Receiver<bool>,
}

impl ConnectionLease {
    /// Resolves once the server is shutting down.
    pub async fn stopping(&mut self) {
        // An error means the server is gone, which is a stop too.
        let _ = self.stop.wait_for(|stop| *stop).await;
    }
}

/// Serves `stream` until the client is done, too slow, or `stop` turns true; then lets the
/// request in flight finish. `slot` is freed when the connection and any WebSocket it became end.
pub async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    timeouts: Timeouts,
    mut stop: watch::Receiver<bool>,
    slot: OwnedSemaphorePermit,
) {
    let lease = ConnectionLease {
        _slot: Arc::new(slot),
        stop: stop.clone(),
    };
    let stage = Arc::new(Stage::default());
    let io = TokioIo::new(Socket {
        stream,
        stage: Arc::clone(&stage),
    });
    let busy = Arc::clone(&stage);
    let service = service_fn(move |mut request: Request<Incoming>| {
        busy.enter(BUSY);
        // The front door reads the peer from here, as axum's `ConnectInfo` extractor expects.
        request.extensions_mut().insert(ConnectInfo(peer));
        // Only a request that may become a WebSocket needs the lease.
        if request.headers().contains_key(UPGRADE) {
            request.extensions_mut().insert(lease.clone());
        }
        let deadline = Instant::now() + timeouts.body_read;
        let request = request.map(|body| BodyDeadline::new(body, deadline));
        let response = router.clone().call(request);
        let stage = Arc::clone(&busy);
        async move {
            let response: Result<Response, Infallible> = response.await;
            stage.enter(IDLE);
            response
        }
    });
    let mut builder = http1::Builder::new();
    // Ours is the `Clock`: hyper's would also cut idle keep-alive connections at the header timeout.
    builder.header_read_timeout(None);
    let mut connection = pin!(builder.serve_connection(io, service).with_upgrades());
    let timer = pin!(sleep_until(Instant::now()));
    let mut clock = Clock::new(stage, timeouts, timer);
    let mut stopping = pin!(async move {
        // An error means the server is gone, which is a stop too.
        let _ = stop.wait_for(|stop| *stop).await;
    });
    let mut stopped = false;
    let ended = poll_fn(|cx| {
        if !stopped && stopping.as_mut().poll(cx).is_ready() {
            stopped = true;
            connection.as_mut().graceful_shutdown();
        }
        if let Poll::Ready(result) = connection.as_mut().poll(cx) {
            return Poll::Ready(result.map_err(Ended::Failed));
        }
        // The connection waits: the stage it waits in may have run out of time.
        clock
            .poll_expired(cx)
            .map(|reason| Err(Ended::TooSlow(reason)))
    })
    .await;
    // Expected under attack (and from clients that vanish): not worth more than debug.
    match ended {
        Ok(()) => {}
        Err(Ended::Failed(error)) => {
            tracing::debug!(%peer, %error, "connection ended with an error");
        }
        // Returning drops the connection, which closes the socket.
        Err(Ended::TooSlow(reason)) => tracing::debug!(%peer, reason, "connection cut"),
    }
}

enum Ended {
    Failed(hyper::Error),
    TooSlow(&'static str),
}

const HEAD: u64 = 0;
const BUSY: u64 = 1;
const IDLE: u64 = 2;
const KIND: u64 = 0b11;

/// What the connection is waiting for (`HEAD`, `BUSY` with a request, `IDLE`), tagged with a
/// count of changes, so that every wait gets a deadline of its own even when two waits in a row
/// are of the same kind. Shared by the service, the socket and the clock of one connection, all
/// driven from one task: relaxed atomics suffice.
#[derive(Default)]
struct Stage(AtomicU64);

impl Stage {
    fn enter(&self, kind: u64) {
        let changes = (self.0.load(Relaxed) >> 2) + 1;
        self.0.store((changes << 2) | kind, Relaxed);
    }

    fn current(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// The deadline of every wait outside a request: the head from the first byte (or the accept),
/// and the idle time after a response. While a request is being handled there is none here; its
/// body has its own and its execution REQUEST_TIMEOUT_MS.
///
/// It runs beside the connection rather than inside its socket because hyper does not always
/// read the socket when a connection goes idle: a read made while the request was handled (to
/// notice the client leaving) that found nothing leaves hyper waiting on that read's wake-up
/// alone, so a deadline armed only by socket reads would never start.
struct Clock<'a> {
    stage: Arc<Stage>,
    timeouts: Timeouts,
    timer: Pin<&'a mut Sleep>,
    /// The stage `timer` was last looked at for; `u64::MAX` before the first.
    armed_for: u64,
    /// Whether `timer` runs for `armed_for` (it does not while busy).
    running: bool,
}

impl<'a> Clock<'a> {
    fn new(stage: Arc<Stage>, timeouts: Timeouts, timer: Pin<&'a mut Sleep>) -> Self {
        Self {
            stage,
            timeouts,
            timer,
            armed_for: u64::MAX,
            running: false,
        }
    }

    /// Called each time the connection has to wait: has the stage it waits in run out of time?
    /// The timer is set on the first wait of a stage, so a request that arrives whole and is
    /// answered at once costs one setting, for the idle time after it.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<&'static str> {
        let stage = self.stage.current();
        if self.armed_for != stage {
            self.armed_for = stage;
            let timeout = match stage & KIND {
                BUSY => None,
                HEAD => Some(self.timeouts.header_read),
                _ => Some(self.timeouts.keep_alive),
            };
            self.running = timeout.is_some();
            if let Some(timeout) = timeout {
                self.timer.as_mut().reset(Instant::now() + timeout);
            }
        }
        if !self.running {
            return Poll::Pending;
        }
        ready!(self.timer.as_mut().poll(cx));
        Poll::Ready(if self.armed_for & KIND == HEAD {
            "the request head did not arrive in time"
        } else {
            "the connection stayed idle too long"
        })
    }
}

/// The client socket, which ends an idle spell: the first byte after one starts the next head's
/// clock.
struct Socket {
    stream: TcpStream,
    stage: Arc<Stage>,
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before && this.stage.current() & KIND == IDLE {
            this.stage.enter(HEAD);
        }
        read
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
