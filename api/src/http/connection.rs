//! One client connection, served as HTTP/1.1 by hyper with the slow-client limits: a request head
//! must arrive within the header timeout, its body within the body timeout, and a connection idle
//! between requests (or a finished response its client will not read) is closed after the
//! keep-alive timeout. HTTP/2 and TLS belong to the reverse proxy in front.

use std::{
    convert::Infallible,
    future::Future,
    io,
    net::SocketAddr,
    pin::{Pin, pin},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{Router, extract::ConnectInfo, response::Response};
use hyper::{Request, body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    sync::watch,
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

/// Serves `stream` until the client is done, too slow, or `stop` turns true; then lets the
/// request in flight finish.
pub async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    timeouts: Timeouts,
    mut stop: watch::Receiver<bool>,
) {
    let stage = Arc::new(Stage::default());
    let io = TokioIo::new(Deadlines::new(stream, Arc::clone(&stage), timeouts));
    let service = service_fn(move |mut request: Request<Incoming>| {
        stage.enter(BUSY);
        // The front door reads the peer from here, as axum's `ConnectInfo` extractor expects.
        request.extensions_mut().insert(ConnectInfo(peer));
        let deadline = Instant::now() + timeouts.body_read;
        let request = request.map(|body| BodyDeadline::new(body, deadline));
        let response = router.clone().call(request);
        let stage = Arc::clone(&stage);
        async move {
            let response: Result<Response, Infallible> = response.await;
            stage.enter(IDLE);
            response
        }
    });
    let mut builder = http1::Builder::new();
    // Ours is in `Deadlines`: hyper's would also cut idle keep-alive connections at the header timeout.
    builder.header_read_timeout(None);
    let mut connection = pin!(builder.serve_connection(io, service));
    let stopping = async move {
        // An error means the server is gone, which is a stop too.
        let _ = stop.wait_for(|stop| *stop).await;
    };
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = stopping => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        // Expected under attack (and from clients that vanish): not worth more than debug.
        tracing::debug!(%peer, %error, "connection ended with an error");
    }
}

const HEAD: u64 = 0;
const BUSY: u64 = 1;
const IDLE: u64 = 2;
const KIND: u64 = 0b11;

/// What the connection is waiting for (`HEAD`, `BUSY` with a request, `IDLE`), tagged with a
/// count of changes, so that every wait gets a deadline of its own even when two waits in a row
/// are of the same kind. Shared by the service and the socket of one connection, which hyper
/// drives from one task: relaxed atomics suffice.
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

/// The client socket with a deadline on every wait outside a request: the head from the first
/// byte (or the accept), and the idle time after a response. While a request is being handled
/// there is none here; its body has its own and its execution REQUEST_TIMEOUT_MS.
struct Deadlines {
    stream: TcpStream,
    stage: Arc<Stage>,
    timeouts: Timeouts,
    timer: Option<Pin<Box<Sleep>>>,
    /// The stage `timer` was set for; `u64::MAX` before the first.
    armed_for: u64,
}

impl Deadlines {
    fn new(stream: TcpStream, stage: Arc<Stage>, timeouts: Timeouts) -> Self {
        Self {
            stream,
            stage,
            timeouts,
            timer: None,
            armed_for: u64::MAX,
        }
    }

    /// Called when the socket has to wait: has the current stage run out of time? The timer is
    /// set only on the first wait of a stage, so a request that arrives whole costs none.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        let stage = self.stage.current();
        let timeout = match stage & KIND {
            BUSY => return false,
            HEAD => self.timeouts.header_read,
            _ => self.timeouts.keep_alive,
        };
        if self.armed_for != stage {
            self.armed_for = stage;
            let deadline = Instant::now() + timeout;
            match &mut self.timer {
                Some(timer) => timer.as_mut().reset(deadline),
                None => self.timer = Some(Box::pin(sleep_until(deadline))),
            }
        }
        self.timer
            .as_mut()
            .is_some_and(|timer| timer.as_mut().poll(cx).is_ready())
    }

    fn on_wait<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        if self.expired(cx) {
            let kind = if self.armed_for & KIND == HEAD {
                "the request head did not arrive in time"
            } else {
                "the connection stayed idle too long"
            };
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, kind)));
        }
        Poll::Pending
    }
}

impl AsyncRead for Deadlines {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Pending => this.on_wait(cx),
            Poll::Ready(Ok(())) => {
                // The first byte after an idle spell starts the next head's clock.
                if buf.filled().len() > before && this.stage.current() & KIND == IDLE {
                    this.stage.enter(HEAD);
                }
                Poll::Ready(Ok(()))
            }
            ready => ready,
        }
    }
}

impl AsyncWrite for Deadlines {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write(cx, buf) {
            Poll::Pending => this.on_wait(cx),
            ready => ready,
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write_vectored(cx, bufs) {
            Poll::Pending => this.on_wait(cx),
            ready => ready,
        }
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
