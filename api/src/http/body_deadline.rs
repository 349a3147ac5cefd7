//! A request body that must arrive in full within HTTP_BODY_READ_TIMEOUT_MS of its head, so a
//! client trickling bytes cannot hold a connection and the handler reading it any longer.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
};

use axum::BoxError;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep, sleep_until};

/// The error a late body ends with; the /graphql handler recognises it by this text, the only
/// part that survives async-graphql's reader.
pub const BODY_TIMED_OUT: &str = "the request body did not arrive in time";

pub struct BodyDeadline<B> {
    body: B,
    deadline: Instant,
    /// Armed the first time the body has to wait: a body that is already there costs no timer.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B> BodyDeadline<B> {
    pub fn new(body: B, deadline: Instant) -> Self {
        Self {
            body,
            deadline,
            timer: None,
        }
    }
}

impl<B> Body for BodyDeadline<B>
where
    B: Body + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(sleep_until(deadline)));
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(Some(Err(BODY_TIMED_OUT.into())))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
